"""The approval machine started directly, as any workflow or CI job would: through local mode's
AWS API (boto3 here; tests/workflow/test_aws_endpoint.py drives it with the AWS CLI)."""

import json
import time

import boto3
import pytest

from local.service import decide, eventually, holds, text_of

APPROVERS = ["ann@example.com", "bob@example.com", "cy@example.com"]
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:approval-workflow-local-approval"
REQUEST = {
    "subject": "Delete the 2019 audit logs",
    "details": [{"label": "bucket", "value": "audit-2019"}, {"label": "objects", "value": 48211},
                {"label": "note", "value": "<b>kept 5 years</b>"}],
    "link": "https://ci.example.com/runs/42?tab=plan&step=1",
    "requestedBy": "dev@example.com",
    "approvers": APPROVERS,
    "policy": 2,
}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from local.service import LocalService

    directory = tmp_path_factory.mktemp("direct")
    running = LocalService(directory / "outbox", directory / "local.log", APPROVAL_TIMEOUT_SECONDS="120")
    yield running
    assert running.stop() == 0, running.log.read_text()[-2000:]


def states(service):
    return boto3.client("stepfunctions", endpoint_url=service.aws_url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def start(service, request, name):
    return states(service).start_execution(stateMachineArn=MACHINE, name=name, input=json.dumps(request))["executionArn"]


def ended(service, arn):
    return eventually(lambda: (d := states(service).describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
                      60, f"{arn} still RUNNING", interval=0.1)


def test_a_request_with_its_own_approvers_two_of_three_and_details(service):
    arn = start(service, REQUEST, f"direct-{time.time_ns()}")
    name = arn.rsplit(":", 1)[1]
    links = service.ballot_links(name, 3, "Approval needed: Delete the 2019 audit logs")
    assert sorted(links) == APPROVERS
    email = service.wait_for_email(name, "Approval needed")
    text = text_of(email)
    html = email.get_body(preferencelist=("html",)).get_content()
    assert "It asks: Delete the 2019 audit logs" in text and "needs 2 of 3 approvals" in text
    for row in ("bucket", "audit-2019", "objects", "48211", "requested by", "dev@example.com"):
        assert row in text
    assert "&lt;b&gt;kept 5 years&lt;/b&gt;" in html and "<b>kept" not in html  # escaped, as every value
    assert 'href="https://ci.example.com/runs/42?tab=plan&amp;step=1"' in html and ">Open<" in html
    page = __import__("requests").get(links["ann@example.com"]["approve"], timeout=10)
    assert page.status_code == 200 and "Delete the 2019 audit logs" in page.text
    assert 'rel="noopener noreferrer"' in page.text and "&lt;b&gt;kept 5 years&lt;/b&gt;" in page.text

    assert decide(links["ann@example.com"]["approve"], "ok").status_code == 200
    assert decide(links["bob@example.com"]["reject"], "not yet").status_code == 200
    assert decide(links["cy@example.com"]["approve"], "go").status_code == 200
    described = ended(service, arn)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert set(output) == {"decision", "approver", "comment", "decidedAt", "policy", "votes"}
    assert (output["decision"], output["approver"], output["comment"], output["policy"]) == ("approved", "cy@example.com", "go", 2)
    assert [(vote["approver"], vote["decision"]) for vote in output["votes"]] == [
        ("ann@example.com", "approved"), ("bob@example.com", "rejected"), ("cy@example.com", "approved")]
    # Billed transitions of an approval without follow-ups: CheckRequest and Approval.
    history = states(service).get_execution_history(executionArn=arn, maxResults=1000)["events"]
    assert [event["stateEnteredEventDetails"]["name"] for event in history if event["type"].endswith("StateEntered")] == [
        "CheckRequest", "Approval"]
    # The requester is told the outcome, with everyone asked.
    told = service.wait_for_emails(name, "Approved: Delete the 2019 audit logs", 4)
    assert sorted(message["To"] for message in told) == sorted([*APPROVERS, "dev@example.com"])
    (mine,) = [message for message in told if message["To"] == "dev@example.com"]
    assert "Your request is approved: cy@example.com gave the deciding answer." in text_of(mine)


def test_a_rejection_fails_the_execution_with_the_votes_as_its_cause(service):
    arn = start(service, {**REQUEST, "policy": "all"}, f"rejected-{time.time_ns()}")
    links = service.ballot_links(arn.rsplit(":", 1)[1], 3)
    assert decide(links["bob@example.com"]["reject"], "the legal hold is still on").status_code == 200
    described = ended(service, arn)
    assert (described["status"], described["error"]) == ("FAILED", "ApprovalRejected")
    cause = json.loads(described["cause"])
    assert (cause["approver"], cause["comment"]) == ("bob@example.com", "the legal hold is still on")


@pytest.mark.parametrize("request_input, refusal", [
    ({"details": []}, "subject: is required"),
    ({"subject": "s", "approvers": ["mallory@evil.test"]}, "approvers: mallory@evil.test is outside the domains"),
    ({"subject": "s", "link": "http://plain.example.com"}, "link: must be an https URL"),
    ({"subject": "s", "requestedBy": "approver@example.com"}, "requestedBy: is one of the approvers"),
])
def test_an_invalid_request_fails_at_once_naming_the_field_and_nobody_is_emailed(service, request_input, refusal):
    arn = start(service, request_input, f"invalid-{time.time_ns()}")
    described = ended(service, arn)
    assert (described["status"], described["error"]) == ("FAILED", "InvalidApprovalRequest"), described
    assert described["cause"].startswith(refusal), described["cause"]
    holds(lambda: not service.emails_for(arn.rsplit(":", 1)[1]), 0.5, "an email for an invalid request")


def test_a_workflows_approval_stopped_on_its_own_fails_the_workflow_as_approval_stopped(service):
    name = service.start(2, 3)
    service.ballot_links(name, 1)
    child = MACHINE.replace(":stateMachine:", ":execution:") + f":{name}"
    states(service).stop_execution(executionArn=child, cause="withdrawn")
    assert ended(service, child)["status"] == "ABORTED"
    done = service.wait_until_done(name)
    assert (done["status"], done["error"]) == ("FAILED", "ApprovalStopped"), done
    failure = service.wait_for_email(name, "Workflow failed: ApprovalStopped")
    assert "was stopped before anyone decided" in text_of(failure)
