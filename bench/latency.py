"""Local engine speed, seen from outside as a user sees it: `python -m local` in its own process.

The server is local/service.py's LocalService: `python -m local` on a free port with its own
outbox. This process is only the client:

- start -> email: POST /start (a new connection, as curl makes) until a new .eml file is in the
  outbox (the directory is listed every 2 ms);
- approve -> SUCCEEDED: the approve form's POST until GET /executions/{name} answers SUCCEEDED
  (polled every 5 ms, a new connection per request as curl and the tests' LocalService make).

One status request is also timed on a keep-alive connection (what a browser uses), to show
what the local front costs such a client.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from bench.common import BENCH_STAGE, measured, median, ms, percentile, ratio, say, table
from local.service import eventually

TARGET = 1.10  # p50 of a variant / p50 of the reference (IAM check on / off)
BLOCK = 5  # short alternating blocks: the shared machine's load drifts during the run
POLL_EMAIL_SECONDS = 0.002
POLL_STATUS_SECONDS = 0.005
_APPROVE = re.compile(r"(https?://\S+/approve)\?id=([A-Za-z0-9_-]+)")
_WORKFLOW = re.compile(r"workflow:\s*(\S+)")


def _read_email(path: Path) -> tuple[str, str, str]:
    """(execution name, approve URL, id)."""
    from local.service import text_of

    text = text_of(message_from_bytes(path.read_bytes(), policy=policy.default))  # written whole, by a rename
    link, workflow = _APPROVE.search(text), _WORKFLOW.search(text)
    if not (link and workflow):
        raise RuntimeError(f"no approve link in {path}: {text[:300]!r}")
    return workflow.group(1), link.group(1), link.group(2)


def _emails(outbox: Path) -> set[str]:
    try:
        return {name for name in os.listdir(outbox) if name.endswith(".eml")}
    except FileNotFoundError:
        return set()


class Client:
    def __init__(self, service: Any) -> None:
        import requests

        self.requests = requests
        self.service = service
        self.status_session = requests.Session()
        self.last_name = ""

    def start(self) -> str:
        answer = self.requests.post(f"{self.service.url}/start", json={"x": 3, "y": 4}, timeout=60)
        answer.raise_for_status()
        return answer.json()["executionArn"].rsplit(":", 1)[1]

    def approve(self, url: str, callback_id: str) -> int:
        return self.requests.post(url, data={"id": callback_id, "comment": ""}, timeout=60).status_code

    def status(self, name: str, session: Any = None) -> str:
        answer = (session or self.requests).get(f"{self.service.url}/executions/{name}", timeout=60)
        answer.raise_for_status()
        return answer.json()["status"]

    def one_workflow(self) -> dict[str, float]:
        seen = _emails(self.service.outbox)
        started = time.perf_counter()
        name = self.start()
        answered = time.perf_counter()
        # Its first email (the approval request; the outbox names each email's execution): an earlier
        # workflow's outcome notice may arrive meanwhile.
        new = eventually(lambda: sorted(f for f in _emails(self.service.outbox) - seen if name in f) or None, 60,
                         "no email", interval=POLL_EMAIL_SECONDS)
        emailed = time.perf_counter()
        workflow, url, callback_id = _read_email(self.service.outbox / new[0])
        if workflow != name:
            raise RuntimeError(f"email for {workflow}, expected {name}")
        approving = time.perf_counter()
        code = self.approve(url, callback_id)
        if code != 200:
            raise RuntimeError(f"approve answered {code}")
        approved = time.perf_counter()
        status = eventually(lambda: (s := self.status(name)) != "RUNNING" and s, 60, name, interval=POLL_STATUS_SECONDS)
        done = time.perf_counter()
        if status != "SUCCEEDED":
            raise RuntimeError(f"execution {name} ended {status}")
        self.last_name = name
        return {"start_to_email": emailed - started, "start_answer": answered - started,
                "approve_to_succeeded": done - approving, "approve_answer": approved - approving}

    def status_round_trips(self, name: str, count: int) -> dict[str, list[float]]:
        """GET /executions/{name} of a finished execution: one poll's cost, new connection vs keep-alive."""
        times: dict[str, list[float]] = {"new_connection": [], "keep_alive": []}
        for _ in range(count):
            for key, session in (("new_connection", self.requests), ("keep_alive", self.status_session)):
                started = time.perf_counter()
                self.status(name, session)
                times[key].append(time.perf_counter() - started)
        return times

    def many(self, count: int, workers: int, patience: float = 120) -> dict[str, Any]:
        """Start all, approve all, wait all SUCCEEDED. Completion is read from the console log
        ("[name] SUCCEEDED", printed by local mode when the execution ends) so that 100 pollers
        do not load the server being measured; every status is then confirmed over HTTP.
        Bounded: a workflow without its email or its SUCCEEDED after `patience` s is reported."""
        log = self.service.log
        log_offset = log.stat().st_size
        seen = _emails(self.service.outbox)
        started = time.perf_counter()
        deadline = time.monotonic() + patience
        with ThreadPoolExecutor(workers) as pool:
            names = list(pool.map(lambda _: self.start(), range(count)))
            all_started = time.perf_counter()
            ours = lambda: {f for f in _emails(self.service.outbox) - seen if any(name in f for name in names)}  # noqa: E731
            while len(new := ours()) < count and time.monotonic() < deadline:
                time.sleep(0.01)
            all_emailed = time.perf_counter()
            links = {}
            for file_name in new:
                workflow, url, callback_id = _read_email(self.service.outbox / file_name)
                links[workflow] = (url, callback_id)
            emailed = [name for name in names if name in links]
            codes = dict(zip(emailed, pool.map(lambda name: self.approve(*links[name]), emailed)))
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
                buffer += chunk
                lines = buffer.split("\n")
                buffer = lines.pop()
                for line in lines:
                    found = re.match(r"\[([^\]]+)\] (SUCCEEDED|FAILED|TIMED_OUT|ABORTED)", line)
                    if found:
                        pending.discard(found.group(1))
        done = time.perf_counter()
        statuses = [self.status(name) for name in names]
        return {
            "count": count, "workers": workers, "wall": done - started, "started": all_started - started,
            "all_emailed": all_emailed - started, "all_approved": all_approved - started,
            "no_email": count - len(emailed),
            "approve_codes_not_200": sorted(code for code in codes.values() if code != 200),
            "not_succeeded": sum(1 for status in statuses if status != "SUCCEEDED"),
            "unfinished": len(pending),
        }


