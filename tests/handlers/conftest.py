"""Handlers invoked in this process with real-shaped API Gateway events, on the local engine (moto)."""

from __future__ import annotations

import json
import os
import time
from email import message_from_string, policy
from pathlib import Path

import boto3
import pytest

from local.apigw import proxy_event, response_parts
from local.config import load_service
from local.console.app import Console
from local.engine import LocalEngine
from local.front import make_server, serve_in_thread
from tests.workflow.conftest import free_port

APPROVAL_TIMEOUT = 5
HARNESS_POLICY = {
    "APPROVAL_TIMEOUT_SECONDS": str(APPROVAL_TIMEOUT),
    "REMINDER_INTERVAL_SECONDS": "2",
    "ESCALATION_EMAIL": "escalation@example.com",
    "ESCALATE_AFTER_SECONDS": "3",
}


class Harness:
    def __init__(self, engine: LocalEngine, outbox: Path, console: list[str]) -> None:
        self.engine = engine
        self.url = engine.api_base_url
        self.outbox = outbox
        self.console = console
        self.sfn = boto3.client("stepfunctions", region_name="us-east-1")

    def call(self, function: str, method: str, path: str, *, resource: str | None = None,
             path_parameters=None, query: str = "", headers=None, body=None):
        event = proxy_event(method, path, resource=resource, path_parameters=path_parameters,
                            query=query, headers=headers or {}, body=body)
        status, headers, data = response_parts(self.engine.invoke(function, event))
        return status, headers, data.decode("utf-8")

    def start_direct(self, document) -> str:
        """StartExecution straight on the state machine, bypassing the API's request model."""
        answer = self.sfn.start_execution(
            stateMachineArn=self.engine.state_machine_arn, name=f"direct-{time.monotonic_ns()}",
            input=json.dumps(document))
        return answer["executionArn"]

    def wait(self, arn: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            execution = self.sfn.describe_execution(executionArn=arn)
            if execution["status"] != "RUNNING":
                return execution
            time.sleep(0.05)
        raise AssertionError(f"{arn} still RUNNING")

    def approval_id(self, arn: str, timeout: float = 30) -> str:
        name = arn.rsplit(":", 1)[1]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in self.outbox.glob("*.eml"):
                message = message_from_string(path.read_text(), policy=policy.default)
                text = message.get_body(preferencelist=("plain",)).get_content()
                if name in text and message["Subject"].startswith("Approval needed"):
                    return text.split("/approve?id=", 1)[1].split()[0]
            time.sleep(0.05)
        raise AssertionError(f"no approval email for {name}")


@pytest.fixture(scope="package")
def harness(tmp_path_factory):
    outbox = tmp_path_factory.mktemp("outbox")
    port = free_port()
    # A short approval deadline, so that a timeout can be watched too, with reminders and an escalation.
    service = load_service(stage="local", environ={**os.environ, **HARNESS_POLICY})
    lines: list[str] = []
    engine = LocalEngine(service, api_base_url=f"http://127.0.0.1:{port}", outbox=outbox, console=lines.append)
    server = make_server("127.0.0.1", port, service.routes, engine.invoke, engine.start_execution, "local",
                         report=lines.append, resources=service.resources, console=Console(engine, port))
    engine.start()
    serve_in_thread(server)
    yield Harness(engine, outbox, lines)
    server.shutdown()
    server.server_close()
    engine.stop()
