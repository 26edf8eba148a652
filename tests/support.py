"""Test helpers shared by the suites: resources created from serverless.yml, and small fakes."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from local.config import load_service
from local.tables import callbacks_table_name, create_tables


SERVICE = load_service(stage="local")
CALLBACKS_TABLE = callbacks_table_name(SERVICE.resources)  # the name serverless.yml gives the local stage


def create_tables_from_serverless_yml() -> str:
    """Create the stack's tables exactly as serverless.yml declares them (local/tables.py); returns
    the callbacks table's name."""
    create_tables(SERVICE.resources, boto3.client("dynamodb"))
    return CALLBACKS_TABLE


class FakeStates:
    """Records SendTaskSuccess / SendTaskFailure; can answer like Step Functions for a dead task.

    `dead_task_code` makes every token dead; `dead_tokens` only those (a task between two waits).
    """

    def __init__(self, dead_task_code: str | None = None, dead_tokens=(), status: str = "RUNNING") -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.dead_task_code = dead_task_code
        self.dead_tokens = set(dead_tokens)
        self.status = status

    def _call(self, name: str, kwargs: dict[str, Any]) -> dict:
        if self.dead_task_code or kwargs.get("taskToken") in self.dead_tokens:
            raise ClientError({"Error": {"Code": self.dead_task_code or "TaskTimedOut", "Message": "gone"}}, name)
        self.calls.append((name, kwargs))
        return {}

    def describe_execution(self, executionArn: str) -> dict:
        return {"executionArn": executionArn, "status": self.status}

    def send_task_success(self, **kwargs: Any) -> dict:
        return self._call("send_task_success", kwargs)

    def send_task_failure(self, **kwargs: Any) -> dict:
        return self._call("send_task_failure", kwargs)


def doubled_sum_request(x: int, y: int) -> dict:
    """An approval request's context as the doubled-sum workflow asks for it (workflow.asl.yml)."""
    total = x + y
    return {
        "subject": f"{x} + {y}, doubled = {2 * total}",
        "details": [{"label": "x", "value": x}, {"label": "y", "value": y}, {"label": "sum", "value": total},
                    {"label": "doubled", "value": 2 * total}],
    }
