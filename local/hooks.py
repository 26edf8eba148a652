"""The moto internals the local engine relies on, in one place (moto is pinned; see the canary test).

- LambdaFunction._invoke_lambda(self, event) -> (payload, errored, logs): runs our handler in-process.
- SESBackend.send_raw_email(self, source, destinations, raw_data): also writes the .eml file.
- EventManager.add_event: reports each execution's progress to the console.
- StepFunctionResponse.send_task_failure: moto 5.2.5 drops `cause`; pass it on as AWS does.
- StepFunctionResponse.send_task_success / _failure: AWS's length limits on output (262,144),
  error (256) and cause (32,768 characters), which moto does not check. (moto itself enforces
  the 256 KiB of a state's input and output, and DynamoDB's 400 KB per item.)
- StateTaskServiceCallback._evaluate_with_timeout: a new task token for each retry attempt, as on
  AWS (moto reuses the first, so later attempts time out at once).
- StateTaskLambda / StateTaskServiceLambda._from_error: a Lambda invocation the state machine's
  role may not make (local/iam.py) fails the Task with Lambda.AWSLambdaException, as on AWS.
- Execution.stop: moto leaves an execution that waits for a task token RUNNING after
  StopExecution; AWS aborts it at once, so its tokens die. Release the waits as AWS would. And
  AWS stops the executions it started with startExecution.sync: stop them too (known by the
  AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID key of their input).
- Environment.set_error: a Task running when StopExecution lands (a Lambda being invoked) has
  its remaining steps pruned by moto, which then reports the pruning's own error ("Exception")
  as an uncaught failure: the stopped execution would end FAILED. On AWS a stopped execution is
  ABORTED, whatever its running state was doing; a failure after the stop is not recorded.
- StateTaskServiceSfn (the states:startExecution integrations, .sync:2 above all): moto passes
  the Task's parameters to boto3 as written (StateMachineArn, Input: boto3 wants stateMachineArn,
  input) and its answers back as boto3 gives them (executionArn, output): every such Task failed
  with States.Runtime. Step Functions names both sides as the API does (ExecutionArn, Output,
  Error, Cause): convert, as AWS does (the input and output themselves untouched).
- StepFunctionsParserBackend.start_execution: an execution started without a name (the AWS CLI's
  start-execution, a Task's startExecution) gets a UUID, as on AWS; moto names them all "None",
  so the second one collides.
- StepFunctionsParserBackend.send_task_success/_failure walk all executions and trip over one
  that is still starting (AttributeError: its environment is not set yet); try again briefly.
- DynamoDBBackend / DynamoHandler requests: moto checks a condition and writes without a lock, so
  two threads can both pass one condition; DynamoDB serializes writes to an item, and so does this
  lock, around the whole request (moto copies the live item for ReturnValues outside the backend).
  Reads take it too: moto copies an item while a write may be changing it.

What moto recomputes per execution or per call, computed once (thread-safe; each is checked by
the canary test, the concurrent workflow tests run them under load):
- ExecutionWorker._get_evaluation_entrypoint parses the definition (ANTLR) at every execution:
  one parsed program per definition. Its components are read-only during evaluation, except
  EvalComponent.heap_key (a lazily drawn id naming each Retry's counters in the execution's own
  heap): drawn for every component before the program is shared.
- lambda_eval_utils.boto_client_for (and state_task_service_sfn's) builds a boto3 client per
  Task: one per region and state machine role, each checked as that role (local/iam.py).
- json_path.parse / result_path.parse (jsonpath_ng) build a PLY parser per call: one parsed
  expression per path.
- BaseResponse.call_action lists its class's methods (inspect.getmembers) at every AWS call the
  handlers and the interpreter make: one list per response class.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import uuid
from typing import Any

_originals: dict[str, tuple[Any, str, Any]] = {}
_engine: Any = None


def install(engine: Any) -> None:
    global _engine
    from moto.awslambda.models import LambdaFunction
    from moto.ses.models import SESBackend
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    _engine = engine
    _replace(LambdaFunction, "_invoke_lambda", _invoke_lambda)
    _replace(SESBackend, "send_raw_email", _send_raw_email)
    _replace(EventManager, "add_event", _add_event)
    _replace(ExecutionWorker, "_get_evaluation_environment", _evaluation_environment)
    _replace(StepFunctionResponse, "send_task_failure", _send_task_failure)
    _replace(StepFunctionResponse, "send_task_success", _send_task_success)
    _replace(Execution, "stop", _stop_execution)
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    _replace(Environment, "set_error", _no_failure_after_stop(Environment.set_error))
    _replace(StepFunctionsParserBackend, "start_execution", _named(StepFunctionsParserBackend.start_execution))
    for name in ("send_task_success", "send_task_failure"):
        _replace(StepFunctionsParserBackend, name, _past_starting_executions(getattr(StepFunctionsParserBackend, name)))
    serialize_dynamodb_writes()
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
        StateTaskServiceLambda,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

    for owner in (StateTaskLambda, StateTaskServiceLambda):
        _replace(owner, "_from_error", _lambda_access_denied(owner._from_error))
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
        StateTaskServiceCallback,
    )

    _replace(StateTaskServiceCallback, "_evaluate_with_timeout",
             _new_token_per_attempt(StateTaskServiceCallback._evaluate_with_timeout))
    _replace(ExecutionWorker, "_get_evaluation_entrypoint", _parsed_once)
    _child_executions_as_on_aws()
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import json_path

    _replace(lambda_eval_utils, "boto_client_for", _one_client_per_region(lambda_eval_utils.boto_client_for))
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn

    # The startExecution integrations' client too: the workflow's calls are checked as its role.
    _replace(state_task_service_sfn, "boto_client_for", _one_client_per_region(state_task_service_sfn.boto_client_for))
    for module in (json_path, result_path):
        _replace(module, "parse", functools.lru_cache(maxsize=1024)(module.parse))
    from moto.core import responses

    _replace(responses, "method_names_from_class", functools.lru_cache(maxsize=None)(responses.method_names_from_class))


def install_lambda_only(engine: Any) -> None:
    """The narrowest hook alone: `engine.invoke_lambda(lambda name, event)` runs each Lambda
    in-process, and moto is otherwise left as it is (bench/bare.py's "bare moto" reference), but
    for the states:startExecution integration, without which the workflow cannot start its approval."""
    global _engine
    from moto.awslambda.models import LambdaFunction

    _engine = engine
    _replace(LambdaFunction, "_invoke_lambda", _invoke_lambda)
    _child_executions_as_on_aws()


def _child_executions_as_on_aws() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
        StateTaskServiceSfn,
    )

    _replace(StateTaskServiceSfn, "_normalise_parameters", _api_parameters(StateTaskServiceSfn._normalise_parameters))
    _replace(StateTaskServiceSfn, "_normalise_response", _api_response)
    _replace(StateTaskServiceSfn, "_eval_service_task", _api_answer(StateTaskServiceSfn._eval_service_task))


_write_lock = threading.RLock()


def serialize_dynamodb_writes() -> None:
    """Make moto's conditional writes atomic, as DynamoDB's are (also used by the store tests).

    The whole request is one step, from moto's reading of the item to its answer: moto's
    UpdateItem deep-copies the live item for ReturnValues before the backend call, outside the
    backend's methods, so a lock there alone lets an answer be built from another writer's
    half-applied item.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    for owner in (DynamoDBBackend, DynamoHandler):
        for name in ("put_item", "update_item", "delete_item", "get_item", "query", "scan"):
            key = f"{owner.__name__}.{name}"
            if key in _originals:
                continue
            original = getattr(owner, name)

            @functools.wraps(original)
            def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
                with _write_lock:
                    return __original(self, *args, **kwargs)

            _replace(owner, name, locked)


def uninstall() -> None:
    global _engine
    for key, (owner, name, original) in list(_originals.items()):
        setattr(owner, name, original)
        del _originals[key]
    _engine = None
    with _cache_lock:
        _programs.clear()
        _clients.clear()


def prune_threads() -> None:
    """moto keeps every interpreter thread in a list forever; drop the finished ones."""
    from moto.stepfunctions.parser import utils

    utils.TMP_THREADS[:] = [thread for thread in utils.TMP_THREADS if thread.is_alive()]


def _replace(owner: Any, name: str, replacement: Any) -> None:
    key = f"{getattr(owner, '__qualname__', owner.__name__)}.{name}"
    if key not in _originals:
        _originals[key] = (owner, name, getattr(owner, name))
    setattr(owner, name, replacement)


def _original(owner_name: str, name: str) -> Any:
    return _originals[f"{owner_name}.{name}"][2]


def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
    if isinstance(event, (str, bytes)):  # moto passes the string "{}" for an empty payload
        event = json.loads(event or "{}")
    payload, errored = _engine.invoke_lambda(self.function_name, {} if event is None else event)
    return payload, errored, ""


def _send_raw_email(self: Any, source: str, destinations: list[str], raw_data: str) -> Any:
    message = _original("SESBackend", "send_raw_email")(self, source, destinations, raw_data)
    _engine.email_sent(message.id, raw_data)
    return message


def _evaluation_environment(self: Any) -> Any:
    environment = _original("ExecutionWorker", "_get_evaluation_environment")(self)
    environment.event_manager.execution_name = self._evaluation_details.execution_details.name
    environment.event_manager.execution_arn = self._evaluation_details.execution_details.arn
    return environment


def _add_event(self: Any, context: Any, event_type: Any, event_details: Any = None, *args: Any, **kwargs: Any) -> int:
    event_id = _original("EventManager", "add_event")(self, context, event_type, event_details, *args, **kwargs)
    name = getattr(self, "execution_name", None)
    if name is not None and _engine is not None:
        type_name = getattr(event_type, "value", str(event_type))
        details = {}
        for value in (event_details or {}).values():
            if isinstance(value, dict):
                details.update(value)
        _engine.execution_event(name, type_name, details, getattr(self, "execution_arn", ""))
    return event_id


# Step Functions' request limits moto does not check (characters), as AWS answers them.
SEND_TASK_LIMITS = {"output": 262_144, "error": 256, "cause": 32_768}


def _within_limits(self: Any, *names: str) -> None:
    from moto.core.exceptions import JsonRESTError

    for name in names:
        value = self._get_param(name)
        if value is not None and len(value) > SEND_TASK_LIMITS[name]:
            raise JsonRESTError(
                "ValidationException",
                f"1 validation error detected: Value at '{name}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {SEND_TASK_LIMITS[name]}",
            )


def _send_task_success(self: Any) -> Any:
    _within_limits(self, "output")
    return _original("StepFunctionResponse", "send_task_success")(self)


def _send_task_failure(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    _within_limits(self, "error", "cause")
    self.stepfunction_backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return EmptyResult()


def _stop_execution(self: Any, stop_date: Any, error: Any, cause: Any) -> None:
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeSuccess

    _original("Execution", "stop")(self, stop_date, error, cause)
    environment = getattr(self.exec_worker, "env", None)
    if environment is not None:
        for endpoint in list(environment.callback_pool_manager._pool.values()):
            endpoint.notify(CallbackOutcomeSuccess(callback_id=endpoint.callback_id, output="{}"))
    for child in _started_by(self):
        child.stop(stop_date, error, cause)


def _started_by(parent: Any) -> list[Any]:
    """The running executions a parent started with startExecution.sync (AWS stops them with it).

    They are known by the key Step Functions' own console uses for the link, which the Task passes.
    """
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    backend = stepfunctions_parser_backends[parent.account_id][parent.region_name]
    return [
        execution
        for machine in backend.state_machines
        for execution in list(machine.executions)
        if execution.exec_status == ExecutionStatus.RUNNING
        and isinstance(execution.input_data, dict)
        and execution.input_data.get("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID") == parent.exec_arn
    ]


def _no_failure_after_stop(original: Any) -> Any:
    @functools.wraps(original)
    def set_error(self: Any, error: Any) -> None:
        from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

        if isinstance(self.program_state(), ProgramStopped):
            return  # stopped stays ABORTED, as on AWS
        original(self, error)

    return set_error


def _named(original: Any) -> Any:
    @functools.wraps(original)
    def start(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    return start


def _api_parameters(original: Any) -> Any:
    @functools.wraps(original)
    def normalise(self: Any, parameters: dict, boto_service_name: Any = None, service_action_name: Any = None) -> None:
        original(self, parameters, boto_service_name, service_action_name)  # Input as a JSON string
        for key in list(parameters):
            parameters[key[:1].lower() + key[1:]] = parameters.pop(key)

    return normalise


def _api_response(self: Any, response: Any, boto_service_name: Any = None, service_action_name: Any = None) -> None:
    """As the API names it: executionArn -> ExecutionArn, inputDetails.included -> InputDetails.Included."""
    if isinstance(response, dict):
        for key in list(response):
            value = response.pop(key)
            if key.endswith("Details") and isinstance(value, dict):
                _api_response(self, value)
            response[key[:1].upper() + key[1:]] = value


def _api_answer(original: Any) -> Any:
    @functools.wraps(original)
    def evaluate(self: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
        answer = original(self, env, *args, **kwargs)
        _api_response(self, env.stack[-1])
        return answer

    return evaluate


def _new_token_per_attempt(original: Any) -> Any:
    """Each attempt of a waitForTaskToken Task gets its own token, as on AWS.

    moto draws the token once per state: a retry reuses the first attempt's, whose wait was
    interrupted at its timeout, so every later attempt "times out" at once. A fresh token (and the
    old one forgotten: a late answer to it is refused, as AWS refuses a dead token) gives each
    attempt its full TimeoutSeconds.
    """

    @functools.wraps(original)
    def evaluate(self: Any, env: Any) -> Any:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition

        data = env.states.context_object.context_object_data
        task = data.get("Task")
        if task and self.resource.condition == ResourceCondition.WaitForTaskToken and data["State"].get("RetryCount"):
            env.callback_pool_manager._pool.pop(task["Token"], None)
            env.callback_pool_manager.add(env.states.context_object.update_task_token())
        return original(self, env)

    return evaluate


def _lambda_access_denied(original: Any) -> Any:
    """A Lambda the state machine's role may not invoke fails the Task as on AWS.

    moto names the error after the code ("Lambda.AccessDeniedException", or "Exception" for a plain
    function ARN); Step Functions reports Lambda.AWSLambdaException with the SDK's description.
    """

    @functools.wraps(original)
    def from_error(self: Any, env: Any, ex: Exception) -> Any:
        from botocore.exceptions import ClientError
        from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName

        event = original(self, env, ex)
        if isinstance(ex, ClientError) and ex.response["Error"]["Code"] == "AccessDeniedException":
            error = "Lambda.AWSLambdaException"
            cause = (
                f"{ex.response['Error']['Message']} (Service: AWSLambda; Status Code: 403; Error Code: "
                f"AccessDeniedException; Request ID: {ex.response['ResponseMetadata'].get('RequestId', '')}; Proxy: null)"
            )
            event.error_name = CustomErrorName(error)
            for details in (event.event_details or {}).values():
                details["error"] = error
                details["cause"] = cause
        return event

    return from_error


def _past_starting_executions(original: Any) -> Any:
    @functools.wraps(original)
    def send(self: Any, *args: Any, **kwargs: Any) -> Any:
        for _ in range(100):
            try:
                return original(self, *args, **kwargs)
            except AttributeError:  # an execution whose worker has no environment yet
                time.sleep(0.01)
        return original(self, *args, **kwargs)

    return send


_cache_lock = threading.Lock()
_programs: dict[str, Any] = {}
_clients: dict[tuple[str, str, bool], Any] = {}


def _parsed_once(self: Any) -> Any:
    definition = self._evaluation_details.state_machine_details.definition
    with _cache_lock:
        program = _programs.get(definition)
        if program is None:
            program = _original("ExecutionWorker", "_get_evaluation_entrypoint")(self)
            _draw_heap_keys(program)
            _programs[definition] = program
    return program


def _draw_heap_keys(program: Any) -> None:
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending = [program]
    while pending:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, EvalComponent):
            item.heap_key  # noqa: B018 - drawn now, before threads share the component
        if isinstance(item, Component):
            pending.extend(vars(item).values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())


def _one_client_per_region(original: Any) -> Any:
    @functools.wraps(original)
    def client(region: str, service: str, state_credentials: Any = None) -> Any:
        from moto.core.models import botocore_stubber

        # One per state machine role: the engine checks each machine's calls as its own role.
        role = getattr(state_credentials, "role_arn", None) or ""
        key = (region, service, role, botocore_stubber.enabled)  # moto's client uses no credentials
        with _cache_lock:
            if key not in _clients:
                _clients[key] = original(region=region, service=service, state_credentials=state_credentials)
                if _engine is not None:
                    _engine.interpreter_client(_clients[key], role)
            return _clients[key]

    return client
