"""Shared pieces of the HTTP handlers: strict body parsing, request audit, JSON error answers.

Powertools' event handler is imported only by what needs it: the body parsing (of a proxy event:
a resolver passes app.current_event.raw_event) also serves a plain proxy handler (double) whose
cold start is on the workflow's path. A JSON answer is built once, in the form each one returns.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from functions.common.callbacks.model import Audit
from functions.common.errors import RequestRefused, MalformedRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

MAX_BODY_BYTES = 64 * 1024
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def json_response(status_code: int, body: dict[str, Any]) -> Response:
    """json_answer as Powertools' event handler takes it (from a route or an exception handler)."""
    from aws_lambda_powertools.event_handler import Response

    answer = json_answer(status_code, body)
    return Response(status_code=status_code, body=answer["body"], headers=answer["headers"])


def json_answer(status_code: int, body: dict[str, Any]) -> dict[str, Any]:
    """A JSON answer as a Lambda proxy response: what a plain handler returns."""
    return {"statusCode": status_code, "headers": dict(JSON_HEADERS), "body": json.dumps(body, ensure_ascii=False)}


def add_json_error_answers(app: APIGatewayRestResolver) -> None:
    """Answer every refused callback or malformed request with its status and a readable message."""

    @app.exception_handler(RequestRefused)
    def _callback_error(error: RequestRefused) -> Response:
        return json_response(error.status_code, {"message": str(error)})


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json_body(event: dict[str, Any]) -> dict[str, Any]:
    """The body of a proxy event (a resolver's: app.current_event.raw_event) as a JSON object, or
    MalformedRequest with the reason."""
    if media_type(event.get("headers")) != "application/json":
        raise MalformedRequest("Send the body as JSON with 'Content-Type: application/json'.")
    body = body_text(event)
    if len(body.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        raise MalformedRequest(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    try:
        value = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise MalformedRequest("The body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise MalformedRequest("The body must be a JSON object.")
    return value


def body_text(event: dict[str, Any]) -> str:
    """The body of a proxy event as text, or MalformedRequest when its bytes are not UTF-8."""
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body
    try:
        return base64.b64decode(body).decode("utf-8")
    except ValueError:  # UnicodeDecodeError (or bad base64) from a binary body
        raise MalformedRequest("The body is not UTF-8 text.") from None


def audit_of(app: APIGatewayRestResolver) -> Audit:
    event = app.current_event
    identity = event.request_context.identity
    return Audit(
        source_ip=(identity.source_ip or "")[:64],
        user_agent=header(event.headers, "user-agent")[:256],
    )


def media_type(headers: dict[str, str] | None) -> str:
    """The Content-Type without its parameters, lower case: "application/json; charset=utf-8" -> "application/json"."""
    return header(headers, "content-type").split(";")[0].strip().lower()


def header(headers: dict[str, str] | None, name: str) -> str:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value or ""
    return ""
