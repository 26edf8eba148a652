"""Cold start per handler, as Lambda pays it.

Each function's zip from `serverless package` is unzipped read-only and imported by Python 3.12
(`python3.12 -S`, PYTHONDONTWRITEBYTECODE=1, a Lambda-like environment, sys.path = [the zip, a
runtime directory with boto3 and what the Lambda runtime brings, compiled by that interpreter]).
A fresh interpreter per run times the import, then one real-shaped first event. AWS and HTTP calls
go to a local stand-in (AWS_ENDPOINT_URL) serving the items the callback store itself writes; it
records each child's calls. References in the same interleaved rounds: `import boto3`, and per
AWS-calling handler its floor (`import boto3`, the same clients and calls, nothing else).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
import sysconfig
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from bench.common import FAKE_AWS, median, say

ACCOUNT = "123456789012"
REGION = "us-east-1"
# The approval request's execution is still waiting (the approval page a click opens); the status
# page and the floors are asked about one that has ended.
WAITING, ENDED = "bench-execution", "bench-ended"
# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")
# boto3's name for each service the stand-in recognizes, and minimal parameters for each call.
SERVICES = {"dynamodb": "dynamodb", "states": "stepfunctions", "ses": "ses"}
PREFIXES = {"DynamoDB_20120810": "dynamodb", "AWSStepFunctions": "states"}  # X-Amz-Target's, by service
FLOOR_PARAMETERS: dict[str, dict[str, Any]] = {
    "dynamodb.PutItem": {"TableName": "bench", "Item": {"id": {"S": "x"}}},
    "dynamodb.UpdateItem": {"TableName": "bench", "Key": {"id": {"S": "x"}}},
    "dynamodb.GetItem": {"TableName": "bench", "Key": {"id": {"S": "x"}}},
    "states.SendTaskSuccess": {"taskToken": "bench", "output": "{}"},
    "states.SendTaskFailure": {"taskToken": "bench"},
    "states.DescribeExecution": {"executionArn": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:bench:{ENDED}"},
    "ses.SendRawEmail": {"RawMessage": {"Data": "From: a@example.com\r\nTo: b@example.com\r\nSubject: s\r\n\r\nbody"}},
}

# Runs as `python3.12 -S -c CHILD <mode> ...` in the unzipped zip: nothing is imported before the
# timer starts except what the interpreter itself loads at start-up.
CHILD = r'''
import sys, time
sys.path[:0] = [p for p in sys.argv[1].split(":") if p]
_t0 = time.perf_counter()
_mode = sys.argv[2]
if _mode == "floor":
    import boto3
    _t1 = time.perf_counter()
    import json
    _clients = {}
    for _call in json.loads(sys.argv[3]):
        _service, _operation, _parameters = _call
        if _service not in _clients:
            _clients[_service] = boto3.client(_service)
    _t2 = time.perf_counter()
    for _service, _operation, _parameters in json.loads(sys.argv[3]):
        getattr(_clients[_service], _operation)(**_parameters)
    _t3 = time.perf_counter()
    _answer = {"import": _t1 - _t0, "clients": _t2 - _t0, "total": _t3 - _t0, "status": "ok"}
else:
    import importlib
    _module = importlib.import_module(sys.argv[3])
    _t1 = time.perf_counter()
    _answer = {"import": _t1 - _t0, "total": _t1 - _t0, "status": "imported"}
    if _mode == "handler":
        import json, os
        class _Context:
            function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
            function_version = "$LATEST"
            memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
            invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + function_name
            aws_request_id = "00000000-0000-0000-0000-000000000000"
            log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
            log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
            def get_remaining_time_in_millis(self):
                return 10000
        _event = json.loads(os.environ["BENCH_EVENT"])
        _t2 = time.perf_counter()
        try:
            _result = getattr(_module, sys.argv[4])(_event, _Context())
            _answer["status"] = _result.get("statusCode", "ok") if isinstance(_result, dict) else "ok"
        except Exception as _error:
            _answer["status"] = "raised " + type(_error).__name__
        _answer["total"] = _answer["import"] + time.perf_counter() - _t2
import json
sys.stdout.write("\nBENCH_RESULT " + json.dumps(_answer) + "\n")
'''


# -- a local stand-in for the AWS endpoints and the handlers' HTTP peers ----------------------
class StandIn(ThreadingHTTPServer):
    """Canned AWS answers (JSON 1.0 for DynamoDB / Step Functions, query XML for SES), and 200 for
    the doubling API and callback URLs. Records what was called, per child."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Reply)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.items = store_items()
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __enter__(self) -> "StandIn":
        threading.Thread(target=self.serve_forever, name="bench-stand-in", daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()

    def record(self, call: str) -> None:
        with self._lock:
            self.calls.append(call)

    def take(self) -> list[str]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls


class _Reply(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StandIn

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target")
        if target:
            prefix, _, operation = target.partition(".")
            self.server.record(f"{PREFIXES.get(prefix, prefix)}.{operation}")
            reply = _json_reply(self.server.items, operation, json.loads(body or b"{}"))
            return self._send("application/x-amz-json-1.0", json.dumps(reply).encode())
        form = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            self.server.record(f"ses.{form['Action'][0]}")
            return self._send("text/xml", _ses_reply(form["Action"][0]).encode())
        self.server.record(f"http POST {self.path.split('?')[0].rsplit('/', 1)[0] or self.path}")
        self._send("application/json", b'{"message": "ok"}')

    def _send(self, content_type: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(body)


def store_items() -> dict[str, dict[str, Any]]:
    """The callbacks table's items as the store itself writes them (on moto, once): an approval
    request, its ballot and a calculation callback, by kind, in DynamoDB's wire encoding."""
    import boto3
    from moto import mock_aws

    from functions.common.approval_policy import ApprovalPolicy
    from functions.common.callbacks.model import CALCULATION
    from functions.common.callbacks.table import ApprovalStore, CallbackStore
    from local.config import load_service
    from local.tables import callbacks_table_name, create_tables

    resources = load_service(stage="local").resources
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(resources, client)
        table = callbacks_table_name(resources)
        numbers = {"x": 3, "y": 4, "sum": 7, "doubled": 14}
        request = {"subject": "3 + 4, doubled = 14", "details": [{"label": k, "value": v} for k, v in numbers.items()]}
        ApprovalStore(table, client).create_approval(
            task_token="bench-task-token", execution=WAITING, started_at=time.time(), context=request,
            policy=ApprovalPolicy.from_config({"RECIPIENT_EMAIL": "approver@example.com"}))
        CallbackStore(table, client).register(kind=CALCULATION, task_token="bench-task-token", execution=WAITING,
                                              ttl_seconds=600, context=numbers)
        return {item["kind"]["S"]: item for item in client.scan(TableName=table)["Items"]}


def _json_reply(items: dict[str, dict[str, Any]], operation: str, request: dict[str, Any]) -> dict[str, Any]:
    """The stored items as they are, with the id asked for and what an update's request sets."""
    key = (request.get("Key") or {}).get("id", {}).get("S", "x" * 32)
    values = request.get("ExpressionAttributeValues") or {}
    approval = key.startswith("approval#")
    if operation == "GetItem":  # an approval request by its execution, or the ballot a link names
        item = {**(items["approval"] if approval else items["ballot"]), "id": {"S": key}}
        if "ProjectionExpression" in request:  # the readers' projection never includes the token
            item.pop("taskToken", None)
        return {"Item": item}
    if operation == "UpdateItem" and request.get("ReturnValues") == "ALL_NEW":
        if approval:  # a vote, a close
            closed = {"closedAs": values[":ending"]} if ":ending" in values else {}
            return {"Attributes": {**items["approval"], "id": {"S": key}, **closed}}
        item = items.get(values.get(":kind", {}).get("S", "approval"), items["approval"])  # a claimed callback
        return {"Attributes": {**item, "id": {"S": key}, "status": values.get(":status", {"S": "SUCCEEDED"})}}
    if operation == "DescribeExecution":
        arn, now = request.get("executionArn", ""), time.time()
        ended = {"status": "SUCCEEDED", "stopDate": now, "output": '{"sum": 7, "doubled": 14}'}
        return {"executionArn": arn, "stateMachineArn": arn.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0],
                "name": arn.rsplit(":", 1)[-1], "startDate": now - 1, "input": '{"x": 3, "y": 4}',
                **(ended if arn.endswith(f":{ENDED}") else {"status": "RUNNING"})}
    return {}  # PutItem, UpdateItem without an answer, SendTaskSuccess, SendTaskFailure, ...


def _ses_reply(action: str) -> str:
    result = f"<MessageId>{uuid.uuid4()}</MessageId>" if action.startswith("Send") else ""
    return (f'<{action}Response xmlns="http://ses.amazonaws.com/doc/2010-12-01/">'
            f"<{action}Result>{result}</{action}Result>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>")


# -- the functions, their environments and their first events ---------------------------------
def _events(stand_in_url: str) -> dict[str, tuple[Any, str]]:
    from local.apigw import proxy_event
    from local.eventbridge import execution_status_change

    json_headers = {"Content-Type": "application/json", "User-Agent": "bench"}
    callback = secrets.token_urlsafe(24)
    numbers = {"x": 3, "y": 4}
    calculation = {**numbers, "sum": 7, "doubled": 14}
    approval = {**calculation, "approver": "approver@example.com", "decision": "approved", "comment": "",
                "decidedAt": "2025-01-01T00:00:00+00:00"}
    token = "bench-task-token-" + "A" * 40
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:approval-workflow-dev-approval"  # closeApproval's
    request = {"subject": "3 + 4, doubled = 14",
               "details": [{"label": key, "value": value} for key, value in calculation.items()]}
    plan = {"context": request, "policy": {"APPROVERS": "approver@example.com"}, "firstWaitSeconds": 600}
    ended = execution_status_change(
        execution_arn=machine.replace(":stateMachine:", ":execution:") + f":{WAITING}", state_machine_arn=machine,
        status="SUCCEEDED", start_date=time.time() - 60, stop_date=time.time(), input_json=json.dumps(request),
        output_json='{"decision": "approved"}')
    rejected = {"Error": "ApprovalRejected", "Cause": json.dumps({"decision": "rejected", "comment": "no"})}
    return {
        "validate": ({"execution": WAITING, "input": numbers}, "Validate's Parameters"),
        "calculate": ({"execution": WAITING, "taskToken": token, **numbers}, "Calculate's Payload"),
        "checkRequest": ({"execution": WAITING, "request": request}, "CheckRequest's Parameters"),
        "requestApproval": ({"execution": WAITING, "taskToken": token, "state": "Approval", "plan": plan,
                             "enteredAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())},
                            "Approval's Payload"),
        "followUp": ({"execution": WAITING}, "FollowUp's Parameters (an open request, nothing due yet)"),
        "finalize": ({"execution": WAITING, "input": numbers, "calculation": calculation, "approval": approval},
                     "Finalize's Parameters"),
        "notifyFailure": ({"execution": WAITING, "state": {"input": numbers, "calculation": calculation,
                                                           "failure": rejected}},
                          "NotifyFailure's Parameters (a rejection)"),
        "double": (proxy_event("POST", "/double", resource="/double", headers=json_headers,
                               body=json.dumps({"value": 7, "callbackUrl": f"{stand_in_url}/callbacks/{callback}"})),
                   "POST /double"),
        "callbacks": (proxy_event("POST", f"/callbacks/{callback}", resource="/callbacks/{id}",
                                  path_parameters={"id": callback}, headers=json_headers,
                                  body=json.dumps({"result": 14})), "POST /callbacks/{id}"),
        "approvalPages": (proxy_event("GET", "/approve", resource="/approve", query=f"id={callback}",
                                      headers={"User-Agent": "bench"}),
                          "GET /approve?id= (the page a click opens: its ballot, its request, its waiting execution)"),
        "closeApproval": (ended, "EventBridge's Step Functions Execution Status Change (SUCCEEDED)"),
        "executions": (proxy_event("GET", f"/executions/{ENDED}", resource="/executions/{name}",
                                   path_parameters={"name": ENDED}, headers={"User-Agent": "bench"}),
                       "GET /executions/{name}"),
    }


@dataclass
class Case:
    name: str
    mode: str  # handler | import | floor
    module: str = ""
    attribute: str = ""
    event: dict[str, Any] | None = None
    event_note: str = ""
    env: dict[str, str] = field(default_factory=dict)
    task_root: str = ""
    calls: list[str] = field(default_factory=list)  # floor: the calls to make


def python312() -> str:
    """Lambda's Python (3.12) on this machine: deploy/lambda_python.py's answer."""
    from deploy.lambda_python import find

    found = find("3.12", or_venv=True)
    if found is None:
        raise RuntimeError("no Python 3.12 here (Lambda's version): install it, e.g. `pyenv install 3.12`")
    return found


def _runtime_directory(python: str, target: Path) -> Path:
    """boto3 and what the runtime brings with it, with the interpreter's own bytecode."""
    site = Path(sysconfig.get_paths()["purelib"])
    target.mkdir()
    for name in RUNTIME_PACKAGES:
        source = site / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, target / name)
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", str(target)], check=True, timeout=600)
    return target


def _unzip_read_only(archive: Path, target: Path) -> Path:
    zipfile.ZipFile(archive).extractall(target)
    for path in [*target.rglob("*"), target]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return target


def _files(root: Path) -> int:
    return sum(1 for _ in root.rglob("*"))


def _lambda_environment(name: str, memory: int, task_root: str, runtime: str) -> dict[str, str]:
    """What the Lambda runtime sets for a function (the credentials are fakes)."""
    trace = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=1"
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "en_US.UTF-8", "TZ": ":UTC",
        "PYTHONDONTWRITEBYTECODE": "1", "LAMBDA_TASK_ROOT": task_root, "LAMBDA_RUNTIME_DIR": runtime,
        "_HANDLER": "handler", "_X_AMZN_TRACE_ID": trace, "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory), "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]bench", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR", "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        **FAKE_AWS,
    }


