"""The embedded AWS emulation: moto runs the real state machine definition and our handlers.

moto's Step Functions interpreter executes the ASL; its Lambda service would start Docker, so
LambdaFunction._invoke_lambda is replaced by an in-process call of the serverless.yml handler.
Emails that SES accepts are written as .eml files. These hooks use moto internals: moto is
pinned and tests/workflow/test_canary.py fails loudly, naming the hook, if one stops working.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
import time
import traceback
import uuid
from email import message_from_string, policy
from pathlib import Path
from typing import Any, Callable

from functions.common.email import EXECUTION_HEADER
from local import hooks
from local.config import ConfigError, Service
from local.iam import Enforcer, role_of, roles_from_template, start_route_role
from local.eventbridge import execution_status_change, matches
from local.intrinsics import pseudo_parameters, resolve_intrinsics
from local.lambda_runtime import FunctionRunner, install_thread_environ
from local.tables import create_tables
from local.template import compiled_template

ACCOUNT = "123456789012"
_LINK = re.compile(r"https?://[^\s<>\"']+")
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")  # what may stand in a file name (and a console email id)

Console = Callable[[str], None]


class LocalEngine:
    def __init__(self, service: Service, *, api_base_url: str, outbox: Path, console: Console) -> None:
        self.service = service
        self.api_base_url = api_base_url.rstrip("/")
        self.outbox = outbox
        self.console = console
        self._mock: Any = None
        self.state_machine_arn = ""  # the machine POST /start starts (the doubled-sum workflow)
        self.machine_arns: dict[str, str] = {}  # logical id -> ARN, for every state machine
        self._machine_roles: dict[str, str] = {}  # the role ARN a machine was created with -> its template role
        self.runner: FunctionRunner | None = None
        self.iam: Enforcer | None = None
        self._by_lambda_name: dict[str, str] = {}
        self._rules: list[tuple[str, dict[str, Any]]] = []  # (function, event pattern): its eventBridge events
        # LOCAL_FUNCTION_DELAY=followUp:2 makes the state machine's calls of a function start 2 s
        # late, as a slow cold start would: to rehearse what lands meanwhile (a vote between waits).
        self._delays = _delays(os.environ.get("LOCAL_FUNCTION_DELAY", ""), service.functions)
        # Told of every execution event (with the execution's name) and every email (the local console listens).
        self.observers: list[Callable[[str | None], None]] = []

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        install_thread_environ()  # before boto3 reads the environment: see lambda_runtime
        import boto3
        from moto import mock_aws

        _quiet_moto()
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        hooks.install(self)
        region = self.service.region
        role = _execution_role(region, "local-execution-role")
        names = pseudo_parameters(region, ACCOUNT, f"{self.service.name}-{self.service.stage}")
        names.update(self._create_resources(region))
        prefix = f"{self.service.name}-{self.service.stage}"
        lambdas = boto3.client("lambda", region_name=region)
        for function in self.service.functions.values():
            lambda_name = f"{prefix}-{function.name}"
            arn = lambdas.create_function(
                FunctionName=lambda_name,
                Runtime="python3.12",
                Role=role,
                Handler=function.handler,
                Code={"ZipFile": b"in-process"},
                Timeout=function.timeout,
                MemorySize=function.memory,
            )["FunctionArn"]
            names[f"{function.logical_id}.Arn"] = arn
            self._by_lambda_name[lambda_name] = function.name
        for machine in self.service.machines:
            names[machine.logical_id] = f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:{machine.name}"
        environments = {
            function.name: {
                **_lambda_environment(f"{prefix}-{function.name}", region, function.memory),
                **{
                    key: str(resolve_intrinsics(value, names=names, api_base_url=self.api_base_url))
                    for key, value in function.environment.items()
                },
            }
            for function in self.service.functions.values()
        }
        self.iam = self._enforce_iam(region, names)
        self.runner = FunctionRunner(
            self.service.functions, environments, region, ACCOUNT,
            acting_as=self._function_role if self.iam else None,
        )
        # The approval machine first: the workflow's definition names it.
        for machine in reversed(self.service.machines):
            definition = resolve_intrinsics(machine.definition, names=names, api_base_url=self.api_base_url)
            # Each machine runs as a role of its own, which tells its interpreter's calls apart (local/iam.py).
            machine_role = _execution_role(region, f"local-{machine.logical_id}-role")
            self._machine_roles[machine_role] = machine.logical_id
            self.machine_arns[machine.logical_id] = boto3.client("stepfunctions", region_name=region).create_state_machine(
                name=machine.name, definition=json.dumps(definition), roleArn=machine_role
            )["stateMachineArn"]
        self.state_machine_arn = self.machine_arns[self.service.started.logical_id]
        self._rules = [
            (function.name, resolve_intrinsics(pattern, names=names, api_base_url=self.api_base_url))
            for function in self.service.functions.values()
            for pattern in function.event_patterns
        ]

    def _enforce_iam(self, region: str, names: dict[str, str]) -> Enforcer | None:
        """Every AWS call of the stack checked against its role, as deploy compiles the roles."""
        if os.environ.get("LOCAL_IAM", "on") == "off":  # for measuring what the check costs
            return None
        import boto3

        template = compiled_template("local")
        record = os.environ.get("LOCAL_IAM_RECORD")
        enforcer = Enforcer(
            roles_from_template(template, names), region=region, account=ACCOUNT, report=self.console,
            record=Path(record) if record else None,
        )
        self._roles = {
            function.name: role_of(template, function.logical_id) for function in self.service.functions.values()
        }
        self._state_machine_roles = {machine.logical_id: role_of(template, machine.logical_id) for machine in self.service.machines}
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        enforcer.install(boto3.DEFAULT_SESSION.events)  # the handlers' clients, as the role they act as
        enforcer.install(self._start_client().meta.events, start_route_role(template))  # POST /start
        return enforcer

    def _function_role(self, function: str) -> Any:
        assert self.iam is not None
        return self.iam.acting_as(self._roles[function])

    def stop(self) -> None:
        if self.iam is not None:
            self.iam.close()
        if self._mock is not None:
            hooks.uninstall()
            self._mock.stop()
            self._mock = None

    def _create_resources(self, region: str) -> dict[str, str]:
        """Create the stack's resources that moto can hold: here, DynamoDB tables and SES identity."""
        import boto3

        names = create_tables(self.service.resources, boto3.client("dynamodb", region_name=region))
        sender = self.service.stage_config.get("SENDER_EMAIL")
        # LOCAL_SES_VERIFY=0 leaves the sender unverified, to rehearse SES refusing the email.
        if sender and os.environ.get("LOCAL_SES_VERIFY", "1") != "0":
            boto3.client("ses", region_name=region).verify_email_identity(EmailAddress=sender)
        return names

    # -- what the front calls ------------------------------------------------------------
    def start_execution(self, input_json: str) -> dict[str, Any]:
        hooks.prune_threads()
        answer = self._start_client().start_execution(
            stateMachineArn=self.state_machine_arn, name=str(uuid.uuid4()), input=input_json
        )
        return {"executionArn": answer["executionArn"], "startDate": answer["startDate"].timestamp()}

    @functools.cache
    def _start_client(self) -> Any:
        """POST /start's client: API Gateway calls StartExecution as the API's role."""
        import boto3

        return boto3.client("stepfunctions", region_name=self.service.region)

    @functools.cache
    def _states(self) -> Any:
        """The local service's own client (the EventBridge events it delivers): not a call of the stack's."""
        import boto3

        return boto3.client("stepfunctions", region_name=self.service.region)

    def invoke(self, function: str, event: Any) -> Any:
        assert self.runner is not None, "engine not started"
        return self.runner.invoke(function, event)

    # -- what the hooks call -------------------------------------------------------------
    def interpreter_client(self, client: Any, role_arn: str) -> None:
        """A client the state machine interpreter calls AWS with: it acts as its state machine's role."""
        # A machine created through the AWS API (AWS_ENDPOINT_PORT) runs as a role of no template: unchecked.
        if self.iam is not None and role_arn in self._machine_roles:
            self.iam.install(client.meta.events, self._state_machine_roles[self._machine_roles[role_arn]])

    def invoke_lambda(self, lambda_name: str, event: Any) -> tuple[str, bool]:
        """(payload, errored) the way Lambda reports a handler's result or its exception."""
        function = self._by_lambda_name[lambda_name]
        delay = self._delays.get(function)
        if delay:
            time.sleep(delay)
        try:
            return json.dumps(self.invoke(function, event)), False
        except Exception as error:  # noqa: BLE001 - reported to the state machine by its class name
            self.console(f"  {function} raised {type(error).__name__}: {error}")
            return json.dumps(
                {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exception(error)[-3:],
                }
            ), True

    def email_sent(self, message_id: str, raw: str) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        message = message_from_string(raw, policy=policy.default)
        path = self.outbox / outbox_name(message, message_id, time.time())
        partial = path.with_name(path.name + ".part")  # whoever lists *.eml sees whole files only
        partial.write_text(raw, encoding="utf-8")
        partial.replace(path)
        body = message.get_body(preferencelist=("plain",))
        links = _LINK.findall(body.get_content() if body else "")
        self.console(f"  email to {message['To']}: {message['Subject']}  ({path})")
        for link in links:
            self.console(f"    {link}")
        self._changed(None)

    def execution_event(self, execution: str, event_type: str, details: dict[str, Any], execution_arn: str = "") -> None:
        # A child (the approval machine's execution, named as its parent) says which machine it runs.
        machine = execution_arn.split(":")[6] if execution_arn.count(":") >= 7 else ""
        label = execution if machine in ("", self.service.state_machine_name) else f"{execution} {machine.removeprefix(f'{self.service.name}-{self.service.stage}-')}"
        if event_type.endswith("StateEntered"):
            self.console(f"[{label}] -> {details.get('name')}")
        elif event_type == "ExecutionSucceeded":
            self.console(f"[{label}] SUCCEEDED")
        elif event_type in ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"):
            status = event_type.removeprefix("Execution").upper()
            self.console(f"[{label}] {status} {details.get('error') or ''}".rstrip())
        if event_type in _FINAL_STATUS:
            # As EventBridge does, apart from the execution's own thread: a little later, not in its way.
            threading.Thread(
                target=self._status_changed,
                args=(execution_arn, _FINAL_STATUS[event_type], details, time.time()),
                name=f"eventbridge-{execution}",
                daemon=True,
            ).start()
        self._changed(execution)

    def _status_changed(self, arn: str, status: str, details: dict[str, Any], stopped_at: float) -> None:
        """Deliver the "Step Functions Execution Status Change" event to the functions whose rule matches."""
        try:
            described = self._states().describe_execution(executionArn=arn)
        except Exception:  # noqa: BLE001 - the engine is stopping: nothing to deliver to
            return
        event = execution_status_change(
            execution_arn=arn,
            state_machine_arn=arn.replace(":execution:", ":stateMachine:", 1).rsplit(":", 1)[0],
            status=status,
            start_date=described["startDate"].timestamp(),
            stop_date=stopped_at,
            input_json=described.get("input"),
            output_json=details.get("output"),
            error=details.get("error"),
            cause=details.get("cause"),
            region=self.service.region,
            account=ACCOUNT,
        )
        for function, pattern in self._rules:
            if matches(pattern, event):
                try:
                    self.invoke(function, event)
                except Exception as error:  # noqa: BLE001 - EventBridge would retry; the console says it failed
                    self.console(f"  {function} raised {type(error).__name__}: {error}")

    def _changed(self, execution: str | None) -> None:
        for observer in self.observers:
            observer(execution)


