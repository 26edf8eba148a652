"""What the local IAM check costs: start -> email with it on and off, and warm `make local` ready time.

Two `python -m local` (the tests' LocalService), one with LOCAL_IAM=off, run sequential workflows
in alternating blocks (the shared machine's load drifts during a run). Ready time: `python -m
local` started three times with the compiled template cached, as a second `make local` is.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import measured, median, ms, percentile, ratio

TARGET = 1.10  # p50 with the check / p50 without
BLOCK = 5


def measure(runs: int, warmup: int) -> dict[str, Any]:
    from bench.latency import Client
    from local.service import LocalService

    with tempfile.TemporaryDirectory(prefix="bench-iam-") as directory:
        base = Path(directory)
        ready = []
        for attempt in range(3):
            started = time.perf_counter()
            probe = LocalService(base / f"ready{attempt}" / "outbox", base / f"ready{attempt}.log")
            ready.append(time.perf_counter() - started)
            probe.stop()
        services = {"off": LocalService(base / "off" / "outbox", base / "off.log", LOCAL_IAM="off"),
                    "on": LocalService(base / "on" / "outbox", base / "on.log")}
        samples: dict[str, list[float]] = {"off": [], "on": []}
        try:
            clients = {key: Client(service) for key, service in services.items()}
            for client in clients.values():
                for _ in range(warmup):
                    client.one_workflow()
            while len(samples["on"]) < runs:
                for key in ("off", "on"):
                    for _ in range(min(BLOCK, runs - len(samples[key]))):
                        samples[key].append(clients[key].one_workflow()["start_to_email"])
        finally:
            for service in services.values():
                service.stop()
    return {"runs": runs, "block": BLOCK, "ready_seconds": ready, **samples}


def section(add: Any, results: Any, verdicts: Any) -> None:
    if not measured(add, "## Local IAM check: its cost, and warm `make local`", results, verdicts,
                    "4. IAM check on / off, p50 start → email"):
        return
    off, on = results["off"], results["on"]
    overhead = median(on) / median(off) if off else math.nan
    mark = verdicts.add("4. IAM check on / off, p50 start → email", ratio(overhead), f"<= {TARGET:.2f}x",
                        None if math.isnan(overhead) else overhead <= TARGET)
    add(f"`bench/iam.py`: two `python -m local`, one with `LOCAL_IAM=off`, {results['runs']} sequential workflows "
        f"each in alternating blocks of {results['block']}. Warm ready time: `python -m local` started three times "
        "with the compiled template cached (`.local/compiled/`), until it answers HTTP: "
        + ", ".join(f"{seconds:.1f} s" for seconds in results["ready_seconds"]) + ".")
    add("")
    add("| start → email | p50 | p95 | ratio (p50) | target | verdict |")
    add("|---|---|---|---|---|---|")
    add(f"| IAM check off | {ms(median(off))} | {ms(percentile(off, 95))} | – | | |")
    add(f"| IAM check on | {ms(median(on))} | {ms(percentile(on, 95))} | {ratio(overhead)} | <= {TARGET:.2f}x | {mark} |")
    add("")
