"""The machine the figures come from."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.common import PYTHON, ROOT


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                kib = int(line.split()[1])
                return f"{kib / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _venv_versions() -> dict[str, str]:
    code = (
        "import json, platform, sys\n"
        "from importlib.metadata import version\n"
        "names = ['moto', 'boto3', 'botocore', 'aws-lambda-powertools', 'requests']\n"
        "print(json.dumps({'python': platform.python_version(), 'implementation': platform.python_implementation(),\n"
        "                  **{name: version(name) for name in names}}))\n"
    )
    run = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    return json.loads(run.stdout) if run.returncode == 0 else {"python": "unknown"}


def _node_versions() -> dict[str, str]:
    answer: dict[str, str] = {}
    try:
        answer["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        answer["node"] = "unavailable"
    try:
        package = json.loads((ROOT / "node_modules" / "osls" / "package.json").read_text())
        answer["serverless"] = f"osls {package['version']}"
    except (OSError, ValueError, KeyError):
        answer["serverless"] = "unknown"
    return answer


def describe() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory": _memory(),
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "load_at_start": os.getloadavg(),
        **_venv_versions(),
        **_node_versions(),
    }
