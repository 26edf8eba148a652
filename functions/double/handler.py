"""A third-party-style doubling API: no AWS credentials, answers through a callback URL.

A plain proxy handler, without Powertools' event handler: API Gateway routes only POST /double
here, and the lighter import shortens a cold start that is on every workflow's path.
"""

import functools

from aws_lambda_powertools.logging import correlation_paths

from functions.common.errors import RequestRefused
from functions.common.http import json_answer, parse_json_body
from functions.common.observability import logger
from functions.common.settings import Settings
from functions.double.logic import double_and_call_back


@functools.cache
def dependencies() -> Settings:
    """Built at the first invocation and kept for the container's life, as its environment is."""
    return Settings.from_env()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context: object) -> dict:
    try:
        delivered = double_and_call_back(parse_json_body(event), dependencies())
    except RequestRefused as error:
        return json_answer(error.status_code, {"message": str(error)})
    return json_answer(202, {"message": "Accepted: the result is sent to the callback URL.", "delivered": delivered})
