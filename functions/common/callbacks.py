"""The callback store: the one place a Step Functions task token is kept and used.

A waiting task registers its token under a random id; links and the partner only ever see
the id. Resolving an id is a conditional write (PENDING -> final status) followed by
SendTaskSuccess / SendTaskFailure, so concurrent or repeated resolutions produce exactly one
decision. No function of this module returns, logs or formats a task token.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Protocol

from functions.common.approval_policy import ApprovalPolicy
from functions.common.errors import (
    AlreadyResolved,
    ApprovalRejected,
    ApprovalTimedOut,
    Expired,
    InvalidLink,
    NotFound,
)

PENDING = "PENDING"
EXPIRED = "EXPIRED"
CANCELLED = "CANCELLED"

APPROVAL = "approval"  # one per execution: the approval request, holding the Approval task's token
BALLOT = "ballot"  # one per approver (and escalation contact): the id in that person's links
CALCULATION = "calculation"

APPROVER, ESCALATION = "approver", "escalation"

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
        raise InvalidLink("That link is not valid: the id is missing or malformed.")
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
        now = time.time() if now is None else now
        callback = Callback(
            id=new_callback_id(),
            kind=kind,
            status=PENDING,
            execution=execution,
            created_at=int(now),
            # Rounded up: the id must outlive the task it resumes, which started before this call.
            expires_at=math.ceil(now + ttl_seconds),
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
        """The callback under this id; None for an unknown id or an approver's ballot (a link, not a callback)."""
        item = self._read(callback_id, _PROJECTION, _PROJECTION_NAMES)
        return _callback(item) if item and item.get("kind") != BALLOT else None

    def _read(self, record_id: str, projection: str, names: dict[str, str]) -> dict[str, Any]:
        """A record as it is now ({} if there is none), with only the projected attributes."""
        answer = self._db.get_item(
            TableName=self._table, Key={"id": {"S": record_id}}, ConsistentRead=True,
            ProjectionExpression=projection, ExpressionAttributeNames=names,
        )
        return _deserialize(answer["Item"]) if "Item" in answer else {}

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
        if only_if_pending:
            self._transition(callback_id, "SET #status = :status", "#status = :pending", {":status": status, ":pending": PENDING})
            return
        self._db.update_item(
            TableName=self._table,
            Key={"id": {"S": callback_id}},
            UpdateExpression="SET #status = :status",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": status}},
            ConditionExpression="attribute_exists(id)",
        )

    def _transition(self, record_id: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        """One conditional update of a record (`#status` names its status); False if the condition failed."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"id": {"S": record_id}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_serialize(values),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

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


# -- approvals: one request per execution, one ballot per approver -----------------------------
#
# The request holds the Approval task's token, the policy, the counts and the votes; each
# approver's links carry the id of their own ballot, which names the request and the approver.
# A vote is one conditional write on the request: it counts only while the request is open,
# once per approver, and the vote that reaches the policy's threshold records the outcome in
# that same write, so exactly one vote decides and everyone who reads the request afterwards
# (FollowUp above all) sees the outcome. The deciding voter hands it to the waiting task; when
# the task is between two waits (reminders), the task that waits next finds it and takes it.
#
# Two more writes bound a request's life:
# - FollowUp holds a short lease while it sends reminders or the escalation; no vote decides
#   and no request closes while the lease holds, so no follow-up is sent once an outcome exists.
# - When the execution ends (EventBridge on AWS, the engine locally), the request closes with
#   how it ended; a closed request records nothing more, and its links answer 409 or 410.

APPROVED, REJECTED = "APPROVED", "REJECTED"

# How a request ended, as people are told (pages, outcome notices).
ENDED_APPROVED, ENDED_REJECTED, TIMED_OUT, STOPPED, ENDED = "approved", "rejected", "timed out", "stopped", "ended"

# How long FollowUp may send for, at most (the approval page's function waits this long at worst).
FOLLOW_UP_LEASE_SECONDS = 10
# Conditions every write that needs an open request shares.
_OPEN = "#status = :pending AND attribute_not_exists(closedAs)"
_NO_FOLLOW_UP = "(attribute_not_exists(followUpUntilMs) OR followUpUntilMs < :clock)"


def approval_request_id(execution: str) -> str:
    # "#" never appears in an id we issue, so no link can name a request record.
    return f"approval#{execution}"


@dataclass(frozen=True)
class Vote:
    approver: str
    decision: str  # "approved" | "rejected"
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


@dataclass(frozen=True)
class ApprovalRequest:
    """An approval request as others may see it: never with its task token."""

    id: str
    execution: str
    status: str
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
    closed_as: str | None = None  # how its execution ended: approved, rejected, timed out, stopped, ended

    @property
    def deadline(self) -> float:
        return self.started_at + self.policy.timeout_seconds

    @property
    def expires_at(self) -> int:
        """The deadline in whole seconds (the table's TTL; what people are shown)."""
        return math.ceil(self.deadline)

    @property
    def outcome(self) -> str | None:
        """approved / rejected once a vote decided, unless the workflow ended otherwise."""
        if self.closed_as is not None:
            return self.closed_as if self.closed_as in (ENDED_APPROVED, ENDED_REJECTED) else None
        return self.status.lower() if self.status in (APPROVED, REJECTED) else None

    @property
    def is_open(self) -> bool:
        return self.status == PENDING and self.closed_as is None

    @property
    def ending(self) -> str | None:
        """How it ended or was decided, in the words people are shown; None while it waits."""
        return self.closed_as or self.outcome

    def vote_of(self, approver: str) -> Vote | None:
        return next((vote for vote in self.votes if vote.approver == approver), None)

    def waiting_for(self) -> list[str]:
        """Approvers who have not voted yet."""
        return [address for address in self.policy.approvers if self.vote_of(address) is None]

    def asked(self) -> list[str]:
        """Everyone asked to decide: the approvers and, once escalated, the escalation contact."""
        contact = [self.policy.escalation_email] if self.escalated_at is not None and self.policy.escalation_email else []
        return [*self.policy.approvers, *contact]

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
        return {
            "decision": self.outcome,
            "comment": deciding.comment if deciding else "",
            "decidedAt": deciding.decided_at if deciding else "",
            "approver": self.decided_by or "",
            "policy": self.policy.value,
            "votes": [vote.public() for vote in self.votes],
        }


# Everything of a request but its task token.
_APPROVAL_ATTRIBUTES = (
    "id", "kind", "status", "execution", "createdAt", "expiresAt", "startedAtMs", "deadlineMs", "context",
    "policy", "required", "rejectionLimit", "approvals", "rejections", "votes", "ballots", "remindersSent",
    "escalatedAt", "decidedBy", "decidedAt", "closedAs", "closedAt",
)  # fmt: skip
_APPROVAL_PROJECTION = ", ".join(f"#a{i}" for i in range(len(_APPROVAL_ATTRIBUTES)))
_APPROVAL_PROJECTION_NAMES = {f"#a{i}": name for i, name in enumerate(_APPROVAL_ATTRIBUTES)}


# A ballot holds no token; the projection keeps a ballot id that names another record from reading one.
_BALLOT_ATTRIBUTES = ("id", "kind", "request", "approver", "role")
_BALLOT_PROJECTION = ", ".join(f"#b{i}" for i in range(len(_BALLOT_ATTRIBUTES)))
_BALLOT_PROJECTION_NAMES = {f"#b{i}": name for i, name in enumerate(_BALLOT_ATTRIBUTES)}


def iso_time(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc).isoformat(timespec="seconds")


def ending_of(execution_status: str, error: str | None, request: ApprovalRequest) -> str:
    """How a request ended, from how its execution ended (and, when the error is not given, the request)."""
    if execution_status == "SUCCEEDED":
        return ENDED_APPROVED
    if execution_status == "ABORTED":
        return STOPPED
    if execution_status == "TIMED_OUT":
        return TIMED_OUT
    if error == ApprovalRejected.__name__ or (not error and request.status == REJECTED):
        return ENDED_REJECTED
    if error == ApprovalTimedOut.__name__ or (not error and request.status == EXPIRED):
        return TIMED_OUT
    return ENDED


class ApprovalStore(CallbackStore):
    """The callback store's approval requests and ballots."""

    def create_approval(
        self,
        *,
        task_token: str,
        execution: str,
        policy: ApprovalPolicy,
        context: dict[str, Any],
        started_at: float,
    ) -> tuple[ApprovalRequest, list[Ballot]] | None:
        """A new request with one ballot per approver; None if this execution already has one."""
        started_ms = int(started_at * 1000)
        ballots = {address: new_callback_id() for address in policy.approvers}
        item = {
            "id": approval_request_id(execution),
            "kind": APPROVAL,
            "status": PENDING,
            "taskToken": task_token,
            "execution": execution,
            "createdAt": started_ms // 1000,
            "expiresAt": math.ceil(started_ms / 1000 + policy.timeout_seconds),
            "startedAtMs": started_ms,
            "deadlineMs": started_ms + policy.timeout_seconds * 1000,
            "context": context,
            "policy": policy.environment(),
            "required": policy.required,
            "rejectionLimit": policy.rejection_limit,
            # The counts at which one more vote decides: the deciding write is told apart by them.
            "approveAt": policy.required - 1,
            "rejectAt": policy.rejection_limit - 1,
            "approvals": 0,
            "rejections": 0,
            "votes": {},
            "ballots": ballots,
            "remindersSent": 0,
        }
        try:
            self._db.put_item(
                TableName=self._table, Item=_serialize(item), ConditionExpression="attribute_not_exists(id)"
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return None  # a retried invocation: the request and its emails exist
        request = _approval_request(item)
        return request, [self._put_ballot(request, address, APPROVER, ballot) for address, ballot in ballots.items()]

    # -- FollowUp's writes: each takes the lease, and only while the request is open, undecided ----
    def add_escalation(self, request: ApprovalRequest, now: float) -> Ballot | None:
        """The escalation contact's ballot, once, while the request is open; None otherwise."""
        ballot = self._put_ballot(request, request.policy.escalation_email, ESCALATION, new_callback_id())
        claimed = self._follow_up(
            request.id,
            "SET escalatedAt = :now, ballots.#contact = :ballot",
            "attribute_not_exists(escalatedAt)",
            {":now": int(now), ":ballot": ballot.id},
            {"#contact": ballot.approver},
        )
        return ballot if claimed else None

    def count_reminder(self, request: ApprovalRequest) -> bool:
        """Record one more round of reminders, if the request is still open and nobody did it first."""
        return self._follow_up(
            request.id,
            "SET remindersSent = :next",
            "remindersSent = :sent",
            {":next": request.reminders_sent + 1, ":sent": request.reminders_sent},
        )

    def _follow_up(
        self, request_id: str, update: str, condition: str, values: dict[str, Any], names: dict[str, str] | None = None
    ) -> bool:
        until = int((time.time() + FOLLOW_UP_LEASE_SECONDS) * 1000)
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"id": {"S": request_id}},
                UpdateExpression=update + ", followUpUntilMs = :until",
                ConditionExpression=f"{_OPEN} AND {condition}",
                ExpressionAttributeNames={"#status": "status", **(names or {})},
                ExpressionAttributeValues=_serialize({**values, ":until": until, ":pending": PENDING}),
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def end_follow_up(self, request_id: str) -> None:
        """FollowUp's emails are out: votes may decide and the request may close again."""
        self._update(request_id, "REMOVE followUpUntilMs, followUpYield")

    def may_send_follow_up(self, request_id: str) -> bool:
        """Read before each follow-up email: False once the request is no longer open or a deciding
        vote (or the close) waits for the lease. An email sent meanwhile still precedes the outcome,
        which is recorded only once the lease is released."""
        item = self._read(request_id, "#status, closedAs, followUpYield", {"#status": "status"})
        return item.get("status") == PENDING and "closedAs" not in item and "followUpYield" not in item

    def _yield_follow_up(self, request_id: str) -> None:
        """Ask FollowUp to stop sending and release its lease: a decision or the close is waiting."""
        self._update(request_id, "SET followUpYield = :now", {":now": int(time.time() * 1000)})

    def _update(self, record_id: str, update: str, values: dict[str, Any] | None = None) -> None:
        """One update of a record that exists, whatever its state."""
        self._db.update_item(
            TableName=self._table,
            Key={"id": {"S": record_id}},
            UpdateExpression=update,
            ConditionExpression="attribute_exists(id)",
            **({"ExpressionAttributeValues": _serialize(values)} if values else {}),
        )

    def close_approval(self, request_id: str, status: str) -> bool:
        """PENDING -> EXPIRED (deadline) or CANCELLED (emails failed); False if it was no longer open."""
        return self._transition(request_id, "SET #status = :final", "#status = :pending", {":final": status, ":pending": PENDING})

    # -- the end of the execution ------------------------------------------------------------
    def close(self, request: ApprovalRequest, ending: str, execution_status: str, now: float) -> ApprovalRequest | None:
        """The request closes, once, with how its execution ended; None if it was closed already.

        Waits for FollowUp's lease (emails being sent), so that nothing follows the close.
        """
        values = {":ending": ending, ":now": int(now), ":execution": execution_status}
        give_up, waiting = time.monotonic() + FOLLOW_UP_LEASE_SECONDS + 2, False
        while True:
            values[":clock"] = int(time.time() * 1000)
            try:
                answer = self._db.update_item(
                    TableName=self._table,
                    Key={"id": {"S": request.id}},
                    UpdateExpression="SET closedAs = :ending, closedAt = :now, executionStatus = :execution",
                    ConditionExpression=f"attribute_exists(id) AND attribute_not_exists(closedAs) AND {_NO_FOLLOW_UP}",
                    ExpressionAttributeValues=_serialize(values),
                    ReturnValues="ALL_NEW",
                )
            except self._db.exceptions.ConditionalCheckFailedException:
                latest = self.approval(request.id)
                if latest is None or latest.closed_as is not None or time.monotonic() > give_up:
                    return None
                if not waiting:
                    self._yield_follow_up(request.id)
                    waiting = True
                time.sleep(0.02)  # FollowUp is sending (its lease): close once it has stopped
                continue
            item = _deserialize(answer["Attributes"])
            item.pop("taskToken", None)
            return _approval_request(item)

    def claim_notices(self, request_id: str, now: float) -> bool:
        """Outcome notices go out once per closed request, however often its end is reported."""
        # A request whose emails could not be sent (CANCELLED) asked nobody for sure: no notices.
        return self._transition(
            request_id,
            "SET noticesAt = :now",
            "attribute_exists(closedAs) AND attribute_not_exists(noticesAt) AND #status <> :cancelled",
            {":now": int(now), ":cancelled": CANCELLED},
        )

    # -- reading ------------------------------------------------------------------------------
    def approval(self, request_id: str) -> ApprovalRequest | None:
        """The request as it is now, read without its task token."""
        item = self._read(request_id, _APPROVAL_PROJECTION, _APPROVAL_PROJECTION_NAMES)
        return _approval_request(item) if item.get("kind") == APPROVAL else None

    def ballot(self, ballot_id: str) -> Ballot:
        item = self._read(check_callback_id(ballot_id), _BALLOT_PROJECTION, _BALLOT_PROJECTION_NAMES)
        if item.get("kind") != BALLOT:
            raise NotFound("This link is unknown: it may be mistyped or long expired.")
        return Ballot(id=item["id"], request=item["request"], approver=item["approver"], role=item["role"])

    # -- voting -------------------------------------------------------------------------------
    def record_vote(
        self, ballot: Ballot, *, decision: str, comment: str, audit: Audit, now: float
    ) -> tuple[str | None, ApprovalRequest]:
        """Count one vote: once per approver, while open. The vote that decides records the outcome
        in the same write and gets the task token to hand it over; others get None."""
        vote = {
            "decision": decision,
            "comment": comment,
            "decidedAt": iso_time(now),
            "at": int(now * 1000),
            "role": ballot.role,
            "requestSource": {"ip": audit.source_ip, "userAgent": audit.user_agent},
        }
        counter, at = ("approvals", "approveAt") if decision == "approved" else ("rejections", "rejectAt")
        values: dict[str, Any] = {
            ":pending": PENDING,
            ":now": int(now * 1000),
            ":vote": vote,
            ":one": 1,
            ":final": APPROVED if decision == "approved" else REJECTED,
            ":voter": ballot.approver,
            ":decidedAt": int(now),
        }
        condition = f"{_OPEN} AND deadlineMs > :now AND attribute_not_exists(votes.#voter)"
        deciding = (
            f"SET votes.#voter = :vote, #status = :final, decidedBy = :voter, decidedAt = :decidedAt ADD {counter} :one",
            f"{condition} AND {_NO_FOLLOW_UP}",
        )
        # The escalation contact's vote always decides; an approver's decides at the threshold.
        if ballot.role == ESCALATION:
            attempts = [(deciding[0], deciding[1] + " AND attribute_exists(escalatedAt)", True)]
        else:
            attempts = [
                (f"SET votes.#voter = :vote ADD {counter} :one", f"{condition} AND {counter} < {at}", False),
                (deciding[0], f"{deciding[1]} AND {counter} = {at}", True),
            ]
        give_up, waiting = time.monotonic() + FOLLOW_UP_LEASE_SECONDS + 2, False
        while True:
            values[":clock"] = int(time.time() * 1000)
            for update, attempt, decides in attempts:
                try:
                    answer = self._db.update_item(
                        TableName=self._table,
                        Key={"id": {"S": ballot.request}},
                        UpdateExpression=update,
                        ConditionExpression=attempt,
                        ExpressionAttributeNames={"#status": "status", "#voter": ballot.approver},
                        ExpressionAttributeValues=_serialize(
                            {key: value for key, value in values.items() if key in update or key in attempt}
                        ),
                        ReturnValues="ALL_NEW",
                    )
                except self._db.exceptions.ConditionalCheckFailedException:
                    continue
                item = _deserialize(answer["Attributes"])
                token = item.pop("taskToken", None)
                return (token if decides else None), _approval_request(item)
            latest = self.approval(ballot.request)
            refusal = ballot_refusal(latest, ballot, now)
            if refusal is not None:
                raise refusal
            if time.monotonic() > give_up:
                raise AlreadyResolved("This request was just decided.", latest)
            # Still open and this vote would decide: FollowUp is sending. It stops at its next
            # email and releases the lease; then the vote counts.
            if not waiting:
                self._yield_follow_up(ballot.request)
                waiting = True
            time.sleep(0.02)

    def rearm(self, execution: str, task_token: str) -> tuple[str, ApprovalRequest]:
        """The Approval task waits again under a new token; returns it with the request as it is now."""
        answer = self._db.update_item(
            TableName=self._table,
            Key={"id": {"S": approval_request_id(execution)}},
            UpdateExpression="SET taskToken = :token",
            ConditionExpression="attribute_exists(id)",
            ExpressionAttributeValues=_serialize({":token": task_token}),
            ReturnValues="ALL_NEW",
        )
        item = _deserialize(answer["Attributes"])
        return item.pop("taskToken"), _approval_request(item)

    def _put_ballot(self, request: ApprovalRequest, approver: str, role: str, ballot_id: str) -> Ballot:
        ballot = Ballot(ballot_id, request.id, approver, role)
        item = {
            "id": ballot.id,
            "kind": BALLOT,
            "request": request.id,
            "approver": approver,
            "role": role,
            "execution": request.execution,
            "createdAt": int(request.started_at),
            "expiresAt": request.expires_at,
        }
        self._db.put_item(TableName=self._table, Item=_serialize(item), ConditionExpression="attribute_not_exists(id)")
        return ballot


_CLOSED_ANSWERS = {
    STOPPED: "This request was stopped: its workflow was stopped before it could go on, so nothing more is recorded.",
    TIMED_OUT: "This request has expired: the deadline passed before a decision was made.",
    ENDED: "This request has ended: its workflow ended without acting on a decision, so nothing more is recorded.",
}


def ballot_refusal(request: ApprovalRequest | None, ballot: Ballot | None, now: float) -> Exception | None:
    """Why this ballot cannot vote now (404 / 409 / 410), or None if it can. One rule for pages and votes."""
    if request is None:
        return NotFound("This link is unknown: it may be mistyped or long expired.")
    if request.closed_as in _CLOSED_ANSWERS:
        return Expired(_CLOSED_ANSWERS[request.closed_as], request)
    own = request.vote_of(ballot.approver) if ballot else None
    outcome = request.outcome
    if own is not None:
        decided = f" The request is {outcome}." if outcome else ""
        return AlreadyResolved(f"You already answered this request: {own.decision}.{decided}", request)
    if outcome is not None:
        return AlreadyResolved(f"This request was already decided: {outcome}.", request)
    if now >= request.deadline or request.status == EXPIRED:
        return Expired(_CLOSED_ANSWERS[TIMED_OUT], request)
    if not request.is_open:
        return Expired("This request is no longer waiting for an answer: its workflow has ended.", request)
    return None


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
    decision: str,
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


def rearm_approval(store: ApprovalStore, states: Any, execution: str, task_token: str) -> ApprovalRequest:
    """The Approval task waits again; a decision taken while it was between waits is delivered now."""
    token, request = store.rearm(execution, task_token)
    if request.status in (APPROVED, REJECTED):
        _deliver(states, token, request)
    return request


def _deliver(states: Any, token: str, request: ApprovalRequest) -> None:
    story = {**request.context, **request.story()}
    if request.status == APPROVED:
        states.send_task_success(taskToken=token, output=json.dumps(story, ensure_ascii=False))
    else:
        states.send_task_failure(taskToken=token, error=ApprovalRejected.__name__, cause=rejection_cause(story))


# Step Functions' limit on a SendTaskFailure cause, in characters.
CAUSE_LIMIT = 32_768


def rejection_cause(story: dict[str, Any]) -> str:
    """The rejection's cause: the deciding comment and every vote, characters as written.

    Past Step Functions' limit (only with many voters writing long comments) the other voters'
    comments are shortened alike, each ending in "…"; the deciding vote's never is.
    """
    fields = {key: story[key] for key in ("comment", "approver", "decidedAt", "policy", "votes")}
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


def _approval_request(item: dict[str, Any]) -> ApprovalRequest:
    votes = sorted(
        (
            Vote(
                approver=address,
                decision=vote["decision"],
                comment=vote.get("comment", ""),
                decided_at=vote.get("decidedAt", ""),
                role=vote.get("role", APPROVER),
                at_ms=int(vote.get("at", 0)),
            )
            for address, vote in (item.get("votes") or {}).items()
        ),
        key=lambda vote: (vote.at_ms, vote.approver),
    )
    return ApprovalRequest(
        id=item["id"],
        execution=item.get("execution", ""),
        status=item["status"],
        started_at=int(item["startedAtMs"]) / 1000,
        context=item.get("context", {}),
        policy=ApprovalPolicy.from_config(item.get("policy", {})),
        approvals=int(item.get("approvals", 0)),
        rejections=int(item.get("rejections", 0)),
        votes=tuple(votes),
        ballots=dict(item.get("ballots") or {}),
        reminders_sent=int(item.get("remindersSent", 0)),
        escalated_at=int(item["escalatedAt"]) if "escalatedAt" in item else None,
        decided_by=item.get("decidedBy"),
        closed_as=item.get("closedAs"),
    )
