"""Test helpers shared by the suites: resources created from serverless.yml, and small fakes."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from local.config import load_service


def create_tables_from_serverless_yml() -> str:
    """Create the callbacks table exactly as serverless.yml declares it; returns its name."""
    service = load_service(stage="local")
    dynamodb = boto3.client("dynamodb")
    properties = service.resources["CallbacksTable"]["Properties"]
    dynamodb.create_table(
        TableName=properties["TableName"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        KeySchema=properties["KeySchema"],
        BillingMode=properties["BillingMode"],
    )
    return properties["TableName"]


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
