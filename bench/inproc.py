"""In-process local engine: the billed cost of one execution.

`python -m bench.inproc [--reminders N]` prints one JSON line. It runs the local service as
`make local` wires it (local/app.py: engine, HTTP front and console in one process), so moto can
be queried directly: GetExecutionHistory gives the billed transitions (history events whose type
ends with `StateEntered`) of one approved execution after a warm-up: the workflow's and those of
the approval machine's execution it started (billed too).

Lambda invocations are counted and timed by wrapping the engine's `invoke` (the one entry for
both the state machine's tasks and the HTTP front's routes), so nested calls are seen as Lambda
would bill them: Calculate's duration includes its synchronous POST to /double, whose duration
includes its POST to /callbacks/{id}, as on AWS.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import BENCH_STAGE, FAKE_AWS, POWERTOOLS_ENV, print_json

os.environ.update({**FAKE_AWS, **POWERTOOLS_ENV})


def cost(reminders: int) -> dict[str, Any]:
    import boto3

    from bench.latency import Client
    from local.app import LocalApp
    from local.config import load_service
    from local.service import free_port

    invocations: list[tuple[str, float, float]] = []  # (function, started, seconds)
    lock = threading.Lock()
    service = load_service(stage="local", environ={**os.environ, **BENCH_STAGE})
    with tempfile.TemporaryDirectory(prefix="bench-inproc-") as directory:
        outbox = Path(directory) / "outbox"
        app = LocalApp(service, host="127.0.0.1", port=free_port(), outbox=outbox, report=lambda _: None)
        original_invoke = app.engine.invoke

        def timed_invoke(function: str, event: Any) -> Any:
            started = time.perf_counter()
            try:
                return original_invoke(function, event)
            finally:
                with lock:
                    invocations.append((function, started, time.perf_counter() - started))

        app.engine.invoke = timed_invoke  # type: ignore[method-assign] - the front and the state machine call it
        app.start()
        sfn = boto3.client("stepfunctions", region_name=service.region)
        # Its status from moto itself: GET /executions would be one more Lambda invocation.
        client = Client(app.url, outbox, status=lambda arn: sfn.describe_execution(executionArn=arn)["status"])
        client.one_workflow()  # imports every handler on the path: what follows is warm
        time.sleep(0.3)  # the previous execution's end reaches closeApproval (EventBridge) just after it
        invocations.clear()
        arn = client.one_workflow(reminders)["execution"]  # SUCCEEDED, or it raises
        time.sleep(0.3)  # the last invocations (Finalize, then closeApproval) record themselves after the end
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        # The approval it started: the approval machine's execution of the same name.
        child = arn.replace(f":execution:{service.started.name}:", f":execution:{service.machine('ApprovalStateMachine').name}:")
        child_events = sfn.get_execution_history(executionArn=child, maxResults=1000)["events"]
    approval_entered = [event["stateEnteredEventDetails"]["name"] for event in child_events
                        if event["type"].endswith("StateEntered")]
    events = events + child_events
    types = [event["type"] for event in events]
    entered = [event["stateEnteredEventDetails"]["name"] for event in events if event["type"].endswith("StateEntered")]
    workflow_entered = entered[: len(entered) - len(approval_entered)]
    scheduled_lambda = types.count("LambdaFunctionScheduled") + sum(
        1 for event in events
        if event["type"] == "TaskScheduled" and event["taskScheduledEventDetails"].get("resourceType") == "lambda")
    routed = {route.function for route in service.routes}
    evented = {name for name, function in service.functions.items() if function.event_patterns}
    return {
        "events": len(events),
        "event_types": {name: types.count(name) for name in sorted(set(types))},
        "states_entered": entered,  # both machines': the workflow's, then its approval's
        "workflow_states_entered": workflow_entered,
        "approval_states_entered": approval_entered,
        "lambda_scheduled_by_state_machine": scheduled_lambda,
        "invocations": [{"function": function, "seconds": seconds,
                         "source": "EventBridge" if function in evented else "API Gateway" if function in routed
                         else "state machine"}
                        for function, _, seconds in sorted(invocations, key=lambda item: item[1])],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inproc")
    parser.add_argument("--reminders", type=int, default=0,
                        help="the cost of an execution approved after this many reminders (one a second)")
    args = parser.parse_args(argv)
    if args.reminders:
        os.environ["REMINDER_INTERVAL_SECONDS"] = "1"  # read by load_service: env.json's local stage, overridden
    print_json(cost(args.reminders))  # executions left waiting for a decision are moto daemon threads


if __name__ == "__main__":
    main()
