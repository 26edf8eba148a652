"""The callbacks table: the only reader and writer of task tokens.

A waiting task's token is stored under a random id (a partner's callback) or an approval
request; links and the partner only ever see ids. Every read others may make leaves the token
out (a projection); only the writes that hand an answer to the task return it, to delivery.
"""

from __future__ import annotations

import math
import time
from decimal import Decimal
from enum import Enum
from typing import Any

from functions.common.approval_policy import ApprovalPolicy
from functions.common.callbacks.ids import approval_request_id, check_callback_id, new_callback_id
from functions.common.callbacks.model import (
    APPROVAL,
    APPROVER,
    BALLOT,
    ESCALATION,
    ApprovalRequest,
    Audit,
    Ballot,
    Callback,
    Resolution,
    Vote,
    iso_time,
)
from functions.common.callbacks.refusals import UNKNOWN, ballot_refusal, callback_refusal
from functions.common.errors import AlreadyResolved, NotFound
from functions.common.vocabulary import Decision, Ending, Status

TOKEN = "taskToken"

# How long FollowUp may send for, at most (the approval page's function waits this long at worst).
FOLLOW_UP_LEASE_SECONDS = 10
# Conditions every write that needs an open request shares.
_OPEN = "#status = :pending AND attribute_not_exists(closedAs)"
_NO_FOLLOW_UP = "(attribute_not_exists(followUpUntilMs) OR followUpUntilMs < :clock)"


