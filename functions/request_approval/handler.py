"""Approval: register the request, email the approvers; the execution waits for the policy's outcome."""

from functions.common.aws import approval_services, client
from functions.common.observability import logger
from functions.common.settings import Settings
from functions.request_approval.logic import request_approval


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict, context: object) -> dict:
    settings = Settings.from_env()
    return request_approval(event, states=client("stepfunctions"), settings=settings, **approval_services(settings))
