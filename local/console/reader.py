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
from datetime import datetime
from email import errors, message_from_bytes, policy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable

from functions.common.callbacks import APPROVER, ApprovalStore, approval_request_id
from local.console.graph import flowchart
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
def votes_of(dynamodb: Any, table: str, execution: str) -> list[dict[str, Any]]:
    """One row per approver (and the escalation contact, once escalated) of an execution's approval
    request: their vote if they voted. Read as the status route reads it, without the task token."""
    request = ApprovalStore(table, dynamodb).approval(approval_request_id(execution))
    if request is None:
        return []
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
                "decidedAt": vote.at_ms / 1000 if vote else None,
            }
        )
    return rows


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
        self._votes: dict[str, tuple[tuple[int, int], list[dict[str, Any]]]] = {}
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
        emails = self._emails_with_text(name)
        votes = self._votes_of(name)
        changing = {
            "emails": [{key: value for key, value in email.items() if key != "text"} for email in emails],
            "votes": votes,
        }
        return (_json(changing)[:-1] + ", " + fixed[1:]).encode("utf-8")

    def _votes_of(self, name: str) -> list[dict[str, Any]]:
        """votes_of, read again only after the execution or a request to the API changed something."""
        if self._version_of is None or self._shared_version is None:
            return votes_of(self.dynamodb, self.table, name)
        key = (self._version_of(name), self._shared_version())
        cached = self._votes.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        votes = votes_of(self.dynamodb, self.table, name)
        self._votes = {name: (key, votes)}  # the execution on screen
        return votes

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
                    marks[left] = ("caught", errors.pop(left)) if left in errors else ("passed", "")
                current_state = details.get("name")
                open_states.append(current_state)
                path.append(current_state)
            elif kind.endswith("StateExited"):
                name = details.get("name")
                if name in open_states:
                    open_states.remove(name)
                marks[name] = ("caught", errors.pop(name)) if name in errors else ("passed", "")
            elif details.get("error") and current_state and not kind.startswith("Execution"):
                errors[current_state] = details["error"]
            history.append(self._event(event, kind, details, current_state))
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

    def _event(self, event: dict[str, Any], kind: str, details: dict[str, Any], state: str | None) -> dict[str, Any]:
        shown: dict[str, Any] = {}
        for key in ("input", "output", "parameters"):
            if key in details:
                shown[key] = self.redactor.json_text(details[key])
        for key in ("error", "cause", "resource", "resourceType"):
            if details.get(key):
                shown[key] = self.redactor.text(str(details[key]))
        return {
            "id": event["id"],
            "time": _iso(event["timestamp"]),
            "type": kind,
            "state": details.get("name") or (state if not kind.startswith("Execution") else None),
            **shown,
        }

    # -- emails -------------------------------------------------------------------------------
    def _emails_with_text(self, execution: str) -> list[dict[str, Any]]:
        return [email for email in self._all_emails() if execution in email["text"]]

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
    return {
        "id": path.stem,
        "subject": str(message["Subject"] or ""),
        "to": str(message["To"] or ""),
        "from": str(message["From"] or ""),
        "date": str(message["Date"] or ""),
        "links": [{"url": link, "label": _link_label(link)} for link in links],
        "text": text,
    }


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
    return value.isoformat() if isinstance(value, datetime) else None
