"""POST /callbacks/{id}: the doubling API's answer for a waiting Calculate task."""

import functools

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths

from functions.callbacks.logic import resolution_from
from functions.common.aws import client
from functions.common.callbacks.delivery import resolve
from functions.common.callbacks.ids import check_callback_id
from functions.common.callbacks.model import CALCULATION
from functions.common.callbacks.table import CallbackStore
from functions.common.http import add_json_error_answers, audit_of, json_response, parse_json_body
from functions.common.observability import logger
from functions.common.settings import Settings

app = APIGatewayRestResolver()
add_json_error_answers(app)


@functools.cache
def dependencies() -> CallbackStore:
    """Built at the first invocation and kept for the container's life, as its environment is."""
    return CallbackStore(Settings.from_env().table_name, client("dynamodb"))


@app.post("/callbacks/<callback_id>")
def complete(callback_id: str):
    callback_id = check_callback_id(callback_id)
    resolution = resolution_from(parse_json_body(app.current_event.raw_event))
    resolve(
        dependencies(),
        client("stepfunctions"),
        callback_id,
        kind=CALCULATION,
        resolution=resolution,
        audit=audit_of(app),
    )
    logger.info("callback completed", extra={"status": resolution.status})
    return json_response(200, {"message": "Callback accepted."})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
