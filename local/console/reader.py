"""What the console shows, read the way a user would read it on AWS.

Executions of every state machine of the service (the workflow and the approval machine it
starts) through Step Functions' own API (ListExecutions, DescribeExecution, GetExecutionHistory,
DescribeStateMachine, StartExecution, StopExecution) on the embedded moto, interpreted by
`history`, parent and child linked by `lineage`; emails from the outbox (`outbox`); votes from the
callbacks table, with a projection that never includes the task token (`votes`). An execution is
named by its machine's key ("workflow", "approval") and its name: a child is named as its parent.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from local.console.graph import flowchart
from local.console.history import ENDED, FAILED, interpret, iso
from local.console.lineage import children_of, parent_of, reference
from local.console.outbox import Outbox
from local.console.redact import Redactor
from local.console.votes import approval_of

LIST_LIMIT = 30
# Histories read per list: a hundred executions running at once must not make one refresh a
# hundred history reads; the rest follow at the next refreshes. A state read for the page less
# than LIST_STALE_SECONDS ago is shown as it is (the next refresh brings the newer one).
LIST_HISTORY_READS = 5
LIST_STALE_SECONDS = 0.5


# An execution of one of the console's machines: (its machine's key, its name).
Key = tuple[str, str]
MACHINE_KEY = re.compile(r"[a-z0-9]{1,40}")


def machine_key(logical_id: str) -> str:
    """The console's short name of a state machine: WorkflowStateMachine -> "workflow"."""
    return (logical_id.removesuffix("StateMachine") or logical_id).lower()


