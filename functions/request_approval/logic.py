"""Approval: open the request and email every approver their own links (ids only, never the token).

The same function arms the wait again after each follow-up (the AwaitApproval state, named in the
event as "state"): a decision taken while the task was between two waits is delivered at once.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from functions.common.approval_emails import REQUEST, ballot_email
from functions.common.callbacks.delivery import rearm_approval
from functions.common.callbacks.table import ApprovalStore
from functions.common.vocabulary import Status
from functions.common.email import Mailer
from functions.common.errors import NotificationFailed
from functions.common.observability import logger
from functions.common.approval_request import Plan
from functions.common.settings import Settings

# The state that waits again after a follow-up (statemachines/approval.asl.yml).
AWAIT_APPROVAL = "AwaitApproval"


def request_approval(
    event: dict[str, Any], *, store: ApprovalStore, mailer: Mailer, states: Any, settings: Settings
) -> dict:
    opened = None
    if event.get("state") != AWAIT_APPROVAL:
        plan = Plan.from_event(event["plan"])
        opened = store.create_approval(
            task_token=event["taskToken"],
            execution=event["execution"],
            policy=plan.policy,
            context=plan.context,
            started_at=_epoch(event.get("enteredAt")),
        )
    if opened is None:  # a later wait, or a retried first one whose emails went out already
        request = rearm_approval(store, states, event["execution"], task_token=event["taskToken"])
        return {"status": request.status}
    request, ballots = opened
    try:
        for ballot in ballots:
            mailer.send(ballot_email(request, ballot, settings, REQUEST))
    except NotificationFailed:
        store.close_approval(request.id, Status.CANCELLED)
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
