"""The local console's pure parts: the graph generated from any definition, the token redactor,
the approval (what is asked, summary and votes) read from the callbacks table without the token,
timers told apart from errors, emails sorted by kind, a refused start body explained field by
field, and parent and child executions linked both ways across the two state machines."""

import json
import re
from datetime import datetime, timezone

import boto3
import pytest
from moto import mock_aws

from local.config import load_service
from local.console.app import Console, start_problems
from local.console.graph import flowchart
from local.console.history import interpret
from local.console.lineage import STARTED_BY, children_of, parent_of, reference
from local.console.outbox import email_kind, link_label
from local.console.votes import approval_of
from local.console.reader import ConsoleReader, machine_key
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
    # Catching every error: a dotted edge without a label (the legend says what it means).
    for state in ("Validate", "Calculate", "Approval", "Finalize"):
        assert f'{ids[state]} -.-> {ids["NotifyFailure"]}' in source
    assert "Catch: States.ALL" not in source
    links = [line.strip() for line in source.splitlines() if "-->" in line or "-.->" in line]
    dotted = {index for index, line in enumerate(links) if "-.->" in line}
    (styled,) = [line for line in source.splitlines() if "linkStyle" in line]
    assert set(map(int, styled.split()[1].split(","))) == dotted and "#c2410c" in styled
    assert f"{ids['Finalize']} --> finish" in source
    assert "Task · waits for a callback" in source
    assert "Fail · NotificationFailed" in source


def test_the_approval_machines_graph_draws_the_reminder_timer_as_a_timed_path():
    definition = load_service(stage="local").machine("ApprovalStateMachine").definition
    graph = flowchart(definition)
    source, ids = graph["source"], graph["nodes"]
    assert set(ids) == set(definition["States"])
    # The reminder timer: a normal edge with a clock, not an error path.
    for state in ("Approval", "AwaitApproval"):
        assert f'{ids[state]} -->|"◔ States.Timeout"| {ids["FollowUp"]}' in source
    assert f'{ids["CheckRequest"]} --> {ids["Approval"]}' in source


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
    assert f'{ids["Fan"]} -.->|"Catch: Boom, States.Timeout"| {ids["Stop"]}' in source
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
    links = [line.strip() for line in source.splitlines() if "-->" in line or "-.->" in line]
    taken = {links[index] for index in graph["taken"]}
    assert f'{ids["Approval"]} -.-> {ids["NotifyFailure"]}' in taken
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
def test_the_approval_is_its_summary_and_one_row_per_approver_read_without_the_task_token():
    from functions.common.approval_policy import ApprovalPolicy
    from functions.common.callbacks.delivery import vote
    from functions.common.callbacks.model import Audit
    from functions.common.callbacks.table import ApprovalStore
    from tests.support import FakeStates

    table = create_tables_from_serverless_yml()
    client = boto3.client("dynamodb")
    store = ApprovalStore(table, client)
    policy = ApprovalPolicy.from_config({"APPROVERS": "ann@example.com,bob@example.com", "APPROVAL_POLICY": "all",
                                         "APPROVAL_TIMEOUT_SECONDS": "600", "REMINDER_INTERVAL_SECONDS": "60",
                                         "MAX_REMINDERS": "2", "ESCALATION_EMAIL": "lead@example.com",
                                         "ESCALATE_AFTER_SECONDS": "300"})
    asked = {"subject": "Rotate the signing key", "details": [{"label": "key", "value": "k-2027"}, {"label": "n", "value": 2}],
             "link": "https://ci.example.com/runs/9", "requestedBy": "dev@example.com"}
    _, ballots = store.create_approval(task_token="secret-1", execution="run-1", policy=policy,
                                       context=asked, started_at=1_800_000_000)
    vote(store, FakeStates(), ballots[0].id, decision="approved", comment="ok", audit=Audit(),
         execution_arn=str, now=1_800_000_010)
    recording = RecordingDynamoDB(client)
    shown = approval_of(recording, table, "run-1")
    assert shown["votes"] == [
        {"approver": "ann@example.com", "status": "voted", "decision": "approved", "comment": "ok",
         "decidedAt": "2027-01-15T08:00:10.000+00:00"},
        {"approver": "bob@example.com", "status": "waiting", "decision": None, "comment": None, "decidedAt": None},
    ]
    summary = shown["approval"]
    assert summary["request"] == asked  # what is asked: subject, details in order, link, who asks
    assert summary["description"] == "needs all 2 approvals; one rejection rejects"
    assert (summary["approvals"], summary["rejections"], summary["votesNeeded"], summary["rejectionsToReject"]) == (1, 0, 1, 1)
    assert (summary["startedAt"], summary["deadline"]) == ("2027-01-15T08:00:00.000+00:00", "2027-01-15T08:10:00.000+00:00")
    assert summary["reminders"] == {"every": 60, "most": 2, "sent": 0, "next": "2027-01-15T08:01:00.000+00:00"}
    assert summary["escalation"] == {"to": "lead@example.com", "after": 300, "due": "2027-01-15T08:05:00.000+00:00",
                                     "at": None}
    assert (summary["status"], summary["outcome"], summary["decidedBy"], summary["decidedAt"]) == (
        "PENDING", None, None, None)

    # Bob approves too: the outcome, who decided and when.
    vote(store, FakeStates(), ballots[1].id, decision="approved", comment="", audit=Audit(),
         execution_arn=str, now=1_800_000_042)
    summary = approval_of(recording, table, "run-1")["approval"]
    assert (summary["status"], summary["outcome"], summary["decidedBy"], summary["decidedAt"]) == (
        "APPROVED", "approved", "bob@example.com", "2027-01-15T08:00:42.000+00:00")
    assert approval_of(recording, table, "run-2") == {"approval": None, "votes": []}
    for name, request in recording.requests:
        assert name == "get_item" and "taskToken" not in request["ExpressionAttributeNames"].values()
    assert "secret-1" not in json.dumps(shown)


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
    from local.console.changes import Changes

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


