"""IAM as AWS enforces it, in local mode: take one permission a path needs out of the compiled
template (LOCAL_TEMPLATE), and that path fails the way it would fail on AWS."""

from __future__ import annotations

import copy
import json

import pytest
import requests

from local.template import compiled_template
from local.service import decide


# What stands in for a statement's last action or resource once it is taken out (nothing grants it).
_NOTHING = {"Action": "sts:GetCallerIdentity", "Resource": "arn:aws:s3:::none"}


def template_without(tmp_path, role: str, *, action: str | None = None, resource: str | None = None) -> str:
    """The compiled template of the local stage with `action`, or every resource naming `resource`,
    taken out of `role`'s policies; the path of the file written."""
    field, unwanted = ("Action", lambda value: value == action) if action else (
        "Resource", lambda value: resource in json.dumps(value))
    template = copy.deepcopy(compiled_template("local", environ={}))
    removed = 0
    for policy in template["Resources"][role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            values = statement[field] if isinstance(statement[field], list) else [statement[field]]
            kept = [value for value in values if not unwanted(value)]
            removed += len(values) - len(kept)
            statement[field] = kept or [_NOTHING[field]]
    assert removed, f"{role} was never granted {action or resource}"
    path = tmp_path / f"without-{(action or resource).replace(':', '-')}.json"
    path.write_text(json.dumps(template))
    return str(path)


@pytest.mark.parametrize("role, taken, action, target, error", [
    # The approval machine may not invoke RequestApproval: its Task fails as Step Functions fails it.
    ("ApprovalStateMachineRole", {"resource": "RequestApprovalLambdaFunction"}, "lambda:InvokeFunction",
     "approval-workflow-local-requestApproval", "Lambda.AWSLambdaException"),
    # The workflow may not start the approval machine (startExecution.sync:2).
    ("WorkflowStateMachineRole", {"action": "states:StartExecution"}, "states:StartExecution",
     "approval-workflow-local-approval", None),
], ids=["approval machine invokes a function", "workflow starts the approval machine"])
def test_without_a_state_machines_permission_its_task_fails_as_on_aws_and_nobody_is_asked(
    local_service_factory, tmp_path, role, taken, action, target, error
):
    service = local_service_factory(LOCAL_TEMPLATE=template_without(tmp_path, role, **taken))
    name = service.start(3, 4)
    assert service.wait_until_done(name)["status"] == "FAILED"
    history = requests.get(f"{service.url}/_console/api/executions/{name}", timeout=10)  # the event history
    assert history.status_code == 200
    assert f"is not authorized to perform: {action} on resource: " in history.text and target in history.text
    assert error is None or error in history.text
    assert not [m for m in service.emails_for(name) if m["Subject"].startswith("Approval needed")]
    denied = [line for line in service.log.read_text().splitlines() if "IAM denied" in line]
    assert denied and action in denied[0] and target in denied[0]


def test_without_ses_send_the_approval_email_fails_the_execution_with_notification_failed(
    local_service_factory, tmp_path
):
    service = local_service_factory(
        LOCAL_TEMPLATE=template_without(tmp_path, "RequestApprovalIamRoleLambdaExecution", action="ses:SendRawEmail"))
    name = service.start(3, 4)
    status = service.wait_until_done(name)
    assert (status["status"], status["error"]) == ("FAILED", "NotificationFailed")
    assert "is not authorized to perform: ses:SendRawEmail" in status["cause"]
    log = service.log.read_text()
    assert "IAM denied: role approval-workflow-local-requestApproval-us-east-1-lambdaRole may not " \
           "ses:SendRawEmail on arn:aws:ses:us-east-1:123456789012:identity/workflow@example.com" in log


def test_without_send_task_success_a_vote_cannot_reach_the_workflow(local_service_factory, tmp_path):
    service = local_service_factory(
        LOCAL_TEMPLATE=template_without(tmp_path, "ApprovalPagesIamRoleLambdaExecution", action="states:SendTaskSuccess"))
    name = service.start(3, 4)
    links = service.approval_links(name)
    answer = decide(links["approve"])
    assert answer.status_code >= 500 or "could not" in answer.text.lower(), answer.text
    assert service.status(name)["status"] == "RUNNING"
    assert "may not states:SendTaskSuccess on *" in service.log.read_text()


def test_without_the_partners_callback_permission_the_calculation_fails(local_service_factory, tmp_path):
    service = local_service_factory(
        LOCAL_TEMPLATE=template_without(tmp_path, "CallbacksIamRoleLambdaExecution", action="states:SendTaskSuccess"),
        CALCULATION_TIMEOUT_SECONDS="2", RETRY_INTERVAL_SECONDS="1",
    )
    name = service.start(3, 4)
    status = service.wait_until_done(name, timeout=60)
    assert (status["status"], status["error"]) == ("FAILED", "CalculationFailed")
    assert "may not states:SendTaskSuccess on *" in service.log.read_text()
