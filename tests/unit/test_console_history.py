"""The console's history interpreter (local/console/history.py) against histories recorded from
local runs (tests/unit/histories/: GetExecutionHistory of an approved, a rejected and an invalid
run, timestamps as ISO text)."""

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from local.config import load_service
from local.console.history import interpret
from local.console.redact import Redactor

RECORDED = Path(__file__).resolve().parent / "histories"


def interpreted(name):
    recorded = json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))
    for event in recorded["events"]:
        event["timestamp"] = datetime.fromisoformat(event["timestamp"])
    definition = load_service(stage="local").state_machine_definition
    return recorded, interpret(recorded["events"], recorded["status"], definition, Redactor())


@pytest.mark.parametrize(
    "name, path, marks",
    [
        ("approved", ["Validate", "IsInputValid", "Calculate", "Approval", "Finalize"],
         {state: ("passed", "") for state in ("Validate", "IsInputValid", "Calculate", "Approval", "Finalize")}),
        ("rejected", ["Validate", "IsInputValid", "Calculate", "Approval", "NotifyFailure", "Failed"],
         {"Validate": ("passed", ""), "IsInputValid": ("passed", ""), "Calculate": ("passed", ""),
          "Approval": ("caught", "ApprovalRejected"), "NotifyFailure": ("passed", ""),
          "Failed": ("failed", "ApprovalRejected")}),
        ("invalid-input", ["Validate", "NotifyFailure", "Failed"],
         {"Validate": ("caught", "InvalidInput"), "NotifyFailure": ("passed", ""), "Failed": ("failed", "InvalidInput")}),
    ],
)
def test_a_recorded_history_gives_the_path_the_marks_and_the_state_it_ended_in(name, path, marks):
    recorded, progress = interpreted(name)
    assert progress["path"] == path
    assert progress["marks"] == marks
    assert progress["current"] == path[-1]
    assert [event["id"] for event in progress["history"]] == [event["id"] for event in recorded["events"]]
    bad = [event["type"] for event in progress["history"] if event["tone"] == "bad"]
    assert bad == ([] if name == "approved" else [bad[0], "ExecutionFailed"])


def test_no_task_token_of_a_recorded_history_is_shown():
    recorded, progress = interpreted("approved")
    tokens = set(re.findall(r'taskToken\\?": \\?"([^"\\]+)', json.dumps(recorded["events"], default=str)))
    assert len(tokens) == 2  # Calculate's wait and Approval's
    shown = json.dumps(progress["history"])
    assert not [token for token in tokens if token in shown]
