"""Name what went wrong (the outcome) and tell the recipient, once."""

from __future__ import annotations

import json
from typing import Any

from functions.common.display import facts_table
from functions.common.email import Email, Mailer
from functions.common.errors import (
    ApprovalRejected,
    ApprovalTimedOut,
    CalculationFailed,
    InvalidInput,
    NotificationFailed,
)
from functions.common.observability import logger
from functions.common.settings import Settings

_TIMEOUTS = {"States.Timeout", "States.HeartbeatTimeout"}

EXPLANATIONS = {
    InvalidInput.__name__: "The input was not two integers x and y within the safe range.",
    CalculationFailed.__name__: "The doubling API failed or never called back, after retries.",
    NotificationFailed.__name__: "The approval email could not be sent.",
    ApprovalRejected.__name__: "The request was rejected.",
    ApprovalTimedOut.__name__: "Nobody decided before the deadline.",
}


def failed_step(state: dict[str, Any]) -> str:
    """Each step stores its result under its own key; the first one missing is where it failed."""
    for key, step in (("input", "Validate"), ("calculation", "Calculate"), ("approval", "Approval")):
        if key not in state:
            return step
    return "Finalize"


def failure_of(state: dict[str, Any]) -> dict[str, Any]:
    # Validate's Catch replaces the whole state with the error (its input may not be an object).
    if "Error" in state:
        return state
    return state.get("failure") or {}


def classify(state: dict[str, Any]) -> str:
    """The outcome name (DESIGN: outcomes table) for a failed execution's state."""
    error = failure_of(state).get("Error", "")
    step = failed_step(state)
    if step == "Validate":
        return InvalidInput.__name__
    if step == "Calculate":
        return CalculationFailed.__name__
    if step == "Approval":
        if error == ApprovalRejected.__name__:
            return ApprovalRejected.__name__
        if error in _TIMEOUTS:
            return ApprovalTimedOut.__name__
    # The approval email or the final report could not be produced.
    return NotificationFailed.__name__


def readable_cause(failure: dict[str, Any]) -> str:
    """Lambda errors arrive as JSON with a stack trace; a person needs the message only."""
    cause = failure.get("Cause", "") or ""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return str(parsed["errorMessage"])
    return cause


def notify_failure(event: dict[str, Any], *, mailer: Mailer, settings: Settings) -> dict[str, str]:
    state = event.get("state") if isinstance(event.get("state"), dict) else {}
    outcome = classify(state)
    failure = failure_of(state)
    cause = readable_cause(failure) or EXPLANATIONS[outcome]
    execution = str(event.get("execution", ""))
    try:
        mailer.send(failure_email(execution, outcome, cause, state, settings))
    except NotificationFailed:
        # The execution still ends with its real outcome; the lost email is logged by the mailer.
        logger.warning("failure email not sent", extra={"outcome": outcome})
    logger.info("workflow failed", extra={"outcome": outcome, "error": failure.get("Error", "")})
    return {"error": outcome, "cause": cause[:32768]}


def failure_email(execution: str, outcome: str, cause: str, state: dict[str, Any], settings: Settings) -> Email:
    numbers = {key: value for key, value in (state.get("input") or {}).items() if key in ("x", "y")}
    facts = [("workflow", execution), ("outcome", outcome), ("what happened", EXPLANATIONS[outcome]), ("details", cause)]
    facts += [(key, value) for key, value in numbers.items()]
    text = "\n".join(["A workflow failed.", ""] + [f"{name}: {value}" for name, value in facts])
    html = f"<!doctype html><html><body><p>A workflow failed.</p>{facts_table(facts)}</body></html>"
    return Email.to_recipient(settings, subject=f"Workflow failed: {outcome}", text=text, html=html)
