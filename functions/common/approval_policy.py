"""Who must agree, and when to remind and escalate: the stage's approval policy.

One definition serves everything that reads the policy: the functions (from their environment),
`serverless package` / `deploy` and `make local` (through deploy/approval_policy.py, its plan
for the stage). A configuration that cannot work is refused here, naming the key. Standard
library only: the packaging plugin runs it with a bare python3.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from functions.common.vocabulary import Decision

DEFAULT_APPROVAL_TIMEOUT_SECONDS = 600
# With 500-character comments and 254-character addresses, 50 votes and the escalation contact's
# fill about a third of the request record's 400 KB and of the outcome's 256 KiB.
MAX_APPROVERS = 50
MAX_ADDRESS_CHARS = 254
DEFAULT_MAX_REMINDERS = 3

# The keys this module reads (env.json per stage, or a function's environment).
POLICY_KEYS = (
    "RECIPIENT_EMAIL",
    "APPROVERS",
    "APPROVAL_POLICY",
    "APPROVAL_TIMEOUT_SECONDS",
    "REMINDER_INTERVAL_SECONDS",
    "MAX_REMINDERS",
    "ESCALATION_EMAIL",
    "ESCALATE_AFTER_SECONDS",
    "OUTCOME_NOTICES",
)

ANY, ALL = "any", "all"

# Deliberately plain: something@domain.tld, no spaces, no display names, no lists.
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


class PolicyError(ValueError):
    """A configuration that cannot work; the message starts with the key to fix."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


@dataclass(frozen=True)
class ApprovalPolicy:
    approvers: tuple[str, ...]
    rule: str  # "any", "all", or "k" (k approvals out of len(approvers))
    required: int  # approvals that approve
    rejection_limit: int  # rejections that reject
    timeout_seconds: int = DEFAULT_APPROVAL_TIMEOUT_SECONDS
    reminder_interval_seconds: int = 0
    max_reminders: int = DEFAULT_MAX_REMINDERS
    escalation_email: str = ""
    escalate_after_seconds: int = 0
    outcome_notices: bool = True  # everyone asked hears how the request ended

    # -- reading the configuration -------------------------------------------------------
    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "ApprovalPolicy":
        """From an env.json stage block or a function's environment (all values may be strings)."""
        approvers = _approvers(config)
        count = len(approvers)
        rule, required, rejection_limit = _rule(config.get("APPROVAL_POLICY"), count)
        timeout = _seconds(config, "APPROVAL_TIMEOUT_SECONDS", DEFAULT_APPROVAL_TIMEOUT_SECONDS, minimum=1)
        interval = _seconds(config, "REMINDER_INTERVAL_SECONDS", 0, minimum=0)
        max_reminders = _seconds(config, "MAX_REMINDERS", DEFAULT_MAX_REMINDERS, minimum=0, unit="a whole number")
        escalation = str(config.get("ESCALATION_EMAIL") or "").strip()
        escalate_after = _seconds(config, "ESCALATE_AFTER_SECONDS", 0, minimum=0)
        outcome_notices = _switch(config, "OUTCOME_NOTICES", default=True)
        if escalation:
            check_address("ESCALATION_EMAIL", escalation)
            if escalation.lower() in (address.lower() for address in approvers):
                raise PolicyError("ESCALATION_EMAIL", f"{escalation} is already an approver; escalate to someone else")
            if escalate_after <= 0:
                raise PolicyError("ESCALATE_AFTER_SECONDS", "is required with ESCALATION_EMAIL (seconds, more than 0)")
            if escalate_after >= timeout:
                raise PolicyError(
                    "ESCALATE_AFTER_SECONDS",
                    f"must be less than APPROVAL_TIMEOUT_SECONDS ({timeout}), got {escalate_after}",
                )
        elif escalate_after:
            raise PolicyError("ESCALATION_EMAIL", "is required with ESCALATE_AFTER_SECONDS")
        if interval and interval >= timeout:
            raise PolicyError(
                "REMINDER_INTERVAL_SECONDS",
                f"must be less than APPROVAL_TIMEOUT_SECONDS ({timeout}) or 0 for none, got {interval}",
            )
        return cls(
            approvers=approvers,
            rule=rule,
            required=required,
            rejection_limit=rejection_limit,
            timeout_seconds=timeout,
            reminder_interval_seconds=interval,
            max_reminders=max_reminders,
            escalation_email=escalation,
            escalate_after_seconds=escalate_after if escalation else 0,
            outcome_notices=outcome_notices,
        )

    # -- deciding ------------------------------------------------------------------------
    def outcome(self, approvals: int, rejections: int) -> Decision | None:
        """approved / rejected once the votes decide, else None."""
        if approvals >= self.required:
            return Decision.APPROVED
        if rejections >= self.rejection_limit:
            return Decision.REJECTED
        return None

    @property
    def label(self) -> str:
        """The policy as configured: "any", "all" or the number k, as text."""
        return self.rule if self.rule in (ANY, ALL) else str(self.required)

    @property
    def value(self) -> str | int:
        """The policy as the status API and the outputs show it: "any", "all" or the number k."""
        return self.required if self.rule == "k" else self.rule

    def describe(self) -> str:
        """The policy in words, for pages and emails."""
        return describe(self.rule, self.required, len(self.approvers))

    # -- reminders and escalation ---------------------------------------------------------
    @property
    def follows_up(self) -> bool:
        return bool((self.reminder_interval_seconds and self.max_reminders) or self.escalation_email)

    def next_reminder(self, reminders_sent: int) -> int | None:
        """Seconds after the request at which the next reminder is due; None when none is left."""
        if self.reminder_interval_seconds and reminders_sent < self.max_reminders:
            return (reminders_sent + 1) * self.reminder_interval_seconds
        return None

    def follow_ups(self, *, reminders_sent: int, escalated: bool) -> list[int]:
        """Seconds after the request at which the next reminder / the escalation are due."""
        due = []
        reminder = self.next_reminder(reminders_sent)
        if reminder is not None:
            due.append(reminder)
        if self.escalation_email and not escalated:
            due.append(self.escalate_after_seconds)
        return due

    def next_wait(self, *, started_at: float, now: float, reminders_sent: int, escalated: bool) -> int:
        """Whole seconds to wait from now: until the next follow-up or the deadline, whichever is first."""
        moments = [*self.follow_ups(reminders_sent=reminders_sent, escalated=escalated), self.timeout_seconds]
        until = started_at + min(moment for moment in moments if moment <= self.timeout_seconds)
        return max(1, math.ceil(until - now))

    @property
    def first_wait_seconds(self) -> int:
        """How long the Approval state waits before its first follow-up (the deadline if none)."""
        return self.next_wait(started_at=0, now=0, reminders_sent=0, escalated=False)

    def environment(self) -> dict[str, str]:
        """What the functions read back with from_config (Lambda environment values are strings)."""
        return {
            "APPROVERS": ",".join(self.approvers),
            "APPROVAL_POLICY": self.label,
            "APPROVAL_TIMEOUT_SECONDS": str(self.timeout_seconds),
            "REMINDER_INTERVAL_SECONDS": str(self.reminder_interval_seconds),
            "MAX_REMINDERS": str(self.max_reminders),
            "ESCALATION_EMAIL": self.escalation_email,
            "ESCALATE_AFTER_SECONDS": str(self.escalate_after_seconds),
            "OUTCOME_NOTICES": "true" if self.outcome_notices else "false",
        }


