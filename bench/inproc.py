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
import json
import os
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
        from local.service import free_port

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

    def happy_path(self, seen: set[str], *, reminders: int = 0) -> tuple[str, str]:
        """Start, then approve from the approval email (after `reminders` reminder emails came)."""
        arn = self.start()
        approval = self.wait_for_new_email(seen)
        for _ in range(reminders):
            self.wait_for_new_email(seen)
        self.approve(approval)
        return arn, self.wait_done(arn)


def cost(app: InProcess, seen: set[str], reminders: int = 0) -> dict[str, Any]:
    app.invocations.clear()
    arn, status = app.happy_path(seen, reminders=reminders)
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


def profile(app: InProcess, seen: set[str], runs: int, top: int = 15, interval: float = 0.001) -> dict[str, Any]:
    """Where the CPU goes on the start -> email path: a sampling profiler weighted by CPU time.

    Every `interval` a sampler thread reads each thread's own CPU clock and its current stack
    (sys._current_frames): the CPU time a thread used since the previous sample is charged to
    the function on top of its stack (self) and to every function on it (cumulative). Waiting
    threads use no CPU and are charged nothing; the GIL's switch interval is shortened meanwhile. (Python 3.12's cProfile is one tool per
    process, so it cannot profile each thread on its own clock.)
    """
    own: dict[str, float] = {}
    cumulative: dict[str, float] = {}
    clocks: dict[int, float] = {}
    stop = threading.Event()
    sampler_ident: list[int] = []

    def where(frame: Any) -> str:
        code = frame.f_code
        return f"{_short(code.co_filename)}:{code.co_firstlineno}({code.co_name})"

    client = threading.get_ident()  # this thread only starts workflows and polls the outbox

    def sample() -> None:
        sampler_ident.append(threading.get_ident())
        while not stop.wait(interval):
            for ident, frame in sys._current_frames().items():
                if ident in (sampler_ident[0], client):
                    continue
                try:
                    now = time.clock_gettime(time.pthread_getcpuclockid(ident))
                except (OSError, OverflowError):  # the thread has just ended
                    continue
                used = now - clocks.get(ident, now)
                clocks[ident] = now
                if used <= 0:
                    continue
                own[where(frame)] = own.get(where(frame), 0.0) + used
                names = set()
                while frame is not None:
                    names.add(where(frame))
                    frame = frame.f_back
                for name in names:
                    cumulative[name] = cumulative.get(name, 0.0) + used

    sampler = threading.Thread(target=sample, name="bench-sampler", daemon=True)
    walls = []
    # A running thread keeps the GIL for up to the switch interval (5 ms): shorter, so that the
    # sampler gets it while threads compute, not only when they block.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(interval / 10)
    sampler.start()
    try:
        for _ in range(runs):
            started = time.perf_counter()
            app.start()
            app.wait_for_new_email(seen)
            walls.append(time.perf_counter() - started)
    finally:
        stop.set()
        sampler.join()
        sys.setswitchinterval(switch_interval)
    total = sum(own.values())

    def table(values: dict[str, float]) -> str:
        rows = sorted(values.items(), key=lambda item: -item[1])[:top]
        lines = [f"{'CPU ms':>9} {'share':>6}  function"]
        lines += [f"{seconds * 1000:9.1f} {seconds / total:6.1%}  {name}" for name, seconds in rows]
        return "\n".join(lines)

    return {
        "runs": runs,
        "profiled_wall": walls,
        "interval": interval,
        "total_cpu_seconds": total,
        "tables": {"cumulative": table(cumulative), "tottime": table(own)} if total else {},
    }


def _short(path: str) -> str:
    path = re.sub(r".*/site-packages/", "", path)
    path = re.sub(r".*/lib/python3\.\d+/", "", path)
    return path.replace(str(Path(__file__).resolve().parent.parent) + "/", "")


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inproc")
    parser.add_argument("--cpu-runs", type=int, default=20)
    parser.add_argument("--profile-runs", type=int, default=10)
    parser.add_argument("--reminders", type=int, default=0,
                        help="only the cost of an execution approved after this many reminders (one a second)")
    args = parser.parse_args(argv)
    if args.reminders:
        os.environ["REMINDER_INTERVAL_SECONDS"] = "1"  # read by load_service: env.json's local stage, overridden
    with tempfile.TemporaryDirectory(prefix="bench-inproc-") as directory:
        outbox = Path(directory) / "outbox"
        app = InProcess(outbox)
        seen: set[str] = set()
        warm = app.happy_path(seen)  # imports every handler on the path: what follows is warm
        if warm[1] != "SUCCEEDED":
            raise RuntimeError(f"warm-up execution ended {warm[1]}")
        answer = {"cost": cost(app, seen, args.reminders)}
        if args.reminders:
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
            os._exit(0)
        answer["cpu"] = cpu_per_run(app, seen, args.cpu_runs)
        answer["asl_parse"] = asl_parse(app)
        answer["profile"] = profile(app, seen, args.profile_runs)
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    os._exit(0)  # executions left waiting for a decision are moto daemon threads; nothing to clean


if __name__ == "__main__":
    sys.exit(main())