def _projection(prefix: str, attributes: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """A projection of these attributes, aliased so that no name can clash with a reserved word."""
    names = {f"#{prefix}{index}": name for index, name in enumerate(attributes)}
    return ", ".join(names), names


# Everything but the token: what each kind of record may be read as.
_CALLBACK = _projection("p", ("id", "kind", "status", "execution", "createdAt", "expiresAt", "context"))
_APPROVAL = _projection("a", (
    "id", "kind", "status", "execution", "createdAt", "expiresAt", "startedAtMs", "deadlineMs", "context",
    "policy", "required", "rejectionLimit", "approvals", "rejections", "votes", "ballots", "remindersSent",
    "escalatedAt", "decidedBy", "decidedAt", "closedAs", "closedAt",
))  # fmt: skip
# A ballot holds no token; the projection keeps a ballot id that names another record from reading one.
_BALLOT = _projection("b", ("id", "kind", "request", "approver", "role"))


class Table:
    """One DynamoDB table: its encoding, and the reads and writes both stores make."""

    def __init__(self, name: str, dynamodb: Any) -> None:
        self.name = name
        self.db = dynamodb

    def read(self, record_id: str, projection: tuple[str, dict[str, str]]) -> dict[str, Any]:
        """A record as it is now ({} if there is none), with only the projected attributes."""
        expression, names = projection
        answer = self.db.get_item(
            TableName=self.name, Key={"id": {"S": record_id}}, ConsistentRead=True,
            ProjectionExpression=expression, ExpressionAttributeNames=names,
        )
        return decode(answer["Item"]) if "Item" in answer else {}

    def create(self, item: dict[str, Any]) -> bool:
        """Put a new record; False if one with its id exists."""
        try:
            self.db.put_item(TableName=self.name, Item=encode(item), ConditionExpression="attribute_not_exists(id)")
        except self.db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def update(
        self, record_id: str, update: str, condition: str, values: dict[str, Any] | None = None,
        names: dict[str, str] | None = None, *, returning: bool = False,
    ) -> dict[str, Any] | None:
        """One conditional update (`#status` names the status); the record after it if `returning`,
        else {}; None if the condition failed."""
        used = update + condition
        names = {alias: name for alias, name in {"#status": "status", **(names or {})}.items() if alias in used}
        try:
            answer = self.db.update_item(
                TableName=self.name,
                Key={"id": {"S": record_id}},
                UpdateExpression=update,
                ConditionExpression=condition,
                **({"ExpressionAttributeNames": names} if names else {}),
                **({"ExpressionAttributeValues": encode(values)} if values else {}),
                **({"ReturnValues": "ALL_NEW"} if returning else {}),
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return None
        return decode(answer["Attributes"]) if returning else {}


def encode(values: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {key: serializer.serialize(_stored(value)) for key, value in values.items()}


def decode(item: dict[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {key: _plain(deserializer.deserialize(value)) for key, value in item.items()}


def _stored(value: Any) -> Any:
    """Our words (vocabulary) are stored as the plain strings they are."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _stored(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_stored(inner) for inner in value]
    return value


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; ours are all integers."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


class CallbackStore:
    """A partner's callbacks: the Calculate task's token under a random id."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table = Table(table_name, dynamodb)

    def register(
        self, *, kind: str, task_token: str, execution: str, ttl_seconds: int, context: dict[str, Any],
        now: float | None = None,
    ) -> Callback:
        now = time.time() if now is None else now
        callback = Callback(
            id=new_callback_id(),
            kind=kind,
            status=Status.PENDING,
            execution=execution,
            created_at=int(now),
            # Rounded up: the id must outlive the task it resumes, which started before this call.
            expires_at=math.ceil(now + ttl_seconds),
            context=context,
        )
        self.table.create({
            "id": callback.id, "kind": kind, "status": Status.PENDING, TOKEN: task_token, "execution": execution,
            "createdAt": callback.created_at, "expiresAt": callback.expires_at, "context": context,
        })
        return callback

    def get(self, callback_id: str) -> Callback | None:
        """The callback under this id; None for an unknown id or a record of another kind."""
        item = self.table.read(callback_id, _CALLBACK)
        return _callback(item) if item and item.get("kind") not in (BALLOT, APPROVAL) else None

    def claim(self, callback_id: str, *, kind: str, resolution: Resolution, audit: Audit, now: float) -> tuple[str, Callback]:
        """PENDING -> resolution.status, once. Returns the task token (for delivery only) and the record."""
        item = self.table.update(
            callback_id,
            "SET #status = :status, decidedAt = :decidedAt, requestSource = :source",
            "#kind = :kind AND #status = :pending AND expiresAt > :now",
            {":pending": Status.PENDING, ":kind": kind, ":now": int(now), ":status": resolution.status,
             ":decidedAt": int(now), ":source": audit.record()},
            {"#kind": "kind"},
            returning=True,
        )
        if item is None:
            raise callback_refusal(self.get(callback_id), kind, now) or AlreadyResolved("This request was just answered.")
        return item.pop(TOKEN), _callback(item)

    def mark(self, callback_id: str, status: Status, *, only_if_pending: bool = False) -> None:
        """Record that a callback can no longer be resolved (its task ended or was never reachable).

        only_if_pending: leave an answer already recorded as it is (then this does nothing).
        """
        condition = "#status = :pending" if only_if_pending else "attribute_exists(id)"
        values = {":status": status, **({":pending": Status.PENDING} if only_if_pending else {})}
        self.table.update(callback_id, "SET #status = :status", condition, values)


def _callback(item: dict[str, Any]) -> Callback:
    return Callback(
        id=item["id"], kind=item["kind"], status=Status(item["status"]), execution=item.get("execution", ""),
        created_at=int(item["createdAt"]), expires_at=int(item["expiresAt"]), context=item.get("context", {}),
    )


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


class ApprovalStore:
    """Approval requests and their ballots."""

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table = Table(table_name, dynamodb)

    def create_approval(
        self, *, task_token: str, execution: str, policy: ApprovalPolicy, context: dict[str, Any], started_at: float
    ) -> tuple[ApprovalRequest, list[Ballot]] | None:
        """A new request with one ballot per approver; None if this execution already has one."""
        started_ms = int(started_at * 1000)
        ballots = {address: new_callback_id() for address in policy.approvers}
        item = {
            "id": approval_request_id(execution),
            "kind": APPROVAL,
            "status": Status.PENDING,
            TOKEN: task_token,
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
        if not self.table.create(item):
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
        return self.table.update(
            request_id, update + ", followUpUntilMs = :until", f"{_OPEN} AND {condition}",
            {**values, ":until": until, ":pending": Status.PENDING}, names,
        ) is not None

    def end_follow_up(self, request_id: str) -> None:
        """FollowUp's emails are out: votes may decide and the request may close again."""
        self.table.update(request_id, "REMOVE followUpUntilMs, followUpYield", "attribute_exists(id)")

    def may_send_follow_up(self, request_id: str) -> bool:
        """Read before each follow-up email: False once the request is no longer open or a deciding
        vote (or the close) waits for the lease. An email sent meanwhile still precedes the outcome,
        which is recorded only once the lease is released."""
        item = self.table.read(request_id, ("#status, closedAs, followUpYield", {"#status": "status"}))
        return item.get("status") == Status.PENDING and "closedAs" not in item and "followUpYield" not in item

    def _yield_follow_up(self, request_id: str) -> None:
        """Ask FollowUp to stop sending and release its lease: a decision or the close is waiting."""
        self.table.update(request_id, "SET followUpYield = :now", "attribute_exists(id)", {":now": int(time.time() * 1000)})

    def close_approval(self, request_id: str, status: Status) -> bool:
        """PENDING -> EXPIRED (deadline) or CANCELLED (emails failed); False if it was no longer open."""
        return self.table.update(
            request_id, "SET #status = :final", "#status = :pending", {":final": status, ":pending": Status.PENDING}
        ) is not None

    # -- the end of the execution ------------------------------------------------------------
    def close(self, request: ApprovalRequest, ending: Ending, execution_status: str, now: float) -> ApprovalRequest | None:
        """The request closes, once, with how its execution ended; None if it was closed already.

        Waits for FollowUp's lease (emails being sent), so that nothing follows the close.
        """
        values = {":ending": ending, ":now": int(now), ":execution": execution_status}
        give_up, waiting = time.monotonic() + FOLLOW_UP_LEASE_SECONDS + 2, False
        while True:
            values[":clock"] = int(time.time() * 1000)
            item = self.table.update(
                request.id,
                "SET closedAs = :ending, closedAt = :now, executionStatus = :execution",
                f"attribute_exists(id) AND attribute_not_exists(closedAs) AND {_NO_FOLLOW_UP}",
                values,
                returning=True,
            )
            if item is not None:
                item.pop(TOKEN, None)
                return _approval_request(item)
            latest = self.approval(request.id)
            if latest is None or latest.closed_as is not None or time.monotonic() > give_up:
                return None
            if not waiting:
                self._yield_follow_up(request.id)
                waiting = True
            time.sleep(0.02)  # FollowUp is sending (its lease): close once it has stopped

    def claim_notices(self, request_id: str, now: float) -> bool:
        """Outcome notices go out once per closed request, however often its end is reported."""
        # A request whose emails could not be sent (CANCELLED) asked nobody for sure: no notices.
        return self.table.update(
            request_id,
            "SET noticesAt = :now",
            "attribute_exists(closedAs) AND attribute_not_exists(noticesAt) AND #status <> :cancelled",
            {":now": int(now), ":cancelled": Status.CANCELLED},
        ) is not None

    # -- reading ------------------------------------------------------------------------------
    def approval(self, request_id: str) -> ApprovalRequest | None:
        """The request as it is now, read without its task token."""
        item = self.table.read(request_id, _APPROVAL)
        return _approval_request(item) if item.get("kind") == APPROVAL else None

    def ballot(self, ballot_id: str) -> Ballot:
        item = self.table.read(check_callback_id(ballot_id), _BALLOT)
        if item.get("kind") != BALLOT:
            raise NotFound(UNKNOWN)
        return Ballot(id=item["id"], request=item["request"], approver=item["approver"], role=item["role"])

    # -- voting -------------------------------------------------------------------------------
    def record_vote(
        self, ballot: Ballot, *, decision: Decision, comment: str, audit: Audit, now: float
    ) -> tuple[str | None, ApprovalRequest]:
        """Count one vote: once per approver, while open. The vote that decides records the outcome
        in the same write and gets the task token to hand it over; others get None."""
        decision = Decision(decision)
        vote = {
            "decision": decision,
            "comment": comment,
            "decidedAt": iso_time(now),
            "at": int(now * 1000),
            "role": ballot.role,
            "requestSource": audit.record(),
        }
        counter, at = ("approvals", "approveAt") if decision == Decision.APPROVED else ("rejections", "rejectAt")
        values: dict[str, Any] = {
            ":pending": Status.PENDING,
            ":now": int(now * 1000),
            ":vote": vote,
            ":one": 1,
            ":final": decision.status,
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
                used = {key: value for key, value in values.items() if key in update or key in attempt}
                item = self.table.update(ballot.request, update, attempt, used, {"#voter": ballot.approver}, returning=True)
                if item is not None:
                    token = item.pop(TOKEN, None)
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
        """The approval waits again under a new token; returns it with the request as it is now."""
        item = self.table.update(
            approval_request_id(execution), f"SET {TOKEN} = :token", "attribute_exists(id)", {":token": task_token},
            returning=True,
        )
        if item is None:
            raise NotFound(UNKNOWN)
        return item.pop(TOKEN), _approval_request(item)

    def _put_ballot(self, request: ApprovalRequest, approver: str, role: str, ballot_id: str) -> Ballot:
        ballot = Ballot(ballot_id, request.id, approver, role)
        self.table.create({
            "id": ballot.id, "kind": BALLOT, "request": request.id, "approver": approver, "role": role,
            "execution": request.execution, "createdAt": int(request.started_at), "expiresAt": request.expires_at,
        })
        return ballot


def _approval_request(item: dict[str, Any]) -> ApprovalRequest:
    votes = sorted(
        (
            Vote(
                approver=address,
                decision=Decision(vote["decision"]),
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
        status=Status(item["status"]),
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
        closed_as=Ending(item["closedAs"]) if item.get("closedAs") else None,
    )