def _function_env(function: Any, service: Any, stand_in_url: str) -> dict[str, str]:
    """The function's serverless.yml environment, its references resolved to bench values."""
    from local.config import ConfigError
    from local.intrinsics import pseudo_parameters, resolve_intrinsics

    names: dict[str, str] = {
        **pseudo_parameters(REGION, ACCOUNT, f"{service.name}-dev"),
        **{machine.logical_id: f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{machine.name}" for machine in service.machines},
    }
    for logical_id, resource in service.resources.items():
        physical = (resource.get("Properties") or {}).get("TableName", logical_id)
        names[logical_id] = physical
        names[f"{logical_id}.Arn"] = f"arn:aws:bench:{REGION}:{ACCOUNT}:{physical}"
    env: dict[str, str] = {}
    for key, value in function.environment.items():
        try:
            env[key] = str(resolve_intrinsics(value, names=names, api_base_url=stand_in_url))
        except ConfigError:
            env[key] = "bench-placeholder"
    if "DOUBLING_API_URL" in env and not env["DOUBLING_API_URL"]:
        env["DOUBLING_API_URL"] = f"{stand_in_url}/double"
    return {**env, "AWS_ENDPOINT_URL": stand_in_url}


def cases(stand_in_url: str, build: Path, work: Path, runtime: Path) -> list[Case]:
    from local.config import load_service

    service = load_service(stage="local")
    events = _events(stand_in_url)
    reference_env = {**_lambda_environment("reference", 256, str(work), str(runtime)), "AWS_ENDPOINT_URL": stand_in_url}
    answer = [Case("import boto3", "import", "boto3", env=reference_env, task_root=str(work))]
    for function in service.functions.values():
        archive = build / f"{function.name}.zip"
        if not archive.exists():
            raise RuntimeError(f"{archive} is missing: run `serverless package` first (make bench does)")
        root = _unzip_read_only(archive, work / function.name)
        event, note = events.get(function.name, ({}, "generic empty event (no real shape known)"))
        env = {**_lambda_environment(f"{service.name}-dev-{function.name}", function.memory, str(root), str(runtime)),
               **_function_env(function, service, stand_in_url)}
        answer.append(Case(function.name, "handler", function.module, function.attribute, event=event,
                           event_note=note, env=env, task_root=str(root)))
    return answer


def _run_child(python: str, case: Case, runtime: Path) -> dict[str, Any]:
    path = f"{case.task_root}:{runtime}" if case.mode != "floor" else str(runtime)
    args = [python, "-S", "-c", CHILD, path, case.mode]
    if case.mode == "floor":
        calls = []
        for call in case.calls:
            service, _, operation = call.partition(".")
            method = "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")
            calls.append([SERVICES[service], method, FLOOR_PARAMETERS[call]])
        args.append(json.dumps(calls))
    else:
        args += [case.module, case.attribute] if case.mode == "handler" else [case.module]
    env = dict(case.env)
    if case.event is not None:
        env["BENCH_EVENT"] = json.dumps(case.event)
    run = subprocess.run(args, cwd=case.task_root, env=env, capture_output=True, text=True, timeout=120)
    for line in reversed(run.stdout.splitlines()):
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])
    raise RuntimeError(f"cold-start child for {case.name} failed (exit {run.returncode}):\n{run.stderr[-2000:]}")


