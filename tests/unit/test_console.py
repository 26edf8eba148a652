"""The local console's pure parts: the graph generated from any definition, the token redactor,
and the votes read from the callbacks table without the token."""

import json
import re

import boto3
import pytest
from moto import mock_aws

from local.config import load_service
from local.console.app import Console
from local.console.graph import flowchart
from local.console.reader import votes_of
from local.console.redact import REDACTED, Redactor
from tests.support import create_tables_from_serverless_yml


def test_the_graph_has_every_state_and_every_labelled_transition_of_the_workflow():
    definition = load_service(stage="local").state_machine_definition
    graph = flowchart(definition)
    source = graph["source"]
    assert set(graph["nodes"]) == set(definition["States"])
    ids = graph["nodes"]
    assert f"{ids['Validate']} --> {ids['IsInputValid']}" in source
    assert f'{ids["IsInputValid"]} -->|"$.input.x is numeric and $.input.y is numeric"| {ids["Calculate"]}' in source
    assert f'{ids["IsInputValid"]} -->|"Default"| {ids["NotifyFailure"]}' in source
    for state in ("Validate", "Calculate", "Approval", "Finalize"):
        assert f'{ids[state]} -->|"Catch: States.ALL"| {ids["NotifyFailure"]}' in source
    assert f"{ids['Finalize']} --> finish" in source
    assert "Task · waits for a callback" in source
    assert "Fail · NotificationFailed" in source


def test_the_graph_follows_a_changed_definition_with_parallel_map_and_every_choice_form():
    definition = {
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.kind", "StringEquals": "a", "Next": "Fan"},
                    {"Not": {"Variable": "$.n", "NumericGreaterThanPath": "$.limit"}, "Next": "Each"},
                    {"Or": [{"Variable": "$.b", "BooleanEquals": True}, {"Variable": "$.c", "IsPresent": False}],
                     "Next": "Pause"},
                ],
                "Default": "Stop",
            },
            "Fan": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                    {"StartAt": "Right", "States": {"Right": {"Type": "Task", "Resource": "arn:x", "End": True}}},
                ],
                "Catch": [{"ErrorEquals": ["Boom", "States.Timeout"], "Next": "Stop"}],
                "Next": "Done",
            },
            "Each": {"Type": "Map", "ItemProcessor": {"StartAt": "One", "States": {"One": {"Type": "Pass", "End": True}}},
                     "Next": "Done"},
            "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
            'Say "hi" <b>#1</b>': {"Type": "Pass", "End": True},
            "Done": {"Type": "Succeed"},
            "Stop": {"Type": "Fail", "Error": "Stopped"},
        },
    }
    graph = flowchart(json.dumps(definition))
    source, ids = graph["source"], graph["nodes"]
    assert {"Left", "Right", "One", "Fan", "Each", "Pause", "Done", "Stop"} <= set(ids)
    assert '"$.kind == #quot;a#quot;"' in source
    assert "not $.n #gt; $.limit" in source
    assert "$.b == true or $.c is not present" in source
    assert f'{ids["Fan"]} -->|"Catch: Boom, States.Timeout"| {ids["Stop"]}' in source
    assert f"subgraph {ids['Fan']}" in source and f"subgraph {ids['Each']}" in source
    # A name with quotes and markup stays text: nothing of it reaches Mermaid or the page as syntax.
    assert "Say #quot;hi#quot; #lt;b#gt;#35;1#lt;/b#gt;" in source
    assert '"hi"' not in source and "<b>#1" not in source


def test_marks_colour_the_nodes_add_a_text_marker_and_thicken_the_path_taken():
    definition = load_service(stage="local").state_machine_definition
    marks = {"Validate": ("passed", ""), "Approval": ("caught", "ApprovalRejected"), "Failed": ("failed", "ApprovalRejected")}
    path = ["Validate", "IsInputValid", "Calculate", "Approval", "NotifyFailure", "Failed"]
    graph = flowchart(definition, marks, path)
    source, ids = graph["source"], graph["nodes"]
    assert f"class {ids['Approval']} caught" in source
    assert "⚠ error caught: ApprovalRejected" in source
    assert "✗ failed: ApprovalRejected" in source
    assert "✓ passed" in source
    links = [line.strip() for line in source.splitlines() if "-->" in line]
    taken = {links[index] for index in graph["taken"]}
    assert f'{ids["Approval"]} -->|"Catch: States.ALL"| {ids["NotifyFailure"]}' in taken
    assert f"{ids['NotifyFailure']} --> {ids['Failed']}" in taken
    assert f"{ids['Approval']} --> {ids['Finalize']}" not in taken
    assert f"linkStyle {graph['taken'][0]} " in source