def measure(runs: int, warmup: int, concurrent: int, workers: int) -> dict[str, Any]:
    from local.service import LocalService

    with tempfile.TemporaryDirectory(prefix="bench-local-") as directory:
        base = Path(directory)
        launched = time.perf_counter()
        service = LocalService(base / "outbox", base / "local.log", **BENCH_STAGE)
        ready = time.perf_counter() - launched
        try:
            client = Client(service)
            first = [client.one_workflow() for _ in range(warmup)]
            say(f"  local mode: ready in {ready:.1f} s, first workflow {first[0]['start_to_email'] * 1000:.0f} ms "
                f"to the email; {runs} sequential runs")
            samples = [client.one_workflow() for _ in range(runs)]
            say(f"  local mode: {concurrent} concurrent workflows")
            status_round_trip = client.status_round_trips(client.last_name, 20)
            many = client.many(concurrent, workers) if concurrent else None
        finally:
            exit_code = service.stop()
    return {
        "ready_seconds": ready,
        "first": first[0] if first else None,
        "runs": runs,
        "warmup": warmup,
        "start_to_email": [sample["start_to_email"] for sample in samples],
        "start_answer": [sample["start_answer"] for sample in samples],
        "approve_to_succeeded": [sample["approve_to_succeeded"] for sample in samples],
        "approve_answer": [sample["approve_answer"] for sample in samples],
        "status_round_trip": status_round_trip,
        "concurrent": many,
        "exit_code": exit_code,
    }


def alternate(clients: dict[str, Client], runs: int, warmup: int) -> dict[str, list[float]]:
    """start -> email for each variant (the first is the reference), `runs` each after `warmup`, in
    alternating blocks of BLOCK."""
    for client in set(clients.values()):
        for _ in range(warmup):
            client.one_workflow()
    samples: dict[str, list[float]] = {key: [] for key in clients}
    while min(len(values) for values in samples.values()) < runs:
        for key, client in clients.items():
            for _ in range(min(BLOCK, runs - len(samples[key]))):
                samples[key].append(client.one_workflow()["start_to_email"])
    return samples


def comparison(add: Any, results: Any, verdicts: Any, title: str, target: str, intro: str, labels: dict[str, str]) -> None:
    """A report section for `alternate`'s results: p50, p95 and the ratio of each variant to the first."""
    if not measured(add, title, results, verdicts, target):
        return
    reference, variant = list(labels)
    overhead = median(results[variant]) / median(results[reference]) if results[reference] else math.nan
    mark = verdicts.add(target, ratio(overhead), f"<= {TARGET:.2f}x", None if math.isnan(overhead) else overhead <= TARGET)
    add(intro.format(runs=results["runs"]) + f" Alternating blocks of {BLOCK}.")
    add("")
    rows = [(labels[key], ms(median(results[key])), ms(percentile(results[key], 95)),
             "–" if key == reference else ratio(overhead), "" if key == reference else f"<= {TARGET:.2f}x",
             "" if key == reference else mark) for key in labels]
    table(add, ["start → email", "p50", "p95", "ratio (p50)", "target", "verdict"], rows)
