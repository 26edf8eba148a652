"""start -> email with the local console open and updating, and without it.

One `python -m local` (local/service.py) and the client of bench.latency, in alternating blocks
(bench.latency.alternate): without the console, then with a console page open. The page is
played by a thread that makes the requests console.js makes: it listens to the change stream
(/_console/api/events) and, at every message, reads the execution it shows (the newest: the
page follows what its form started), loads each new email's frame once, then reads the list
(again 300 ms later while the server says some rows are pending).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from bench.common import BENCH_STAGE
from bench.latency import alternate, comparison


class ConsolePage(threading.Thread):
    def __init__(self, url: str) -> None:
        super().__init__(daemon=True, name="console-page")
        self.host = url.removeprefix("http://")
        self.refreshes = 0
        self.stream: http.client.HTTPConnection | None = None
        self.stopping = False
        self.ready = threading.Event()
        self.following: str | None = None
        self._frames: set[str] = set()

    def _get(self, connection: http.client.HTTPConnection, path: str) -> Any:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        return json.loads(body) if response.getheader("Content-Type", "").startswith("application/json") else body

    def run(self) -> None:
        reads = http.client.HTTPConnection(self.host, timeout=60)  # keep-alive, as a browser's
        self.stream = http.client.HTTPConnection(self.host, timeout=None)
        self.stream.request("GET", "/_console/api/events")
        events = self.stream.getresponse()
        self.ready.set()
        try:
            while not self.stopping:
                line = events.readline()
                if not line:
                    return
                if not line.startswith(b"data:"):
                    continue
                if self.following is not None:
                    shown = self._get(reads, f"/_console/api/executions/{self.following}")
                    for email in shown["emails"]:
                        if email["id"] not in self._frames:
                            self._frames.add(email["id"])
                            self._get(reads, f"/_console/emails/{email['id']}")
                listing = self._get(reads, "/_console/api/executions")
                while listing.get("pending") and not self.stopping:  # console.js asks again 300 ms later
                    time.sleep(0.3)
                    listing = self._get(reads, "/_console/api/executions")
                if listing["executions"]:
                    self.following = listing["executions"][0]["name"]  # the form moves the page to it
                self.refreshes += 1
        except (OSError, http.client.HTTPException):
            if not self.stopping:
                raise
        finally:
            reads.close()

    def close(self) -> None:
        self.stopping = True
        if self.stream is not None and self.stream.sock is not None:
            self.stream.sock.shutdown(2)
        self.join(timeout=10)


def measure(runs: int, warmup: int) -> dict[str, Any]:
    """p50 start -> email and the server's CPU per workflow, without and with the console open."""
    from bench.latency import Client
    from local.service import LocalService

    cpu = {"without": 0.0, "with": 0.0}  # the server process's CPU time (user + system)
    refreshes = 0
    with tempfile.TemporaryDirectory(prefix="bench-console-") as directory:
        service = LocalService(Path(directory) / "outbox", Path(directory) / "local.log", **BENCH_STAGE)
        client = Client(service)

        @contextlib.contextmanager
        def during(key: str) -> Iterator[None]:
            nonlocal refreshes
            page = ConsolePage(service.url) if key == "with" else None
            if page is not None:
                page.start()
                page.ready.wait(30)
            before = _cpu_seconds(service.process.pid)
            try:
                yield
            finally:
                cpu[key] += _cpu_seconds(service.process.pid) - before
                if page is not None:
                    page.close()
                    refreshes += page.refreshes

        try:
            samples = alternate({"without": client, "with": client}, runs, warmup, during)
        finally:
            exit_code = service.stop()
    return {"runs": runs, **samples, "cpu_per_workflow": {key: value / runs for key, value in cpu.items()},
            "refreshes": refreshes, "exit_code": exit_code}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), or NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def section(add: Any, results: Any, verdicts: Any) -> None:
    cpu = (results or {}).get("cpu_per_workflow", {})
    comparison(add, results, verdicts, "## Local console: start → email with the console open",
               "4. console open / closed, p50 start → email",
               "One `python -m local`, {runs} sequential workflows without and {runs} with a console page open "
               "(a client making console.js's requests: the change stream, then the newest execution, each new "
               "email's frame and the list; " + str((results or {}).get("refreshes")) + " refreshes in all). Server "
               "CPU per workflow: the user + system time of `python -m local` over the blocks, per workflow.",
               {"without": "console closed", "with": "console open and updating"},
               extra=("server CPU per workflow", cpu))
