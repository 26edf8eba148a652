"""Shared helpers: paths, statistics, the environment of child processes, target verdicts."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable

# What every child that may touch an AWS SDK sees: never real credentials, a fixed region.
FAKE_AWS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
POWERTOOLS_ENV = {
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_SERVICE_NAME": "bench",
}


def clean_environ(**extra: str) -> dict[str, str]:
    """os.environ without any AWS_* variable (no real account, no CA bundle), plus fakes and extras."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(FAKE_AWS)
    env.update(extra)
    return env


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): an observed value, no interpolation."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def verdict(met: bool | None) -> str:
    if met is None:
        return "n/a"
    return "met" if met else "**missed**"


def ms(seconds: float) -> str:
    return "–" if seconds is None or math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def ratio(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}x"


def mib(size: int) -> str:
    return f"{size / 1024 / 1024:.2f} MiB"


def table(add: Any, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A Markdown table, then a blank line."""
    add("| " + " | ".join(headers) + " |")
    add("|" + "---|" * len(headers))
    for row in rows:
        add("| " + " | ".join("–" if cell is None else str(cell) for cell in row) + " |")
    add("")


def run_json_module(module: str, args: Iterable[str] = (), *, timeout: float, env: dict[str, str] | None = None,
                    log: Path | None = None) -> dict[str, Any]:
    """Run `python -m <module> ...` in the repo; its last stdout line is a JSON document."""
    started = time.monotonic()
    run = subprocess.run(
        [PYTHON, "-m", module, *args], cwd=ROOT, env=env or clean_environ(), capture_output=True, text=True,
        timeout=timeout,
    )
    if log is not None:
        log.write_text(run.stdout + "\n--- stderr ---\n" + run.stderr, encoding="utf-8")
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    if run.returncode != 0 or not lines:
        tail = (run.stdout + run.stderr)[-3000:]
        raise RuntimeError(f"python -m {module} failed (exit {run.returncode}):\n{tail}")
    document = json.loads(lines[-1])
    document.setdefault("elapsed_seconds", time.monotonic() - started)
    return document


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# Each workflow is measured until its approval email and its end. Outcome notices are sent after
# the end and would be taken for the next workflow's email: the measured local runs turn them off.
BENCH_STAGE = {"OUTCOME_NOTICES": "false"}


def phase_error(section: Any) -> str | None:
    """Why a phase's results are missing (its error, or "not run"); None if it ran."""
    return section.get("error") if isinstance(section, dict) else "not run"


def measured(add: Any, title: str, section: Any, verdicts: Any, target: str) -> bool:
    """Write a report section's heading; if its phase failed, say so (and record it) and return False."""
    add(title)
    add("")
    error = phase_error(section)
    if not error:
        return True
    add(f"Not measured: {error}")
    add("")
    verdicts.add(target, "not measured", "", None)
    return False