# A history as moto records it: Approval's wait ends on its timer (a reminder is due), FollowUp
# runs, AwaitApproval is approved; then Calculate's TaskTimedOut in a run where no Catch plans for it.
def _event(number, kind, name=None, **details):
    key = {"TaskStateEntered": "stateEnteredEventDetails", "TaskStateExited": "stateExitedEventDetails",
           "TaskTimedOut": "taskTimedOutEventDetails", "TaskFailed": "taskFailedEventDetails"}.get(kind, "other")
    body = {**({"name": name} if name and "State" in kind else {}), **details}
    return {"id": number, "type": kind, "timestamp": datetime(2027, 1, 15, 8, 0, number, tzinfo=timezone.utc),
            **({key: body} if body else {})}


def _progress(events, status, machine="WorkflowStateMachine"):
    return interpret(events, status, load_service(stage="local").machine(machine).definition, Redactor())


def test_a_wait_that_ends_on_its_planned_timer_is_no_error_but_an_unplanned_timeout_is():
    timer = [
        _event(1, "TaskStateEntered", "Approval"),
        _event(2, "TaskTimedOut", error="States.Timeout", cause=""),
        _event(3, "TaskStateExited", "Approval"),
        _event(4, "TaskStateEntered", "FollowUp"),
        _event(5, "TaskStateExited", "FollowUp"),
        _event(6, "TaskStateEntered", "AwaitApproval"),
        _event(7, "TaskTimedOut", error="States.Timeout", cause=""),
        _event(8, "TaskStateExited", "AwaitApproval"),
        _event(9, "TaskStateEntered", "FollowUp"),
    ]
    progress = _progress(timer, "RUNNING", "ApprovalStateMachine")
    assert progress["marks"]["Approval"] == ("timer", "")
    assert progress["marks"]["AwaitApproval"] == ("timer", "")
    assert progress["marks"]["FollowUp"] == ("running", "")
    assert [event["tone"] for event in progress["history"] if event["type"] == "TaskTimedOut"] == ["timer", "timer"]
    approval = load_service(stage="local").machine("ApprovalStateMachine").definition
    assert "◔ timer fired" in flowchart(approval, progress["marks"])["source"]

    # Calculate catches every error, not the timeout as such: its timeout is an error caught.
    unplanned = [
        _event(1, "TaskStateEntered", "Calculate"),
        _event(2, "TaskTimedOut", error="States.Timeout", cause=""),
        _event(3, "TaskStateEntered", "NotifyFailure"),
    ]
    progress = _progress(unplanned, "RUNNING")
    assert progress["marks"]["Calculate"] == ("caught", "States.Timeout")
    assert [event["tone"] for event in progress["history"]] == [None, "bad", None]


@pytest.mark.parametrize(
    "header, subject, kind",
    [
        ("request", "anything", "request"),
        ("outcome", "Decided: 3 + 4", "outcome"),
        ("Weekly Digest!", "whatever", "weeklydigest"),  # a kind the sender names is its own group
        ("", "Approval needed: 3 + 4, doubled = 14", "request"),
        ("", "Reminder: approval needed: 3 + 4, doubled = 14", "reminder"),
        ("", "Escalated: approval needed: 3 + 4, doubled = 14", "escalation"),
        ("", "Workflow failed: ApprovalRejected (3 + 4)", "failure"),
        ("", "Approved: 3 + 4, doubled = 14", "outcome"),
        ("", "The request was rejected", "outcome"),
        ("", "Hello", "other"),
    ],
)
def test_emails_are_sorted_by_the_kind_they_name_or_else_by_their_subject(header, subject, kind):
    assert email_kind(header, subject) == kind


