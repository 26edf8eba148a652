"""The test suite's wall time, installation excluded (the venv and node_modules already exist)."""

from __future__ import annotations

import re
import subprocess
import time
from typing import Any

from bench.common import PYTHON, ROOT, clean_environ

COMMAND = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def run() -> dict[str, Any]:
    started = time.perf_counter()
    result = subprocess.run(COMMAND, cwd=ROOT, env=clean_environ(), capture_output=True, text=True, timeout=1800)
    elapsed = time.perf_counter() - started
    summary = ""
    for line in reversed(result.stdout.splitlines()):
        if re.search(r"\b(passed|failed|error|errors|skipped|no tests ran)\b", line) and " in " in line:
            summary = line.strip("= ").strip()
            break
    return {
        "command": ".venv/bin/python -m pytest -q -p no:cacheprovider",
        "seconds": elapsed,
        "returncode": result.returncode,
        "summary": summary,
    }
