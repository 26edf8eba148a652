"""Name what went wrong (the outcome) and tell the recipient, once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from functions.common.callbacks.ids import approval_request_id
from functions.common.callbacks.model import ApprovalRequest
from functions.common.callbacks.table import ApprovalStore
from functions.common.display import Message, deadline_text, relative_text
from functions.common.email import Email, Mailer
from functions.common.errors import (
    ApprovalRejected,
    ApprovalStopped,
    ApprovalTimedOut,
    CalculationFailed,
    InvalidInput,
    NotificationFailed,
)
from functions.common.observability import logger
from functions.common.settings import Settings

_TIMEOUTS = {"States.Timeout", "States.HeartbeatTimeout"}

# The states of statemachines/workflow.asl.yml named in a failure (tests/unit/test_outcomes.py checks them).
VALIDATE, CALCULATE, APPROVAL, FINALIZE = "Validate", "Calculate", "Approval", "Finalize"
# The steps that store a result, in order, each under its own key (the state's ResultPath).
STEP_RESULTS = {VALIDATE: "input", CALCULATE: "calculation", APPROVAL: "approval"}


@dataclass(frozen=True)
class Outcome:
    """What a failure email says of an outcome."""

    heading: str  # after "The workflow failed: "
    explanation: str  # the first paragraph, and the cause when the failure gives none
    next_step: str


OUTCOMES: dict[str, Outcome] = {
    InvalidInput.__name__: Outcome(
        heading="invalid input",
        explanation="The input was not two integers x and y within the safe range.",
        next_step="Start the workflow again with two integers x and y.",
    ),
    CalculationFailed.__name__: Outcome(
        heading="the calculation failed",
        explanation="The doubling API failed or never called back, after retries.",
        next_step="Check that the doubling API is up and calls back, then start the workflow again.",
    ),
    NotificationFailed.__name__: Outcome(
        heading="an email could not be sent",
        explanation="The approval email could not be sent.",
        next_step=(
            "Check that the sender and the recipients are verified in SES (and the account's sending limits), "
            "then start the workflow again."
        ),
    ),
    ApprovalRejected.__name__: Outcome(
        heading="rejected",
        explanation="The request was rejected.",
        next_step="Nothing is left running. If the concern can be met, start the workflow again.",
    ),
    ApprovalTimedOut.__name__: Outcome(
        heading="nobody decided in time",
        explanation="Nobody decided before the deadline.",
        next_step="Start the workflow again when the approvers can answer.",
    ),
    ApprovalStopped.__name__: Outcome(
        heading="its approval was stopped",
        explanation="Its approval (the approval machine's execution) was stopped before anyone decided.",
        next_step="If that was not meant, start the workflow again.",
    ),
}


def failed_step(state: dict[str, Any]) -> str:
    """Each step stores its result under its own key; the first one missing is where it failed."""
    for step, key in STEP_RESULTS.items():
        if key not in state:
            return step
    return FINALIZE


def failure_of(state: dict[str, Any]) -> dict[str, Any]:
    """The failure's error and cause; for the approval machine's failure, its own."""
    # Validate's Catch replaces the whole state with the error (its input may not be an object).
    failure = state if "Error" in state else state.get("failure") or {}
    if failure.get("Error") == "States.TaskFailed":
        # startExecution.sync:2: the cause is the failed approval execution, as DescribeExecution tells it.
        try:
            execution = json.loads(failure.get("Cause") or "")
        except ValueError:
            return failure
        if isinstance(execution, dict) and execution.get("Status") == "ABORTED":  # stopped, with an error or not
            return {"Error": ApprovalStopped.__name__, "Cause": OUTCOMES[ApprovalStopped.__name__].explanation}
        if isinstance(execution, dict) and execution.get("Error"):
            return {"Error": execution["Error"], "Cause": execution.get("Cause") or ""}
    return failure


def classify(state: dict[str, Any]) -> str:
    """The outcome name (README: the outcomes table under "Use") for a failed execution's state."""
    error = failure_of(state).get("Error", "")
    step = failed_step(state)
    if step == VALIDATE:
        return InvalidInput.__name__
    if step == CALCULATE:
        return CalculationFailed.__name__
    if step == APPROVAL:
        if error == ApprovalRejected.__name__:
            return ApprovalRejected.__name__
        if error in _TIMEOUTS or error == ApprovalTimedOut.__name__:
            return ApprovalTimedOut.__name__
        if error == ApprovalStopped.__name__:
            return ApprovalStopped.__name__
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


