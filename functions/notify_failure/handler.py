"""NotifyFailure: name the outcome, email it; the Fail state after it carries that name."""

from functions.common.aws import client
from functions.common.callbacks import ApprovalStore
from functions.common.email import Mailer
from functions.common.observability import logger
from functions.common.settings import Settings
from functions.notify_failure.logic import notify_failure


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict, context: object) -> dict:
    settings = Settings.from_env()
    return notify_failure(
        event, mailer=Mailer(client("ses")), settings=settings, store=ApprovalStore(settings.table_name, client("dynamodb"))
    )
