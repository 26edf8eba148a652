"""GET /approve|/reject shows a confirmation page (no side effect); POST decides, once."""

import time

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths

from functions.approval_pages.logic import decision, parse_decision_form, pending_approval
from functions.approval_pages.pages import confirm_page, decided_page, error_page
from functions.common.aws import client
from functions.common.callbacks import APPROVAL, CallbackStore, resolve
from functions.common.errors import RequestRefused
from functions.common.http import audit_of, body_text, media_type
from functions.common.observability import logger
from functions.common.settings import Settings

app = APIGatewayRestResolver()


def _store() -> CallbackStore:
    return CallbackStore(Settings.from_env().table_name, client("dynamodb"))


@app.exception_handler(RequestRefused)
def _refused(error: RequestRefused):
    logger.info("decision refused", extra={"status": error.status_code})
    return error_page(error.status_code, str(error))


@app.get("/approve")
@app.get("/reject")
def confirm():
    action = app.current_event.resource.strip("/")
    callback_id = (app.current_event.query_string_parameters or {}).get("id")
    return confirm_page(pending_approval(_store(), callback_id), action)


@app.post("/approve")
@app.post("/reject")
def decide():
    action = app.current_event.resource.strip("/")
    callback_id, comment = parse_decision_form(body_text(app), media_type(app.current_event.headers))
    now = time.time()
    callback = resolve(
        _store(),
        client("stepfunctions"),
        callback_id,
        kind=APPROVAL,
        resolution=decision(action, comment, now),
        audit=audit_of(app),
        now=now,
    )
    logger.info("decision recorded", extra={"decision": callback.decision})
    return decided_page(callback)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
