"""Approval: register a pending approval, email the links; the execution waits for the decision."""

from functions.common.aws import client
from functions.common.callbacks import CallbackStore
from functions.common.email import Mailer
from functions.common.observability import logger
from functions.common.settings import Settings
from functions.request_approval.logic import request_approval


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict, context: object) -> dict:
    settings = Settings.from_env()
    return request_approval(
        event,
        store=CallbackStore(settings.table_name, client("dynamodb")),
        mailer=Mailer(client("ses")),
        settings=settings,
    )
