"""Calculate: x + y, then ask the doubling API to double the sum; the answer comes by callback."""

from functions.calculate.logic import request_doubling
from functions.common.aws import client
from functions.common.callbacks.table import CallbackStore
from functions.common.observability import logger, metrics
from functions.common.settings import Settings


@logger.inject_lambda_context(correlation_id_path="execution")
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    settings = Settings.from_env()
    store = CallbackStore(settings.table_name, client("dynamodb"))
    return request_doubling(event, store=store, settings=settings)
