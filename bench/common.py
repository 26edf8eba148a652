"""Shared helpers: paths, the environment of child processes, statistics, formatting, one table."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
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
POWERTOOLS_ENV = {"POWERTOOLS_METRICS_NAMESPACE": "Bench", "POWERTOOLS_SERVICE_NAME": "bench"}
# Each workflow is measured until its approval email and its end. Outcome notices are sent after
# the end and would be taken for the next workflow's email: the measured local runs turn them off.
BENCH_STAGE = {"OUTCOME_NOTICES": "false"}


def clean_environ(**extra: str) -> dict[str, str]:
    """os.environ without any AWS_* variable (no real account, no CA bundle), plus fakes and extras."""
    return {**{key: value for key, value in os.environ.items() if not key.startswith("AWS_")}, **FAKE_AWS, **extra}


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): an observed value, no interpolation."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def ms(seconds: float | None) -> str:
    return "–" if seconds is None or math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def ratio(value: float | None) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.2f}x"


def mib(size: int) -> str:
    return f"{size / 1024 / 1024:.2f} MiB"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A Markdown table ("–" for None), then a blank line."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join("–" if cell is None else str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def run_json_module(module: str, args: Iterable[str] = (), *, timeout: float) -> dict[str, Any]:
    """Run `python -m <module> ...` in the repo; its last stdout line starting with "{" is a JSON document."""
    run = subprocess.run([PYTHON, "-m", module, *args], cwd=ROOT, env=clean_environ(), capture_output=True,
                         text=True, timeout=timeout)
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    if run.returncode != 0 or not lines:
        raise RuntimeError(f"python -m {module} failed (exit {run.returncode}):\n{(run.stdout + run.stderr)[-3000:]}")
    return json.loads(lines[-1])


def print_json(document: Any) -> None:
    """A child's answer to run_json_module, then its exit: moto's interpreter threads are daemons."""
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()
    os._exit(0)


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
