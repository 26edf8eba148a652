"""One word per concept: a record's status, an approver's decision, how a request ended.

Each is a str, so it is stored, compared and serialized as the plain word it stands for.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a stored record stands (the table's `status`)."""

    PENDING = "PENDING"  # waiting for an answer
    APPROVED = "APPROVED"  # an approval request the votes approved
    REJECTED = "REJECTED"  # ... or rejected
    SUCCEEDED = "SUCCEEDED"  # a partner's callback answered with a result
    FAILED = "FAILED"  # ... or with an error
    EXPIRED = "EXPIRED"  # nobody answered in time, or the task stopped waiting
    CANCELLED = "CANCELLED"  # never reachable: its emails or its request could not be sent


class Decision(StrEnum):
    """What one approver decided, and what the votes decided together."""

    APPROVED = "approved"
    REJECTED = "rejected"

    @classmethod
    def of_action(cls, action: str) -> Decision:
        """The decision an approval link's action records: approve -> approved, reject -> rejected."""
        return {"approve": cls.APPROVED, "reject": cls.REJECTED}[action]

    @property
    def action(self) -> str:
        """The link's action that records this decision (approve / reject)."""
        return "approve" if self is Decision.APPROVED else "reject"

    @property
    def status(self) -> Status:
        return Status(self.value.upper())


class Ending(StrEnum):
    """How an approval request ended, in the words people are shown (pages, outcome notices)."""

    APPROVED = "approved"
    REJECTED = "rejected"
    TIMED_OUT = "timed out"
    STOPPED = "stopped"
    ENDED = "ended"  # its execution ended without acting on a decision
