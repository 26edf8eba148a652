"""Calculate: x + y, then ask the doubling API to double the sum; the answer comes by callback."""

import functools
from typing import Any

from functions.calculate.logic import request_doubling
from functions.common.aws import client
from functions.common.callbacks.table import CallbackStore
from functions.common.observability import logger, metrics
from functions.common.settings import Settings


@functools.cache
def dependencies() -> dict[str, Any]:
    """Built at the first invocation and kept for the container's life, as its environment is."""
    settings = Settings.from_env()
    return {"settings": settings, "store": CallbackStore(settings.table_name, client("dynamodb"))}


@logger.inject_lambda_context(correlation_id_path="execution")
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return request_doubling(event, **dependencies())
