"""Canary: the moto internals the local engine hooks into still exist and still behave.

If a moto upgrade breaks one of them, this fails naming the hook, before any workflow test does.
"""

import inspect
import json

import boto3
import pytest
from moto import mock_aws

from local import hooks


class RecordingEngine:
    def __init__(self):
        self.invocations = []
        self.emails = []
        self.events = []

    def invoke_lambda(self, name, event):
        self.invocations.append((name, event))
        return json.dumps({"echo": event}), False

    def email_sent(self, message_id, raw):
        self.emails.append(raw)

    def execution_event(self, execution, event_type, details):
        self.events.append((execution, event_type))


@pytest.fixture
def engine():
    recording = RecordingEngine()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        hooks.install(recording)
        try:
            yield recording
        finally:
            hooks.uninstall()


def test_hooked_moto_internals_have_the_expected_signatures():
    from moto.awslambda.models import LambdaFunction
    from moto.ses.models import SESBackend
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    expected = {
        "moto.stepfunctions.parser.models.StepFunctionsParserBackend.send_task_success": (
            StepFunctionsParserBackend, "send_task_success", ["self", "task_token", "outcome"]),
        "moto.stepfunctions.parser.backend.execution.Execution.stop": (
            Execution, "stop", ["self", "stop_date", "error", "cause"]),
        "moto.awslambda.models.LambdaFunction._invoke_lambda": (LambdaFunction, "_invoke_lambda", ["self", "event"]),
        "moto.ses.models.SESBackend.send_raw_email": (
            SESBackend, "send_raw_email", ["self", "source", "destinations", "raw_data"]),
    }
    for label, (owner, name, parameters) in expected.items():
        assert hasattr(owner, name), f"moto no longer has {label}: the local engine's hook is broken"
        found = list(inspect.signature(getattr(owner, name)).parameters)[: len(parameters)]
        assert found == parameters, f"{label} changed its signature to {found}: update local/hooks.py"


def test_lambda_invoke_runs_in_process_through_the_hook(engine):
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda")
    client.create_function(FunctionName="canary", Runtime="python3.12", Role=role, Handler="h.h",
                           Code={"ZipFile": b"x"})
    answer = client.invoke(FunctionName="canary", Payload=json.dumps({"ping": 1}))
    assert engine.invocations == [("canary", {"ping": 1})], (
        "moto.awslambda.models.LambdaFunction._invoke_lambda was not called: in-process Lambda is broken")
    assert json.loads(answer["Payload"].read()) == {"echo": {"ping": 1}}


def test_state_machine_progress_and_emails_reach_the_engine(engine):
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="canary", roleArn=role,
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="canary-run", input="{}")
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress="a@example.com")
    ses.send_raw_email(Source="a@example.com", Destinations=["b@example.com"],
                       RawMessage={"Data": b"From: a@example.com\r\nTo: b@example.com\r\nSubject: s\r\n\r\nbody"})
    import time

    deadline = time.monotonic() + 5
    while ("canary-run", "ExecutionSucceeded") not in engine.events and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ("canary-run", "PassStateEntered") in engine.events, (
        "moto's EventManager.add_event / ExecutionWorker._get_evaluation_environment hook reports nothing")
    assert len(engine.emails) == 1, "moto.ses.models.SESBackend.send_raw_email hook wrote no .eml"


def test_dynamodb_reads_and_writes_take_the_one_lock():
    from moto.dynamodb.models import DynamoDBBackend

    hooks.serialize_dynamodb_writes()
    for name in ("put_item", "update_item", "delete_item", "get_item", "query", "scan"):
        method = getattr(DynamoDBBackend, name)
        assert getattr(method, "__wrapped__", None) is not None, f"DynamoDBBackend.{name} is not serialized"
        assert list(inspect.signature(method.__wrapped__).parameters)[0] == "self", name
