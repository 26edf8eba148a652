"""Local engine speed, seen from outside as a user sees it: `python -m local` in its own process.

The server is local/service.py's LocalService: `python -m local` on a free port with its own
outbox. This process is only the client:

- start -> email: POST /start (a new connection, as curl makes) until a new .eml file is in the
  outbox (the directory is listed every 2 ms);
- approve -> SUCCEEDED: the approve form's POST until GET /executions/{name} answers SUCCEEDED
  (polled every 5 ms, a new connection per request as curl and the tests' LocalService make).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any, Callable

import requests

from bench.common import BENCH_STAGE, say
from local.service import LocalService, decide, eventually, links_of, text_of

BLOCK = 5  # short alternating blocks: the shared machine's load drifts during the run
POLL_EMAIL_SECONDS = 0.002
POLL_STATUS_SECONDS = 0.005
_WORKFLOW = re.compile(r"workflow:\s*(\S+)")
_END = re.compile(r"\[([^\]]+)\] (SUCCEEDED|FAILED|TIMED_OUT|ABORTED)")


def _read_email(path: Path) -> tuple[str, str]:
    """(execution name, approve link)."""
    message = message_from_bytes(path.read_bytes(), policy=policy.default)  # written whole, by a rename
    workflow, link = _WORKFLOW.search(text_of(message)), links_of(message).get("approve")
    if not (link and workflow):
        raise RuntimeError(f"no approve link in {path}: {text_of(message)[:300]!r}")
    return workflow.group(1), link


def _emails(outbox: Path) -> set[str]:
    try:
        return {name for name in os.listdir(outbox) if name.endswith(".eml")}
    except FileNotFoundError:
        return set()


class Client:
    """A person at one local front. `status(execution ARN)` defaults to GET /executions/{name}."""

    def __init__(self, url: str, outbox: Path, status: Callable[[str], str] | None = None) -> None:
        self.url, self.outbox = url, outbox
        self.status = status or self._http_status

    def start(self) -> str:
        answer = requests.post(f"{self.url}/start", json={"x": 3, "y": 4}, timeout=60)
        answer.raise_for_status()
        return answer.json()["executionArn"]

    def _http_status(self, arn: str) -> str:
        answer = requests.get(f"{self.url}/executions/{arn.rsplit(':', 1)[1]}", timeout=60)
        answer.raise_for_status()
        return answer.json()["status"]

    def one_workflow(self, reminders: int = 0) -> dict[str, Any]:
        """Start, then approve from the approval email (once `reminders` reminder emails came too)."""
        seen = _emails(self.outbox)

        def arrived() -> list[str] | None:
            # Its first email (the approval request; the outbox names each email's execution): an
            # earlier workflow's outcome notice may arrive meanwhile.
            found = sorted(f for f in _emails(self.outbox) - seen if name in f)
            return found if len(found) > reminders else None

        started = time.perf_counter()
        arn = self.start()
        name = arn.rsplit(":", 1)[1]
        answered = time.perf_counter()
        new = eventually(arrived, 60, "no email", interval=POLL_EMAIL_SECONDS)
        emailed = time.perf_counter()
        workflow, link = _read_email(self.outbox / new[0])
        if workflow != name:
            raise RuntimeError(f"email for {workflow}, expected {name}")
        approving = time.perf_counter()
        code = decide(link).status_code
        if code != 200:
            raise RuntimeError(f"approve answered {code}")
        approved = time.perf_counter()
        status = eventually(lambda: (s := self.status(arn)) != "RUNNING" and s, 60, name, interval=POLL_STATUS_SECONDS)
        done = time.perf_counter()
        if status != "SUCCEEDED":
            raise RuntimeError(f"execution {name} ended {status}")
        return {"execution": arn, "start_to_email": emailed - started, "start_answer": answered - started,
                "approve_to_succeeded": done - approving, "approve_answer": approved - approving}

    def many(self, count: int, workers: int, log: Path, patience: float = 120) -> dict[str, Any]:
        """Start all, approve all, wait all SUCCEEDED. Completion is read from the console log
        ("[name] SUCCEEDED", printed by local mode when the execution ends) so that 100 pollers
        do not load the server being measured; every status is then confirmed over HTTP.
        Bounded: a workflow without its email or its SUCCEEDED after `patience` s is reported."""
        log_offset = log.stat().st_size
        seen = _emails(self.outbox)
        started = time.perf_counter()
        deadline = time.monotonic() + patience
        with ThreadPoolExecutor(workers) as pool:
            arns = list(pool.map(lambda _: self.start(), range(count)))
            names = [arn.rsplit(":", 1)[1] for arn in arns]
            all_started = time.perf_counter()
            ours = lambda: {f for f in _emails(self.outbox) - seen if any(name in f for name in names)}  # noqa: E731
            while len(new := ours()) < count and time.monotonic() < deadline:
                time.sleep(0.01)
            all_emailed = time.perf_counter()
            links = dict(_read_email(self.outbox / file_name) for file_name in new)
            emailed = [name for name in names if name in links]
            codes = dict(zip(emailed, pool.map(lambda name: decide(links[name]).status_code, emailed)))
            all_approved = time.perf_counter()
        pending = {name for name, code in codes.items() if code == 200}
        with log.open("r", encoding="utf-8", errors="replace") as console:
            console.seek(log_offset)
            buffer = ""
            while pending and time.monotonic() < deadline:
                chunk = console.read()
                if not chunk:
                    time.sleep(0.01)
                    continue
                *lines, buffer = (buffer + chunk).split("\n")
                pending -= {found.group(1) for found in map(_END.match, lines) if found}
        done = time.perf_counter()
        statuses = [self.status(arn) for arn in arns]
        return {
            "count": count, "workers": workers, "wall": done - started, "started": all_started - started,
            "all_emailed": all_emailed - started, "all_approved": all_approved - started,
            "no_email": count - len(emailed),
            "approve_codes_not_200": sorted(code for code in codes.values() if code != 200),
            "not_succeeded": sum(1 for status in statuses if status != "SUCCEEDED"),
            "unfinished": len(pending),
        }


def measure(runs: int, warmup: int, concurrent: int, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-local-") as directory:
        base = Path(directory)
        launched = time.perf_counter()
        service = LocalService(base / "outbox", base / "local.log", **BENCH_STAGE)
        ready = time.perf_counter() - launched
        try:
            client = Client(service.url, service.outbox)
            first = [client.one_workflow() for _ in range(warmup)]
            say(f"  local mode: ready in {ready:.1f} s, first workflow {first[0]['start_to_email'] * 1000:.0f} ms "
                f"to the email; {runs} sequential runs")
            samples = [client.one_workflow() for _ in range(runs)]
            say(f"  local mode: {concurrent} concurrent workflows")
            many = client.many(concurrent, workers, service.log) if concurrent else None
        finally:
            service.stop()
    keys = ("start_to_email", "start_answer", "approve_to_succeeded", "approve_answer")
    return {"ready_seconds": ready, "first": first[0] if first else None, "runs": runs, "warmup": warmup,
            **{key: [sample[key] for sample in samples] for key in keys}, "concurrent": many}


def iam(runs: int, warmup: int) -> dict[str, Any]:
    """The local IAM check's cost, and warm `make local`.

    Two `python -m local`, one with `LOCAL_IAM=off`, sequential workflows each (start -> email) in
    alternating blocks, as the machine's load drifts. Warm ready time: `python -m local` started
    three times with the compiled template cached, until it answers HTTP, as a second `make local`.
    """
    with tempfile.TemporaryDirectory(prefix="bench-iam-") as directory:
        base = Path(directory)
        ready = []
        for attempt in range(3):
            started = time.perf_counter()
            probe = LocalService(base / f"ready{attempt}" / "outbox", base / f"ready{attempt}.log", **BENCH_STAGE)
            ready.append(time.perf_counter() - started)
            probe.stop()
        services = {"off": LocalService(base / "off" / "outbox", base / "off.log", LOCAL_IAM="off", **BENCH_STAGE),
                    "on": LocalService(base / "on" / "outbox", base / "on.log", **BENCH_STAGE)}
        try:
            clients = {key: Client(service.url, service.outbox) for key, service in services.items()}
            for client in clients.values():
                for _ in range(warmup):
                    client.one_workflow()
            samples: dict[str, list[float]] = {key: [] for key in clients}
            while min(len(values) for values in samples.values()) < runs:
                for key, client in clients.items():
                    for _ in range(min(BLOCK, runs - len(samples[key]))):
                        samples[key].append(client.one_workflow()["start_to_email"])
        finally:
            for service in services.values():
                service.stop()
    return {"runs": runs, "block": BLOCK, "ready_seconds": ready, **samples}
