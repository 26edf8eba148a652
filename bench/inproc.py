"""In-process local engine: cost per execution and a profile of start -> email.

`python -m bench.inproc [--profile-runs N] [--cpu-runs N]` prints one JSON line. It builds the
engine exactly as tests/handlers/conftest.py does (LocalEngine + make_server + serve_in_thread,
one process), so moto can be queried directly: GetExecutionHistory gives the billed transitions.

Lambda invocations are counted and timed by wrapping the engine's `invoke` (the one entry for
both the state machine's tasks and the HTTP front's routes), so nested calls are seen as Lambda
would bill them: Calculate's duration includes its synchronous POST to /double, whose duration
includes its POST to /callbacks/{id}, as on AWS.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import json
import os
import pstats
import re
import sys
import tempfile
import threading
import time
from email import message_from_string, policy
from pathlib import Path
from typing import Any

from bench.common import FAKE_AWS, POWERTOOLS_ENV

os.environ.update({**FAKE_AWS, **POWERTOOLS_ENV})

POLL_EMAIL_SECONDS = 0.002
_APPROVE = re.compile(r"(https?://\S+/approve)\?id=([A-Za-z0-9_-]+)")


class InProcess:
    def __init__(self, outbox: Path) -> None:
        import boto3
        import requests

        from local.config import load_service
        from local.engine import LocalEngine
        from local.front import make_server, serve_in_thread
        from tests.workflow.conftest import free_port

        self.requests = requests
        self.outbox = outbox
        self.lines: list[str] = []
        self.invocations: list[tuple[str, float, float]] = []  # (function, started, seconds)
        self._lock = threading.Lock()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.service = load_service(stage="local")
        self.engine = LocalEngine(self.service, api_base_url=self.url, outbox=outbox, console=self.lines.append)
        original_invoke = self.engine.invoke

        def timed_invoke(function: str, event: Any) -> Any:
            started = time.perf_counter()
            try:
                return original_invoke(function, event)
            finally:
                with self._lock:
                    self.invocations.append((function, started, time.perf_counter() - started))

        self.engine.invoke = timed_invoke  # type: ignore[method-assign] - the state machine's path goes through it too
        self.server = make_server("127.0.0.1", port, self.service.routes, timed_invoke, self.engine.start_execution,
                                  "local", report=self.lines.append)
        self.engine.start()
        serve_in_thread(self.server)
        self.sfn = boto3.client("stepfunctions", region_name=self.service.region)

    # -- one workflow over HTTP ----------------------------------------------------------------
    def start(self) -> str:
        # A new connection per request, as curl makes: the request is served by a new thread.
        answer = self.requests.post(f"{self.url}/start", json={"x": 3, "y": 4}, timeout=30)
        answer.raise_for_status()
        return answer.json()["executionArn"]

    def wait_for_new_email(self, seen: set[str], timeout: float = 60) -> Path:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.outbox.exists():
                new = [name for name in os.listdir(self.outbox) if name.endswith(".eml") and name not in seen]
                if new:
                    seen.update(new)
                    return self.outbox / new[0]
            time.sleep(POLL_EMAIL_SECONDS)
        raise TimeoutError("no approval email")

    def approve_link(self, path: Path, timeout: float = 10) -> tuple[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = message_from_string(path.read_text(encoding="utf-8"), policy=policy.default)
                found = _APPROVE.search(message.get_body(preferencelist=("plain",)).get_content())
                if found:
                    return found.group(1), found.group(2)
            except (OSError, AttributeError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"no approve link in {path}")
            time.sleep(0.002)

    def approve(self, path: Path) -> None:
        url, callback_id = self.approve_link(path)
        answer = self.requests.post(url, data={"id": callback_id, "comment": ""}, timeout=30)
        answer.raise_for_status()

    def wait_done(self, arn: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.sfn.describe_execution(executionArn=arn)["status"]
            if status != "RUNNING":
                return status
            time.sleep(0.005)
        raise TimeoutError(arn)

    def happy_path(self, seen: set[str]) -> tuple[str, str]:
        arn = self.start()
        self.approve(self.wait_for_new_email(seen))
        return arn, self.wait_done(arn)


def cost(app: InProcess, seen: set[str]) -> dict[str, Any]:
    app.invocations.clear()
    arn, status = app.happy_path(seen)
    time.sleep(0.05)  # the last invocation records itself after the execution ends
    events = []
    token = None
    while True:
        page = app.sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    types = [event["type"] for event in events]
    entered = [event["stateEnteredEventDetails"]["name"] for event in events if event["type"].endswith("StateEntered")]
    scheduled_lambda = sum(1 for event in events if event["type"] == "LambdaFunctionScheduled") + sum(
        1 for event in events
        if event["type"] == "TaskScheduled" and event["taskScheduledEventDetails"].get("resourceType") == "lambda")
    invocations = [{"function": function, "seconds": seconds,
                    "source": "state machine" if _is_task_function(app, function) else "API Gateway"}
                   for function, _, seconds in sorted(app.invocations, key=lambda item: item[1])]
    return {
        "status": status,
        "events": len(events),
        "event_types": {name: types.count(name) for name in sorted(set(types))},
        "states_entered": entered,
        "transitions": len(entered),
        "lambda_scheduled_by_state_machine": scheduled_lambda,
        "invocations": invocations,
    }


def _is_task_function(app: InProcess, function: str) -> bool:
    return not any(route.function == function for route in app.service.routes)


def cpu_per_run(app: InProcess, seen: set[str], runs: int) -> dict[str, Any]:
    """Unprofiled, in one process: start -> email wall and process CPU time (all threads), then
    approve -> SUCCEEDED with the status read in-process (DescribeExecution every 5 ms, no HTTP)."""
    walls, cpus, approvals = [], [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        arn = app.start()
        path = app.wait_for_new_email(seen)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        url, callback_id = app.approve_link(path)
        approving = time.perf_counter()
        app.requests.post(url, data={"id": callback_id, "comment": ""}, timeout=30).raise_for_status()
        app.wait_done(arn)
        approvals.append(time.perf_counter() - approving)
    return {"wall": walls, "cpu": cpus, "approve_to_succeeded": approvals}


def profile(app: InProcess, seen: set[str], runs: int, top: int = 15) -> dict[str, Any]:
    """cProfile every thread that works for the start -> email path, in per-thread CPU time.

    Each thread started after this point gets its own profiler (threading.Thread.run wrapped),
    timed by that thread's own CPU clock. The thread that writes the email stops its profiler
    right there. Threads that then wait for the decision (moto's execution threads) are blocked
    on a lock when the profiles are collected: their open frames are closed at that moment,
    by their own CPU clock, which has not moved since they blocked.
    """
    registry: list[dict[str, Any]] = []
    local = threading.local()
    original_run = threading.Thread.run
    original_email_sent = app.engine.email_sent

    def profiled_run(thread: threading.Thread) -> None:
        clock = time.pthread_getcpuclockid(threading.get_ident())
        profiler = cProfile.Profile(functools.partial(time.clock_gettime, clock))
        entry = {"profiler": profiler, "done": False, "name": thread.name}
        registry.append(entry)
        local.entry = entry
        profiler.enable()
        try:
            original_run(thread)
        finally:
            if not entry["done"]:
                profiler.disable()
                entry["done"] = True

    def email_sent(message_id: str, raw: str) -> None:
        original_email_sent(message_id, raw)
        entry = getattr(local, "entry", None)
        if entry is not None and not entry["done"]:
            entry["profiler"].disable()
            entry["done"] = True

    threading.Thread.run = profiled_run  # type: ignore[method-assign]
    app.engine.email_sent = email_sent  # type: ignore[method-assign]
    walls = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            app.start()
            app.wait_for_new_email(seen)
            walls.append(time.perf_counter() - started)
        time.sleep(0.3)  # request threads that answered last finish their run(); executions block
    finally:
        threading.Thread.run = original_run  # type: ignore[method-assign]
        app.engine.email_sent = original_email_sent  # type: ignore[method-assign]
    waiting = sum(1 for entry in registry if not entry["done"])
    stats = None
    for entry in registry:
        if stats is None:
            stats = pstats.Stats(entry["profiler"])
        else:
            stats.add(entry["profiler"])
    tables = {}
    if stats is not None:
        for key in ("cumulative", "tottime"):
            buffer = io.StringIO()
            stats.stream = buffer
            stats.sort_stats(key).print_stats(top)
            tables[key] = _trim(buffer.getvalue())
        # Who creates boto3 clients and who parses the definition, on this path.
        buffer = io.StringIO()
        stats.stream = buffer
        stats.sort_stats("cumulative").print_callers(r"boto3/__init__.py:\d+\(client\)|asl_parser.py:\d+\(parse\)")
        tables["callers"] = _trim_callers(buffer.getvalue())
    kinds: dict[str, int] = {}
    for entry in registry:
        found = re.search(r"\((.+)\)", entry["name"])
        kind = found.group(1) if found else re.sub(r"[-_ ]?\d+$", "", entry["name"])
        kinds[kind] = kinds.get(kind, 0) + 1
    return {
        "runs": runs,
        "profiled_wall": walls,
        "threads_profiled": len(registry),
        "threads_waiting_at_collection": waiting,
        "thread_kinds": kinds,
        "total_cpu_seconds": stats.total_tt if stats else 0.0,
        "tables": tables,
    }


def asl_parse(app: InProcess, runs: int = 9) -> dict[str, Any]:
    """What moto spends, unprofiled, parsing the definition: it does so at every StartExecution."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    definition = app.sfn.describe_state_machine(stateMachineArn=app.engine.state_machine_arn)["definition"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        AmazonStateLanguageParser.parse(definition)
        times.append(time.perf_counter() - started)
    return {"runs": runs, "seconds": times, "definition_bytes": len(definition)}


def _trim(text: str) -> str:
    """pstats output without its header noise, with site-packages paths shortened."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    body = "\n".join(line.rstrip() for line in lines[start:] if line.strip())
    body = re.sub(r"\S*/site-packages/", "", body)
    body = re.sub(r"\S*/lib/python3\.\d+/", "", body)
    return body.replace(str(Path(__file__).resolve().parent.parent) + "/", "")


def _trim_callers(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Function")), 0)
    body = "\n".join(line.rstrip() for line in lines[start:] if line.strip())
    body = re.sub(r"\S*/site-packages/", "", body)
    body = re.sub(r"\S*/lib/python3\.\d+/", "", body)
    return body.replace(str(Path(__file__).resolve().parent.parent) + "/", "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inproc")
    parser.add_argument("--cpu-runs", type=int, default=20)
    parser.add_argument("--profile-runs", type=int, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-inproc-") as directory:
        outbox = Path(directory) / "outbox"
        app = InProcess(outbox)
        seen: set[str] = set()
        warm = app.happy_path(seen)  # imports every handler on the path: what follows is warm
        if warm[1] != "SUCCEEDED":
            raise RuntimeError(f"warm-up execution ended {warm[1]}")
        answer = {"cost": cost(app, seen)}
        answer["cpu"] = cpu_per_run(app, seen, args.cpu_runs)
        answer["asl_parse"] = asl_parse(app)
        answer["profile"] = profile(app, seen, args.profile_runs)
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    os._exit(0)  # executions left waiting for a decision are moto daemon threads; nothing to clean


if __name__ == "__main__":
    sys.exit(main())
