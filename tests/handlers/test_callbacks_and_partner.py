import json

import boto3

from functions.common.callbacks.ids import new_callback_id
from tests.support import CALLBACKS_TABLE

JSON = {"Content-Type": "application/json"}


def double(harness, body, headers=JSON):
    return harness.call("double", "POST", "/double", headers=headers, body=json.dumps(body))


def test_doubling_api_refuses_callback_urls_outside_this_service(harness):
    base = harness.engine.api_base_url
    for url in (
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "https://attacker.example.com/callbacks/" + new_callback_id(),
        base + "/approve?id=" + new_callback_id(),
        base + "/callbacks/../approve",
        base + "/callbacks/" + new_callback_id() + "/../../start",
        base + "/callbacks/",
        7,
    ):
        status, _, body = double(harness, {"value": 2, "callbackUrl": url})
        assert status == 400, url
        assert "callback" in json.loads(body)["message"]


def test_doubling_api_validates_its_value(harness):
    url = harness.engine.api_base_url + "/callbacks/" + new_callback_id()
    for value in (True, 1.5, "2", None, 2 ** 60):
        assert double(harness, {"value": value, "callbackUrl": url})[0] == 400
    assert double(harness, {"value": 1})[0] == 400


def test_callback_webhook_answers_404_409_and_400(harness):
    unknown = new_callback_id()
    status, _, body = harness.call("callbacks", "POST", f"/callbacks/{unknown}", resource="/callbacks/{id}",
                                   path_parameters={"id": unknown}, headers=JSON, body=json.dumps({"result": 4}))
    assert status == 404 and json.loads(body)["message"]
    for payload in ({"result": "4"}, {"result": True}, {"result": 4, "extra": 1}, {"error": 5}, [], "x"):
        status, _, _ = harness.call("callbacks", "POST", f"/callbacks/{unknown}", resource="/callbacks/{id}",
                                    path_parameters={"id": unknown}, headers=JSON, body=json.dumps(payload))
        assert status == 400, payload
    status, _, _ = harness.call("callbacks", "POST", "/callbacks/bad", resource="/callbacks/{id}",
                                path_parameters={"id": "bad"}, headers=JSON, body=json.dumps({"result": 4}))
    assert status == 400


def test_a_calculation_callback_is_single_use(harness):
    arn = harness.start_direct({"x": 4, "y": 5})
    harness.approval_id(arn)  # the calculation finished: its callback was used
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=CALLBACKS_TABLE)
    name = arn.rsplit(":", 1)[1]
    (calculation,) = [i for i in items["Items"] if i["execution"]["S"] == name and i["kind"]["S"] == "calculation"]
    callback_id = calculation["id"]["S"]
    status, _, body = harness.call("callbacks", "POST", f"/callbacks/{callback_id}", resource="/callbacks/{id}",
                                   path_parameters={"id": callback_id}, headers=JSON, body=json.dumps({"result": 1}))
    assert status == 409 and "already" in json.loads(body)["message"]


def test_execution_status_answers_404_for_unknown_and_400_for_malformed(harness):
    status, _, body = harness.call("executions", "GET", "/executions/nope", resource="/executions/{name}",
                                   path_parameters={"name": "nope"})
    assert status == 404 and "nope" in json.loads(body)["message"]
    status, _, _ = harness.call("executions", "GET", "/executions/a b", resource="/executions/{name}",
                                path_parameters={"name": "a b"})
    assert status == 400


def test_invalid_input_started_directly_fails_as_invalid_input(harness):
    for document in ({"x": "1", "y": 2}, {"x": 1.5, "y": 2}, {"x": True, "y": 1}, [1, 2], "hello", {"x": 1}):
        execution = harness.wait(harness.start_direct(document))
        assert execution["status"] == "FAILED", document
        assert execution["error"] == "InvalidInput", (document, execution)
