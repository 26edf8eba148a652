"""FollowUp: while a request waits, remind the approvers who have not voted and escalate when due.

Runs when the Approval wait times out before the deadline (its timeout is the next follow-up);
returns how long the next wait (AwaitApproval) lasts. At the deadline it ends the request as
ApprovalTimedOut. Each follow-up is recorded by a conditional write before its emails go out,
which requires the request open and undecided and takes a short lease: no vote decides and the
request does not close until FollowUp releases it. A vote that would decide meanwhile asks it to
yield: FollowUp checks before each email, stops and releases the lease. So none is sent twice,
and none once an outcome exists.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from aws_lambda_powertools.metrics import MetricUnit

from functions.common.approval_emails import REMINDER, ballot_email
from functions.common.callbacks.ids import approval_request_id
from functions.common.callbacks.model import APPROVER, ESCALATION, ApprovalRequest, Ballot
from functions.common.callbacks.table import FOLLOW_UP_LEASE_SECONDS, ApprovalStore
from functions.common.vocabulary import Status
from functions.common.email import Mailer
from functions.common.errors import ApprovalTimedOut, NotificationFailed
from functions.common.observability import logger, metrics
from functions.common.settings import Settings

# Timers end on time or a little late; this absorbs clocks that differ by less than a second.
GRACE_SECONDS = 0.25
# A request decided while the task was between waits: wait again, briefly; the wait takes it at once.
DECIDED_WAIT_SECONDS = 1


def follow_up(
    event: dict[str, Any], *, store: ApprovalStore, mailer: Mailer, settings: Settings, now: float | None = None
) -> dict[str, int]:
    now = time.time() if now is None else now
    request = store.approval(approval_request_id(event["execution"]))
    if request is None or request.status == Status.EXPIRED:
        raise ApprovalTimedOut("Nobody decided before the deadline.")
    if not request.is_open:
        return {"seconds": DECIDED_WAIT_SECONDS}
    if now >= request.deadline - GRACE_SECONDS:
        if store.close_approval(request.id, Status.EXPIRED):
            logger.info("approval timed out", extra={"approvals": request.approvals, "rejections": request.rejections})
            raise ApprovalTimedOut(
                f"Nobody decided within {request.policy.timeout_seconds} seconds "
                f"({request.approvals} approved, {request.rejections} rejected; {request.policy.describe()})."
            )
        return {"seconds": DECIDED_WAIT_SECONDS}
    policy, elapsed = request.policy, now - request.started_at
    escalated = request.escalated_at is not None
    reminders = request.reminders_sent
    # Sending stops a second before the lease ends: past it, a vote may decide.
    send_by = time.time() + FOLLOW_UP_LEASE_SECONDS - 1
    claimed = False
    try:
        if policy.escalation_email and not escalated and elapsed >= policy.escalate_after_seconds - GRACE_SECONDS:
            ballot = store.add_escalation(request, now)
            escalated = True
            if ballot is not None:
                claimed = True
                # Sent even if a decision waits (one email): the contact is then among those told the outcome.
                _send(mailer, [ballot_email(request, ballot, settings, ESCALATION, now)], "escalation", send_by)
        due = policy.next_reminder(reminders)
        if due is not None and elapsed >= due - GRACE_SECONDS and store.count_reminder(request):
            claimed = True
            reminders += 1
            emails = [ballot_email(request, ballot, settings, REMINDER, now) for ballot in _unanswered(request)]
            _send(mailer, emails, "reminder", send_by, may_go_on=lambda: store.may_send_follow_up(request.id))
    finally:
        if claimed:
            store.end_follow_up(request.id)
    return {
        "seconds": policy.next_wait(started_at=request.started_at, now=now, reminders_sent=reminders, escalated=escalated)
    }


def _unanswered(request: ApprovalRequest) -> list[Ballot]:
    return [
        Ballot(request.ballots[address], request.id, address, APPROVER)
        for address in request.waiting_for()
    ]


def _send(mailer: Mailer, emails: list, occasion: str, send_by: float, may_go_on: Callable[[], bool] = lambda: True) -> None:
    """A follow-up that cannot be sent does not end a request the approvers can still decide.

    Before each reminder: a deciding vote (or the close) may be waiting for the lease; then the
    rest is not sent (the outcome makes it moot), and the lease is released at once.
    """
    sent = 0
    for email in emails:
        if not may_go_on():
            logger.info("follow-up stopped: a decision is waiting", extra={"occasion": occasion, "unsent": len(emails) - sent})
            return
        if time.time() >= send_by:
            metrics.add_metric(name="FollowUpNotSent", unit=MetricUnit.Count, value=len(emails) - sent)
            logger.warning("follow-up cut short by its lease", extra={"occasion": occasion, "unsent": len(emails) - sent})
            return
        try:
            mailer.send(email)
            sent += 1
        except NotificationFailed:
            metrics.add_metric(name="FollowUpNotSent", unit=MetricUnit.Count, value=1)
    logger.info("follow-up sent", extra={"occasion": occasion, "emails": sent, "failed": len(emails) - sent})
