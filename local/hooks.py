"""The moto internals the local engine relies on, in one place (moto is pinned; see the canary test).

- LambdaFunction._invoke_lambda(self, event) -> (payload, errored, logs): runs our handler in-process.
- SESBackend.send_raw_email(self, source, destinations, raw_data): also writes the .eml file.
- EventManager.add_event: reports each execution's progress to the console.
- StepFunctionResponse.send_task_failure: moto 5.2.5 drops `cause`; pass it on as AWS does.
- Execution.stop: moto leaves an execution that waits for a task token RUNNING after
  StopExecution; AWS aborts it at once, so its tokens die. Release the waits as AWS would.
- StepFunctionsParserBackend.send_task_success/_failure walk all executions and trip over one
  that is still starting (AttributeError: its environment is not set yet); try again briefly.
- DynamoDBBackend writes: moto checks a condition and writes without a lock, so two threads can
  both pass one condition; DynamoDB serializes writes to an item, and so does this lock. Reads
  take it too: moto copies an item while a write may be changing it ("dictionary changed size").
"""

from __future__ import annotations

import functools
import json
import threading
import time
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
    _replace(Execution, "stop", _stop_execution)
    for name in ("send_task_success", "send_task_failure"):
        _replace(StepFunctionsParserBackend, name, _past_starting_executions(getattr(StepFunctionsParserBackend, name)))
    serialize_dynamodb_writes()


_write_lock = threading.RLock()


def serialize_dynamodb_writes() -> None:
    """Make moto's conditional writes atomic, as DynamoDB's are (also used by the store tests)."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in ("put_item", "update_item", "delete_item", "get_item", "query", "scan"):
        key = f"DynamoDBBackend.{name}"
        if key in _originals:
            continue
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _write_lock:
                return __original(self, *args, **kwargs)

        _replace(DynamoDBBackend, name, locked)


def uninstall() -> None:
    global _engine
    for key, (owner, name, original) in list(_originals.items()):
        setattr(owner, name, original)
        del _originals[key]
    _engine = None


def prune_threads() -> None:
    """moto keeps every interpreter thread in a list forever; drop the finished ones."""
    from moto.stepfunctions.parser import utils

    utils.TMP_THREADS[:] = [thread for thread in utils.TMP_THREADS if thread.is_alive()]


def _replace(owner: Any, name: str, replacement: Any) -> None:
    key = f"{owner.__qualname__}.{name}"
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
        _engine.execution_event(name, type_name, details)
    return event_id


def _send_task_failure(self: Any) -> Any:
    from moto.core.responses import EmptyResult

    self.stepfunction_backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return EmptyResult()


def _stop_execution(self: Any, stop_date: Any, error: Any, cause: Any) -> None:
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeSuccess

    _original("Execution", "stop")(self, stop_date, error, cause)
    environment = getattr(self.exec_worker, "env", None)
    if environment is None:
        return
    for endpoint in list(environment.callback_pool_manager._pool.values()):
        endpoint.notify(CallbackOutcomeSuccess(callback_id=endpoint.callback_id, output="{}"))


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
