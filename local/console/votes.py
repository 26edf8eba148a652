"""An execution's approval request and its votes, as the console shows them.

Read as the status route reads it (the callbacks table, never its task token). The request is
the approval machine's execution's (named as the workflow's that started it, if one did). The
console is local: it shows addresses.
"""

from __future__ import annotations

from typing import Any

from functions.common.callbacks.ids import approval_request_id
from functions.common.callbacks.model import APPROVER
from functions.common.callbacks.table import ApprovalStore
from local.console.history import iso_epoch

# What the request shows people (the approval machine's input, as CheckRequest kept it).
REQUEST_FIELDS = ("subject", "details", "link", "requestedBy")


def approval_of(dynamodb: Any, table: str, execution: str) -> dict[str, Any]:
    """An execution's approval request as the console shows it, read as the status route reads it
    (without the task token): a summary (what is asked: subject, details, link and who asks; the
    policy in words, the counts, the deadline, reminders, escalation, the outcome and who decided)
    and one row per approver (and the escalation contact, once escalated) with their vote if they
    voted. The console is local: it shows addresses."""
    request = ApprovalStore(table, dynamodb).approval(approval_request_id(execution))
    if request is None:
        return {"approval": None, "votes": []}
    policy = request.policy
    rows = []
    for address in request.asked():
        vote = request.vote_of(address)
        if vote is not None:
            status = "voted" if vote.role == APPROVER else "voted (escalation)"
        else:
            status = "waiting" if request.is_open else "did not vote"
        rows.append(
            {
                "approver": address,
                "status": status,
                "decision": vote.decision if vote else None,
                "comment": vote.comment if vote else None,
                "decidedAt": iso_epoch(vote.at_ms / 1000) if vote else None,
            }
        )
    deciding = request.vote_of(request.decided_by or "")
    next_reminder = policy.next_reminder(request.reminders_sent)
    summary = {
        "request": {key: request.context[key] for key in REQUEST_FIELDS if key in request.context},
        **request.summary(),
        "status": request.status,
        "outcome": request.outcome,
        "decidedBy": request.decided_by,
        "decidedAt": iso_epoch(deciding.at_ms / 1000) if deciding else None,
        "rejectionsToReject": max(0, policy.rejection_limit - request.rejections),
        "startedAt": iso_epoch(request.started_at),
        "deadline": iso_epoch(request.deadline),
        "reminders": {
            "every": policy.reminder_interval_seconds,
            "most": policy.max_reminders,
            "sent": request.reminders_sent,
            "next": iso_epoch(request.started_at + next_reminder) if next_reminder is not None else None,
        } if policy.reminder_interval_seconds and policy.max_reminders else None,
        "escalation": {
            "to": policy.escalation_email,
            "after": policy.escalate_after_seconds,
            "due": iso_epoch(request.started_at + policy.escalate_after_seconds),
            "at": iso_epoch(request.escalated_at) if request.escalated_at is not None else None,
        } if policy.escalation_email else None,
    }
    return {"approval": summary, "votes": rows}
