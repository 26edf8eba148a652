"""What the callbacks table holds, as the rest of the service may see it: never a task token.

No boto3 here: the records, the votes, the approval request with its counts and its story.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from functions.common.approval_policy import ApprovalPolicy
from functions.common.errors import ApprovalRejected, ApprovalTimedOut
from functions.common.vocabulary import Decision, Ending, Status

# The kinds of record.
APPROVAL = "approval"  # one per execution: the approval request, holding the waiting task's token
BALLOT = "ballot"  # one per approver (and escalation contact): the id in that person's links
CALCULATION = "calculation"  # one per doubling request: the id in the partner's callback URL

# Who a ballot belongs to.
APPROVER, ESCALATION = "approver", "escalation"


@dataclass(frozen=True)
class Callback:
    """A partner's callback as others may see it: never with its task token."""

    id: str
    kind: str
    status: Status
    execution: str
    created_at: int
    expires_at: int
    context: dict[str, Any] = field(default_factory=dict)

    def is_expired(self, now: float) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class Audit:
    """Who answered, from where: recorded with the answer."""

    source_ip: str = ""
    user_agent: str = ""

    def record(self) -> dict[str, str]:
        return {"ip": self.source_ip, "userAgent": self.user_agent}


@dataclass(frozen=True)
class Resolution:
    """A partner's final answer: the status to record and what to tell the waiting task."""

    status: Status
    output: dict[str, Any] | None = None  # SendTaskSuccess
    error: str | None = None  # SendTaskFailure
    cause: str = ""


@dataclass(frozen=True)
class Vote:
    approver: str
    decision: Decision
    comment: str
    decided_at: str  # ISO 8601, UTC
    role: str = APPROVER
    at_ms: int = 0

    def public(self) -> dict[str, str]:
        return {
            "approver": self.approver,
            "decision": self.decision,
            "comment": self.comment,
            "decidedAt": self.decided_at,
            "role": self.role,
        }


@dataclass(frozen=True)
class Ballot:
    """Whose vote an emailed link casts, on which request."""

    id: str
    request: str
    approver: str
    role: str


# The story of a decided request, as the workflow reports it: Finalize's output (with the
# numbers), the rejection's cause (without the decision), the failure email's reading of it.
STORY_FIELDS = ("decision", "comment", "decidedAt", "approver", "policy", "votes")


def story_of(values: dict[str, Any]) -> dict[str, Any]:
    """The story's fields of a decided request's output, in their order (absent ones empty)."""
    return {key: values.get(key, [] if key == "votes" else "") for key in STORY_FIELDS}


