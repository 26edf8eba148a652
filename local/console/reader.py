"""What the console shows, read the way a user would read it on AWS.

Executions through Step Functions' own API (ListExecutions, DescribeExecution,
GetExecutionHistory, DescribeStateMachine, StopExecution) on the embedded moto; emails from the
outbox; votes from the callbacks table, with a projection that never includes the task token.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from datetime import datetime, timezone
from email import errors, message_from_bytes, policy
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable

from functions.common.callbacks import APPROVER, ApprovalStore, approval_request_id
from functions.common.email import EXECUTION_HEADER, KIND_HEADER
from local.console.graph import TIMEOUT, flowchart, is_timer
from local.console.redact import Redactor

LIST_LIMIT = 30
# Histories read per list: a hundred executions running at once must not make one refresh a
# hundred history reads; the rest follow at the next refreshes. A state read for the page less
# than LIST_STALE_SECONDS ago is shown as it is (the next refresh brings the newer one).
LIST_HISTORY_READS = 5
LIST_STALE_SECONDS = 0.5
EMAIL_NAME = re.compile(r"[A-Za-z0-9._@+-]{1,200}")
_LINK = re.compile(r"https?://[^\s<>\"']+")
_ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_FAILED = ("FAILED", "TIMED_OUT")
_BAD_EVENT = re.compile(r"Failed|TimedOut|Aborted")


def approval_of(dynamodb: Any, table: str, execution: str) -> dict[str, Any]:
    """An execution's approval request as the console shows it, read as the status route reads it
    (without the task token): a summary (the policy in words, the counts, the deadline, reminders,
    escalation, the outcome and who decided) and one row per approver (and the escalation contact,
    once escalated) with their vote if they voted. The console is local: it shows addresses."""
    request = ApprovalStore(table, dynamodb).approval(approval_request_id(execution))
    if request is None:
        return {"approval": None, "votes": []}
    policy = request.policy
    rows = []
    for address in request.asked():
        vote = request.vote_of(address)
        if vote is not None:
            status = "voted" if vote.role == APPROVER else "voted (escalation)"
        else:
            status = "waiting" if request.is_open else "did not vote"
        rows.append(
            {
                "approver": address,
                "status": status,
                "decision": vote.decision if vote else None,
                "comment": vote.comment if vote else None,
                "decidedAt": _iso_epoch(vote.at_ms / 1000) if vote else None,
            }
        )
    deciding = request.vote_of(request.decided_by or "")
    next_reminder = policy.next_reminder(request.reminders_sent)
    summary = {
        **request.summary(),
        "status": request.status,
        "outcome": request.outcome,
        "decidedBy": request.decided_by,
        "decidedAt": _iso_epoch(deciding.at_ms / 1000) if deciding else None,
        "rejectionsToReject": max(0, policy.rejection_limit - request.rejections),
        "startedAt": _iso_epoch(request.started_at),
        "deadline": _iso_epoch(request.deadline),
        "reminders": {
            "every": policy.reminder_interval_seconds,
            "most": policy.max_reminders,
            "sent": request.reminders_sent,
            "next": _iso_epoch(request.started_at + next_reminder) if next_reminder is not None else None,
        } if policy.reminder_interval_seconds and policy.max_reminders else None,
        "escalation": {
            "to": policy.escalation_email,
            "after": policy.escalate_after_seconds,
            "due": _iso_epoch(request.started_at + policy.escalate_after_seconds),
            "at": _iso_epoch(request.escalated_at) if request.escalated_at is not None else None,
        } if policy.escalation_email else None,
    }
    return {"approval": summary, "votes": rows}


class ConsoleReader:
    def __init__(self, *, states: Any, dynamodb: Any, table: str, state_machine_arn: str, outbox: Path,
                 version_of: Callable[[str], int] | None = None, shared_version: Callable[[], int] | None = None,
                 ) -> None:
        """version_of(name): a number that changes whenever the execution's history grows;
        shared_version(): one that changes with every email and every request to the API. With
        them, a history and the votes are read once per change, however often they are shown."""
        self.states = states
        self.dynamodb = dynamodb
        self.table = table
        self.state_machine_arn = state_machine_arn
        self.outbox = outbox
        self.redactor = Redactor()
        self._definition: dict[str, Any] | None = None
        # Finished executions never change: their detail is read once (status, JSON).
        self._ended: dict[str, tuple[str, str]] = {}
        self._version_of = version_of
        self._shared_version = shared_version
        # Running executions: (version, progress, when read); a history is read once per change.
        self._recent: dict[str, tuple[tuple[str, int], dict[str, Any], float]] = {}
        self._approval: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
        self._failures: dict[str, str | None] = {}  # ended executions' errors, for the list
        self._emails: dict[str, dict[str, Any]] = {}  # file name -> email, once complete
        self._lock = threading.Lock()

    # -- the list ---------------------------------------------------------------------------
    def executions(self) -> dict[str, Any]:
        """The newest executions; for the running ones, the state each one is in."""
        page = self.states.list_executions(stateMachineArn=self.state_machine_arn, maxResults=LIST_LIMIT)
        rows, reads, pending = [], 0, False
        for execution in page["executions"]:
            name, status = execution["name"], execution["status"]
            row = {
                "name": name,
                "status": status,
                "startDate": _iso(execution.get("startDate")),
                "stopDate": _iso(execution.get("stopDate")),
                "current": None,
                "error": self._failure(execution["executionArn"], name) if status in _FAILED else None,
            }
            if status == "RUNNING":
                recent = self._recent.get(name)
                if recent is not None and time.monotonic() - recent[2] < LIST_STALE_SECONDS:
                    row["current"] = recent[1]["current"]  # read for the page a moment ago
                elif reads < LIST_HISTORY_READS:
                    reads += 1
                    row["current"] = self._progress(execution["executionArn"], status, name)["current"]
                else:  # at the next refresh; meanwhile the last state known, if any
                    row["current"] = recent[1]["current"] if recent is not None else None
                    pending = True
            rows.append(row)
        return {"stateMachine": self.state_machine_arn.rsplit(":", 1)[1], "executions": rows,
                "more": "nextToken" in page, "pending": pending}

    # -- one execution ------------------------------------------------------------------------
    def execution(self, name: str) -> bytes | None:
        """One execution as the page shows it, JSON-encoded."""
        arn = self._execution_arn(name)
        try:
            described = self.states.describe_execution(executionArn=arn)
        except self.states.exceptions.ExecutionDoesNotExist:
            return None
        status = described["status"]
        cached = self._ended.get(name)
        if cached is not None and cached[0] == status:
            fixed = cached[1]
        else:
            progress = self._progress(arn, status, name)
            fixed = progress.get("detail")
            if fixed is None:
                fixed = _json({
                    "name": name,
                    "status": status,
                    "startDate": _iso(described.get("startDate")),
                    "stopDate": _iso(described.get("stopDate")),
                    "input": self.redactor.json_text(described.get("input")),
                    "output": self.redactor.json_text(described.get("output")),
                    "error": described.get("error"),
                    "cause": self.redactor.json_text(described.get("cause")) if described.get("cause") else None,
                    "current": progress["current"],
                    "marks": {state: {"mark": mark, "detail": text} for state, (mark, text) in progress["marks"].items()},
                    "graph": flowchart(self.definition(), progress["marks"], progress["path"], status == "SUCCEEDED"),
                    "history": progress["history"],
                })
                progress["detail"] = fixed
                for key in ("history", "marks", "path"):  # all in the text now
                    progress.pop(key)
                if status in _ENDED:
                    # Kept as text: one object per execution, not hundreds for the garbage collector to walk.
                    self._ended[name] = (status, fixed)
        emails = self._emails_of(name)
        changing = {
            "emails": [{key: value for key, value in email.items() if key != "text"} for email in emails],
            **self._approval_of(name),
        }
        return (_json(changing)[:-1] + ", " + fixed[1:]).encode("utf-8")

    def _approval_of(self, name: str) -> dict[str, Any]:
        """approval_of, read again only after the execution or a request to the API changed something."""
        if self._version_of is None or self._shared_version is None:
            return approval_of(self.dynamodb, self.table, name)
        key = (self._version_of(name), self._shared_version())
        cached = self._approval.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        approval = approval_of(self.dynamodb, self.table, name)
        self._approval = {name: (key, approval)}  # the execution on screen
        return approval

    def _failure(self, arn: str, name: str) -> str | None:
        """Why an ended execution failed (its error), read once: it never changes."""
        if name not in self._failures:
            self._failures[name] = self.states.describe_execution(executionArn=arn).get("error")
        return self._failures[name]

    def stop(self, name: str) -> dict[str, Any] | None:
        try:
            self.states.stop_execution(
                executionArn=self._execution_arn(name), error="Stopped", cause="Stopped from the local console."
            )
        except self.states.exceptions.ExecutionDoesNotExist:
            return None
        return {"name": name, "stopped": True}

    def definition(self) -> dict[str, Any]:
        """The definition the engine runs, as DescribeStateMachine gives it."""
        if self._definition is None:
            described = self.states.describe_state_machine(stateMachineArn=self.state_machine_arn)
            self._definition = json.loads(described["definition"])
        return self._definition

    def _execution_arn(self, name: str) -> str:
        prefix = self.state_machine_arn.replace(":stateMachine:", ":execution:")
        return f"{prefix}:{name}"

    def _progress(self, arn: str, status: str, name: str) -> dict[str, Any]:
        """History (redacted), current state, marks and the path of states entered."""
        key = (status, self._version_of(name)) if self._version_of is not None else None
        recent = self._recent.get(name)
        if key is not None and recent is not None and recent[0] == key:
            return recent[1]
        progress = self._read_progress(arn, status)
        if key is not None:
            if status in _ENDED:
                self._recent.pop(name, None)  # from now on read once, kept with the finished ones
            else:
                self._recent[name] = (key, progress, time.monotonic())
        return progress

    def _read_progress(self, arn: str, status: str) -> dict[str, Any]:
        events = self.states.get_execution_history(executionArn=arn)["events"]
        history = []
        marks: dict[str, tuple[str, str]] = {}
        open_states: list[str] = []
        path: list[str] = []
        errors: dict[str, str] = {}
        current_state = None
        definition = self.definition()
        for event in events:
            kind = event["type"]
            details = next((value for key, value in event.items() if key.endswith("EventDetails")), {}) or {}
            if kind.endswith("StateEntered"):
                # A state left without an exit event (an error moved the execution on) is done too.
                if open_states and not _is_container(definition, open_states[-1]):
                    left = open_states.pop()
                    marks[left] = _left(definition, left, errors.pop(left, None))
                current_state = details.get("name")
                open_states.append(current_state)
                path.append(current_state)
            elif kind.endswith("StateExited"):
                name = details.get("name")
                if name in open_states:
                    open_states.remove(name)
                marks[name] = _left(definition, name, errors.pop(name, None))
            elif details.get("error") and current_state and not kind.startswith("Execution"):
                errors[current_state] = details["error"]
            history.append(self._event(event, kind, details, current_state, definition))
        current = open_states[-1] if open_states else None
        if current is not None:
            if status == "RUNNING":
                marks[current] = (_waiting_or_running(definition, current), "")
            elif status == "ABORTED":
                marks[current] = ("stopped", "")
            else:
                marks[current] = ("failed", errors.get(current, ""))
        if status in ("FAILED", "TIMED_OUT") and path:
            failed_in = current or path[-1]
            final = events[-1] if events else {}
            error = (final.get("executionFailedEventDetails") or {}).get("error", "")
            marks[failed_in] = ("failed", error)
            current = failed_in
        if status == "SUCCEEDED":
            current = path[-1] if path else None
        return {"history": history, "marks": marks, "path": path, "current": current}

    def _event(self, event: dict[str, Any], kind: str, details: dict[str, Any], state: str | None,
               definition: dict[str, Any]) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for key in ("input", "output", "parameters"):
            if key in details:
                shown[key] = self.redactor.json_text(details[key])
        for key in ("error", "cause", "resource", "resourceType"):
            if details.get(key):
                shown[key] = self.redactor.text(str(details[key]))
        tone = None
        if state and _timer_fired(definition, state, details.get("error")):
            tone = "timer"
        elif _BAD_EVENT.search(kind):
            tone = "bad"
        return {
            "id": event["id"],
            "time": _iso(event["timestamp"]),
            "type": kind,
            "state": details.get("name") or (state if not kind.startswith("Execution") else None),
            "tone": tone,
            **shown,
        }

    # -- emails -------------------------------------------------------------------------------
    def _emails_of(self, execution: str) -> list[dict[str, Any]]:
        """The execution's emails: by the header that names it or, without one, by its name in the text."""
        return [
            email for email in self._all_emails()
            if (email["execution"] == execution if email["execution"] else execution in email["text"])
        ]

    def email_html(self, email_id: str) -> str | None:
        """The HTML part of one outbox email (its id is its file name, without .eml)."""
        if not EMAIL_NAME.fullmatch(email_id) or email_id.startswith("."):
            return None
        path = self.outbox / f"{email_id}.eml"
        if path.parent != self.outbox or not path.is_file():
            return None
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        part = message.get_body(preferencelist=("html",))
        if part is not None and part.get_content_type() == "text/html":
            return self.redactor.text(part.get_content())
        text = message.get_body(preferencelist=("plain",))
        from html import escape

        return f"<pre>{escape(text.get_content() if text else '')}</pre>"

    def _all_emails(self) -> list[dict[str, Any]]:
        try:
            names = sorted(name for name in os.listdir(self.outbox) if name.endswith(".eml"))
        except OSError:
            return []
        with self._lock:
            for name in names:
                if name not in self._emails:
                    email = _read_email(self.outbox / name)
                    if email is not None:
                        self._emails[name] = email
            return [self._emails[name] for name in names if name in self._emails]