def measure(runs: int, build: Path) -> dict[str, Any]:
    """Interleaved: each round runs every case once, so slow phases of the machine hit all of them."""
    python = python312()
    with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as directory, StandIn() as stand_in:
        work = Path(directory)
        runtime = _runtime_directory(python, work / "runtime")
        all_cases = cases(stand_in.url, build, work, runtime)
        handlers = [case for case in all_cases if case.mode == "handler"]
        files_before = {case.name: _files(Path(case.task_root)) for case in handlers}
        samples: dict[str, list[dict[str, Any]]] = {case.name: [] for case in all_cases}
        calls: dict[str, list[str]] = {}
        floors: dict[str, Case] = {}
        for round_number in range(runs):
            for case in [*all_cases, *floors.values()]:
                stand_in.take()
                samples.setdefault(case.name, []).append(_run_child(python, case, runtime))
                made = stand_in.take()
                calls.setdefault(case.name, made)
                aws = [call for call in made if not call.startswith("http ")]
                if case.mode == "handler" and aws and case.name not in floors:
                    floors[case.name] = Case(f"floor:{case.name}", "floor", env=case.env, task_root=case.task_root,
                                             calls=aws)
            say(f"  cold start: round {round_number + 1}/{runs} done")
        # The first round ran no floor (its calls were not known yet): one more run each.
        for case in floors.values():
            stand_in.take()
            samples.setdefault(case.name, []).append(_run_child(python, case, runtime))
        written = sum(_files(Path(case.task_root)) - files_before[case.name] for case in handlers)
        version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True, timeout=30).stdout.strip()
    rows = []
    for case in all_cases:
        floor = floors.get(case.name)
        floor_runs = samples[floor.name] if floor else []
        rows.append({
            "name": case.name, "kind": case.mode, "event": case.event_note,
            "import_s": median([run["import"] for run in samples[case.name]]),
            "total_s": median([run["total"] for run in samples[case.name]]),
            "status": sorted({str(run.get("status", "")) for run in samples[case.name]}),
            "calls": calls.get(case.name, []), "aws_calls": floor.calls if floor else [],
            "floor_s": median([run["total"] for run in floor_runs]) if floor else None,
            "floor_clients_s": median([run["clients"] for run in floor_runs]) if floor else None,
        })
    return {"runs": runs, "python": python, "python_version": version, "rows": rows, "files_written": written}
