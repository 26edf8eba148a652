"""README's "Add a human approval to your own state machine": its definition, run on local mode
as a team would deploy it beside the stack, and its IAM statements, the ones the stack gives its own
workflow for the same Task."""

import json
import re
import time

import boto3
import pytest
import yaml

from local.service import ROOT, decide, eventually

SECTION = (ROOT / "README.md").read_text().split("## Add a human approval to your own state machine")[1].split("\n## ")[0]
DEFINITION, STATEMENTS = (block for block in re.findall(r"```json\n(.*?)```", SECTION, re.S))
LOCAL = {"REGION": "us-east-1", "ACCOUNT": "123456789012", "STAGE": "local"}


def localized(text: str) -> str:
    return re.sub(r"\b(REGION|ACCOUNT|STAGE)\b", lambda match: LOCAL[match.group(1)], text)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    from local.service import LocalService

    directory = tmp_path_factory.mktemp("readme")
    service = LocalService(directory / "outbox", directory / "local.log", APPROVAL_TIMEOUT_SECONDS="120",
                           APPROVERS="ann@example.com,bob@example.com")
    client = boto3.client("stepfunctions", endpoint_url=service.aws_url, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    machine = client.create_state_machine(
        name="deploy-with-approval", definition=localized(DEFINITION),
        roleArn="arn:aws:iam::123456789012:role/deploy-with-approval",
    )["stateMachineArn"]
    yield service, client, machine
    assert service.stop() == 0, service.log.read_text()[-2000:]


def run(deployed, request: dict) -> tuple[str, str]:
    service, client, machine = deployed
    name = f"deploy-{time.time_ns()}"
    arn = client.start_execution(stateMachineArn=machine, name=name, input=json.dumps(request))["executionArn"]
    return name, arn


def ended(deployed, arn: str) -> dict:
    _, client, _ = deployed
    return eventually(lambda: (d := client.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
                      60, f"{arn} still RUNNING", interval=0.1)


def child_of(deployed, arn: str) -> str:
    """The approval the execution started (named by Step Functions), by the key the snippet passes."""
    _, client, _ = deployed
    approvals = "arn:aws:states:us-east-1:123456789012:stateMachine:approval-workflow-local-approval"

    def started() -> str | None:
        for execution in client.list_executions(stateMachineArn=approvals)["executions"]:
            described = client.describe_execution(executionArn=execution["executionArn"])
            if json.loads(described["input"]).get("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID") == arn:
                return execution["name"]
        return None

    return eventually(started, 30, f"no approval started by {arn}", interval=0.1)


REQUEST = {"version": "v2.4.1", "runUrl": "https://ci.example.com/runs/7", "author": "dev@example.com"}


def test_the_snippet_waits_for_the_approval_and_goes_on_when_approved(deployed):
    service = deployed[0]
    _, arn = run(deployed, REQUEST)
    links = service.ballot_links(child_of(deployed, arn), 2, "Approval needed: Deploy v2.4.1 to production")
    assert decide(links["bob@example.com"]["approve"], "ship it").status_code == 200
    described = ended(deployed, arn)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["approval"] == {"decision": "approved", "approver": "bob@example.com",
                                                           "comment": "ship it"}


def test_the_snippets_catch_names_the_approvals_own_error(deployed):
    service = deployed[0]
    _, arn = run(deployed, REQUEST)
    links = service.ballot_links(child_of(deployed, arn), 2)
    assert decide(links["ann@example.com"]["reject"], "not on a Friday").status_code == 200
    described = ended(deployed, arn)
    assert (described["status"], described["error"]) == ("FAILED", "ApprovalRejected"), described
    assert json.loads(described["cause"])["comment"] == "not on a Friday"

    _, arn = run(deployed, {**REQUEST, "runUrl": "http://ci.example.com/runs/8"})
    described = ended(deployed, arn)
    assert (described["status"], described["error"]) == ("FAILED", "InvalidApprovalRequest"), described
    assert described["cause"].startswith("link: must be an https URL")


def test_the_snippets_iam_statements_are_the_ones_the_stack_gives_its_own_workflow():
    documented = json.loads(localized(STATEMENTS))
    config = yaml.safe_load((ROOT / "serverless.yml").read_text())
    granted = config["stepFunctions"]["stateMachines"]["workflow"]["iamRoleStatements"]
    sync = [statement for statement in granted if not statement["Action"] == ["lambda:InvokeFunction"]]

    def actions(statement):
        return sorted([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])

    assert sorted(map(actions, documented)) == sorted(map(actions, sync))
    # The same resources, the deployed ones written with the stack's names.
    resources = json.dumps([statement["Resource"] for statement in sync])
    for statement in documented:
        generic = statement["Resource"].replace("us-east-1", "${AWS::Region}").replace("123456789012", "${AWS::AccountId}")
        generic = generic.replace("arn:aws:", "arn:${AWS::Partition}:").replace("approval-workflow-local-approval",
                                                                               "${self:custom.approvalMachineName}")
        assert generic in resources or "Ref" in resources and "stateMachine:" in generic, generic
