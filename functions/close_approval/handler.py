"""CloseApproval: an execution ended (EventBridge "Step Functions Execution Status Change"); its approval request closes."""

from functions.close_approval.logic import close_approval
from functions.common.aws import approval_services
from functions.common.observability import logger, metrics
from functions.common.settings import Settings


@logger.inject_lambda_context(correlation_id_path="detail.name")
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    settings = Settings.from_env()
    return close_approval(event, settings=settings, **approval_services(settings))
