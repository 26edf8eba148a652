"""Handing answers to waiting tasks: the only caller of SendTaskSuccess / SendTaskFailure.

Each answer is first recorded by one conditional write (table.py), which returns the task token
to this module alone; concurrent or repeated answers produce exactly one decision. No function
here returns, logs or formats a token.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Protocol

from functions.common.callbacks.model import (
    ApprovalRequest,
    Audit,
    Ballot,
    Callback,
    Resolution,
    ending_of,
    rejection_cause,
)
from functions.common.callbacks.refusals import ballot_refusal
from functions.common.callbacks.table import ApprovalStore, CallbackStore
from functions.common.errors import ApprovalRejected, Expired
from functions.common.vocabulary import Decision, Status

# Step Functions' answers for a token whose task is no longer waiting.
_DEAD_TASK_CODES = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


class TaskCallbacks(Protocol):
    """The two Step Functions calls an answer makes (a boto3 'stepfunctions' client fits)."""

    def send_task_success(self, **kwargs: Any) -> Any: ...

    def send_task_failure(self, **kwargs: Any) -> Any: ...


def resolve(
    store: CallbackStore,
    states: TaskCallbacks,
    callback_id: str,
    *,
    kind: str,
    resolution: Resolution,
    audit: Audit,
    now: float | None = None,
) -> Callback:
    """Record a partner's one final answer and hand it to the waiting task.

    The task's result is what it registered as context plus the answer's output.
    """
    now = time.time() if now is None else now
    token, callback = store.claim(callback_id, kind=kind, resolution=resolution, audit=audit, now=now)
    try:
        if resolution.error is None:
            output = {**callback.context, **(resolution.output or {})}
            states.send_task_success(taskToken=token, output=json.dumps(output))
        else:
            states.send_task_failure(taskToken=token, error=resolution.error, cause=resolution.cause)
    except Exception as error:  # noqa: BLE001 - classified below, re-raised if not a dead task
        if _error_code(error) not in _DEAD_TASK_CODES:
            raise
        store.mark(callback_id, Status.EXPIRED)
        raise Expired("This request is no longer waiting for an answer: its workflow has ended.") from None
    return callback


def open_ballot(store: ApprovalStore, states: Any, ballot_id: str, *, execution_arn: Callable[[str], str], now: float):
    """The ballot and its request if this approver can still vote; otherwise the reason, raised.

    An open request whose execution has ended (its end not reported yet) is closed here first.
    """
    ballot = store.ballot(ballot_id)
    request = store.approval(ballot.request)
    if request is not None and request.is_open:
        request = close_if_ended(store, states, request, execution_arn(request.execution), now) or request
    refusal = ballot_refusal(request, ballot, now)
    if refusal is not None:
        raise refusal
    return ballot, request


def vote(
    store: ApprovalStore,
    states: Any,
    ballot_id: str,
    *,
    decision: Decision,
    comment: str,
    audit: Audit,
    execution_arn: Callable[[str], str],
    now: float | None = None,
) -> tuple[Ballot, ApprovalRequest]:
    """Record one approver's vote; if it decides, hand the outcome to the waiting task, once.

    The vote counts before the request closes or is refused after: the close and the vote are
    conditional writes on the same record, and an execution that has ended is closed first.
    """
    now = time.time() if now is None else now
    ballot, _ = open_ballot(store, states, ballot_id, execution_arn=execution_arn, now=now)
    token, request = store.record_vote(ballot, decision=decision, comment=comment, audit=audit, now=now)
    if token is None:
        return ballot, request
    try:
        _deliver(states, token, request)
    except Exception as error:  # noqa: BLE001 - classified below, re-raised if not a dead task
        if _error_code(error) not in _DEAD_TASK_CODES:
            raise
        # Between two waits the task has no live token: the next wait takes the outcome (rearm).
        # Otherwise the execution has ended (stopped) before it heard: the request closes so.
        return ballot, close_if_ended(store, states, request, execution_arn(request.execution), now) or request
    return ballot, request


def close_if_ended(store: ApprovalStore, states: Any, request: ApprovalRequest, execution_arn: str, now: float):
    """Close the request if its execution has ended; the request as it is then, or None if it has not."""
    try:
        execution = states.describe_execution(executionArn=execution_arn)
    except Exception as error:  # noqa: BLE001 - one long gone: its request's deadline has passed too
        if _error_code(error) != "ExecutionDoesNotExist":
            raise
        return None
    if execution["status"] == "RUNNING":
        return None
    status = execution["status"]
    store.close(request, ending_of(status, execution.get("error"), request), status, now)
    return store.approval(request.id)


def rearm_approval(store: ApprovalStore, states: Any, execution: str, *, task_token: str) -> ApprovalRequest:
    """The approval waits again; a decision taken while it was between waits is delivered now."""
    token, request = store.rearm(execution, task_token)
    if request.status in (Status.APPROVED, Status.REJECTED):
        _deliver(states, token, request)
    return request


def _deliver(states: Any, token: str, request: ApprovalRequest) -> None:
    story = request.story()
    if request.status == Status.APPROVED:
        states.send_task_success(taskToken=token, output=json.dumps(story, ensure_ascii=False))
    else:
        states.send_task_failure(taskToken=token, error=ApprovalRejected.__name__, cause=rejection_cause(story))


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code", "")
