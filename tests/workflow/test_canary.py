"""Canary: the moto internals the local engine hooks into still exist and still behave.

If a moto upgrade breaks one of them, this fails naming the hook, before any workflow test does.
"""

import inspect
import json
import time

import boto3
import pytest
from moto import mock_aws

from local import hooks
from local.service import eventually


class RecordingEngine:
    def __init__(self):
        self.invocations = []
        self.emails = []
        self.events = []
        self.interpreter_clients = []
        self.on_event = None

    def invoke_lambda(self, name, event):
        self.invocations.append((name, event))
        if isinstance(event, dict) and event.get("fail"):
            return json.dumps({"errorType": "Refused", "errorMessage": "asked to fail"}), True
        if isinstance(event, dict) and event.get("big"):
            return json.dumps({"big": "x" * event["big"]}), False
        return json.dumps({"echo": event}), False

    def email_sent(self, message_id, raw):
        self.emails.append(raw)

    def execution_event(self, execution, event_type, details, execution_arn=""):
        self.events.append((execution, event_type))
        if self.on_event:
            self.on_event(execution, event_type)

    def interpreter_client(self, client, role_arn):
        """As the engine does with local/iam.py: the interpreter's Lambda calls may be refused."""
        self.interpreter_clients.append(client)
        client.meta.events.register("before-call.lambda.Invoke", self._refuse)

    def _refuse(self, params, **kwargs):
        if b"refuse-invoke" not in (params.get("body") or b""):
            return None
        from botocore.awsrequest import AWSResponse

        return AWSResponse("", 403, {}, None), {
            "Error": {"Code": "AccessDeniedException", "Message": "User: r is not authorized"},
            "ResponseMetadata": {"HTTPStatusCode": 403, "RequestId": "req-1"},
        }


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
    hooks.uninstall()  # moto's own functions, not the caching wrappers
    from moto.awslambda.models import LambdaFunction
    from moto.ses.models import SESBackend
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.core import responses
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
        StateTaskServiceLambda,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

    expected = {
        "moto.stepfunctions.parser.backend.execution_worker.ExecutionWorker._get_evaluation_entrypoint": (
            ExecutionWorker, "_get_evaluation_entrypoint", ["self"]),
        "moto...state_task.lambda_eval_utils.boto_client_for": (
            lambda_eval_utils, "boto_client_for", ["region", "service", "state_credentials"]),
        "moto...state_task_service_sfn.boto_client_for": (
            state_task_service_sfn, "boto_client_for", ["region", "service", "state_credentials"]),
        "moto.stepfunctions.parser.asl.utils.json_path.parse": (json_path, "parse", ["path"]),
        "moto.stepfunctions.parser.asl.component.common.path.result_path.parse": (result_path, "parse", ["string"]),
        "moto.core.responses.method_names_from_class": (responses, "method_names_from_class", ["clazz"]),
        "moto.stepfunctions.parser.models.StepFunctionsParserBackend.start_execution": (
            StepFunctionsParserBackend, "start_execution", ["self", "state_machine_arn", "name"]),
        "moto...state_task_service_sfn.StateTaskServiceSfn._normalise_parameters": (
            StateTaskServiceSfn, "_normalise_parameters", ["self", "parameters", "boto_service_name", "service_action_name"]),
        "moto...state_task_service_sfn.StateTaskServiceSfn._normalise_response": (
            StateTaskServiceSfn, "_normalise_response", ["self", "response", "boto_service_name", "service_action_name"]),
        "moto...state_task_service_sfn.StateTaskServiceSfn._eval_service_task": (
            StateTaskServiceSfn, "_eval_service_task", ["self", "env"]),
        "moto.stepfunctions.parser.models.StepFunctionsParserBackend.send_task_success": (
            StepFunctionsParserBackend, "send_task_success", ["self", "task_token", "outcome"]),
        "moto.stepfunctions.parser.backend.execution.Execution.stop": (
            Execution, "stop", ["self", "stop_date", "error", "cause"]),
        "moto.stepfunctions.parser.asl.eval.environment.Environment.set_error": (
            Environment, "set_error", ["self", "error"]),
        "moto.awslambda.models.LambdaFunction._invoke_lambda": (LambdaFunction, "_invoke_lambda", ["self", "event"]),
        "moto...state_task_lambda.StateTaskLambda._from_error": (StateTaskLambda, "_from_error", ["self", "env", "ex"]),
        "moto...state_task_service_lambda.StateTaskServiceLambda._from_error": (
            StateTaskServiceLambda, "_from_error", ["self", "env", "ex"]),
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
    try:
        eventually(lambda: ("canary-run", "ExecutionSucceeded") in engine.events, 5, "no end event", interval=0.02)
    except AssertionError:
        pass  # the assertions below name the hook
    assert ("canary-run", "PassStateEntered") in engine.events, (
        "moto's EventManager.add_event / ExecutionWorker._get_evaluation_environment hook reports nothing")
    assert len(engine.emails) == 1, "moto.ses.models.SESBackend.send_raw_email hook wrote no .eml"


def _wait_for_ends(engine, names, timeout=30):
    ends = ("ExecutionSucceeded", "ExecutionFailed")

    def finished():
        found = {name: kind for name, kind in engine.events if kind in ends and name in names}
        return found if len(found) == len(names) else None

    return eventually(finished, timeout, f"executions still running (of {sorted(names)})", interval=0.02)


def _ended(sfn, arn, timeout, what="the execution did not end"):
    """DescribeExecution once the execution is no longer RUNNING."""
    return eventually(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
                      timeout, what)


def test_each_execution_reuses_the_parsed_definition_one_lambda_client_and_parsed_json_paths(engine, monkeypatch):
    """The caches in local/hooks.py: one ANTLR parse per definition, one boto3 Lambda client, one
    jsonpath parse per path, one method list per moto response class, however many executions;
    and under concurrency each execution keeps its own Retry counters (the shared program's heap
    keys are drawn before it is shared)."""
    import threading

    import boto3 as boto3_module
    from jsonpath_ng.parser import JsonPathParser
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = boto3.client("lambda").create_function(
        FunctionName="canary", Runtime="python3.12", Role=role, Handler="h.h", Code={"ZipFile": b"x"})["FunctionArn"]
    definition = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": function, "InputPath": "$.request", "ResultPath": "$.answer",
        "Retry": [{"ErrorEquals": ["Refused"], "MaxAttempts": 1, "IntervalSeconds": 1}], "End": True}}}
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(name="cached", roleArn=role, definition=json.dumps(definition))["stateMachineArn"]

    counts = {"definition parses": 0, "lambda clients": 0, "jsonpath parses": 0, "response method listings": 0}
    lock = threading.Lock()

    def counting(key, original):
        def wrapper(*args, **kwargs):
            if key != "lambda clients" or kwargs.get("service_name") == "lambda":
                with lock:
                    counts[key] += 1
            return original(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(AmazonStateLanguageParser, "parse",
                        staticmethod(counting("definition parses", AmazonStateLanguageParser.parse)))
    monkeypatch.setattr(boto3_module, "client", counting("lambda clients", boto3_module.client))
    monkeypatch.setattr(JsonPathParser, "parse", counting("jsonpath parses", JsonPathParser.parse))
    monkeypatch.setattr(inspect, "getmembers", counting("response method listings", inspect.getmembers))

    def run(names, fail):
        for name in names:
            sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps({"request": {"fail": fail}}))

    run(["first"], False)
    assert _wait_for_ends(engine, {"first"}) == {"first": "ExecutionSucceeded"}
    after_first = dict(counts)
    assert after_first["definition parses"] == 1 and after_first["lambda clients"] == 1, after_first
    assert after_first["jsonpath parses"] >= 2, after_first  # InputPath and ResultPath

    succeeding = {f"ok-{index}" for index in range(6)}
    failing = {f"refused-{index}" for index in range(6)}
    starters = [threading.Thread(target=run, args=(sorted(succeeding), False)),
                threading.Thread(target=run, args=(sorted(failing), True))]
    for starter in starters:
        starter.start()
    for starter in starters:
        starter.join()
    ends = _wait_for_ends(engine, succeeding | failing)
    assert counts == after_first, "moto recomputed what local/hooks.py caches: " + str((after_first, counts))
    assert {ends[name] for name in succeeding} == {"ExecutionSucceeded"}
    assert {ends[name] for name in failing} == {"ExecutionFailed"}
    calls = [event for _, event in engine.invocations]
    assert calls.count({"fail": False}) == 7
    assert calls.count({"fail": True}) == 12, "each refused execution is tried twice (MaxAttempts 1), no more"


