"""FollowUp: reminders and escalation while an approval waits; ApprovalTimedOut at the deadline."""

from functions.common.aws import approval_services
from functions.common.observability import logger, metrics
from functions.common.settings import Settings
from functions.follow_up.logic import follow_up


@logger.inject_lambda_context(correlation_id_path="execution")
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    settings = Settings.from_env()
    return follow_up(event, settings=settings, **approval_services(settings))