def notify_failure(
    event: dict[str, Any], *, mailer: Mailer, settings: Settings, store: ApprovalStore | None = None
) -> dict[str, str]:
    state = event.get("state") if isinstance(event.get("state"), dict) else {}
    outcome = classify(state)
    failure = failure_of(state)
    cause = readable_cause(failure) or OUTCOMES[outcome].explanation
    execution = str(event.get("execution", ""))
    request = None
    if outcome == ApprovalTimedOut.__name__ and store is not None and execution:
        request = store.approval(approval_request_id(execution))
    try:
        mailer.send(failure_email(execution, outcome, cause, state, settings, request))
    except NotificationFailed:
        # The execution still ends with its real outcome; the lost email is logged by the mailer.
        logger.warning("failure email not sent", extra={"outcome": outcome})
    logger.info("workflow failed", extra={"outcome": outcome, "error": failure.get("Error", "")})
    return {"error": outcome, "cause": cause[:32768]}


def timeout_story(request: ApprovalRequest) -> tuple[list[str], str]:
    """What happened to a request nobody decided, and advice that fits it: (paragraphs, next step)."""
    waited = relative_text(request.deadline, request.started_at).removeprefix("in ")
    paragraphs = [
        f"Nobody decided within {waited}: {request.approvals} approved and {request.rejections} rejected, "
        f"and the request {request.policy.describe()}."
    ]
    followed_up = []
    if request.reminders_sent:
        times = "once" if request.reminders_sent == 1 else f"{request.reminders_sent} times"
        paragraphs.append(f"The approvers who had not answered were reminded {times}.")
        followed_up.append("reminded")
    if request.escalated_at is not None:
        paragraphs.append(
            f"It was escalated to {request.policy.escalation_email} at {deadline_text(request.escalated_at)}, "
            "who did not answer either."
        )
        followed_up.append("escalated")
    if followed_up:
        advice = (
            f"The request was {' and '.join(followed_up)}, yet nobody answered: check with the people asked that "
            "these emails reach them (a spam folder, an absence), then start the workflow again."
        )
    else:
        advice = (
            "Nobody was reminded and nobody else was asked. Start the workflow again when the approvers can "
            "answer; if requests often go unanswered, ask whoever runs this service for reminders or an "
            "escalation contact."
        )
    return paragraphs, advice


def failure_email(
    execution: str,
    outcome: str,
    cause: str,
    state: dict[str, Any],
    settings: Settings,
    request: ApprovalRequest | None = None,
) -> Email:
    numbers = {key: value for key, value in (state.get("input") or {}).items() if key in ("x", "y")}
    calculation = state.get("calculation") if isinstance(state.get("calculation"), dict) else {}
    numbers.update({key: calculation[key] for key in ("sum", "doubled") if key in calculation})
    told = OUTCOMES[outcome]
    paragraphs = [told.explanation]
    next_step = told.next_step
    decision = _decision(cause) if outcome == ApprovalRejected.__name__ else None
    if decision is not None:
        who = decision.get("approver") or "an approver"
        comment = decision.get("comment") or ""
        paragraphs = [f"The request was rejected by {who}."]
        paragraphs.append(f"Their comment: \u201c{comment}\u201d" if comment else "They left no comment.")
        for vote in decision.get("votes") or []:
            if vote.get("approver") != who:
                said = f" (\u201c{vote['comment']}\u201d)" if vote.get("comment") else ""
                paragraphs.append(f"{vote.get('approver')} {vote.get('decision')}{said}.")
    elif outcome == ApprovalTimedOut.__name__ and request is not None:
        paragraphs, next_step = timeout_story(request)
    elif outcome == ApprovalTimedOut.__name__ and cause.startswith("Nobody decided"):
        paragraphs = [cause]  # FollowUp's own sentence, with the counts
    elif cause and cause != told.explanation:
        paragraphs.append(f"Details: {cause}")
    if "doubled" in numbers:
        paragraphs.append(f"The numbers: {numbers['x']} + {numbers['y']} = {numbers['sum']}, doubled: {numbers['doubled']}.")
    message = Message(
        heading=f"The workflow failed: {told.heading}",
        paragraphs=paragraphs,
        facts=[*numbers.items(), ("workflow", execution), ("outcome", outcome)],
        notes=[f"What to do next: {next_step}"],
    )
    subject = f"Workflow failed: {outcome}"
    if "x" in numbers and "y" in numbers:
        subject += f" ({numbers['x']} + {numbers['y']})"
    return Email.compose(settings, settings.recipient_email, subject, message, kind="failure", execution=execution)


def _decision(cause: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(cause)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
