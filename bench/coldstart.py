"""Cold start per handler: a fresh interpreter imports the handler module and handles one event.

Timing happens inside the child with time.perf_counter, from before the import to after the
handler returns, so interpreter start-up (the same for every child) is not in the figure.

The first event is a real one: AWS calls go, through boto3 as on Lambda, to a local stand-in
for the AWS endpoints (AWS_ENDPOINT_URL) that answers DynamoDB, Step Functions and SES with
canned, well-formed replies, and the handlers' own HTTP calls (the doubling API, the callback
URL) go to the same stand-in. Nothing of moto is imported by the child, so the figure includes
everything the handler itself pays: importing boto3 on first use, creating each client (service
model loading, endpoint resolution), signing and one HTTP round trip per call. The stand-in
records the calls each child made, which is how "makes no AWS call" is decided (not assumed).

Reference, same run, same way: a fresh interpreter that does `import boto3` (the floor any
handler that uses the SDK pays), and, for information, `import boto3` plus one client.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from bench.common import PYTHON, POWERTOOLS_ENV, ROOT, clean_environ, median, say

ACCOUNT = "123456789012"
REGION = "us-east-1"

# Runs in `python -c`: sys.path[0] is the working directory (the repo root), nothing else is
# imported before the timer starts except what the interpreter itself loads at start-up.
CHILD = r'''
import time
_t0 = time.perf_counter()
import importlib, sys
_module = importlib.import_module(sys.argv[1])
_t1 = time.perf_counter()
_after_import = {name: name in sys.modules for name in ("boto3", "botocore", "requests", "aws_xray_sdk")}
import json, os
_mode = sys.argv[2]
_answer = {}
if _mode == "client":
    _module.client(sys.argv[3], region_name="us-east-1")
elif _mode == "handler":
    class _Context:
        function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench")
        function_version = "$LATEST"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + function_name
        aws_request_id = "00000000-0000-0000-0000-000000000000"
        log_group_name = "/aws/lambda/" + function_name
        log_stream_name = "bench"
        def get_remaining_time_in_millis(self):
            return 10000
    _event = json.loads(os.environ["BENCH_EVENT"])
    _t2 = time.perf_counter()
    try:
        _result = getattr(_module, sys.argv[3])(_event, _Context())
        _answer["status"] = _result.get("statusCode", "ok") if isinstance(_result, dict) else "ok"
    except Exception as _error:
        _answer["status"] = "raised " + type(_error).__name__
    _t1_event = time.perf_counter() - _t2
_t3 = time.perf_counter()
_answer.update({
    "import": _t1 - _t0,
    "total": (_t1 - _t0) + (_t1_event if _mode == "handler" else _t3 - _t1),
    "after_import": _after_import,
    "after_event": {name: name in sys.modules for name in ("boto3", "botocore", "requests")},
})
sys.stdout.write("\nBENCH_RESULT " + json.dumps(_answer) + "\n")
'''


# -- a local stand-in for the AWS endpoints and the handlers' HTTP peers ----------------------
class StandIn:
    """Canned AWS answers (JSON 1.0 for DynamoDB / Step Functions, query XML for SES), and 200 for
    the doubling API and callback URLs. Records what was called, per child."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target")
                if target:
                    prefix, _, operation = target.partition(".")
                    service = {"DynamoDB_20120810": "dynamodb", "AWSStepFunctions": "states"}.get(prefix, prefix)
                    stand_in._record(f"{service}.{operation}")
                    reply = json.dumps(_json_reply(operation, json.loads(body or b"{}"))).encode()
                    return self._send(200, "application/x-amz-json-1.0", reply)
                form = parse_qs(body.decode("utf-8", "replace"))
                if "Action" in form:
                    stand_in._record(f"ses.{form['Action'][0]}")
                    return self._send(200, "text/xml", _ses_reply(form["Action"][0]).encode())
                stand_in._record(f"http POST {self.path.split('?')[0].rsplit('/', 1)[0] or self.path}")
                self._send(200, "application/json", b'{"message": "ok"}')

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="bench-stand-in", daemon=True)

    def __enter__(self) -> "StandIn":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _record(self, call: str) -> None:
        with self._lock:
            self.calls.append(call)

    def take(self) -> list[str]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls


def _item(callback_id: str, kind: str, status: str = "PENDING", with_token: bool = True) -> dict[str, Any]:
    now = int(time.time())
    item = {
        "id": {"S": callback_id},
        "kind": {"S": kind},
        "status": {"S": status},
        "execution": {"S": "bench-execution"},
        "createdAt": {"N": str(now)},
        "expiresAt": {"N": str(now + 600)},
        "context": {"M": {"x": {"N": "3"}, "y": {"N": "4"}, "sum": {"N": "7"}, "doubled": {"N": "14"},
                          "approver": {"S": "approver@example.com"}}},
    }
    if with_token:
        item["taskToken"] = {"S": "bench-task-token"}
    return item


