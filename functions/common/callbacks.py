"""The callback store: the one place a Step Functions task token is kept and used.

A waiting task registers its token under a random id; links and the partner only ever see
the id. Resolving an id is a conditional write (PENDING -> final status) followed by
SendTaskSuccess / SendTaskFailure, so concurrent or repeated resolutions produce exactly one
decision. No function of this module returns, logs or formats a task token.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from functions.common.errors import (
    AlreadyResolved,
    Expired,
    NotFound,
    MalformedRequest,
)

PENDING = "PENDING"
EXPIRED = "EXPIRED"
CANCELLED = "CANCELLED"

APPROVAL = "approval"
CALCULATION = "calculation"

# 24 random bytes = 192 bits, URL-safe base64 without padding: 32 characters.
_ID_BYTES = 24
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")

# Everything but the token: what pages and answers may read. Aliased, so no name can clash
# with a DynamoDB reserved word.
_PUBLIC_ATTRIBUTES = (
    "id",
    "kind",
    "status",
    "execution",
    "createdAt",
    "expiresAt",
    "context",
    "decision",
    "comment",
    "decidedAt",
)
_PROJECTION = ", ".join(f"#p{i}" for i in range(len(_PUBLIC_ATTRIBUTES)))
_PROJECTION_NAMES = {f"#p{i}": name for i, name in enumerate(_PUBLIC_ATTRIBUTES)}


def new_callback_id() -> str:
    return secrets.token_urlsafe(_ID_BYTES)


def check_callback_id(value: Any) -> str:
    """Return the id if it has the shape of one we issue; a malformed id is refused before any lookup."""
    if not isinstance(value, str) or not _ID_PATTERN.fullmatch(value):
        raise MalformedRequest("That link is not valid: the id is missing or malformed.")
    return value


@dataclass(frozen=True)
class Callback:
    """A stored callback as others may see it: never with its task token."""

    id: str
    kind: str
    status: str
    execution: str
    created_at: int
    expires_at: int
    context: dict[str, Any] = field(default_factory=dict)
    decision: str | None = None
    comment: str | None = None
    decided_at: int | None = None

    def is_expired(self, now: float) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class Audit:
    """Who resolved a callback, from where: recorded with the decision."""

    source_ip: str = ""
    user_agent: str = ""


@dataclass(frozen=True)
class Resolution:
    """The final status to record and what to tell the waiting task."""

    status: str
    output: dict[str, Any] | None = None  # SendTaskSuccess
    error: str | None = None  # SendTaskFailure
    cause: str = ""
    decision: str | None = None
    comment: str | None = None


class TaskCallbacks(Protocol):
    """The two Step Functions calls a resolution makes (a boto3 'stepfunctions' client fits)."""

    def send_task_success(self, **kwargs: Any) -> Any: ...

    def send_task_failure(self, **kwargs: Any) -> Any: ...


class CallbackStore:
    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self._table = table_name
        self._db = dynamodb

    def register(
        self,
        *,
        kind: str,
        task_token: str,
        execution: str,
        ttl_seconds: int,
        context: dict[str, Any],
        now: float | None = None,
    ) -> Callback:
        now = int(time.time() if now is None else now)
        callback = Callback(
            id=new_callback_id(),
            kind=kind,
            status=PENDING,
            execution=execution,
            created_at=now,
            expires_at=now + ttl_seconds,
            context=context,
        )
        item = {
            "id": callback.id,
            "kind": kind,
            "status": PENDING,
            "taskToken": task_token,
            "execution": execution,
            "createdAt": callback.created_at,
            "expiresAt": callback.expires_at,
            "context": context,
        }
        self._db.put_item(
            TableName=self._table,
            Item=_serialize(item),
            ConditionExpression="attribute_not_exists(id)",
        )
        return callback

    def get(self, callback_id: str) -> Callback | None:
        answer = self._db.get_item(
            TableName=self._table,
            Key={"id": {"S": callback_id}},
            ConsistentRead=True,
            ProjectionExpression=_PROJECTION,
            ExpressionAttributeNames=_PROJECTION_NAMES,
        )
        item = answer.get("Item")
        return _callback(_deserialize(item)) if item else None

    def claim(
        self, callback_id: str, *, kind: str, resolution: Resolution, audit: Audit, now: float
    ) -> tuple[str, Callback]:
        """PENDING -> resolution.status, once. Returns the task token (for the resolver only) and the record."""
        names = {"#status": "status", "#kind": "kind"}
        values = {
            ":pending": PENDING,
            ":kind": kind,
            ":now": int(now),
            ":status": resolution.status,
            ":decidedAt": int(now),
            ":source": {"ip": audit.source_ip, "userAgent": audit.user_agent},
        }
        sets = ["#status = :status", "decidedAt = :decidedAt", "requestSource = :source"]
        if resolution.decision is not None:
            sets.append("decision = :decision")
            values[":decision"] = resolution.decision
        if resolution.comment is not None:
            sets.append("#comment = :comment")
            names["#comment"] = "comment"
            values[":comment"] = resolution.comment
        try:
            answer = self._db.update_item(
                TableName=self._table,
                Key={"id": {"S": callback_id}},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="#kind = :kind AND #status = :pending AND expiresAt > :now",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_serialize(values),
                ReturnValues="ALL_NEW",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            raise self._why_not_claimable(callback_id, kind, now) from None
        item = _deserialize(answer["Attributes"])
        return item.pop("taskToken"), _callback(item)

    def mark(self, callback_id: str, status: str, *, only_if_pending: bool = False) -> None:
        """Record that a callback can no longer be resolved (its task ended or was never reachable).

        only_if_pending: leave an answer already recorded as it is (then this does nothing).
        """
        values = {":status": {"S": status}}
        condition = "attribute_exists(id)"
        if only_if_pending:
            values[":pending"] = {"S": PENDING}
            condition = "#status = :pending"
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"id": {"S": callback_id}},
                UpdateExpression="SET #status = :status",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
                ConditionExpression=condition,
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            if not only_if_pending:
                raise

    def open_callback(self, callback_id: str, *, kind: str, now: float) -> Callback:
        """The callback if it can still be resolved; otherwise the reason, raised."""
        callback = self.get(callback_id)
        refusal = refusal_for(callback, kind, now)
        if refusal is not None:
            raise refusal
        return callback  # type: ignore[return-value]

    def _why_not_claimable(self, callback_id: str, kind: str, now: float) -> Exception:
        return refusal_for(self.get(callback_id), kind, now) or AlreadyResolved("This request was just answered.")


def refusal_for(callback: Callback | None, kind: str, now: float) -> Exception | None:
    """Why a callback cannot be resolved now (404 / 409 / 410), or None if it can."""
    if callback is None or callback.kind != kind:
        return NotFound("This link is unknown: it may be mistyped or long expired.")
    if callback.status in (EXPIRED, CANCELLED):
        return Expired("This request is no longer waiting for an answer.")
    if callback.status != PENDING:
        return AlreadyResolved(f"This request was already answered ({callback.status.lower()}).")
    if callback.is_expired(now):
        return Expired("This request has expired: the deadline passed before a decision was made.")
    return None


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
    """Record one final answer for a callback and hand it to the waiting task.

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
        store.mark(callback_id, EXPIRED)
        raise Expired("This request is no longer waiting for an answer: its workflow has ended.") from None
    return callback


# Step Functions' answers for a token whose task is no longer waiting.
_DEAD_TASK_CODES = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


def _callback(item: dict[str, Any]) -> Callback:
    return Callback(
        id=item["id"],
        kind=item["kind"],
        status=item["status"],
        execution=item.get("execution", ""),
        created_at=int(item["createdAt"]),
        expires_at=int(item["expiresAt"]),
        context=item.get("context", {}),
        decision=item.get("decision"),
        comment=item.get("comment"),
        decided_at=int(item["decidedAt"]) if "decidedAt" in item else None,
    )


def _serialize(values: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {key: serializer.serialize(value) for key, value in values.items()}


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: _plain(deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; ours are all integers."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value
