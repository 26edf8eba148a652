"""What the console shows, read the way a user would read it on AWS.

Executions through Step Functions' own API (ListExecutions, DescribeExecution,
GetExecutionHistory, DescribeStateMachine, StopExecution) on the embedded moto, interpreted by
`history`; emails from the outbox (`outbox`); votes from the callbacks table, with a projection
that never includes the task token (`votes`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

from local.console.graph import flowchart
from local.console.history import ENDED, FAILED, interpret, iso
from local.console.outbox import Outbox
from local.console.redact import Redactor
from local.console.votes import approval_of

LIST_LIMIT = 30
# Histories read per list: a hundred executions running at once must not make one refresh a
# hundred history reads; the rest follow at the next refreshes. A state read for the page less
# than LIST_STALE_SECONDS ago is shown as it is (the next refresh brings the newer one).
LIST_HISTORY_READS = 5
LIST_STALE_SECONDS = 0.5


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
        self.outbox = Outbox(outbox, self.redactor)

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
                "startDate": iso(execution.get("startDate")),
                "stopDate": iso(execution.get("stopDate")),
                "current": None,
                "error": self._failure(execution["executionArn"], name) if status in FAILED else None,
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
                    "startDate": iso(described.get("startDate")),
                    "stopDate": iso(described.get("stopDate")),
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
                if status in ENDED:
                    # Kept as text: one object per execution, not hundreds for the garbage collector to walk.
                    self._ended[name] = (status, fixed)
        emails = self.outbox.of(name)
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
        events = self.states.get_execution_history(executionArn=arn)["events"]
        progress = interpret(events, status, self.definition(), self.redactor)
        if key is not None:
            if status in ENDED:
                self._recent.pop(name, None)  # from now on read once, kept with the finished ones
            else:
                self._recent[name] = (key, progress, time.monotonic())
        return progress

    def email_html(self, email_id: str) -> str | None:
        return self.outbox.html(email_id)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