class ConsoleReader:
    def __init__(self, *, states: Any, dynamodb: Any, table: str, machines: dict[str, str], outbox: Path,
                 version_of: Callable[[str], int] | None = None, shared_version: Callable[[], int] | None = None,
                 ) -> None:
        """machines: the console's key of each state machine -> its ARN, the started one (POST
        /start's) first. version_of(name): a number that changes whenever the history of an
        execution of that name grows (a parent's and its child's: they share it);
        shared_version(): one that changes with every email and every request to the API. With
        them, a history and the votes are read once per change, however often they are shown."""
        self.states = states
        self.dynamodb = dynamodb
        self.table = table
        self.machines = dict(machines)
        self.redactor = Redactor()
        self._definitions: dict[str, dict[str, Any]] = {}
        # Finished executions never change: their detail is read once (status, JSON).
        self._ended: dict[Key, tuple[str, str]] = {}
        self._version_of = version_of
        self._shared_version = shared_version
        # Running executions: (version, progress, when read); a history is read once per change.
        self._recent: dict[Key, tuple[tuple[str, int], dict[str, Any], float]] = {}
        self._approval: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
        self._failures: dict[Key, str | None] = {}  # ended executions' errors, for the list
        self.outbox = Outbox(outbox, self.redactor)

    @property
    def state_machine_arn(self) -> str:
        """The started machine's (the doubled-sum workflow's)."""
        return next(iter(self.machines.values()))

    # -- the list ---------------------------------------------------------------------------
    def executions(self) -> dict[str, Any]:
        """The newest executions of every machine, newest first; for the running ones, the state each one is in."""
        listed, more = [], False
        for machine, arn in self.machines.items():
            page = self.states.list_executions(stateMachineArn=arn, maxResults=LIST_LIMIT)
            more = more or "nextToken" in page
            listed += [(machine, execution) for execution in page["executions"]]
        listed.sort(key=lambda pair: pair[1]["startDate"], reverse=True)
        more = more or len(listed) > LIST_LIMIT
        rows, reads, pending = [], 0, False
        for machine, execution in listed[:LIST_LIMIT]:
            name, status = execution["name"], execution["status"]
            key = (machine, name)
            row = {
                "machine": machine,
                "name": name,
                "status": status,
                "startDate": iso(execution.get("startDate")),
                "stopDate": iso(execution.get("stopDate")),
                "current": None,
                "error": self._failure(execution["executionArn"], key) if status in FAILED else None,
            }
            if status == "RUNNING":
                recent = self._recent.get(key)
                if recent is not None and time.monotonic() - recent[2] < LIST_STALE_SECONDS:
                    row["current"] = recent[1]["current"]  # read for the page a moment ago
                elif reads < LIST_HISTORY_READS:
                    reads += 1
                    row["current"] = self._progress(execution["executionArn"], status, key)["current"]
                else:  # at the next refresh; meanwhile the last state known, if any
                    row["current"] = recent[1]["current"] if recent is not None else None
                    pending = True
            rows.append(row)
        return {"stateMachine": _name(self.state_machine_arn), "executions": rows, "more": more, "pending": pending,
                "machines": {machine: _name(arn) for machine, arn in self.machines.items()}}

    # -- one execution ------------------------------------------------------------------------
    def machine_of(self, name: str) -> str | None:
        """The first machine (the started one first) with an execution of this name: for the
        console's paths without a machine, which name the workflow's executions."""
        for machine in self.machines:
            try:
                self.states.describe_execution(executionArn=self._execution_arn(machine, name))
            except self.states.exceptions.ExecutionDoesNotExist:
                continue
            return machine
        return None

    def execution(self, machine: str, name: str) -> bytes | None:
        """One execution as the page shows it, JSON-encoded."""
        if machine not in self.machines:
            return None
        key = (machine, name)
        arn = self._execution_arn(machine, name)
        try:
            described = self.states.describe_execution(executionArn=arn)
        except self.states.exceptions.ExecutionDoesNotExist:
            return None
        status = described["status"]
        cached = self._ended.get(key)
        if cached is not None and cached[0] == status:
            fixed = cached[1]
        else:
            progress = self._progress(arn, status, key)
            fixed = progress.get("detail")
            if fixed is None:
                parent = parent_of(described.get("input"))
                fixed = _json({
                    "machine": machine,
                    "stateMachine": _name(self.machines[machine]),
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
                    "graph": flowchart(self.definition(machine), progress["marks"], progress["path"], status == "SUCCEEDED"),
                    "history": progress["history"],
                    # Linked both ways: who started it (its input says) and whom it started (its history says).
                    "startedBy": reference(parent, self.machines) if parent else None,
                    "started": [{**reference(child["arn"], self.machines), "state": child["state"]}
                                for child in progress["children"]],
                })
                progress["detail"] = fixed
                for field in ("history", "marks", "path", "children"):  # all in the text now
                    progress.pop(field)
                if status in ENDED:
                    # Kept as text: one object per execution, not hundreds for the garbage collector to walk.
                    self._ended[key] = (status, fixed)
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

    def _failure(self, arn: str, key: Key) -> str | None:
        """Why an ended execution failed (its error), read once: it never changes."""
        if key not in self._failures:
            self._failures[key] = self.states.describe_execution(executionArn=arn).get("error")
        return self._failures[key]

    def stop(self, machine: str, name: str) -> dict[str, Any] | None:
        """StopExecution (a workflow's stop stops the approval it started: the engine does it, as AWS)."""
        if machine not in self.machines:
            return None
        try:
            self.states.stop_execution(
                executionArn=self._execution_arn(machine, name), error="Stopped", cause="Stopped from the local console."
            )
        except self.states.exceptions.ExecutionDoesNotExist:
            return None
        return {"machine": machine, "name": name, "stopped": True}

    def start(self, machine: str, request: dict[str, Any]) -> dict[str, Any]:
        """StartExecution of `machine` with this input, named as the API names an unnamed one (a
        UUID). The input is the caller's: the machine itself checks it (the approval machine's
        CheckRequest fails the execution with InvalidApprovalRequest, naming the field)."""
        answer = self.states.start_execution(
            stateMachineArn=self.machines[machine], name=str(uuid.uuid4()), input=json.dumps(request))
        return {"machine": machine, "name": _name(answer["executionArn"]), "executionArn": answer["executionArn"]}

    def definition(self, machine: str) -> dict[str, Any]:
        """The definition the engine runs, as DescribeStateMachine gives it."""
        if machine not in self._definitions:
            described = self.states.describe_state_machine(stateMachineArn=self.machines[machine])
            self._definitions[machine] = json.loads(described["definition"])
        return self._definitions[machine]

    def _execution_arn(self, machine: str, name: str) -> str:
        prefix = self.machines[machine].replace(":stateMachine:", ":execution:")
        return f"{prefix}:{name}"

    def _progress(self, arn: str, status: str, execution: Key) -> dict[str, Any]:
        """History (redacted), current state, marks, the path of states entered and the executions it started."""
        key = (status, self._version_of(execution[1])) if self._version_of is not None else None
        recent = self._recent.get(execution)
        if key is not None and recent is not None and recent[0] == key:
            return recent[1]
        events = self.states.get_execution_history(executionArn=arn)["events"]
        progress = interpret(events, status, self.definition(execution[0]), self.redactor)
        progress["children"] = children_of(events)
        if key is not None:
            if status in ENDED:
                self._recent.pop(execution, None)  # from now on read once, kept with the finished ones
            else:
                self._recent[execution] = (key, progress, time.monotonic())
        return progress

    def email_html(self, email_id: str) -> str | None:
        return self.outbox.html(email_id)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _name(arn: str) -> str:
    """The last part of an ARN: a state machine's or an execution's name."""
    return arn.rsplit(":", 1)[-1]
