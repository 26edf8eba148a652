"""closeApproval as EventBridge invokes it, and ids of one kind given where another is expected."""

import json
import time

import boto3
import requests

from functions.common.callbacks.ids import approval_request_id
from functions.common.callbacks.table import ApprovalStore, CallbackStore
from local.eventbridge import execution_status_change, matches
from local.service import eventually, holds
from tests.handlers.test_approval_pages import FORM, TABLE, form


def store() -> ApprovalStore:
    return ApprovalStore(TABLE, boto3.client("dynamodb", region_name="us-east-1"))


def outcome_notices(harness, name: str) -> list[str]:
    texts = [path.read_text() for path in harness.outbox.glob("*.eml")]
    return [text for text in texts if name in text and "\nSubject: Stopped:" in text]


def test_an_end_reported_twice_closes_once_and_tells_each_person_once(harness):
    arn = harness.start_direct({"x": 7, "y": 8})
    name = arn.rsplit(":", 1)[1]
    harness.approval_id(arn)
    harness.sfn.stop_execution(executionArn=arn, error="Operator", cause="stopped by hand")
    described = harness.wait(arn)
    eventually(lambda: outcome_notices(harness, name) or None, 10, "the engine's own delivery of the end")
    # The end as EventBridge reports it: the approval machine's execution, stopped with its workflow.
    approvals = harness.engine.machine_arns["ApprovalStateMachine"]
    event = execution_status_change(
        execution_arn=approvals.replace(":stateMachine:", ":execution:") + f":{name}", state_machine_arn=approvals,
        status="ABORTED",
        start_date=described["startDate"].timestamp(), stop_date=time.time(), input_json=described["input"])
    for _ in range(2):  # EventBridge delivers at least once
        assert harness.engine.invoke("closeApproval", event) == {"closed": False, "notices": 0}
    # The one approver of the harness's stage, told once.
    holds(lambda: len(outcome_notices(harness, name)) == 1, 0.3, "a second notice")
    request = store().approval(approval_request_id(name))
    assert request.closed_as == "stopped" and not request.is_open


def test_the_rule_pattern_takes_this_state_machine_s_final_statuses_only(harness):
    (pattern,) = [pattern for function, pattern in harness.engine._rules if function == "closeApproval"]
    machine = harness.engine.machine_arns["ApprovalStateMachine"]  # the approval machine's ends, not the workflow's

    def event(status, state_machine=machine):
        return execution_status_change(execution_arn=machine.replace(":stateMachine:", ":execution:") + ":n",
                                       state_machine_arn=state_machine, status=status, start_date=0, stop_date=1,
                                       input_json="{}")

    assert all(matches(pattern, event(status)) for status in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"))
    assert not matches(pattern, event("RUNNING"))
    assert not matches(pattern, event("ABORTED", machine + "-other"))
    assert not matches(pattern, event("ABORTED", harness.engine.state_machine_arn))


def test_an_event_that_is_not_an_execution_s_end_changes_nothing(harness):
    assert harness.engine.invoke("closeApproval", {"detail": {"status": "RUNNING", "name": "x"}}) == {
        "closed": False, "notices": 0}
    assert harness.engine.invoke("closeApproval", {"detail": {"status": "FAILED", "name": "never-asked"}}) == {
        "closed": False, "notices": 0}


def test_ids_are_kept_apart_an_approval_link_is_no_callback_and_a_callback_no_approval_link(harness):
    arn = harness.start_direct({"x": 9, "y": 9})
    ballot_id = harness.approval_id(arn)
    answer = requests.post(f"{harness.url}/callbacks/{ballot_id}", json={"result": 36}, timeout=10)
    assert answer.status_code == 404 and "unknown" in answer.json()["message"]
    partner = CallbackStore(TABLE, boto3.client("dynamodb", region_name="us-east-1")).register(kind="calculation", task_token="t", execution="e", ttl_seconds=60, context={})
    for method, action in (("GET", "approve"), ("GET", "reject"), ("POST", "approve"), ("POST", "reject")):
        if method == "GET":
            status, _, body = harness.call("approvalPages", "GET", f"/{action}", query=f"id={partner.id}")
        else:
            status, _, body = harness.call("approvalPages", "POST", f"/{action}", headers=FORM, body=form(partner.id))
        assert status == 404 and "unknown" in body, (method, action)
    # Neither was touched: the approval still waits, the partner's callback is still pending.
    assert harness.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    assert CallbackStore(TABLE, boto3.client("dynamodb", region_name="us-east-1")).get(partner.id).status == "PENDING"
    assert json.loads(requests.get(f"{harness.url}/executions/{arn.rsplit(':', 1)[1]}", timeout=10).text)[
        "approval"]["approvals"] == 0
    harness.sfn.stop_execution(executionArn=arn)
