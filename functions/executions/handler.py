"""GET /executions/{name}: the status of one execution of this stack's state machine."""

import functools
import re

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths

from functions.common.aws import client
from functions.common.callbacks.ids import approval_request_id
from functions.common.callbacks.table import ApprovalStore
from functions.common.errors import NotFound, MalformedRequest
from functions.common.http import add_json_error_answers, json_response
from functions.common.observability import logger
from functions.common.settings import Settings
from functions.executions.logic import execution_status

app = APIGatewayRestResolver()
add_json_error_answers(app)

# Step Functions execution names: up to 80 characters; ours are UUIDs.
_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


@functools.cache
def dependencies() -> tuple[Settings, ApprovalStore]:
    """Built at the first invocation and kept for the container's life, as its environment is."""
    settings = Settings.from_env()
    return settings, ApprovalStore(settings.table_name, client("dynamodb"))


@app.get("/executions/<name>")
def status(name: str):
    if not _NAME.fullmatch(name):
        raise MalformedRequest("An execution name is 1 to 80 letters, digits, '-' or '_'.")
    settings, store = dependencies()
    answer = execution_status(client("stepfunctions"), settings.execution_arn(name))
    if answer is None:
        raise NotFound(f"No execution named {name}.")
    if answer["status"] == "RUNNING":
        request = store.approval(approval_request_id(name))
        if request is not None:
            answer["approval"] = request.summary()
    return json_response(200, answer)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