def test_the_redactor_removes_tokens_by_name_then_everywhere_it_has_seen_them():
    redactor = Redactor()
    parameters = json.dumps({"FunctionName": "f", "Payload": {"taskToken": "tok-123456789-abcdef", "x": 1}})
    shown = redactor.json_text(parameters)
    assert shown["Payload"] == {"taskToken": REDACTED, "x": 1}
    # The definition's own reference to the token is not a token.
    assert redactor.document({"taskToken.$": "$$.Task.Token"}) == {"taskToken.$": "$$.Task.Token"}
    # In free text, JSON inside JSON, and anywhere in a body once it is known.
    assert "secret-token-value-1" not in redactor.text('failed: {\\"TaskToken\\": \\"secret-token-value-1\\"}')
    assert "tok-9" not in redactor.text(json.dumps({"cause": json.dumps({"task_token": "tok-987654321"})}))
    body = redactor.body(b'{"note": "the value tok-123456789-abcdef again", "arn": "x:tok-123456789-abcdef"}')
    assert b"tok-123456789-abcdef" not in body and body.count(REDACTED.encode()) == 2


def test_console_paths_never_collide_with_api_routes():
    service = load_service(stage="local")
    Console.check_routes([route.path for route in service.routes])
    for path in ("/", "/_console/api/executions"):
        with pytest.raises(ValueError, match="collides"):
            Console.check_routes([path])


class RecordingDynamoDB:
    def __init__(self, client):
        self.client = client
        self.exceptions = client.exceptions
        self.requests = []

    def __getattr__(self, name):
        def call(**kwargs):
            self.requests.append((name, kwargs))
            return getattr(self.client, name)(**kwargs)

        return call


@mock_aws
def test_votes_are_one_row_per_approver_read_without_the_task_token():
    from functions.common.approval_policy import ApprovalPolicy
    from functions.common.callbacks import ApprovalStore, Audit, vote
    from tests.support import FakeStates

    table = create_tables_from_serverless_yml()
    client = boto3.client("dynamodb")
    store = ApprovalStore(table, client)
    policy = ApprovalPolicy.from_config({"APPROVERS": "ann@example.com,bob@example.com", "APPROVAL_POLICY": "all"})
    _, ballots = store.create_approval(task_token="secret-1", execution="run-1", policy=policy,
                                       context={"x": 1, "y": 2, "sum": 3, "doubled": 6}, started_at=1_800_000_000)
    vote(store, FakeStates(), ballots[0].id, decision="approved", comment="ok", audit=Audit(),
         execution_arn=str, now=1_800_000_010)
    recording = RecordingDynamoDB(client)
    assert votes_of(recording, table, "run-1") == [
        {"approver": "ann@example.com", "status": "voted", "decision": "approved", "comment": "ok",
         "decidedAt": 1_800_000_010},
        {"approver": "bob@example.com", "status": "waiting", "decision": None, "comment": None, "decidedAt": None},
    ]
    assert votes_of(recording, table, "run-2") == []
    for name, request in recording.requests:
        assert name == "get_item" and "taskToken" not in request["ExpressionAttributeNames"].values()


def test_the_graph_library_is_pinned_exactly_and_locked():
    from pathlib import Path

    console = Path(__file__).resolve().parents[2] / "local" / "console"
    wanted = json.loads((console / "package.json").read_text())["dependencies"]
    locked = json.loads((console / "package-lock.json").read_text())["packages"]
    for name, version in wanted.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned to one version: {version}"
        assert locked[f"node_modules/{name}"]["version"] == version
        assert locked[f"node_modules/{name}"]["integrity"].startswith("sha512-")


def test_changes_wake_the_page_once_things_settle_and_tell_which_execution_changed():
    from local.console.app import Changes

    changes = Changes()
    assert changes.settled_after(0, timeout=0.01) == 0  # nothing happened: the stream sends a keep-alive
    changes.bump("run-1")
    changes.bump(None)  # an email or a request to the API
    changes.bump("run-2")
    assert changes.settled_after(0, timeout=1) == 3
    assert (changes.of("run-1"), changes.of("run-2"), changes.of("run-3"), changes.shared) == (1, 3, 0, 2)
    # A closing server ends the streams that wait for the next change.
    import threading

    waiter = threading.Thread(target=changes.settled_after, args=(3, 600))
    waiter.start()
    changes.close()
    waiter.join(timeout=60)
    assert not waiter.is_alive()
