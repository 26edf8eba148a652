"""Handlers invoked in this process with real-shaped API Gateway events, on the local engine (moto)."""

from __future__ import annotations

import json
import os
import sys
import time
from email import message_from_string, policy
from pathlib import Path

import boto3
import pytest

from local.apigw import proxy_event, response_parts
from local.app import LocalApp
from local.config import load_service
from local.engine import LocalEngine
from local.service import eventually, free_port, text_of

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

    def wait(self, arn: str, timeout: float = 30, interval: float = 0.05) -> dict:
        def finished() -> dict | None:
            execution = self.sfn.describe_execution(executionArn=arn)
            return execution if execution["status"] != "RUNNING" else None

        return eventually(finished, timeout, f"{arn} still RUNNING", interval=interval)

    def approval_id(self, arn: str, timeout: float = 30) -> str:
        name = arn.rsplit(":", 1)[1]

        def found() -> str | None:
            for path in self.outbox.glob("*.eml"):
                message = message_from_string(path.read_text(), policy=policy.default)
                text = text_of(message)
                if name in text and message["Subject"].startswith("Approval needed"):
                    return text.split("/approve?id=", 1)[1].split()[0]
            return None

        return eventually(found, timeout, f"no approval email for {name}")


@pytest.fixture(scope="package")
def harness(tmp_path_factory):
    outbox = tmp_path_factory.mktemp("outbox")
    # A short approval deadline, so that a timeout can be watched too, with reminders and an escalation.
    service = load_service(stage="local", environ={**os.environ, **HARNESS_POLICY})
    # Handlers keep their dependencies for a container's life (functions/*/handler.py). A harness set
    # up again in this worker has another environment (its own port): its functions start new containers.
    for function in service.functions.values():
        dependencies = getattr(sys.modules.get(function.module), "dependencies", None)
        if dependencies is not None:
            dependencies.cache_clear()
    lines: list[str] = []
    app = LocalApp(service, host="127.0.0.1", port=free_port(), outbox=outbox, report=lines.append)
    app.start()
    yield Harness(app.engine, outbox, lines)
    app.stop()
