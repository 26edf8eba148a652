"""An execution's history as the console shows it: a pure interpreter of GetExecutionHistory's events.

`interpret` takes the events, the execution's status and the state machine's definition, and
gives the history to list (redacted), the mark of every state it passed (passed, left on its
timer, caught, waiting, running, stopped, failed), the path of states entered and the state it is
in. No AWS call: tests/unit/test_console_history.py feeds it recorded histories.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from local.console.graph import TIMEOUT, is_timer, resource_of, starts_and_waits
from local.console.redact import Redactor

ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
FAILED = ("FAILED", "TIMED_OUT")
_BAD_EVENT = re.compile(r"Failed|TimedOut|Aborted")


def interpret(events: list[dict[str, Any]], status: str, definition: dict[str, Any],
              redactor: Redactor) -> dict[str, Any]:
    """{"history": [...], "marks": {state: (mark, detail)}, "path": [states entered], "current": state}."""
    history = []
    marks: dict[str, tuple[str, str]] = {}
    open_states: list[str] = []
    path: list[str] = []
    errors: dict[str, str] = {}
    current_state = None
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
        history.append(_event(event, kind, details, current_state, definition, redactor))
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


def _event(event: dict[str, Any], kind: str, details: dict[str, Any], state: str | None,
           definition: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key in ("input", "output", "parameters"):
        if key in details:
            shown[key] = redactor.json_text(details[key])
    for key in ("error", "cause", "resource", "resourceType"):
        if details.get(key):
            shown[key] = redactor.text(str(details[key]))
    tone = None
    if state and _timer_fired(definition, state, details.get("error")):
        tone = "timer"
    elif _BAD_EVENT.search(kind):
        tone = "bad"
    return {
        "id": event["id"],
        "time": iso(event["timestamp"]),
        "type": kind,
        "state": details.get("name") or (state if not kind.startswith("Execution") else None),
        "tone": tone,
        **shown,
    }


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
    resource = resource_of(state)
    # A wait for a callback, or for the execution the Task started (the workflow's Approval: a person decides there).
    if state.get("Type") == "Wait" or resource.endswith(".waitForTaskToken") or starts_and_waits(resource):
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


def iso(value: Any) -> str | None:
    return value.isoformat(timespec="milliseconds") if isinstance(value, datetime) else None


def iso_epoch(seconds: float) -> str:
    return iso(datetime.fromtimestamp(seconds, tz=timezone.utc)) or ""