def test_an_emails_links_are_labelled_by_what_they_do_and_a_requests_own_link_as_open():
    assert link_label("http://127.0.0.1:3000/approve?id=abc") == "approve"
    assert link_label("http://localhost:3000/reject?id=abc") == "reject"
    assert link_label("https://ci.example.com/runs/42") == "open"
    assert link_label("http://[broken/x") == "open"


@pytest.mark.parametrize(
    "body, fields, whole",
    [
        ('{"x": 3, "y": "abc"}', {"y": "y must be a whole number"}, None),
        ('{"x": 1.5, "y": 2}', {"x": "x must be a whole number"}, None),
        ('{"x": true, "y": null}', {"x": "x must be a whole number", "y": "y must be a whole number"}, None),
        ('{"x": 9007199254740992, "y": -1}',
         {"x": "x must be between -9007199254740991 and 9007199254740991"}, None),
        ('{"x": 3}', {"y": "y is missing"}, None),
        ('{"x": 3, "y": 4, "z": 5}', {}, "Only x and y are accepted."),
        ("[1, 2]", {}, "The body must be a JSON object."),
        ("{", {}, "The body is not valid JSON."),
        ("[" * 100_000 + "]" * 100_000, {}, "The body is not valid JSON."),  # too deep for Python's parser
        ('{"x": 3, "y": 4}', {}, None),
    ],
)
def test_a_refused_start_body_is_explained_field_by_field_in_plain_words(body, fields, whole):
    schema = next(route.schema for route in load_service(stage="local").routes if route.function is None)
    assert start_problems(schema, body.encode()) == {"fields": fields, "body": whole}


# -- parent and child: the workflow's Approval state starts the approval machine (startExecution.sync:2)
WORKFLOW = "arn:aws:states:us-east-1:123456789012:stateMachine:approval-workflow-local"
APPROVAL = "arn:aws:states:us-east-1:123456789012:stateMachine:approval-workflow-local-approval"
MACHINES = {"workflow": WORKFLOW, "approval": APPROVAL}


def _execution_arn(machine_arn, name):
    return f"{machine_arn.replace(':stateMachine:', ':execution:')}:{name}"


def _parent_history(child_arn):
    """A parent's history as moto records a startExecution.sync:2 Task (ExecutionArn in TaskSubmitted's output)."""
    at = datetime(2027, 1, 15, 8, 0, tzinfo=timezone.utc)
    submitted = json.dumps({"ExecutionArn": child_arn, "StartDate": "2027-01-15T08:00:01+00:00"})
    return [
        {"id": 1, "type": "ExecutionStarted", "timestamp": at, "executionStartedEventDetails": {"input": "{}"}},
        {"id": 2, "type": "TaskStateEntered", "timestamp": at, "stateEnteredEventDetails": {"name": "Calculate"}},
        {"id": 3, "type": "TaskSubmitted", "timestamp": at, "taskSubmittedEventDetails": {
            "resourceType": "lambda", "resource": "invoke.waitForTaskToken", "output": '{"StatusCode": 200}'}},
        {"id": 4, "type": "TaskStateExited", "timestamp": at, "stateExitedEventDetails": {"name": "Calculate"}},
        {"id": 5, "type": "TaskStateEntered", "timestamp": at, "stateEnteredEventDetails": {"name": "Approval"}},
        {"id": 6, "type": "TaskScheduled", "timestamp": at, "taskScheduledEventDetails": {
            "resourceType": "states", "resource": "startExecution.sync:2", "parameters": "{}"}},
        {"id": 7, "type": "TaskSubmitted", "timestamp": at, "taskSubmittedEventDetails": {
            "resourceType": "states", "resource": "startExecution.sync:2", "output": submitted}},
        {"id": 8, "type": "TaskSucceeded", "timestamp": at, "taskSucceededEventDetails": {
            "resourceType": "states", "resource": "startExecution.sync:2",
            "output": json.dumps({"ExecutionArn": child_arn, "Status": "SUCCEEDED"})}},
    ]


