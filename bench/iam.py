"""What the local IAM check costs: start -> email with it on and off, and warm `make local` ready time.

Two `python -m local` (local/service.py), one with LOCAL_IAM=off, run sequential workflows in
alternating blocks (bench.latency.alternate). Ready time: `python -m local` started three times
with the compiled template cached, as a second `make local` is.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import BENCH_STAGE
from bench.latency import alternate, comparison


def measure(runs: int, warmup: int) -> dict[str, Any]:
    from bench.latency import Client
    from local.service import LocalService

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
            samples = alternate({key: Client(service) for key, service in services.items()}, runs, warmup)
        finally:
            for service in services.values():
                service.stop()
    return {"runs": runs, "ready_seconds": ready, **samples}


def section(add: Any, results: Any, verdicts: Any) -> None:
    ready = ", ".join(f"{seconds:.1f} s" for seconds in (results or {}).get("ready_seconds", []))
    comparison(add, results, verdicts, "## Local IAM check: its cost, and warm `make local`",
               "4. IAM check on / off, p50 start → email",
               "Two `python -m local`, one with `LOCAL_IAM=off`, {runs} sequential workflows each. Warm ready time "
               "(`python -m local` with the compiled template cached, until it answers HTTP): " + ready + ".",
               {"off": "IAM check off", "on": "IAM check on"})
