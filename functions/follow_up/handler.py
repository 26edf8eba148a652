"""FollowUp: reminders and escalation while an approval waits; ApprovalTimedOut at the deadline."""

import functools
from typing import Any

from functions.common.aws import approval_services
from functions.common.observability import logger, metrics
from functions.common.settings import Settings
from functions.follow_up.logic import follow_up


@functools.cache
def dependencies() -> dict[str, Any]:
    """Built at the first invocation and kept for the container's life, as its environment is."""
    settings = Settings.from_env()
    return {"settings": settings, **approval_services(settings)}


@logger.inject_lambda_context(correlation_id_path="execution")
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return follow_up(event, **dependencies())
