"""GET /approve|/reject shows a confirmation page (no side effect); POST records the vote, once."""

import functools
import time

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths

from functions.approval_pages.logic import parse_decision_form
from functions.approval_pages.pages import confirm_page, decided_page, error_page
from functions.common.aws import client
from functions.common.callbacks.delivery import open_ballot, vote
from functions.common.callbacks.table import ApprovalStore
from functions.common.errors import RequestRefused
from functions.common.http import audit_of, body_text, media_type
from functions.common.observability import logger
from functions.common.settings import Settings
from functions.common.vocabulary import Decision

app = APIGatewayRestResolver()


@functools.cache
def dependencies() -> tuple[Settings, ApprovalStore]:
    """Built at the first invocation and kept for the container's life, as its environment is."""
    settings = Settings.from_env()
    return settings, ApprovalStore(settings.table_name, client("dynamodb"))


@app.exception_handler(RequestRefused)
def _refused(error: RequestRefused):
    logger.info("vote refused", extra={"status": error.status_code})
    return error_page(error)


@app.get("/approve")
@app.get("/reject")
def confirm():
    decision = Decision.of_action(app.current_event.resource.strip("/"))
    ballot_id = (app.current_event.query_string_parameters or {}).get("id")
    settings, store = dependencies()
    ballot, request = open_ballot(
        store, client("stepfunctions"), ballot_id or "", execution_arn=settings.execution_arn, now=time.time()
    )
    return confirm_page(ballot, request, decision)


@app.post("/approve")
@app.post("/reject")
def decide():
    event = app.current_event
    decision = Decision.of_action(event.resource.strip("/"))
    ballot_id, comment = parse_decision_form(body_text(event.raw_event), media_type(event.headers))
    settings, store = dependencies()
    ballot, request = vote(
        store,
        client("stepfunctions"),
        ballot_id,
        decision=decision,
        comment=comment,
        audit=audit_of(app),
        execution_arn=settings.execution_arn,
        now=time.time(),
    )
    logger.info("vote recorded", extra={"decision": decision, "outcome": request.outcome})
    return decided_page(ballot, request)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