def test_dynamodb_reads_and_writes_take_the_one_lock():
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    hooks.serialize_dynamodb_writes()
    for owner in (DynamoDBBackend, DynamoHandler):
        for name in ("put_item", "update_item", "delete_item", "get_item", "query", "scan"):
            method = getattr(owner, name)
            assert getattr(method, "__wrapped__", None) is not None, f"{owner.__name__}.{name} is not serialized"
            assert list(inspect.signature(method.__wrapped__).parameters)[0] == "self", name


def test_concurrent_updates_answer_from_their_own_write_not_another_writers():
    """Counted updates with ReturnValues: each answer shows the counter its own write produced."""
    import threading

    hooks.serialize_dynamodb_writes()
    with mock_aws():
        db = boto3.client("dynamodb")
        db.create_table(TableName="t", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        # A large item: copying it takes long enough for another writer to change it meanwhile.
        votes = {f"earlier{index}": {"S": "y" * 50} for index in range(2000)}
        db.put_item(TableName="t", Item={"id": {"S": "a"}, "n": {"N": "0"}, "votes": {"M": votes}})
        seen, errors = [], []

        def vote(index):
            try:
                answer = db.update_item(
                    TableName="t", Key={"id": {"S": "a"}}, UpdateExpression="SET n = n + :one, votes.#v = :v",
                    ConditionExpression="attribute_not_exists(votes.#v)", ExpressionAttributeNames={"#v": f"v{index}"},
                    ExpressionAttributeValues={":one": {"N": "1"}, ":v": {"S": "x" * 100}}, ReturnValues="ALL_OLD")
                seen.append(int(answer["Attributes"]["n"]["N"]))
            except Exception as error:  # noqa: BLE001 - any error is the failure this test looks for
                errors.append(repr(error))

        threads = [threading.Thread(target=vote, args=(index,)) for index in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(seen) == list(range(40)), "two writes answered with the same old item"


@pytest.mark.parametrize("integration", [False, True], ids=["function ARN", "lambda:invoke"])
def test_a_lambda_the_role_may_not_invoke_fails_the_task_as_step_functions_does(engine, integration):
    """The interpreter's clients reach the engine (local/iam.py checks them), and an invocation the
    role may not make fails the Task with Lambda.AWSLambdaException and the SDK's description."""

    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = boto3.client("lambda").create_function(
        FunctionName="canary", Runtime="python3.12", Role=role, Handler="h.h", Code={"ZipFile": b"x"})["FunctionArn"]
    task = ({"Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": function, "Payload.$": "$"}}
            if integration else {"Resource": function})
    definition = {"StartAt": "Call", "States": {"Call": {"Type": "Task", **task, "End": True}}}
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(name="denied", roleArn=role, definition=json.dumps(definition))["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name="denied-run", input=json.dumps({"refuse-invoke": 1}))
    status = _ended(sfn, execution["executionArn"], 10)
    assert engine.interpreter_clients, "lambda_eval_utils.boto_client_for no longer reaches the engine"
    assert engine.invocations == []
    assert status["status"] == "FAILED"
    assert status["error"] == "Lambda.AWSLambdaException", status
    assert status["cause"].startswith("User: r is not authorized (Service: AWSLambda; Status Code: 403; "
                                      "Error Code: AccessDeniedException; Request ID: req-1"), status["cause"]


def test_each_retry_attempt_of_a_token_wait_gets_a_new_token_and_its_full_timeout(engine):

    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = boto3.client("lambda").create_function(
        FunctionName="canary", Runtime="python3.12", Role=role, Handler="h.h", Code={"ZipFile": b"x"})["FunctionArn"]
    definition = {"StartAt": "Wait", "States": {"Wait": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": function, "Payload": {"token.$": "$$.Task.Token"}}, "TimeoutSeconds": 1,
        "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}],
        "End": True}}}
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(name="retry", roleArn=role, definition=json.dumps(definition))["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="retry-run", input="{}")["executionArn"]
    _ended(sfn, arn, 30)
    events = sfn.get_execution_history(executionArn=arn)["events"]
    scheduled = [e["timestamp"] for e in events if e["type"] == "TaskScheduled"]
    timed_out = [e["timestamp"] for e in events if e["type"] == "TaskTimedOut"]
    assert len(scheduled) == len(timed_out) == 3
    waits = [(end - start).total_seconds() for start, end in zip(scheduled, timed_out)]
    assert min(waits) >= 0.95, f"StateTaskServiceCallback._evaluate_with_timeout: attempts waited {waits}"
    tokens = [event["token"] for _, event in engine.invocations]
    assert len(set(tokens)) == 3, "each attempt must get its own task token"
    # The first attempt's token is dead: an answer to it is refused, as AWS refuses it.
    with pytest.raises(sfn.exceptions.ClientError):
        sfn.send_task_success(taskToken=tokens[0], output="{}")


@pytest.mark.parametrize("call, field, limit", [
    ("send_task_success", "output", 262_144), ("send_task_failure", "error", 256), ("send_task_failure", "cause", 32_768),
])
def test_send_task_answers_past_awss_limits_are_refused(engine, call, field, limit):
    sfn = boto3.client("stepfunctions")
    arguments = {"taskToken": "unknown-token", "output": "{}"} if call == "send_task_success" else {"taskToken": "unknown-token"}
    value = '"' + "x" * (limit - 1) + '"' if field == "output" else "x" * (limit + 1)
    arguments[field] = value
    with pytest.raises(sfn.exceptions.ClientError) as refused:
        getattr(sfn, call)(**arguments)
    assert refused.value.response["Error"]["Code"] == "ValidationException", refused.value.response
    assert f"Value at '{field}' failed to satisfy constraint" in str(refused.value)
    arguments[field] = value[:limit] if field != "output" else '"' + "x" * (limit - 2) + '"'
    with pytest.raises(sfn.exceptions.ClientError) as within:  # within the limit: only the token is wrong
        getattr(sfn, call)(**arguments)
    assert within.value.response["Error"]["Code"] != "ValidationException"


@pytest.mark.parametrize("size, error", [(262_144, "States.DataLimitExceeded"), (200_000, None)])
def test_moto_keeps_a_states_output_within_256_kib(engine, size, error):
    """moto enforces this limit itself (local/hooks.py relies on it): a result past 256 KiB fails."""

    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = boto3.client("lambda").create_function(
        FunctionName="canary", Runtime="python3.12", Role=role, Handler="h.h", Code={"ZipFile": b"x"})["FunctionArn"]
    definition = {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": function, "End": True}}}
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(name="big", roleArn=role, definition=json.dumps(definition))["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name=f"big-{size}", input=json.dumps({"big": size}))["executionArn"]
    status = _ended(sfn, arn, 10)
    assert status.get("error") == error, status.get("error")


def test_an_execution_stopped_as_a_lambda_task_starts_ends_aborted_not_failed(engine):
    """Environment.set_error: moto prunes the rest of a Task once the execution is stopped, and
    reported the pruning as a failure ("Exception"): the stopped execution ended FAILED."""

    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = boto3.client("lambda").create_function(
        FunctionName="canary", Runtime="python3.12", Role=role, Handler="h.h", Code={"ZipFile": b"x"})["FunctionArn"]
    definition = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": function, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": True},
        "Caught": {"Type": "Fail", "Error": "Caught"}}}
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(name="stop", roleArn=role, definition=json.dumps(definition))["stateMachineArn"]
    arn = f"{machine.replace(':stateMachine:', ':execution:')}:stop-run"

    def stop_as_the_lambda_starts(execution, event_type):
        if event_type == "LambdaFunctionStarted":
            sfn.stop_execution(executionArn=arn)

    engine.on_event = stop_as_the_lambda_starts
    sfn.start_execution(stateMachineArn=machine, name="stop-run", input="{}")
    status = _ended(sfn, arn, 10)
    assert (status["status"], status.get("error")) == ("ABORTED", None), status
    assert engine.invocations == []


def test_a_task_starts_a_child_execution_and_waits_for_it_as_step_functions_does(engine):
    """StateTaskServiceSfn and StepFunctionsParserBackend.start_execution: startExecution.sync:2 with
    the API's names on both sides (moto passed them to boto3 as written: States.Runtime), an unnamed
    child named with a UUID (moto: "None"), a failed child's error in the cause as DescribeExecution
    tells it; and Execution.stop: stopping the parent stops the child."""

    iam = boto3.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    sfn = boto3.client("stepfunctions")
    child = sfn.create_state_machine(name="child", roleArn=role, definition=json.dumps({"StartAt": "Route", "States": {
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.request.fail", "IsPresent": True, "Next": "Refuse"},
                                                {"Variable": "$.request.wait", "IsPresent": True, "Next": "Wait"}],
                  "Default": "Done"},
        "Wait": {"Type": "Wait", "Seconds": 30, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": {"decision": "approved"}, "End": True},
        "Refuse": {"Type": "Fail", "Error": "ApprovalRejected", "Cause": "no"}}}))["stateMachineArn"]
    parent = sfn.create_state_machine(name="parent", roleArn=role, definition=json.dumps({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": child, "Input": {"request.$": "$",
                                                                    "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}},
                "ResultSelector": {"decision.$": "$.Output.decision", "status.$": "$.Status"}, "End": True}}}))["stateMachineArn"]

    def run(name, request):
        return sfn.start_execution(stateMachineArn=parent, name=name, input=json.dumps(request))["executionArn"]

    approved = _ended(sfn, run("approved", {}), 20)
    assert approved["status"] == "SUCCEEDED", approved
    assert json.loads(approved["output"]) == {"decision": "approved", "status": "SUCCEEDED"}
    refused = _ended(sfn, run("refused", {"fail": 1}), 20)
    assert (refused["status"], refused["error"]) == ("FAILED", "States.TaskFailed"), refused
    described = json.loads(refused["cause"])
    assert (described["Status"], described["Error"], described["Cause"]) == ("FAILED", "ApprovalRejected", "no")
    children = sfn.list_executions(stateMachineArn=child)["executions"]
    assert len({execution["name"] for execution in children}) == 2 and "None" not in str(children)

    waiting = run("stopped", {"wait": 1})
    eventually(lambda: len(sfn.list_executions(stateMachineArn=child, statusFilter="RUNNING")["executions"]) == 1,
               10, "the child did not start")
    sfn.stop_execution(executionArn=waiting)
    (stopped_child,) = [e for e in sfn.list_executions(stateMachineArn=child)["executions"] if e["status"] != "SUCCEEDED"
                        and e["status"] != "FAILED"]
    assert _ended(sfn, stopped_child["executionArn"], 10)["status"] == "ABORTED"