def test_a_child_names_its_parent_in_its_input_and_a_parent_its_child_in_its_history():
    parent = _execution_arn(WORKFLOW, "run-1")
    child = _execution_arn(APPROVAL, "run-1")
    assert parent_of(json.dumps({"subject": "s", STARTED_BY: parent})) == parent
    for alone in ('{"subject": "s"}', "[1]", "not json", None, json.dumps({STARTED_BY: 7}), json.dumps({STARTED_BY: "x"})):
        assert parent_of(alone) is None, alone
    # Once, from the Task that started it (TaskSubmitted and TaskSucceeded both name it); a Lambda Task's output is no child.
    assert children_of(_parent_history(child)) == [{"arn": child, "state": "Approval"}]
    assert children_of(_parent_history(child)[:6]) == []  # scheduled, not started yet
    # Meanwhile the parent waits in its Approval Task, for a person: "waiting", as a callback's wait.
    progress = _progress(_parent_history(child)[:7], "RUNNING")
    assert progress["marks"]["Approval"] == ("waiting", "")
    assert "Task · starts an execution, waits for its end" in flowchart(
        load_service(stage="local").state_machine_definition, progress["marks"])["source"]
    assert reference(child, MACHINES) == {"machine": "approval", "stateMachine": "approval-workflow-local-approval",
                                          "name": "run-1", "arn": child}
    # A parent of a machine the console does not show (the README's, created through the AWS API): no key, still named.
    elsewhere = "arn:aws:states:us-east-1:123456789012:execution:my-deploy:d-1"
    assert reference(elsewhere, MACHINES) == {"machine": None, "stateMachine": "my-deploy", "name": "d-1", "arn": elsewhere}
    assert [machine_key(machine.logical_id) for machine in load_service(stage="local").machines] == ["workflow", "approval"]


class FakeStepFunctions:
    """Step Functions' read API over a few executions: {arn: (startDate, status, input, events)}."""

    class exceptions:
        class ExecutionDoesNotExist(Exception):
            pass

    def __init__(self, executions):
        self.executions = executions
        self.definitions = {WORKFLOW: load_service(stage="local").machine("WorkflowStateMachine").definition,
                            APPROVAL: load_service(stage="local").machine("ApprovalStateMachine").definition}

    def list_executions(self, stateMachineArn, maxResults):
        prefix = stateMachineArn.replace(":stateMachine:", ":execution:") + ":"
        rows = [{"executionArn": arn, "name": arn.rsplit(":", 1)[1], "status": status, "startDate": started}
                for arn, (started, status, _, _) in self.executions.items() if arn.startswith(prefix)]
        return {"executions": sorted(rows, key=lambda row: row["startDate"], reverse=True)[:maxResults]}

    def describe_execution(self, executionArn):
        if executionArn not in self.executions:
            raise self.exceptions.ExecutionDoesNotExist(executionArn)
        started, status, given, _ = self.executions[executionArn]
        return {"executionArn": executionArn, "status": status, "startDate": started, "input": given}

    def get_execution_history(self, executionArn):
        return {"events": self.executions[executionArn][3]}

    def describe_state_machine(self, stateMachineArn):
        return {"definition": json.dumps(self.definitions[stateMachineArn])}


@mock_aws
def test_the_reader_lists_both_machines_newest_first_and_links_parent_and_child_both_ways(tmp_path):
    at = lambda second: datetime(2027, 1, 15, 8, 0, second, tzinfo=timezone.utc)  # noqa: E731
    parent, child = _execution_arn(WORKFLOW, "run-1"), _execution_arn(APPROVAL, "run-1")
    direct = _execution_arn(APPROVAL, "direct-approval")
    states = FakeStepFunctions({
        parent: (at(0), "RUNNING", '{"x": 3, "y": 4}', _parent_history(child)[:7]),
        child: (at(1), "RUNNING", json.dumps({"subject": "3 + 4, doubled = 14", STARTED_BY: parent}), []),
        direct: (at(2), "RUNNING", '{"subject": "Rotate the signing key"}', []),
    })
    reader = ConsoleReader(states=states, dynamodb=boto3.client("dynamodb"), table=create_tables_from_serverless_yml(),
                           machines=MACHINES, outbox=tmp_path)
    listed = reader.executions()
    assert [(row["machine"], row["name"]) for row in listed["executions"]] == [
        ("approval", "direct-approval"), ("approval", "run-1"), ("workflow", "run-1")]
    assert listed["machines"] == {"workflow": "approval-workflow-local", "approval": "approval-workflow-local-approval"}
    assert listed["stateMachine"] == "approval-workflow-local"

    shown_parent = json.loads(reader.execution("workflow", "run-1"))
    assert shown_parent["machine"] == "workflow" and shown_parent["startedBy"] is None
    assert shown_parent["started"] == [{**reference(child, MACHINES), "state": "Approval"}]
    shown_child = json.loads(reader.execution("approval", "run-1"))
    assert shown_child["startedBy"] == reference(parent, MACHINES) and shown_child["started"] == []
    # Each on its own machine's graph.
    assert "CheckRequest" in shown_child["graph"]["nodes"] and "CheckRequest" not in shown_parent["graph"]["nodes"]
    assert json.loads(reader.execution("approval", "direct-approval"))["startedBy"] is None

    # A path without the machine: the workflow's execution of that name, else the first machine's that has one.
    assert (reader.machine_of("run-1"), reader.machine_of("direct-approval"), reader.machine_of("none")) == (
        "workflow", "approval", None)
    assert reader.execution("workflow", "direct-approval") is None
    assert reader.execution("elsewhere", "run-1") is None