def _execution_role(region: str, name: str) -> str:
    """A role Lambda and Step Functions may assume (moto checks none of it; local/iam.py does)."""
    import boto3

    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
    }]}  # fmt: skip
    return boto3.client("iam", region_name=region).create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def outbox_name(message: Any, message_id: str, now: float) -> str:
    """<UTC time>-<execution>-<recipient>-<id>.eml: in the order sent, and findable by either name."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    parts = [stamp, str(message[EXECUTION_HEADER] or ""), str(message["To"] or "")[:80], message_id[:12]]
    return "-".join(_UNSAFE.sub("_", part) for part in parts if part) + ".eml"


_FINAL_STATUS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}


def _delays(setting: str, functions: Any) -> dict[str, float]:
    delays = {}
    for part in filter(None, (piece.strip() for piece in setting.split(","))):
        function, _, seconds = part.partition(":")
        try:
            delays[function] = float(seconds)
        except ValueError:
            delays[function] = -1.0
        if function not in functions or delays[function] < 0:
            raise ConfigError(f"LOCAL_FUNCTION_DELAY: {part!r} is not <function>:<seconds> with one of {', '.join(functions)}")
    return delays


def _lambda_environment(name: str, region: str, memory: int) -> dict[str, str]:
    """The variables the Lambda runtime itself sets, and local defaults for Powertools."""
    return {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        # The console shows the flow, so handler logs default to warnings.
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
        # Locally, how long a handler's HTTP request may take (default 5 s): the tests shorten it.
        **{key: os.environ[key] for key in ("HTTP_TIMEOUT_SECONDS",) if key in os.environ},
    }


def _quiet_moto() -> None:
    # The interpreter logs every failure event at ERROR, even caught ones; the console says what matters.
    for name in (
        "moto.stepfunctions.parser.asl.component.eval_component",
        "moto.stepfunctions.parser.asl.component.program.program",
        "moto.stepfunctions.parser",
    ):
        logging.getLogger(name).setLevel(logging.CRITICAL)
