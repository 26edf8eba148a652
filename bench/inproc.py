"""In-process local engine: the billed cost of one execution.

`python -m bench.inproc [--reminders N]` prints one JSON line. It runs the local service as
`make local` wires it (local/app.py: engine, HTTP front and console in one process), so moto can
be queried directly: GetExecutionHistory gives the billed transitions.

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

from bench.common import BENCH_STAGE, FAKE_AWS, POWERTOOLS_ENV

os.environ.update({**FAKE_AWS, **POWERTOOLS_ENV})

_APPROVE = re.compile(r"(https?://\S+/approve)\?id=([A-Za-z0-9_-]+)")


class InProcess:
    def __init__(self, outbox: Path) -> None:
        import boto3
        import requests

        from local.app import LocalApp
        from local.config import load_service
        from local.service import free_port

        self.requests = requests
        self.outbox = outbox
        self.invocations: list[tuple[str, float, float]] = []  # (function, started, seconds)
        self._lock = threading.Lock()
        self.service = load_service(stage="local", environ={**os.environ, **BENCH_STAGE})
        self.app = LocalApp(self.service, host="127.0.0.1", port=free_port(), outbox=outbox, report=lambda _: None)
        original_invoke = self.app.engine.invoke

        def timed_invoke(function: str, event: Any) -> Any:
            started = time.perf_counter()
            try:
                return original_invoke(function, event)
            finally:
                with self._lock:
                    self.invocations.append((function, started, time.perf_counter() - started))

        self.app.engine.invoke = timed_invoke  # type: ignore[method-assign] - the front and the state machine call it
        self.app.start()
        self.sfn = boto3.client("stepfunctions", region_name=self.service.region)

    def wait_for_new_email(self, seen: set[str]) -> Path:
        from local.service import eventually

        def new() -> Path | None:
            names = [name for name in os.listdir(self.outbox) if name.endswith(".eml") and name not in seen] \
                if self.outbox.exists() else []
            seen.update(names[:1])
            return self.outbox / names[0] if names else None

        return eventually(new, 60, "no approval email", interval=0.002)

    def happy_path(self, seen: set[str], *, reminders: int = 0) -> tuple[str, str]:
        """Start, then approve from the approval email (after `reminders` reminder emails came)."""
        from local.service import eventually

        answer = self.requests.post(f"{self.app.url}/start", json={"x": 3, "y": 4}, timeout=30)
        answer.raise_for_status()
        arn = answer.json()["executionArn"]
        approval = self.wait_for_new_email(seen)
        for _ in range(reminders):
            self.wait_for_new_email(seen)
        message = message_from_string(approval.read_text(encoding="utf-8"), policy=policy.default)
        url, callback_id = _APPROVE.search(message.get_body(preferencelist=("plain",)).get_content()).groups()
        self.requests.post(url, data={"id": callback_id, "comment": ""}, timeout=30).raise_for_status()
        status = eventually(lambda: (s := self.sfn.describe_execution(executionArn=arn)["status"]) != "RUNNING" and s,
                            60, arn, interval=0.005)
        return arn, status


def cost(app: InProcess, seen: set[str], reminders: int = 0) -> dict[str, Any]:
    time.sleep(0.3)  # the previous execution's end reaches closeApproval (EventBridge) just after it
    app.invocations.clear()
    arn, status = app.happy_path(seen, reminders=reminders)
    time.sleep(0.3)  # the last invocations (Finalize, then closeApproval) record themselves after the end
    events = app.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    types = [event["type"] for event in events]
    entered = [event["stateEnteredEventDetails"]["name"] for event in events if event["type"].endswith("StateEntered")]
    scheduled_lambda = types.count("LambdaFunctionScheduled") + sum(
        1 for event in events
        if event["type"] == "TaskScheduled" and event["taskScheduledEventDetails"].get("resourceType") == "lambda")
    routed = {route.function for route in app.service.routes}
    evented = {name for name, function in app.service.functions.items() if function.event_patterns}
    invocations = [{"function": function, "seconds": seconds,
                    "source": "EventBridge" if function in evented else "API Gateway" if function in routed
                    else "state machine"}
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inproc")
    parser.add_argument("--reminders", type=int, default=0,
                        help="the cost of an execution approved after this many reminders (one a second)")
    args = parser.parse_args(argv)
    if args.reminders:
        os.environ["REMINDER_INTERVAL_SECONDS"] = "1"  # read by load_service: env.json's local stage, overridden
    with tempfile.TemporaryDirectory(prefix="bench-inproc-") as directory:
        app = InProcess(Path(directory) / "outbox")
        seen: set[str] = set()
        warm = app.happy_path(seen)  # imports every handler on the path: what follows is warm
        if warm[1] != "SUCCEEDED":
            raise RuntimeError(f"warm-up execution ended {warm[1]}")
        answer = {"cost": cost(app, seen, args.reminders)}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    os._exit(0)  # executions left waiting for a decision are moto daemon threads; nothing to clean


if __name__ == "__main__":
    sys.exit(main())