def _json_reply(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    key = (request.get("Key") or {}).get("id", {}).get("S", "x" * 32)
    values = request.get("ExpressionAttributeValues") or {}
    if operation == "GetItem":
        return {"Item": _item(key, "approval", with_token=False)}
    if operation == "UpdateItem":
        if request.get("ReturnValues") == "ALL_NEW":
            kind = values.get(":kind", {}).get("S", "approval")
            return {"Attributes": _item(key, kind, values.get(":status", {}).get("S", "SUCCEEDED"))}
        return {}
    if operation == "DescribeExecution":
        arn = request.get("executionArn", "")
        now = time.time()
        return {"executionArn": arn, "stateMachineArn": arn.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0],
                "name": arn.rsplit(":", 1)[-1], "status": "SUCCEEDED", "startDate": now - 1, "stopDate": now,
                "input": '{"x": 3, "y": 4}', "output": '{"sum": 7, "doubled": 14}'}
    return {}  # PutItem, SendTaskSuccess, SendTaskFailure, ...


def _ses_reply(action: str) -> str:
    result = f"<MessageId>{uuid.uuid4()}</MessageId>" if action.startswith("Send") else ""
    return (f'<{action}Response xmlns="http://ses.amazonaws.com/doc/2010-12-01/">'
            f"<{action}Result>{result}</{action}Result>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>")


# -- the functions, their environments and their first events ---------------------------------
@dataclass
class Case:
    name: str
    module: str
    attribute: str = ""
    mode: str = "handler"  # handler | import | client
    event: dict[str, Any] | None = None
    event_note: str = ""
    env: dict[str, str] = field(default_factory=dict)


def _callback_id() -> str:
    return secrets.token_urlsafe(24)


def _events(stand_in_url: str) -> dict[str, tuple[Any, str]]:
    from local.apigw import proxy_event

    json_headers = {"Content-Type": "application/json", "User-Agent": "bench"}
    callback = _callback_id()
    numbers = {"x": 3, "y": 4}
    calculation = {**numbers, "sum": 7, "doubled": 14}
    approval = {**calculation, "approver": "approver@example.com", "decision": "approved", "comment": "",
                "decidedAt": "2025-01-01T00:00:00+00:00"}
    token = "bench-task-token-" + "A" * 40
    return {
        "validate": ({"execution": "bench-execution", "input": numbers}, "Validate's Parameters"),
        "calculate": ({"execution": "bench-execution", "taskToken": token, **numbers}, "Calculate's Payload"),
        "requestApproval": ({"execution": "bench-execution", "taskToken": token, **numbers, "sum": 7, "doubled": 14},
                            "Approval's Payload"),
        "finalize": ({"execution": "bench-execution", "input": numbers, "calculation": calculation,
                      "approval": approval}, "Finalize's Parameters"),
        "notifyFailure": ({"execution": "bench-execution",
                           "state": {"input": numbers, "calculation": calculation,
                                     "failure": {"Error": "ApprovalRejected",
                                                 "Cause": json.dumps({"decision": "rejected", "comment": "no"})}}},
                          "NotifyFailure's Parameters (a rejection)"),
        "double": (proxy_event("POST", "/double", resource="/double", headers=json_headers,
                               body=json.dumps({"value": 7, "callbackUrl": f"{stand_in_url}/callbacks/{callback}"})),
                   "POST /double"),
        "callbacks": (proxy_event("POST", f"/callbacks/{callback}", resource="/callbacks/{id}",
                                  path_parameters={"id": callback}, headers=json_headers,
                                  body=json.dumps({"result": 14})), "POST /callbacks/{id}"),
        "approvalPages": (proxy_event("GET", "/approve", resource="/approve", query=f"id={callback}",
                                      headers={"User-Agent": "bench"}), "GET /approve?id= (the page a click opens)"),
        "executions": (proxy_event("GET", "/executions/bench-execution", resource="/executions/{name}",
                                   path_parameters={"name": "bench-execution"}, headers={"User-Agent": "bench"}),
                       "GET /executions/{name}"),
    }


