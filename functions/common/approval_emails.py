"""The emails an approver receives: the request, its reminders, the escalation and the outcome notice, one design."""

from __future__ import annotations

from functions.common.callbacks.model import ESCALATION, ApprovalRequest, Ballot
from functions.common.vocabulary import Ending
from functions.common.display import (
    APPROVE_COLOUR,
    OPEN_COLOUR,
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


def request_facts(request: ApprovalRequest) -> list[tuple[str, object]]:
    """What the request shows, in the order its caller gave: its details, then who asked."""
    context = request.context
    facts: list[tuple[str, object]] = [(row["label"], row["value"]) for row in context.get("details", [])]
    if context.get("requestedBy"):
        facts.append(("requested by", context["requestedBy"]))
    return facts


def open_button(request: ApprovalRequest) -> list[Button]:
    """The request's own link (https, given by its caller), when it has one."""
    return [Button("Open", request.context["link"], OPEN_COLOUR)] if request.context.get("link") else []


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
    subject = request.context["subject"]
    if occasion == ESCALATION:
        waited = relative_text(request.started_at, now).removesuffix(" ago")
        opening = [
            f"Nobody decided this request within {waited}, so it is escalated to you: your answer alone decides.",
            f"The workflow asks: {subject}",
        ]
    else:
        opening = [
            "A workflow is waiting for your decision." if occasion == REQUEST else "You have not answered yet; the workflow is still waiting.",
            f"It asks: {subject}",
        ]
    opening += [sentence for sentence in (standing(request), f"You decide as {ballot.approver}.") if sentence]
    message = Message(
        heading=_HEADING[occasion],
        paragraphs=opening,
        facts=[
            *request_facts(request),
            ("workflow", request.execution),
            ("deadline", deadline_words(request.expires_at, now)),
        ],
        buttons=[
            Button("Approve", link(settings, "approve", ballot.id), APPROVE_COLOUR),
            Button("Reject", link(settings, "reject", ballot.id), REJECT_COLOUR),
            *open_button(request),
        ],
        notes=[
            "Each button opens a confirmation page; nothing is decided until you press the button there.",
            f"Without a decision by {deadline_text(request.expires_at)} the workflow fails as timed out.",
        ],
    )
    return Email.compose(settings, ballot.approver, f"{_SUBJECT_PREFIX[occasion]}: {subject}", message, kind=occasion, execution=request.execution)


_ENDING_HEADING = {
    Ending.APPROVED: "Approved",
    Ending.REJECTED: "Rejected",
    Ending.TIMED_OUT: "Timed out",
    Ending.STOPPED: "Stopped",
    Ending.ENDED: "Ended",
}


def outcome_email(request: ApprovalRequest, recipient: str, settings: Settings) -> Email:
    """How a closed request ended, for someone who was asked to decide it: no links, nothing to do."""
    ending = request.ending or Ending.ENDED
    if request.outcome is not None:
        deciding = request.vote_of(request.decided_by or "")
        who = "you" if request.decided_by == recipient else request.decided_by
        role = " (the escalation contact)" if deciding is not None and deciding.role == ESCALATION else ""
        yours = "Your request" if recipient == request.context.get("requestedBy") else "The request you were asked to decide"
        what = f"{yours} is {ending}: {who}{role} gave the deciding answer."
    elif ending == Ending.TIMED_OUT:
        what = f"Nobody decided before the deadline ({deadline_text(request.expires_at)}), so the request timed out."
    elif ending == Ending.STOPPED:
        what = "The workflow was stopped before a decision took effect, so the request is closed without one."
    else:
        what = "The workflow ended without acting on a decision, so the request is closed without one."
    votes = [
        f"{vote.approver}{' (escalation contact)' if vote.role == ESCALATION else ''}: {vote.decision}"
        + (f", \u201c{vote.comment}\u201d" if vote.comment else ", no comment")
        for vote in request.votes
    ]
    subject = f"{_ENDING_HEADING[ending]}: {request.context['subject']}"
    message = Message(
        heading=subject,
        paragraphs=[
            what,
            f"The workflow asked: {request.context['subject']}",
            *(["The answers, as written:", *votes] if votes else ["Nobody answered."]),
        ],
        facts=[*request_facts(request), ("workflow", request.execution), ("outcome", ending)],
        notes=["For your information only: this email has no links, and nothing more is needed from you."],
    )
    return Email.compose(settings, recipient, subject, message, kind="outcome", execution=request.execution)
