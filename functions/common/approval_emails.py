"""The emails an approver receives: the request, its reminders and the escalation, one design."""

from __future__ import annotations

from functions.common.callbacks import ESCALATION, ApprovalRequest, Ballot
from functions.common.display import (
    APPROVE_COLOUR,
    REJECT_COLOUR,
    Button,
    Message,
    deadline_text,
    deadline_words,
    relative_text,
)
from functions.common.email import Email
from functions.common.settings import Settings

REQUEST, REMINDER = "request", "reminder"

_SUBJECT_PREFIX = {REQUEST: "Approval needed", REMINDER: "Reminder: approval needed", ESCALATION: "Escalated: approval needed"}
_HEADING = {
    REQUEST: "Your approval is needed",
    REMINDER: "Reminder: your approval is still needed",
    ESCALATION: "Escalated to you: a decision is needed",
}


def link(settings: Settings, action: str, ballot_id: str) -> str:
    return f"{settings.api_base_url}/{action}?id={ballot_id}"


def numbers_sentence(numbers: dict) -> str:
    return f"{numbers['x']} + {numbers['y']} = {numbers['sum']}, doubled: {numbers['doubled']}."


def standing(request: ApprovalRequest) -> str:
    """The policy and the votes so far, in words ("" for a single approver: there is nothing to count)."""
    if len(request.policy.approvers) == 1:
        return ""
    return (
        f"Policy: {request.policy.describe()}. So far {request.approvals} approved and "
        f"{request.rejections} rejected, out of {len(request.policy.approvers)}."
    )


def ballot_email(request: ApprovalRequest, ballot: Ballot, settings: Settings, occasion: str, now: float | None = None) -> Email:
    """The email that carries one person's approve and reject links."""
    numbers = request.context
    if occasion == ESCALATION:
        waited = relative_text(request.started_at, now).removesuffix(" ago")
        opening = [
            f"Nobody decided this request within {waited}, so it is escalated to you: your answer alone decides.",
            f"The workflow asks: {numbers_sentence(numbers)}",
        ]
    else:
        opening = [
            "A workflow is waiting for your decision." if occasion == REQUEST else "You have not answered yet; the workflow is still waiting.",
            f"It asks: {numbers_sentence(numbers)}",
        ]
    opening += [sentence for sentence in (standing(request), f"You decide as {ballot.approver}.") if sentence]
    message = Message(
        heading=_HEADING[occasion],
        paragraphs=opening,
        facts=[
            ("x", numbers["x"]),
            ("y", numbers["y"]),
            ("sum", numbers["sum"]),
            ("doubled", numbers["doubled"]),
            ("workflow", request.execution),
            ("deadline", deadline_words(request.expires_at, now)),
        ],
        buttons=[
            Button("Approve", link(settings, "approve", ballot.id), APPROVE_COLOUR),
            Button("Reject", link(settings, "reject", ballot.id), REJECT_COLOUR),
        ],
        notes=[
            "Each button opens a confirmation page; nothing is decided until you press the button there.",
            f"Without a decision by {deadline_text(request.expires_at)} the workflow fails as timed out.",
        ],
    )
    subject = f"{_SUBJECT_PREFIX[occasion]}: {numbers['x']} + {numbers['y']}, doubled = {numbers['doubled']}"
    return Email.compose(settings, ballot.approver, subject, message, kind=occasion, execution=request.execution)
