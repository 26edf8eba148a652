"""The local front answers a failed StartExecution as the deployed integration responses do:
Step Functions' 4xx -> 502, its 5xx -> 503, JSON with a message, never a 200 without executionArn."""

from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError

from local.config import load_service
from local.front import make_server, serve_in_thread
from local.service import free_port


def failing_with(status: int, code: str):
    def start_execution(_input: str) -> dict:
        raise ClientError({"Error": {"Code": code, "Message": "Rate exceeded"},
                           "ResponseMetadata": {"HTTPStatusCode": status}}, "StartExecution")
    return start_execution


@pytest.mark.parametrize("status, code, answer", [(400, "ThrottlingException", 502), (500, "InternalFailure", 503)])
def test_a_failed_start_execution_answers_json_5xx(status, code, answer):
    service = load_service(stage="local")
    port = free_port()
    server = make_server("127.0.0.1", port, service.routes, lambda *_: {}, failing_with(status, code), "local",
                         report=lambda _: None, resources=service.resources,
                         start_api_errors=service.start_api_errors)
    serve_in_thread(server)
    try:
        reply = requests.post(f"http://127.0.0.1:{port}/start", json={"x": 1, "y": 2}, timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    assert reply.status_code == answer
    body = reply.json()
    assert "executionArn" not in body
    assert body["message"].startswith("Step Functions ")
    assert body["reason"] == {"__type": code, "message": "Rate exceeded"}
