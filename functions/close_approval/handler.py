"""CloseApproval: an execution ended (EventBridge "Step Functions Execution Status Change"); its approval request closes."""

import functools
from typing import Any

from functions.close_approval.logic import close_approval
from functions.common.aws import approval_services
from functions.common.observability import logger, metrics
from functions.common.settings import Settings


@functools.cache
def dependencies() -> dict[str, Any]:
    """Built at the first invocation and kept for the container's life, as its environment is."""
    settings = Settings.from_env()
    return {"settings": settings, **approval_services(settings)}


@logger.inject_lambda_context(correlation_id_path="detail.name")
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return close_approval(event, **dependencies())