def _function_env(function: Any, service: Any, stand_in_url: str) -> dict[str, str]:
    from local.config import ConfigError
    from local.intrinsics import resolve_intrinsics

    names: dict[str, str] = {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": f"{service.name}-dev",
        "ApprovalStateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{service.state_machine_name}",
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
    env.update({
        "AWS_LAMBDA_FUNCTION_NAME": f"{service.name}-dev-{function.name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_ENDPOINT_URL": stand_in_url,
        **POWERTOOLS_ENV,
    })
    return env


def cases(stand_in_url: str) -> list[Case]:
    from local.config import load_service

    service = load_service(stage="local")
    events = _events(stand_in_url)
    answer = [
        Case("boto3 (reference)", "boto3", mode="import", env={"AWS_ENDPOINT_URL": stand_in_url}),
        Case("boto3 + 1 client (info)", "boto3", attribute="dynamodb", mode="client",
             env={"AWS_ENDPOINT_URL": stand_in_url}),
    ]
    for function in service.functions.values():
        event, note = events.get(function.name, ({}, "generic empty event (no real shape known)"))
        answer.append(Case(function.name, function.module, function.attribute, event=event, event_note=note,
                           env=_function_env(function, service, stand_in_url)))
    return answer


def _run_child(case: Case) -> dict[str, Any]:
    args = [PYTHON, "-c", CHILD, case.module, case.mode]
    if case.mode == "handler":
        args.append(case.attribute)
    elif case.mode == "client":
        args.append(case.attribute)
    env = clean_environ(**{**POWERTOOLS_ENV, **case.env})
    if case.event is not None:
        env["BENCH_EVENT"] = json.dumps(case.event)
    run = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    for line in reversed(run.stdout.splitlines()):
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])
    raise RuntimeError(f"cold-start child for {case.name} failed (exit {run.returncode}):\n{run.stderr[-2000:]}")


def import_profile(module: str, env: dict[str, str], top: int = 12) -> dict[str, Any]:
    """`python -X importtime -c 'import <module>'` once: the heaviest imports, and what pulls in botocore."""
    run = subprocess.run([PYTHON, "-X", "importtime", "-c", f"import {module}"], cwd=ROOT,
                         env=clean_environ(**{**POWERTOOLS_ENV, **env}), capture_output=True, text=True, timeout=120)
    entries = []  # (depth, self_us, cumulative_us, name), in the order Python reports them (children first)
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = line.split(":", 1)[1].split("|", 2)
        name = name[1:]  # one space after the bar, then two per nesting level
        entries.append(((len(name) - len(name.lstrip(" "))) // 2, int(self_us), int(cumulative_us), name.strip()))
    heaviest = sorted((entry for entry in entries if 1 <= entry[0] <= 3), key=lambda entry: -entry[2])[:top]
    chains = {}
    for sdk in ("botocore", "boto3"):
        index = next((i for i, entry in enumerate(entries) if entry[3] == sdk or entry[3].startswith(sdk + ".")), None)
        if index is None:
            continue
        chain, depth = [entries[index][3]], entries[index][0]
        for entry in entries[index + 1:]:
            if entry[0] < depth:
                chain.append(entry[3])
                depth = entry[0]
        chains[sdk] = list(reversed(chain))
    return {
        "module": module,
        "total_us": next((entry[2] for entry in entries if entry[0] == 0 and entry[3] == module), 0),
        "heaviest": [{"depth": d, "self_us": s, "cumulative_us": c, "name": n} for d, s, c, n in heaviest],
        "chains": chains,
    }


def measure(runs: int) -> dict[str, Any]:
    """Interleaved: each round runs every case once, so slow phases of the machine hit all of them."""
    with StandIn() as stand_in:
        all_cases = cases(stand_in.url)
        samples: dict[str, list[dict[str, Any]]] = {case.name: [] for case in all_cases}
        calls: dict[str, list[str]] = {}
        for round_number in range(runs):
            for case in all_cases:
                stand_in.take()
                samples[case.name].append(_run_child(case))
                made = stand_in.take()
                calls.setdefault(case.name, made)
            say(f"  cold start: round {round_number + 1}/{runs} done")
    rows = []
    for case in all_cases:
        runs_of = samples[case.name]
        aws_calls = [call for call in calls[case.name] if not call.startswith("http ")]
        rows.append({
            "name": case.name,
            "module": case.module,
            "env": case.env,
            "kind": case.mode,
            "event": case.event_note,
            "import_s": median([run["import"] for run in runs_of]),
            "total_s": median([run["total"] for run in runs_of]),
            "import_all_s": [run["import"] for run in runs_of],
            "total_all_s": [run["total"] for run in runs_of],
            "after_import": runs_of[0]["after_import"],
            "after_event": runs_of[0]["after_event"],
            "status": sorted({str(run.get("status", "")) for run in runs_of}),
            "calls": calls[case.name],
            "aws_calls": aws_calls,
            "makes_aws_call": bool(aws_calls) if case.mode == "handler" else None,
        })
    return {"runs": runs, "rows": rows}
