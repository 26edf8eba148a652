"""Approval: open the request and email every approver their own links (ids only, never the token).

The same function arms the wait again after each follow-up (event "rearm"): a decision taken
while the task was between two waits is delivered at once.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from functions.common.approval_emails import REQUEST, ballot_email
from functions.common.callbacks import CANCELLED, ApprovalStore, rearm_approval
from functions.common.email import Mailer
from functions.common.errors import NotificationFailed
from functions.common.observability import logger
from functions.common.settings import Settings


def request_approval(
    event: dict[str, Any], *, store: ApprovalStore, mailer: Mailer, states: Any, settings: Settings
) -> dict:
    opened = None
    if not event.get("rearm"):
        opened = store.create_approval(
            task_token=event["taskToken"],
            execution=event["execution"],
            policy=settings.approval_policy,
            context={key: event[key] for key in ("x", "y", "sum", "doubled")},
            started_at=_epoch(event.get("enteredAt")),
        )
    if opened is None:  # a later wait, or a retried first one whose emails went out already
        request = rearm_approval(store, states, event["execution"], event["taskToken"])
        return {"status": request.status}
    request, ballots = opened
    try:
        for ballot in ballots:
            mailer.send(ballot_email(request, ballot, settings, REQUEST))
    except NotificationFailed:
        store.close_approval(request.id, CANCELLED)
        raise
    logger.info("approval requested", extra={"approvers": len(ballots), "policy": request.policy.label})
    return {"deadline": request.expires_at}


def _epoch(entered_at: Any) -> float:
    """When the Approval state was entered ($$.State.EnteredTime): the deadline counts from there."""
    if isinstance(entered_at, str):
        try:
            return datetime.fromisoformat(entered_at.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time()
