"""Why a link cannot be answered now: 404 unknown, 409 answered or decided, 410 ended. One rule
for the pages, the votes and the partner's callbacks."""

from __future__ import annotations

from functions.common.callbacks.model import ApprovalRequest, Ballot, Callback
from functions.common.errors import AlreadyResolved, Expired, Forbidden, NotFound
from functions.common.vocabulary import Ending, Status

UNKNOWN = "This link is unknown: it may be mistyped or long expired."

_CLOSED_ANSWERS = {
    Ending.STOPPED: "This request was stopped: its workflow was stopped before it could go on, so nothing more is recorded.",
    Ending.TIMED_OUT: "This request has expired: the deadline passed before a decision was made.",
    Ending.ENDED: "This request has ended: its workflow ended without acting on a decision, so nothing more is recorded.",
}


def callback_refusal(callback: Callback | None, kind: str, now: float) -> Exception | None:
    """Why a callback cannot be resolved now, or None if it can."""
    if callback is None or callback.kind != kind:
        return NotFound(UNKNOWN)
    if callback.status in (Status.EXPIRED, Status.CANCELLED):
        return Expired("This request is no longer waiting for an answer.")
    if callback.status != Status.PENDING:
        return AlreadyResolved(f"This request was already answered ({callback.status.lower()}).")
    if callback.is_expired(now):
        return Expired("This request has expired: the deadline passed before a decision was made.")
    return None


def ballot_refusal(request: ApprovalRequest | None, ballot: Ballot | None, now: float) -> Exception | None:
    """Why this ballot cannot vote now, or None if it can."""
    if request is None:
        return NotFound(UNKNOWN)
    if ballot is not None and ballot.approver.lower() == str(request.context.get("requestedBy", "")).lower():
        return Forbidden("You asked for this approval, so you may not decide it: the other approvers do.", request)
    if request.closed_as in _CLOSED_ANSWERS:
        return Expired(_CLOSED_ANSWERS[request.closed_as], request)
    own = request.vote_of(ballot.approver) if ballot else None
    outcome = request.outcome
    if own is not None:
        decided = f" The request is {outcome}." if outcome else ""
        return AlreadyResolved(f"You already answered this request: {own.decision}.{decided}", request)
    if outcome is not None:
        return AlreadyResolved(f"This request was already decided: {outcome}.", request)
    if now >= request.deadline or request.status == Status.EXPIRED:
        return Expired(_CLOSED_ANSWERS[Ending.TIMED_OUT], request)
    if not request.is_open:
        return Expired("This request is no longer waiting for an answer: its workflow has ended.", request)
    return None
