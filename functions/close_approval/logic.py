"""Close an approval request when its execution ends, and tell everyone who was asked how it ended.

EventBridge delivers each status change at least once, and a vote may have closed the request
already (it found the execution ended first): the close and the notices are each one
conditional write, so each request closes once and each person asked gets one notice.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.common.approval_emails import outcome_email
from functions.common.callbacks.ids import approval_request_id
from functions.common.callbacks.model import ending_of
from functions.common.callbacks.table import ApprovalStore
from functions.common.email import Mailer
from functions.common.errors import NotificationFailed
from functions.common.observability import logger, metrics
from functions.common.settings import Settings

FINAL_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class CloseDeferred(Exception):
    """The request could not close yet; raised so that the invocation is retried."""


def close_approval(
    event: dict[str, Any], *, store: ApprovalStore, mailer: Mailer, settings: Settings, now: float | None = None
) -> dict[str, Any]:
    now = time.time() if now is None else now
    detail = event.get("detail") or {}
    status, name = detail.get("status"), detail.get("name")
    if status not in FINAL_STATUSES or not isinstance(name, str):
        logger.warning("not an execution's end", extra={"status": status})
        return {"closed": False, "notices": 0}
    request = store.approval(approval_request_id(name))
    if request is None:  # it ended before asking anyone (invalid input, calculation failed)
        return {"closed": False, "notices": 0}
    closed = store.close(request, ending_of(status, detail.get("error"), request), status, now)
    request = closed or store.approval(request.id)
    if request is not None and request.closed_as is None:
        # FollowUp held its lease past every wait: fail, and EventBridge's invocation is retried.
        raise CloseDeferred("The approval request is still being followed up; its close is retried.")
    if request is None or not request.policy.outcome_notices or not store.claim_notices(request.id, now):
        return {"closed": closed is not None, "notices": 0}
    sent = 0
    for person in request.told():
        try:
            mailer.send(outcome_email(request, person, settings))
            sent += 1
        except NotificationFailed:
            metrics.add_metric(name="OutcomeNoticeNotSent", unit=MetricUnit.Count, value=1)
    logger.info("approval closed", extra={"ending": request.ending, "notices": sent})
    return {"closed": closed is not None, "notices": sent}