def _read_email(path: Path) -> dict[str, Any] | None:
    """An outbox email as the console shows it; None while the engine is still writing it."""
    try:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if any(isinstance(defect, _UNFINISHED) for part in message.walk() for defect in part.defects):
            return None
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        text = plain.get_content() if plain is not None else ""
        hrefs = _Links.of(html.get_content()) if html is not None else []
    except (OSError, LookupError, ValueError):
        return None
    if not text and not hrefs:
        return None
    links = list(dict.fromkeys(_LINK.findall(text) + hrefs))
    subject = str(message["Subject"] or "")
    try:
        sent = _iso(parsedate_to_datetime(str(message["Date"])).astimezone(timezone.utc))
    except (TypeError, ValueError):
        sent = None
    return {
        "id": path.stem,
        "kind": email_kind(str(message[KIND_HEADER] or ""), subject),
        "execution": str(message[EXECUTION_HEADER] or ""),
        "subject": subject,
        "to": str(message["To"] or ""),
        "from": str(message["From"] or ""),
        "date": sent,
        "links": [{"url": link, "label": _link_label(link)} for link in links],
        "text": text,
    }


# Without the kind header (an email from elsewhere), the subject says what it is.
_KINDS_BY_SUBJECT = (
    ("reminder", re.compile(r"\breminder\b", re.IGNORECASE)),
    ("escalation", re.compile(r"\bescalat", re.IGNORECASE)),
    ("failure", re.compile(r"\bfail", re.IGNORECASE)),
    ("request", re.compile(r"\bapproval needed\b", re.IGNORECASE)),
    ("outcome", re.compile(r"\b(approved|rejected|decided|decision|outcome|timed out|expired|closed|stopped|cancel)",
                           re.IGNORECASE)),
)


