"""Which execution started which: parent and child linked both ways, as Step Functions' own
console links them.

A child started by a Task (states:startExecution, .sync or not) carries its parent's ARN in its
input (AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID); the parent's history carries the child's ARN
in the Task's output (TaskSubmitted, TaskSucceeded: ExecutionArn). Pure: no AWS call.
"""

from __future__ import annotations

import json
from typing import Any

STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
_TASK_EVENTS = ("TaskSubmitted", "TaskSucceeded")


def parent_of(input_json: str | None) -> str | None:
    """The ARN of the execution that started this one (from its input), if a Task did."""
    try:
        value = json.loads(input_json or "null")
    except ValueError:
        return None
    parent = value.get(STARTED_BY) if isinstance(value, dict) else None
    return parent if isinstance(parent, str) and ":execution:" in parent else None


def children_of(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The executions this one started, in order: [{"arn", "state"}] (the Task state that started it)."""
    children: dict[str, str] = {}
    state = ""
    for event in events:
        kind = event["type"]
        details = next((value for key, value in event.items() if key.endswith("EventDetails")), {}) or {}
        if kind.endswith("StateEntered"):
            state = details.get("name") or ""
        elif kind in _TASK_EVENTS and details.get("resourceType") == "states" and str(
                details.get("resource", "")).startswith("startExecution"):
            try:
                output = json.loads(details.get("output") or "null")
            except ValueError:
                continue
            arn = output.get("ExecutionArn") if isinstance(output, dict) else None
            if isinstance(arn, str) and ":execution:" in arn:
                children.setdefault(arn, state)
    return [{"arn": arn, "state": state} for arn, state in children.items()]


def reference(arn: str, machines: dict[str, str]) -> dict[str, Any]:
    """An execution ARN as the console links it: {"machine": the console's key of its state
    machine, or None for a machine it does not show, "stateMachine": its name, "name", "arn"}."""
    prefix, _, name = arn.rpartition(":")
    machine_arn = prefix.replace(":execution:", ":stateMachine:", 1)
    key = next((key for key, known in machines.items() if known == machine_arn), None)
    return {"machine": key, "stateMachine": machine_arn.rsplit(":", 1)[-1], "name": name, "arn": arn}
