"""What any workflow may ask the approval machine: a subject, details, a link, who asks, and
optionally its own approvers and policy. Checked by the rules the stage's own policy obeys.

The input (the approval machine's execution input) becomes a `Plan`: what the request shows and
the policy it is decided by, with the stage's env.json filling in what the caller left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from functions.common.approval_policy import MAX_ADDRESS_CHARS, ApprovalPolicy, PolicyError, check_address
from functions.common.errors import InvalidApprovalRequest

MAX_SUBJECT_CHARS = 200
MAX_DETAILS = 30
MAX_LABEL_CHARS = 60
MAX_VALUE_CHARS = 1_000
MAX_LINK_CHARS = 2_048
MAX_TIMEOUT_SECONDS = 365 * 24 * 3600  # a Standard execution lives at most a year
_MAX_WHOLE = 10**38  # DynamoDB keeps numbers of up to 38 digits

# Each optional field of the input and the stage setting (env.json) it replaces for this request.
POLICY_FIELDS = {
    "approvers": "APPROVERS",
    "policy": "APPROVAL_POLICY",
    "timeoutSeconds": "APPROVAL_TIMEOUT_SECONDS",
    "reminderIntervalSeconds": "REMINDER_INTERVAL_SECONDS",
    "maxReminders": "MAX_REMINDERS",
}
_ESCALATION_FIELDS = {"email": "ESCALATION_EMAIL", "afterSeconds": "ESCALATE_AFTER_SECONDS"}
FIELDS = ("subject", "details", "link", "requestedBy", *POLICY_FIELDS, "escalation")
# Step Functions adds this key to a child execution's input when a parent starts it.
_STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"


@dataclass(frozen=True)
class Plan:
    """A checked request: what people are shown (`context`) and the policy that decides it."""

    context: dict[str, Any]  # subject, details, link, requestedBy: what emails, pages and the console show
    policy: ApprovalPolicy

    def event(self) -> dict[str, Any]:
        """As the state machine carries it (JSON) from CheckRequest to the Approval state."""
        return {"context": self.context, "policy": self.policy.environment(), "firstWaitSeconds": self.policy.first_wait_seconds}

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Plan:
        return cls(context=dict(event["context"]), policy=ApprovalPolicy.from_config(event["policy"]))


def refuse(field: str, rule: str) -> InvalidApprovalRequest:
    return InvalidApprovalRequest(f"{field}: {rule}")


def check_request(raw: Any, stage: Mapping[str, str], allowed_domains: frozenset[str]) -> Plan:
    """The plan for this input, or InvalidApprovalRequest naming the first field that breaks a rule."""
    if not isinstance(raw, dict):
        raise refuse("input", "must be a JSON object with at least a subject")
    unknown = sorted(set(raw) - set(FIELDS) - {_STARTED_BY})
    if unknown:
        raise refuse(unknown[0], f"is not a field of an approval request (the fields: {', '.join(FIELDS)})")
    context: dict[str, Any] = {"subject": _subject(raw.get("subject")), "details": _details(raw.get("details", []))}
    if raw.get("link") is not None:
        context["link"] = _link(raw["link"])
    requested_by = raw.get("requestedBy")
    if requested_by is not None:
        context["requestedBy"] = _address("requestedBy", requested_by)
    policy = _policy(raw, stage, allowed_domains)
    if requested_by is not None:
        asker = context["requestedBy"].lower()
        if asker.rsplit("@", 1)[1] not in allowed_domains:
            raise refuse("requestedBy", f"{context['requestedBy']} is outside the domains this service may email "
                                        f"({', '.join(sorted(allowed_domains))})")
        if asker in (address.lower() for address in policy.approvers):
            raise refuse("requestedBy", "is one of the approvers: nobody may decide their own request")
        if asker == policy.escalation_email.lower():
            raise refuse("requestedBy", "is the escalation contact: nobody may decide their own request")
    return Plan(context=context, policy=policy)


def allowed_domains(stage: Mapping[str, str]) -> frozenset[str]:
    """APPROVER_DOMAINS (comma-separated), else the domains of the stage's configured approvers: a
    caller cannot use the service to email anyone else."""
    configured = [part.strip().lower() for part in str(stage.get("APPROVER_DOMAINS") or "").split(",") if part.strip()]
    if configured:
        return frozenset(configured)
    return frozenset(address.rsplit("@", 1)[1].lower() for address in ApprovalPolicy.from_config(stage).approvers)


def _subject(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refuse("subject", f"is required: a text of 1 to {MAX_SUBJECT_CHARS} characters")
    subject = value.strip()
    if len(subject) > MAX_SUBJECT_CHARS:
        raise refuse("subject", f"is {len(subject)} characters long; at most {MAX_SUBJECT_CHARS}")
    if any(ord(char) < 32 for char in subject):
        raise refuse("subject", "must be one line, without control characters")
    return subject


def _details(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise refuse("details", 'must be a list of {"label": …, "value": …} rows')
    if len(value) > MAX_DETAILS:
        raise refuse("details", f"has {len(value)} rows; at most {MAX_DETAILS}")
    rows = []
    for index, row in enumerate(value):
        where = f"details[{index}]"
        if not isinstance(row, dict) or set(row) != {"label", "value"}:
            raise refuse(where, 'must be {"label": …, "value": …}, nothing else')
        label, shown = row["label"], row["value"]
        if not isinstance(label, str) or not label.strip() or len(label.strip()) > MAX_LABEL_CHARS:
            raise refuse(f"{where}.label", f"must be a text of 1 to {MAX_LABEL_CHARS} characters")
        if isinstance(shown, bool) or not isinstance(shown, (str, int, float)):
            raise refuse(f"{where}.value", "must be a text or a number")
        if len(str(shown)) > MAX_VALUE_CHARS:
            raise refuse(f"{where}.value", f"is {len(str(shown))} characters long; at most {MAX_VALUE_CHARS}")
        # A whole number is kept as one; any other number as the text it was sent as (the table keeps
        # whole numbers, and shows every value as text anyway).
        kept = shown if isinstance(shown, int) and abs(shown) < _MAX_WHOLE else shown if isinstance(shown, str) else str(shown)
        rows.append({"label": label.strip(), "value": kept})
    return rows


def _link(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_LINK_CHARS:
        raise refuse("link", f"must be an https URL of at most {MAX_LINK_CHARS} characters")
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname or any(char.isspace() or ord(char) < 32 for char in value):
        raise refuse("link", "must be an https URL (https://…)")
    return value


def _address(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise refuse(field, "must be an email address")
    try:
        check_address(field, value.strip())
    except PolicyError:
        raise refuse(field, f"{value[:MAX_ADDRESS_CHARS]!r} is not an email address") from None
    return value.strip()


def _policy(raw: Mapping[str, Any], stage: Mapping[str, str], domains: frozenset[str]) -> ApprovalPolicy:
    config: dict[str, Any] = dict(stage)
    # A rule broken together with a stage setting is named by the request's field it concerns.
    named = {setting: field for field, setting in POLICY_FIELDS.items()}
    named.update({setting: "escalation" for setting in _ESCALATION_FIELDS.values()})
    for field, setting in POLICY_FIELDS.items():
        if raw.get(field) is not None:
            config[setting] = raw[field]
    timeout = raw.get("timeoutSeconds")
    if isinstance(timeout, int) and not isinstance(timeout, bool) and timeout > MAX_TIMEOUT_SECONDS:
        raise refuse("timeoutSeconds", f"is {timeout}; at most {MAX_TIMEOUT_SECONDS} (a year: how long an execution may live)")
    approvers = raw.get("approvers")
    if approvers is not None:
        if not isinstance(approvers, list) or not approvers or not all(isinstance(item, str) for item in approvers):
            raise refuse("approvers", "must be a non-empty list of email addresses")
    escalation = raw.get("escalation")
    if escalation is not None:
        if not isinstance(escalation, dict) or set(escalation) - set(_ESCALATION_FIELDS) or "email" not in escalation:
            raise refuse("escalation", 'must be {"email": …, "afterSeconds": …}')
        for field, setting in _ESCALATION_FIELDS.items():
            config[setting] = escalation.get(field)
            named[setting] = f"escalation.{field}"
    try:
        policy = ApprovalPolicy.from_config(config)
    except PolicyError as error:
        field = named.get(error.key, error.key)
        raise refuse(field, str(error).split(": ", 1)[1]) from None
    asked = [*(policy.approvers if approvers is not None else ()), *([policy.escalation_email] if escalation else [])]
    for address in asked:
        if address.rsplit("@", 1)[1].lower() not in domains:
            field = "approvers" if address in policy.approvers else "escalation.email"
            raise refuse(field, f"{address} is outside the domains this service may email ({', '.join(sorted(domains))})")
    return policy
