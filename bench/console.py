"""start -> email with the local console open and updating, and without it (`python -m bench.console`).

One `python -m local` (the tests' LocalService) and the client of bench.latency. Blocks of
sequential workflows alternate: without the console, then with a console page open. The page is
played by a thread that makes the requests console.js makes: it listens to the change stream
(/_console/api/events) and, at every message, reads the execution it shows (the newest: the
page follows what its form started), loads each new email's frame once, then reads the list
(again 300 ms later while the server says some rows are pending).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import measured, median, ms, percentile, ratio, say

TARGET = 1.10  # p50 with the console open / p50 without
BLOCK = 5  # short alternating blocks: the shared machine's load drifts during the run


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
    """p50 start -> email, without and with the console open: `runs` workflows each, in alternating blocks."""
    from bench.latency import Client
    from local.service import LocalService

    with tempfile.TemporaryDirectory(prefix="bench-console-") as directory:
        service = LocalService(Path(directory) / "outbox", Path(directory) / "local.log")
        try:
            client = Client(service)
            for _ in range(warmup):
                client.one_workflow()
            samples: dict[str, list[float]] = {"without": [], "with": []}
            cpu = {"without": 0.0, "with": 0.0}  # the server process's CPU time (user + system)
            refreshes = 0
            while min(len(values) for values in samples.values()) < runs:
                for key in ("without", "with"):
                    page = ConsolePage(service.url) if key == "with" else None
                    if page is not None:
                        page.start()
                        page.ready.wait(30)
                    try:
                        before = _cpu_seconds(service.process.pid)
                        for _ in range(min(BLOCK, runs - len(samples[key]))):
                            samples[key].append(client.one_workflow()["start_to_email"])
                        cpu[key] += _cpu_seconds(service.process.pid) - before
                    finally:
                        if page is not None:
                            page.close()
                            refreshes += page.refreshes
        finally:
            exit_code = service.stop()
    return {"runs": runs, "block": BLOCK, "without": samples["without"], "with": samples["with"],
            "cpu_per_workflow": {key: value / runs for key, value in cpu.items()},
            "refreshes": refreshes, "exit_code": exit_code}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), or NaN elsewhere."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def section(add: Any, results: Any, verdicts: Any) -> None:
    """The report's rows (BENCHMARKS.md)."""
    if not measured(add, "## Local console: start → email with the console open", results, verdicts,
                    "4. console open / closed, p50 start → email"):
        return
    without, with_console = results["without"], results["with"]
    overhead = median(with_console) / median(without) if without else math.nan
    mark = verdicts.add("4. console open / closed, p50 start → email", ratio(overhead), f"<= {TARGET:.2f}x",
                        None if math.isnan(overhead) else overhead <= TARGET)
    add(f"`python -m bench.console`: one `python -m local`, {results['runs']} sequential workflows without and "
        f"{results['runs']} with a console page open, in alternating blocks of {results['block']}. The page is "
        "played by a client making console.js's requests: the change stream, and at each message the newest "
        f"execution, each new email's frame and the list ({results['refreshes']} refreshes in all). Server CPU per "
        "workflow: the user + system time of the `python -m local` process (all its threads) over the blocks, "
        "divided by their workflows; far less noisy than latency on a shared machine.")
    add("")
    cpu = results["cpu_per_workflow"]
    add("| start → email | p50 | p95 | server CPU per workflow | ratio to closed (p50) | target | verdict |")
    add("|---|---|---|---|---|---|---|")
    add(f"| console closed | {ms(median(without))} | {ms(percentile(without, 95))} | {ms(cpu['without'])} | – | | |")
    add(f"| console open and updating | {ms(median(with_console))} | {ms(percentile(with_console, 95))} | "
        f"{ms(cpu['with'])} | {ratio(overhead)} | <= {TARGET:.2f}x | {mark} |")
    add("")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    import os

    from bench.common import FAKE_AWS

    for key in [key for key in os.environ if key.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update(FAKE_AWS)
    results = measure(args.runs, args.warmup)
    cpu = results["cpu_per_workflow"]
    say(f"start -> email p50: console closed {ms(median(results['without']))}, "
        f"open and updating {ms(median(results['with']))} "
        f"({ratio(median(results['with']) / median(results['without']))}; {results['refreshes']} page refreshes); "
        f"server CPU per workflow {ms(cpu['without'])} closed, {ms(cpu['with'])} open")
    say(json.dumps(results))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