def email_kind(header: str, subject: str) -> str:
    """request, reminder, escalation, outcome, failure, or another kind the sender named; else "other"."""
    named = re.sub(r"[^a-z0-9-]", "", header.strip().lower())[:40]
    if named:
        return named
    return next((kind for kind, pattern in _KINDS_BY_SUBJECT if pattern.search(subject)), "other")


def _link_label(url: str) -> str:
    path = url.split("?", 1)[0].rstrip("/")
    return path.rsplit("/", 1)[-1] or url


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href and href.startswith(("http://", "https://")):
                self.links.append(href)

    @classmethod
    def of(cls, html: str) -> list[str]:
        parser = cls()
        parser.feed(html)
        return parser.links


def _left(definition: dict[str, Any], name: str, error: str | None) -> tuple[str, str]:
    """The mark of a state left: passed, left on its timer, or left through a Catch."""
    if error is None:
        return ("passed", "")
    return ("timer", "") if _timer_fired(definition, name, error) else ("caught", error)


def _timer_fired(definition: dict[str, Any], name: str, error: Any) -> bool:
    """A States.Timeout the state's definition sends on a path of its own (a Catch for it alone):
    the wait ended on time, as planned (a reminder is due), not as a failure."""
    state = _find_state(definition, name) or {}
    return error == TIMEOUT and any(is_timer(catcher) for catcher in state.get("Catch", []))


def _waiting_or_running(definition: dict[str, Any], name: str) -> str:
    state = _find_state(definition, name) or {}
    if state.get("Type") == "Wait" or str(state.get("Resource", "")).endswith(".waitForTaskToken"):
        return "waiting"
    return "running"


def _is_container(definition: dict[str, Any], name: str) -> bool:
    return (_find_state(definition, name) or {}).get("Type") in ("Parallel", "Map")


def _find_state(machine: dict[str, Any], name: str) -> dict[str, Any] | None:
    for state_name, state in machine.get("States", {}).items():
        if state_name == name:
            return state
        for inner in state.get("Branches", []) + [state.get("ItemProcessor") or state.get("Iterator") or {}]:
            found = _find_state(inner, name)
            if found is not None:
                return found
    return None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="milliseconds") if isinstance(value, datetime) else None


def _iso_epoch(seconds: float) -> str:
    return _iso(datetime.fromtimestamp(seconds, tz=timezone.utc)) or ""