@dataclass(frozen=True)
class ApprovalRequest:
    """An approval request as others may see it: never with its task token."""

    id: str
    execution: str
    status: Status
    started_at: float  # when the Approval state was entered: the deadline counts from here
    context: dict[str, Any]
    policy: ApprovalPolicy
    approvals: int = 0
    rejections: int = 0
    votes: tuple[Vote, ...] = ()
    ballots: dict[str, str] = field(default_factory=dict)  # address -> ballot id
    reminders_sent: int = 0
    escalated_at: int | None = None
    decided_by: str | None = None
    closed_as: Ending | None = None  # how its execution ended

    @property
    def deadline(self) -> float:
        return self.started_at + self.policy.timeout_seconds

    @property
    def expires_at(self) -> int:
        """The deadline in whole seconds (the table's TTL; what people are shown)."""
        return math.ceil(self.deadline)

    @property
    def outcome(self) -> Decision | None:
        """approved / rejected once a vote decided, unless the workflow ended otherwise."""
        if self.closed_as is not None:
            return Decision(self.closed_as) if self.closed_as in (Ending.APPROVED, Ending.REJECTED) else None
        return Decision(self.status.lower()) if self.status in (Status.APPROVED, Status.REJECTED) else None

    @property
    def is_open(self) -> bool:
        return self.status == Status.PENDING and self.closed_as is None

    @property
    def ending(self) -> Ending | None:
        """How it ended or was decided, in the words people are shown; None while it waits."""
        if self.closed_as is not None:
            return self.closed_as
        return Ending(self.outcome) if self.outcome else None

    def vote_of(self, approver: str) -> Vote | None:
        return next((vote for vote in self.votes if vote.approver == approver), None)

    def waiting_for(self) -> list[str]:
        """Approvers who have not voted yet."""
        return [address for address in self.policy.approvers if self.vote_of(address) is None]

    def asked(self) -> list[str]:
        """Everyone asked to decide: the approvers and, once escalated, the escalation contact."""
        contact = [self.policy.escalation_email] if self.escalated_at is not None and self.policy.escalation_email else []
        return [*self.policy.approvers, *contact]

    def told(self) -> list[str]:
        """Everyone told how it ended: those asked and, when the caller named one, the requester."""
        requester = self.context.get("requestedBy")
        return [*self.asked(), *([requester] if requester else [])]

    def summary(self) -> dict[str, Any]:
        """What the unauthenticated status route may show: counts, never addresses."""
        return {
            "policy": self.policy.value,
            "description": self.policy.describe(),
            "approvers": len(self.policy.approvers),
            "approvals": self.approvals,
            "rejections": self.rejections,
            "votesNeeded": max(0, self.policy.required - self.approvals),
            "deadline": round(self.deadline, 3),  # epoch seconds, like the execution's dates
            "remindersSent": self.reminders_sent,
            "escalated": self.escalated_at is not None,
        }

    def story(self) -> dict[str, Any]:
        """The decided request, for the waiting task: Finalize's output or the rejection's cause."""
        deciding = self.vote_of(self.decided_by or "")
        return story_of({
            "decision": self.outcome,
            "comment": deciding.comment if deciding else "",
            "decidedAt": deciding.decided_at if deciding else "",
            "approver": self.decided_by or "",
            "policy": self.policy.value,
            "votes": [vote.public() for vote in self.votes],
        })


def iso_time(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc).isoformat(timespec="seconds")


def ending_of(execution_status: str, error: str | None, request: ApprovalRequest) -> Ending:
    """How a request ended, from how its execution ended (and, when the error is not given, the request)."""
    if execution_status == "SUCCEEDED":
        return Ending.APPROVED
    if execution_status == "ABORTED":
        return Ending.STOPPED
    if execution_status == "TIMED_OUT":
        return Ending.TIMED_OUT
    if error == ApprovalRejected.__name__ or (not error and request.status == Status.REJECTED):
        return Ending.REJECTED
    if error == ApprovalTimedOut.__name__ or (not error and request.status == Status.EXPIRED):
        return Ending.TIMED_OUT
    return Ending.ENDED


# Step Functions' limit on a SendTaskFailure cause, in characters.
CAUSE_LIMIT = 32_768


def rejection_cause(story: dict[str, Any]) -> str:
    """The rejection's cause: the story but its decision, characters as written.

    Past Step Functions' limit (only with many voters writing long comments) the other voters'
    comments are shortened alike, each ending in "…"; the deciding vote's never is.
    """
    fields = {key: value for key, value in story_of(story).items() if key != "decision"}
    cause = json.dumps(fields, ensure_ascii=False)
    if len(cause) <= CAUSE_LIMIT:
        return cause

    def shortened(keep: int) -> str:
        votes = [
            vote if vote["approver"] == story["approver"] or len(vote["comment"]) <= keep
            else {**vote, "comment": vote["comment"][:keep] + "…"}
            for vote in fields["votes"]
        ]
        return json.dumps({**fields, "votes": votes}, ensure_ascii=False)

    low, high = 0, max(len(vote["comment"]) for vote in fields["votes"])  # the longest kept whole that fits
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if len(shortened(middle)) <= CAUSE_LIMIT else (low, middle - 1)
    return shortened(low)
