"""Approval: register the request, email the approvers; the execution waits for the policy's outcome."""

import functools
from typing import Any

from functions.common.aws import approval_services, client
from functions.common.observability import logger
from functions.common.settings import Settings
from functions.request_approval.logic import request_approval


@functools.cache
def dependencies() -> dict[str, Any]:
    """Built at the first invocation and kept for the container's life, as its environment is."""
    settings = Settings.from_env()
    return {"settings": settings, "states": client("stepfunctions"), **approval_services(settings)}


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict, context: object) -> dict:
    return request_approval(event, **dependencies())
