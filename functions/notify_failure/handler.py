"""NotifyFailure: name the outcome, email it; the Fail state after it carries that name."""

from functions.common.aws import approval_services
from functions.common.observability import logger
from functions.common.settings import Settings
from functions.notify_failure.logic import notify_failure


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict, context: object) -> dict:
    settings = Settings.from_env()
    return notify_failure(event, settings=settings, **approval_services(settings))
