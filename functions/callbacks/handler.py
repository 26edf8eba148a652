"""POST /callbacks/{id}: the doubling API's answer for a waiting Calculate task."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths

from functions.callbacks.logic import resolution_from
from functions.common.aws import client
from functions.common.callbacks import CALCULATION, CallbackStore, check_callback_id, resolve
from functions.common.http import add_json_error_answers, audit_of, json_response, parse_json_body
from functions.common.observability import logger
from functions.common.settings import Settings

app = APIGatewayRestResolver()
add_json_error_answers(app)


@app.post("/callbacks/<callback_id>")
def complete(callback_id: str):
    callback_id = check_callback_id(callback_id)
    resolution = resolution_from(parse_json_body(app.current_event.raw_event))
    settings = Settings.from_env()
    store = CallbackStore(settings.table_name, client("dynamodb"))
    resolve(
        store,
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
