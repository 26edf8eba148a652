"""IAM, enforced locally as AWS enforces it, from the roles `serverless package` compiles.

moto trusts every caller. Here every AWS call a handler makes is checked against that function's
role, every Lambda invocation by the state machine against the state machine's role, and /start's
StartExecution against the API's role, each with the ARN of the resource the call acts on. The
policies come from the compiled template (local/template.py); the evaluation is
@cloud-copilot/iam-simulate's (local/iam/simulate.mjs, one long-lived Node process).

A denied call fails as on AWS: botocore raises AccessDeniedException (AccessDenied for SES) with
AWS's message, and the local log prints one line naming the role, the action and the resource.
LOCAL_IAM_RECORD=<file> appends each distinct (role, action, resource, decision) as a JSON line.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import uuid
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from local.intrinsics import resolve_intrinsics

ROOT = Path(__file__).resolve().parent.parent
SIMULATOR = ROOT / "local" / "iam" / "simulate.mjs"
ALLOWED = "Allowed"
# The error code each service answers a denied call with, by botocore's endpoint prefix (SES, whose
# prefix is "email", speaks the query protocol).
_DENIED_CODE = {"email": "AccessDenied"}


class IamError(Exception):
    pass


@dataclass(frozen=True)
class Role:
    logical_id: str
    name: str
    policies: tuple[dict[str, Any], ...]  # [{"name", "policy"}], intrinsics resolved

    def principal(self, account: str, session: str) -> str:
        return f"arn:aws:sts::{account}:assumed-role/{self.name}/{session}"


@dataclass(frozen=True)
class Call:
    action: str
    resource: str
    context: dict[str, Any]


def roles_from_template(template: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Role]:
    """Every IAM role of the template, its inline policies resolved with the local names."""
    roles = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        properties = resource["Properties"]
        name = properties.get("RoleName")
        roles[logical_id] = Role(
            logical_id=logical_id,
            name=str(resolve_intrinsics(name, names=names, api_base_url="")) if name else logical_id,
            policies=tuple(
                {
                    "name": f"{logical_id}-{index}",
                    "policy": resolve_intrinsics(policy["PolicyDocument"], names=names, api_base_url=""),
                }
                for index, policy in enumerate(properties.get("Policies", []))
            ),
        )
    return roles


def template_names(template: Mapping[str, Any], region: str, account: str) -> dict[str, str]:
    """Ref and Fn::GetAtt values of the template's resources, as AWS would name them (for checks
    of the template alone; the local engine names what moto created)."""
    from local.intrinsics import pseudo_parameters

    names = pseudo_parameters(region, account, "stack")
    arn = f"arn:aws:{{}}:{region}:{account}:{{}}"
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::Lambda::Function":
            names[f"{logical_id}.Arn"] = arn.format("lambda", f"function:{properties['FunctionName']}")
        elif kind == "AWS::DynamoDB::Table":
            names[logical_id] = properties["TableName"]
            names[f"{logical_id}.Arn"] = arn.format("dynamodb", f"table/{properties['TableName']}")
        elif kind == "AWS::StepFunctions::StateMachine":
            names[logical_id] = arn.format("states", f"stateMachine:{properties['StateMachineName']}")
        elif kind == "AWS::Logs::LogGroup":
            names[f"{logical_id}.Arn"] = arn.format("logs", f"log-group:{properties['LogGroupName']}:*")
        elif kind == "AWS::IAM::Role":
            names[f"{logical_id}.Arn"] = f"arn:aws:iam::{account}:role/{logical_id}"
    return names


def granted_actions(template: Mapping[str, Any]) -> dict[str, set[str]]:
    """{role: the actions its inline policies allow}, read from the template as compiled."""
    return {
        logical_id: {
            action
            for policy in resource["Properties"].get("Policies", [])
            for statement in _listed(policy["PolicyDocument"].get("Statement"))
            if statement.get("Effect") == "Allow"
            for action in _listed(statement.get("Action"))
        }
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }


def role_of(template: Mapping[str, Any], logical_id: str) -> str:
    """The logical id of the role a function or a state machine runs as."""
    properties = template["Resources"][logical_id]["Properties"]
    reference = properties.get("Role") or properties.get("RoleArn")
    if not (isinstance(reference, dict) and "Fn::GetAtt" in reference):
        raise IamError(f"{logical_id}: its role is not a role of this template ({reference!r})")
    return reference["Fn::GetAtt"][0]


def start_route_role(template: Mapping[str, Any]) -> str:
    """The role API Gateway assumes to call StartExecution for POST /start."""
    for resource in template["Resources"].values():
        integration = resource.get("Properties", {}).get("Integration", {})
        if resource["Type"] == "AWS::ApiGateway::Method" and "StartExecution" in json.dumps(integration.get("Uri")):
            return integration["Credentials"]["Fn::GetAtt"][0]
    raise IamError("the template has no POST /start integration")


class Simulator:
    """One `node local/iam/simulate.mjs` process; answers are cached (the policies do not change)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._answers: dict[str, str] = {}

    def decide(self, role: Role, principal: str, call: Call, account: str) -> str:
        key = json.dumps([role.logical_id, call.action, call.resource, call.context], sort_keys=True)
        with self._lock:
            if key not in self._answers:  # the role's policies are serialized only for a new question
                self._answers[key] = self._ask(json.dumps({
                    "policies": list(role.policies), "principal": principal, "action": call.action,
                    "resource": call.resource, "account": account, "context": call.context,
                }))
            return self._answers[key]

    def start(self) -> None:
        """Start the evaluator now (it takes a few hundred ms), not at the first call it checks."""
        if self._process is None or self._process.poll() is not None:
            if not (SIMULATOR.parent / "node_modules" / "@cloud-copilot" / "iam-simulate").exists():
                raise IamError("the IAM evaluator is not installed: run `make local` (npm ci --prefix local/iam)")
            self._process = subprocess.Popen(
                ["node", str(SIMULATOR)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
            )

    def _ask(self, request: str) -> str:
        self.start()
        assert self._process is not None and self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(request + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise IamError("the IAM evaluator stopped")
        answer = json.loads(line)
        if "error" in answer:
            raise IamError(f"the IAM evaluator refused the request: {answer['error']}")
        return answer["decision"]

    def close(self) -> None:
        if self._process is not None:
            self._process.stdin.close()  # type: ignore[union-attr]
            self._process.wait(timeout=10)
            self._process = None


class Enforcer:
    """Checks calls against roles; knows which role the current thread acts as."""

    def __init__(
        self,
        roles: Mapping[str, Role],
        *,
        region: str,
        account: str,
        report: Callable[[str], None],
        record: Path | None = None,
        simulator: Simulator | None = None,
    ) -> None:
        self.roles = dict(roles)
        self.region = region
        self.account = account
        self._report = report
        self._record = record
        self._recorded: set[tuple[str, str, str, str]] = set()
        self._record_lock = threading.Lock()
        self._simulator = simulator or Simulator()
        self._simulator.start()
        self._acting = threading.local()

    # -- who is calling ----------------------------------------------------------------------
    @contextlib.contextmanager
    def acting_as(self, role_id: str) -> Iterator[None]:
        previous = getattr(self._acting, "role", None)
        self._acting.role = role_id
        try:
            yield
        finally:
            self._acting.role = previous

    def install(self, events: Any, role_id: str | None = None) -> None:
        """Check every call of the clients made from `events` (a session's or a client's).

        With a role, as that role; without, as the role the calling thread acts as (if any).
        """
        events.register("before-parameter-build", _keep_parameters)
        events.register("before-call", lambda **kwargs: self._before_call(role_id, **kwargs))

    def _before_call(self, role_id: str | None, *, model: Any, context: Mapping[str, Any], **_: Any) -> Any:
        role_id = role_id or getattr(self._acting, "role", None)
        if role_id is None:
            return None  # the local service itself (console, set-up): not a call of the stack's
        service = model.service_model.endpoint_prefix
        call = describe_call(service, model.name, context.get(_PARAMETERS, {}), self.region, self.account)
        denial = self.check(role_id, call)
        if denial is None:
            return None
        code = _DENIED_CODE.get(service, "AccessDeniedException")
        from botocore.awsrequest import AWSResponse

        request_id = str(uuid.uuid4())
        return AWSResponse("", 403, {}, None), {
            "Error": {"Code": code, "Message": denial},
            "ResponseMetadata": {"HTTPStatusCode": 403, "RequestId": request_id},
        }

    # -- the decision --------------------------------------------------------------------------
    def check(self, role_id: str, call: Call, session: str = "local") -> str | None:
        """None if the role may make the call; else AWS's message for the denial."""
        role = self.roles[role_id]
        decision = self._simulator.decide(role, role.principal(self.account, session), call, self.account)
        self._note(role, call, decision)
        if decision == ALLOWED:
            return None
        self._report(f"  IAM denied: role {role.name} may not {call.action} on {call.resource}")
        why = (
            "with an explicit deny in an identity-based policy"
            if decision == "ExplicitlyDenied"
            else f"because no identity-based policy allows the {call.action} action"
        )
        return (
            f"User: {role.principal(self.account, session)} is not authorized to perform: {call.action} "
            f"on resource: {call.resource} {why}"
        )

    def _note(self, role: Role, call: Call, decision: str) -> None:
        if self._record is None:
            return
        key = (role.logical_id, call.action, call.resource, decision)
        with self._record_lock:
            if key in self._recorded:
                return
            self._recorded.add(key)
            line = {"role": role.logical_id, "action": call.action, "resource": call.resource, "decision": decision}
            with self._record.open("a", encoding="utf-8") as record:
                record.write(json.dumps(line) + "\n")

    def close(self) -> None:
        self._simulator.close()


_PARAMETERS = "local-iam-parameters"


def _keep_parameters(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
    """The call's own parameters, kept for before-call (which sees only the serialized request)."""
    context[_PARAMETERS] = dict(params)


# -- which action on which resource a call is ----------------------------------------------------
_DYNAMODB_READS = {"GetItem", "Query", "Scan"}


def describe_call(service: str, operation: str, params: Mapping[str, Any], region: str, account: str) -> Call:
    """The IAM action, the resource ARN and the request's condition keys of one API call.

    A call this does not know is refused loudly rather than let through unchecked.
    """
    action = _IAM_ACTION.get(f"{service}:{operation}", f"{_IAM_PREFIX.get(service, service)}:{operation}")
    arn = f"arn:aws:{{service}}:{region}:{account}:"
    if service == "dynamodb" and "TableName" in params:
        context: dict[str, Any] = {}
        if operation in _DYNAMODB_READS:
            names = params.get("ExpressionAttributeNames") or {}
            if params.get("ProjectionExpression"):
                context["dynamodb:Attributes"] = [
                    names.get(part.strip(), part.strip()) for part in params["ProjectionExpression"].split(",")
                ]
            elif params.get("AttributesToGet"):
                context["dynamodb:Attributes"] = list(params["AttributesToGet"])
            if params.get("Select"):
                context["dynamodb:Select"] = params["Select"]
        if params.get("ReturnValues"):
            context["dynamodb:ReturnValues"] = params["ReturnValues"]
        return Call(action, arn.format(service="dynamodb") + f"table/{params['TableName']}", context)
    if service == "states":
        if operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
            return Call(action, "*", {})  # no resource-level permission exists for these
        for key in ("executionArn", "stateMachineArn"):
            if key in params:
                return Call(action, params[key], {})
    if service == "email" and operation in ("SendRawEmail", "SendEmail"):
        sender = parseaddr(params.get("Source", ""))[1]
        recipients = list(params.get("Destinations") or []) or [
            address for field in ("ToAddresses", "CcAddresses", "BccAddresses")
            for address in params.get("Destination", {}).get(field, [])
        ]
        context = {"ses:FromAddress": sender, "ses:Recipients": recipients}
        return Call(action, arn.format(service="ses") + f"identity/{sender}", context)
    if service == "lambda" and operation == "Invoke":
        name = params["FunctionName"]
        resource = name if name.startswith("arn:") else arn.format(service="lambda") + f"function:{name}"
        return Call(action, resource, {})
    raise IamError(f"the local IAM check does not know the resource of {action}: teach local/iam.py")


# botocore's endpoint prefix -> IAM's service prefix, where they differ.
_IAM_PREFIX = {"email": "ses"}
# API operations whose IAM action has another name.
_IAM_ACTION = {"lambda:Invoke": "lambda:InvokeFunction"}


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