def describe(rule: str, required: int, count: int) -> str:
    if count == 1:
        return "needs 1 approval"
    if rule == ANY:
        return f"the first of {count} approvers to answer decides"
    if rule == ALL:
        return f"needs all {count} approvals; one rejection rejects"
    return f"needs {required} of {count} approvals"


def _approvers(config: Mapping[str, Any]) -> tuple[str, ...]:
    raw = config.get("APPROVERS")
    if raw in (None, "", []):
        recipient = str(config.get("RECIPIENT_EMAIL") or "").strip()
        check_address("RECIPIENT_EMAIL", recipient)
        return (recipient,)
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except ValueError:
                raise PolicyError("APPROVERS", "is not a valid JSON array of addresses") from None
        else:
            raw = [part for part in (piece.strip() for piece in text.split(",")) if part]
    if not isinstance(raw, list) or not all(isinstance(address, str) for address in raw) or not raw:
        raise PolicyError("APPROVERS", "must be a list of email addresses (or a comma-separated string)")
    approvers = tuple(address.strip() for address in raw)
    if len(approvers) > MAX_APPROVERS:
        raise PolicyError(
            "APPROVERS",
            f"lists {len(approvers)} approvers; at most {MAX_APPROVERS} (every vote is kept in the one "
            "request record, which DynamoDB limits to 400 KB, and in the outcome, which Step Functions "
            "limits to 256 KiB)",
        )
    seen: set[str] = set()
    for address in approvers:
        check_address("APPROVERS", address)
        if address.lower() in seen:
            raise PolicyError("APPROVERS", f"{address} is listed twice; each approver counts once")
        seen.add(address.lower())
    return approvers


def _rule(raw: Any, count: int) -> tuple[str, int, int]:
    """(rule, approvals that approve, rejections that reject)."""
    if raw in (None, "") or str(raw).strip().lower() == ANY:
        return ANY, 1, 1
    if str(raw).strip().lower() == ALL:
        return ALL, count, 1
    text = str(raw).strip()
    if isinstance(raw, bool) or not re.fullmatch(r"\d+", text):
        raise PolicyError("APPROVAL_POLICY", f'must be "any", "all" or a whole number of approvals, got {raw!r}')
    required = int(text)
    if required < 1:
        raise PolicyError("APPROVAL_POLICY", f"must ask for at least 1 approval, got {required}")
    if required > count:
        there = "is 1 approver" if count == 1 else f"are {count} approvers"
        raise PolicyError("APPROVAL_POLICY", f"asks for {required} approvals but there {there} (APPROVERS)")
    # Rejected as soon as k approvals can no longer be reached.
    return "k", required, count - required + 1


def _seconds(config: Mapping[str, Any], key: str, default: int, *, minimum: int, unit: str = "whole seconds") -> int:
    raw = config.get(key)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not re.fullmatch(r"\d+", str(raw).strip()):
        raise PolicyError(key, f"must be {unit}, got {raw!r}")
    value = int(str(raw).strip())
    if value < minimum:
        raise PolicyError(key, f"must be at least {minimum}, got {value}")
    return value


def _switch(config: Mapping[str, Any], key: str, *, default: bool) -> bool:
    """true / false (a JSON boolean in env.json; the words in an environment variable)."""
    raw = config.get(key)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text not in ("true", "false"):
        raise PolicyError(key, f"must be true or false, got {raw!r}")
    return text == "true"


def check_address(key: str, address: str) -> None:
    if len(address or "") > MAX_ADDRESS_CHARS or not _ADDRESS.fullmatch(address or ""):
        raise PolicyError(key, f"{address!r} is not an email address")
