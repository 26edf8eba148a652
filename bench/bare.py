"""Reference: "bare moto". `python -m bench.bare [--runs N] [--concurrent M]`, prints one JSON line.

The SAME state machine definition as local mode (serverless.yml's, with each Fn::GetAtt replaced
by a moto Lambda ARN), executed by the same moto interpreter, with local mode's narrowest hook alone
(local/hooks.py install_lambda_only: each Lambda runs a Python function in-process), but trivial lambdas and
nothing else: no HTTP front, no DynamoDB, no SES, no email file, no Powertools.

- Calculate's lambda hands its task token to a "partner" thread that answers at once with
  SendTaskSuccess (what the doubling API and its callback do in local mode).
- The workflow's Approval starts the approval machine (startExecution.sync:2, the one moto fix bare
  keeps: without it the Task cannot run); CheckRequest answers with a plan at once.
- RequestApproval's lambda puts its task token on a queue: start -> token received is the reference for
  local mode's POST /start -> approval email in the outbox.
- SendTaskSuccess(approval) -> DescribeExecution says SUCCEEDED (polled every 5 ms, as local mode's
  GET /executions is) is the reference for approve POST -> SUCCEEDED.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.common import FAKE_AWS, print_json
from local import hooks
from local.service import eventually

os.environ.update(FAKE_AWS)
ACCOUNT = "123456789012"
POLL_SECONDS = 0.005


class Bare:
    def __init__(self) -> None:
        import boto3
        from moto import mock_aws

        from local.config import load_service
        from local.intrinsics import pseudo_parameters, resolve_intrinsics

        self.approvals: dict[str, queue.Queue] = {}
        self._approvals_lock = threading.Lock()
        self._partner: queue.Queue = queue.Queue()
        self.race_retries = 0
        service = load_service(stage="local")
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}).start()  # until the process exits
        hooks.install_lambda_only(self)
        region = service.region
        role = boto3.client("iam", region_name=region).create_role(
            RoleName="bare-role",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}}]}),
        )["Role"]["Arn"]
        lambdas = boto3.client("lambda", region_name=region)
        names: dict[str, str] = pseudo_parameters(region, ACCOUNT, "bare")
        self._function_of: dict[str, str] = {}
        for function in service.functions.values():
            lambda_name = f"bare-{function.name}"
            names[f"{function.logical_id}.Arn"] = lambdas.create_function(
                FunctionName=lambda_name, Runtime="python3.12", Role=role, Handler=function.handler,
                Code={"ZipFile": b"in-process"}, Timeout=function.timeout, MemorySize=function.memory,
            )["FunctionArn"]
            self._function_of[lambda_name] = function.name
        self.sfn = boto3.client("stepfunctions", region_name=region)
        for machine in reversed(service.machines):  # the approval machine first: the workflow names it
            definition = resolve_intrinsics(machine.definition, names=names, api_base_url="http://bare")
            names[machine.logical_id] = self.sfn.create_state_machine(
                name=f"bare-{machine.logical_id}", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
        self.state_machine_arn = names[service.started.logical_id]
        threading.Thread(target=self._partner_loop, name="bare-partner", daemon=True).start()

    # -- the trivial lambdas -----------------------------------------------------------------
    def invoke_lambda(self, lambda_name: str, event: Any) -> tuple[str, bool]:
        name = self._function_of.get(lambda_name, "")
        if name == "validate":
            result: Any = {"x": event["input"]["x"], "y": event["input"]["y"]}
        elif name == "calculate":
            total = event["x"] + event["y"]
            self._partner.put((event["taskToken"], {"sum": total, "doubled": 2 * total}))
            result = {"sum": total}
        elif name == "checkRequest":
            result = {"context": event["request"], "policy": {}, "firstWaitSeconds": 600}
        elif name == "requestApproval":
            self._approval_queue(event["execution"]).put(event["taskToken"])  # named as its workflow
            result = {"deadline": int(time.time()) + 600}
        elif name == "finalize":
            result = {**event["calculation"], **event["approval"]}
        else:
            result = {"error": "BareFailure", "cause": ""}
        return json.dumps(result), False

    def _approval_queue(self, execution: str) -> queue.Queue:
        with self._approvals_lock:
            return self.approvals.setdefault(execution, queue.Queue())

    def _partner_loop(self) -> None:
        while True:
            token, output = self._partner.get()
            self._send_task_success(token, output)

    def _send_task_success(self, token: str, output: dict[str, Any]) -> None:
        """moto 5.2.5 race: SendTaskSuccess walks every RUNNING execution and fails with AttributeError
        on one that has just started (its worker has no environment yet). Retried, and counted."""
        for _ in range(200):
            try:
                self.sfn.send_task_success(taskToken=token, output=json.dumps(output))
                return
            except AttributeError:
                self.race_retries += 1
                time.sleep(0.005)
        raise RuntimeError("SendTaskSuccess kept failing")

    # -- one workflow ------------------------------------------------------------------------
    def start(self) -> str:
        hooks.prune_threads()  # as local mode does
        name = str(uuid.uuid4())
        self._approval_queue(name)
        self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=name, input='{"x": 3, "y": 4}')
        return name

    def approval_token(self, name: str, timeout: float = 60) -> str:
        return self._approval_queue(name).get(timeout=timeout)

    def approve(self, token: str) -> None:
        self._send_task_success(token, {"decision": "approved", "comment": "", "decidedAt": "2025-01-01T00:00:00+00:00",
                                        "approver": "a@example.com", "policy": "any", "votes": []})

    def status(self, name: str) -> str:
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        return self.sfn.describe_execution(executionArn=arn)["status"]

    def wait_done(self, name: str, timeout: float = 60) -> str:
        return eventually(lambda: (status := self.status(name)) != "RUNNING" and status, timeout, name,
                          interval=POLL_SECONDS)


def sequential(bare: Bare, runs: int) -> dict[str, list[float]]:
    start_to_token, approve_to_done = [], []
    for _ in range(runs):
        started = time.perf_counter()
        name = bare.start()
        token = bare.approval_token(name)
        start_to_token.append(time.perf_counter() - started)
        approved = time.perf_counter()
        bare.approve(token)
        status = bare.wait_done(name)
        approve_to_done.append(time.perf_counter() - approved)
        if status != "SUCCEEDED":
            raise RuntimeError(f"bare execution ended {status}")
    return {"start_to_token": start_to_token, "approve_to_succeeded": approve_to_done}


def concurrent(bare: Bare, count: int, workers: int) -> dict[str, float]:
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        names = list(pool.map(lambda _: bare.start(), range(count)))
        all_started = time.perf_counter()
        tokens = [bare.approval_token(name) for name in names]
        all_waiting = time.perf_counter()
        list(pool.map(bare.approve, tokens))
    pending = set(names)
    while pending:
        pending = {name for name in pending if bare.status(name) == "RUNNING"}
        if pending:
            time.sleep(0.02)
    done = time.perf_counter()
    failed = [name for name in names if bare.status(name) != "SUCCEEDED"]
    return {"count": count, "workers": workers, "wall": done - started, "started": all_started - started,
            "all_waiting": all_waiting - started, "not_succeeded": len(failed)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--concurrent", type=int, default=100)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args(argv)
    bare = Bare()
    sequential(bare, args.warmup)
    answer: dict[str, Any] = {"runs": args.runs, **sequential(bare, args.runs)}
    if args.concurrent:
        answer["concurrent"] = concurrent(bare, args.concurrent, args.workers)
    print_json({**answer, "race_retries": bare.race_retries})  # moto's interpreter threads are daemons


if __name__ == "__main__":
    main()
