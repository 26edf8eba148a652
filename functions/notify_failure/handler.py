"""NotifyFailure: name the outcome, email it; the Fail state after it carries that name."""

import functools
from typing import Any

from functions.common.aws import approval_services
from functions.common.observability import logger
from functions.common.settings import Settings
from functions.notify_failure.logic import notify_failure


@functools.cache
def dependencies() -> dict[str, Any]:
    """Built at the first invocation and kept for the container's life, as its environment is."""
    settings = Settings.from_env()
    return {"settings": settings, **approval_services(settings)}


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict, context: object) -> dict:
    return notify_failure(event, **dependencies())
