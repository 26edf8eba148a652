"""Read serverless.yml the way the Serverless Framework does, for the one stage run locally.

Only the variable sources this service uses are supported (sls:, opt:, self:, file(), env:);
anything else fails loudly, so the local run can never silently differ from the deployed one.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from deploy.approval_policy import plan
from functions.common.approval_policy import POLICY_KEYS, PolicyError

ROOT = Path(__file__).resolve().parent.parent
# The keys a user sets per stage in env.json; in local mode the same-named environment
# variable overrides the file (e.g. APPROVAL_TIMEOUT_SECONDS=5 make local).
STAGE_KEYS = (
    *POLICY_KEYS,
    "SENDER_EMAIL",
    "DOUBLING_API_URL",
    "CALCULATION_TIMEOUT_SECONDS",
    "RETRY_INTERVAL_SECONDS",
    "APPROVER_DOMAINS",
)

_VARIABLE = re.compile(r"\$\{([^${}]+)\}")


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str  # "/callbacks/{id}"
    function: str | None  # None for the state machine's own /start integration
    schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class Function:
    name: str
    handler: str  # "functions/validate/handler.handler"
    environment: dict[str, Any]
    timeout: int
    memory: int
    # The patterns of its `eventBridge` events (CloudFormation intrinsics not yet resolved).
    event_patterns: tuple[dict[str, Any], ...] = ()

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0].replace("/", ".")

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    @property
    def logical_id(self) -> str:
        # The Serverless Framework's naming: calculate -> CalculateLambdaFunction.
        return self.name[0].upper() + self.name[1:].replace("-", "Dash").replace("_", "Underscore") + "LambdaFunction"


@dataclass(frozen=True)
class Machine:
    """A state machine of serverless.yml (stepFunctions.stateMachines)."""

    logical_id: str  # its `id`: the template's resource, whose role the local IAM check applies
    name: str
    definition: dict[str, Any]


@dataclass(frozen=True)
class Service:
    name: str
    stage: str
    region: str
    provider_environment: dict[str, Any]
    functions: dict[str, Function]
    routes: list[HttpRoute]
    machines: tuple[Machine, ...]  # the started one (POST /start) first
    resources: dict[str, Any]
    stage_config: dict[str, Any] = field(default_factory=dict)
    start_api_errors: dict[str, str] = field(default_factory=dict)  # custom.startApiErrors: refused, unavailable

    @property
    def started(self) -> Machine:
        """The state machine POST /start starts (the doubled-sum workflow)."""
        return self.machines[0]

    @property
    def state_machine_name(self) -> str:
        return self.started.name

    @property
    def state_machine_definition(self) -> dict[str, Any]:
        return self.started.definition

    def machine(self, logical_id: str) -> Machine:
        return next(machine for machine in self.machines if machine.logical_id == logical_id)


def load_service(stage: str = "local", environ: Mapping[str, str] | None = None, root: Path = ROOT) -> Service:
    environ = os.environ if environ is None else environ
    raw = _read_yaml(root / "serverless.yml")
    resolver = _Resolver(raw, stage, environ, root)
    config = resolver.resolve(raw)
    provider = config["provider"]
    functions = {
        name: Function(
            name=name,
            handler=spec["handler"],
            environment={**provider.get("environment", {}), **spec.get("environment", {})},
            timeout=int(spec.get("timeout", provider.get("timeout", 6))),
            memory=int(spec.get("memorySize", provider.get("memorySize", 1024))),
            event_patterns=tuple(
                event["eventBridge"]["pattern"] for event in spec.get("events", []) if "eventBridge" in event
            ),
        )
        for name, spec in config["functions"].items()
    }
    routes = [
        HttpRoute(method=event["http"]["method"].upper(), path="/" + event["http"]["path"].strip("/"), function=name)
        for name, spec in config["functions"].items()
        for event in spec.get("events", [])
        if "http" in event
    ]
    declared = config["stepFunctions"]["stateMachines"]
    started = [machine for machine in declared.values() if machine.get("events")]
    if len(started) != 1:
        raise ConfigError("exactly one state machine has an http event (POST /start)")
    (machine,) = started
    machines = tuple(
        Machine(logical_id=spec["id"], name=spec["name"], definition=spec["definition"])
        for spec in sorted(declared.values(), key=lambda spec: spec is not machine)
    )
    for event in machine.get("events", []):
        http = event["http"]
        model = http.get("request", {}).get("schemas", {}).get("application/json")
        routes.append(
            HttpRoute(
                method=http["method"].upper(),
                path="/" + http["path"].strip("/"),
                function=None,
                # Either the schema itself or {schema, name, description}, as the plugin accepts.
                schema=model.get("schema", model) if isinstance(model, dict) else None,
            )
        )
    return Service(
        name=config["service"],
        stage=stage,
        region=provider.get("region", "us-east-1"),
        provider_environment=provider.get("environment", {}),
        functions=functions,
        routes=routes,
        machines=machines,
        resources=config.get("resources", {}).get("Resources", {}),
        stage_config=config["custom"].get("stageConfig", {}),
        start_api_errors=config["custom"]["startApiErrors"],
    )


def _read_yaml(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


class _Resolver:
    def __init__(self, raw: dict[str, Any], stage: str, environ: Mapping[str, str], root: Path) -> None:
        self._raw = raw
        self._stage = stage
        self._environ = environ
        self._root = root

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.resolve(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [self.resolve(inner) for inner in value]
        if isinstance(value, str):
            return self._string(value)
        return value

    def _string(self, text: str) -> Any:
        # Resolve innermost variables first; a variable that is the whole string keeps its type.
        while True:
            match = _VARIABLE.search(text)
            while match and _is_cfn_reference(match.group(1)):
                match = _VARIABLE.search(text, match.end())
            if not match:
                return text
            value = self._variable(match.group(1))
            if match.span() == (0, len(text)):
                return self.resolve(value)
            if isinstance(value, (dict, list)):
                raise ConfigError(f"${{{match.group(1)}}} is an object and cannot be part of a string")
            text = text[: match.start()] + str(value) + text[match.end() :]

    def _variable(self, expression: str) -> Any:
        reference, *fallbacks = _split_fallbacks(expression)
        value = self._lookup(reference.strip())
        for fallback in fallbacks:
            if value is not None:
                break
            value = self._literal(fallback.strip())
        if value is None:
            raise ConfigError(f"${{{expression}}} has no value for stage {self._stage!r}")
        return value

    def _literal(self, text: str) -> Any:
        if text[:1] in "'\"" and text[-1:] == text[:1]:
            return text[1:-1]
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        return self._lookup(text)

    def _lookup(self, reference: str) -> Any:
        if reference == "sls:stage" or reference == "opt:stage":
            return self._stage
        if reference.startswith("opt:"):
            return None  # no other command-line option locally: the fallback applies
        if reference.startswith("self:"):
            value: Any = self._raw
            for part in reference[len("self:") :].split("."):
                if isinstance(value, str):
                    value = self._string(value)
                if not isinstance(value, dict) or part not in value:
                    return None
                value = value[part]
            return self.resolve(value)
        if reference.startswith("approvalPolicy:"):
            # What plugins/approval-policy.js resolves at package time, from the same Python.
            stage = self._lookup("self:custom.stageConfig")
            try:
                return plan(stage or {})[reference.split(":", 1)[1]]
            except PolicyError as error:
                raise ConfigError(self._refusal(error)) from None
        if reference.startswith("env:"):
            return self._environ.get(reference[len("env:") :])
        file_match = re.fullmatch(r"file\(([^)]+)\)(?::(.+))?", reference)
        if file_match:
            content = self.resolve(_read_yaml(self._root / file_match.group(1)))
            if file_match.group(2) is None:
                return content
            value = _path(content, file_match.group(2))
            if file_match.group(1).strip("./") == "env.json":
                return self._stage_override(file_match.group(2), value)
            return value
        raise ConfigError(f"unsupported variable ${{{reference}}} in serverless.yml")

    def _refusal(self, error: PolicyError) -> str:
        """The refusal, saying where the refused value came from: the environment or env.json."""
        problem = str(error).removeprefix(f"{error.key}: ")
        overridden = [key for key in STAGE_KEYS if key in self._environ]
        if error.key in overridden:
            text = f"environment variable {error.key}={self._environ[error.key]!r}: {problem}"
        else:
            text = f"env.json, stage {self._stage!r}: {error}"
        # Another key the message names may have come from the environment too.
        also = [key for key in overridden if key != error.key and re.search(rf"\b{key}\b", problem)]
        if also:
            text += f"; {' and '.join(also)} {'comes' if len(also) == 1 else 'come'} from the environment too"
        return text

    def _stage_override(self, address: str, value: Any) -> Any:
        parts = address.split(".")
        if len(parts) == 1:  # the whole stage block
            block = dict(value or {})
            for key in STAGE_KEYS:
                if key in self._environ:
                    block[key] = _typed(self._environ[key])
            return block
        key = parts[-1]
        return _typed(self._environ[key]) if key in STAGE_KEYS and key in self._environ else value


def port(environ: Mapping[str, str] | None = None, name: str = "PORT", default: int = 3000) -> int:
    """PORT (or `name`) for `make local` (default 3000): a whole number from 1 to 65535."""
    environ = os.environ if environ is None else environ
    text = environ.get(name, str(default)).strip()
    if not re.fullmatch(r"[0-9]{1,5}", text) or not 1 <= int(text) <= 65535:
        raise ConfigError(f"environment variable {name}={environ[name]!r}: must be a port number from 1 to 65535")
    return int(text)


def _typed(text: str) -> Any:
    """An environment override keeps env.json's types: whole numbers stay numbers."""
    return int(text) if re.fullmatch(r"-?\d+", text.strip()) else text


def _is_cfn_reference(text: str) -> bool:
    """${AWS::Region}, ${ApiGatewayRestApi}, ${Table.Arn}: CloudFormation's, left for Fn::Sub."""
    return ":" not in text.replace("::", "") and "(" not in text and "," not in text


def _split_fallbacks(expression: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in expression:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    parts.append(current)
    return parts


def _path(document: Any, address: str) -> Any:
    value = document
    for part in address.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
