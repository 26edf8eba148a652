import json
import time

import boto3

from functions.common.approval_policy import ApprovalPolicy
from functions.common.callbacks.ids import new_callback_id
from functions.common.callbacks.table import ApprovalStore

FORM = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "pytest"}
from tests.support import CALLBACKS_TABLE as TABLE, doubled_sum_request


def form(callback_id: str, comment: str = "") -> str:
    from urllib.parse import urlencode

    return urlencode({"id": callback_id, "comment": comment})


def test_get_shows_the_numbers_and_decides_nothing(harness):
    arn = harness.start_direct({"x": 10, "y": 11})
    callback_id = harness.approval_id(arn)
    for path in ("/approve", "/reject"):
        status, headers, body = harness.call("approvalPages", "GET", path, query=f"id={callback_id}")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert "<td>21</td>" in body and "<td>42</td>" in body and 'method="post"' in body
    assert harness.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    status, _, _ = harness.call("approvalPages", "POST", "/approve", headers=FORM, body=form(callback_id))
    assert status == 200
    assert harness.wait(arn)["status"] == "SUCCEEDED"


def test_post_reject_fails_the_execution_with_the_comment(harness):
    arn = harness.start_direct({"x": 1, "y": 1})
    callback_id = harness.approval_id(arn)
    status, _, body = harness.call("approvalPages", "POST", "/reject", headers=FORM,
                                   body=form(callback_id, "not today"))
    assert status == 200 and "rejected" in body
    execution = harness.wait(arn)
    assert execution["status"] == "FAILED" and execution["error"] == "ApprovalRejected"
    assert json.loads(execution["cause"])["comment"] == "not today"


def test_second_post_answers_409(harness):
    arn = harness.start_direct({"x": 2, "y": 3})
    callback_id = harness.approval_id(arn)
    assert harness.call("approvalPages", "POST", "/approve", headers=FORM, body=form(callback_id))[0] == 200
    status, _, body = harness.call("approvalPages", "POST", "/reject", headers=FORM, body=form(callback_id))
    assert status == 409 and "already" in body


def test_expired_approval_answers_410_on_get_and_post(harness):
    store = ApprovalStore(TABLE, boto3.client("dynamodb", region_name="us-east-1"))
    policy = ApprovalPolicy.from_config({"APPROVERS": "a@example.org", "APPROVAL_TIMEOUT_SECONDS": "5"})
    _, (expired,) = store.create_approval(task_token="t", execution="e", policy=policy,
                                          context=doubled_sum_request(1, 1), started_at=time.time() - 60)
    assert harness.call("approvalPages", "GET", "/approve", query=f"id={expired.id}")[0] == 410
    status, _, body = harness.call("approvalPages", "POST", "/approve", headers=FORM, body=form(expired.id))
    assert status == 410 and "expired" in body.lower()


def test_unknown_id_answers_404(harness):
    unknown = new_callback_id()
    assert harness.call("approvalPages", "GET", "/reject", query=f"id={unknown}")[0] == 404
    assert harness.call("approvalPages", "POST", "/reject", headers=FORM, body=form(unknown))[0] == 404


def test_malformed_requests_answer_400_with_a_reason(harness):
    cases = [
        ("GET", "/approve", "", None, None),
        ("GET", "/approve", "id=../../etc/passwd", None, None),
        ("POST", "/approve", "", FORM, "id=short"),
        ("POST", "/approve", "", FORM, form(new_callback_id(), "x" * 501)),
        ("POST", "/approve", "", FORM, form(new_callback_id(), "nul\x00byte")),
        ("POST", "/approve", "", {"Content-Type": "application/json"}, json.dumps({"id": new_callback_id()})),
        ("POST", "/approve", "", FORM, f"id={new_callback_id()}&id={new_callback_id()}"),
    ]
    for method, path, query, headers, body in cases:
        status, response_headers, text = harness.call("approvalPages", method, path, query=query,
                                                      headers=headers, body=body)
        assert status == 400, (method, query, body, text)
        assert response_headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "<p>" in text


def test_a_click_on_a_stopped_execution_answers_410(harness):
    arn = harness.start_direct({"x": 6, "y": 6})
    callback_id = harness.approval_id(arn)
    harness.sfn.stop_execution(executionArn=arn, error="Operator", cause="stopped by hand")
    assert harness.wait(arn)["status"] == "ABORTED"
    status, _, body = harness.call("approvalPages", "POST", "/approve", headers=FORM, body=form(callback_id))
    assert status == 410 and "This request was stopped" in body and "Outcome:" in body and ">stopped<" in body
    # The record says so too (closed by the vote or by the end of the execution, whichever came first).
    request = ApprovalStore(TABLE, boto3.client("dynamodb", region_name="us-east-1")).approval(
        f"approval#{arn.rsplit(':', 1)[1]}")
    assert request.closed_as == "stopped" and request.votes == ()
    assert harness.call("approvalPages", "GET", "/approve", query=f"id={callback_id}")[0] == 410
