from __future__ import annotations

from typing import Any

from functions.common.callbacks.model import Resolution
from functions.common.errors import DoublingFailed, MalformedRequest
from functions.common.vocabulary import Status

MAX_RESULT = 4 * 9007199254740991
# Step Functions' own limits for SendTaskFailure.
MAX_ERROR_CHARS = 256
MAX_CAUSE_CHARS = 32768


def resolution_from(body: dict[str, Any]) -> Resolution:
    """A partner's answer: {"result": int} or {"error": str, "cause": str}."""
    if set(body) == {"result"}:
        result = body["result"]
        if type(result) is not int or abs(result) > MAX_RESULT:
            raise MalformedRequest("result must be an integer.")
        return Resolution(status=Status.SUCCEEDED, output={"doubled": result})
    if set(body) in ({"error"}, {"error", "cause"}):
        error, cause = body["error"], body.get("cause", "")
        if not isinstance(error, str) or not isinstance(cause, str):
            raise MalformedRequest("error and cause must be strings.")
        if len(error) > MAX_ERROR_CHARS or len(cause) > MAX_CAUSE_CHARS:
            raise MalformedRequest(f"error is limited to {MAX_ERROR_CHARS} and cause to {MAX_CAUSE_CHARS} characters.")
        return Resolution(
            status=Status.FAILED,
            error=DoublingFailed.__name__,
            cause=f"{error}: {cause}" if cause else error,
        )
    raise MalformedRequest('Send either {"result": <integer>} or {"error": <string>, "cause": <string>}.')
