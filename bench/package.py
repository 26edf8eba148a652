"""The deployment artifact, offline: the size of each zip, and what is in it.

`SLS_AWS_REQUEST_MAX_RETRIES=0 npx serverless package --stage dev` without any `AWS_*` variable;
each zip's size, its bytecode (`.pyc`) and what must never be in it.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.common import ROOT

BUILD = ROOT / ".serverless"
COMMAND = ["npx", "serverless", "package", "--stage", "dev"]
# Never in a function's zip: the test suite, the local engine, npm packages, the SDK Lambda provides.
FORBIDDEN = ("tests", "local", "node_modules", "boto3", "botocore")
_FORBIDDEN = re.compile(r"^(" + "|".join(re.escape(name) for name in FORBIDDEN) + r")/")


def build() -> dict[str, Any]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({"SLS_AWS_REQUEST_MAX_RETRIES": "0", "SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off"})
    attempts = []
    for _ in range(2):
        # .serverless/ is shared: a concurrent `serverless package` (the deploy tests) can remove a zip
        # under this one. One retry, and the report says so.
        started = time.perf_counter()
        run = subprocess.run(COMMAND, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        attempts.append(time.perf_counter() - started)
        if run.returncode == 0:
            return {"attempts": attempts, "seconds": attempts[-1], **inspect(BUILD)}
        time.sleep(5)
    raise RuntimeError(f"`{' '.join(COMMAND)}` failed (exit {run.returncode}):\n{(run.stdout + run.stderr)[-1500:]}")


def inspect(build: Path) -> dict[str, Any]:
    zips = []
    for path in sorted(build.glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
        zips.append({
            "name": path.name, "bytes": path.stat().st_size, "uncompressed": sum(info.file_size for info in infos),
            "files": len(infos), "bytecode": sum(1 for info in infos if info.filename.endswith(".pyc")),
            "forbidden": sorted({info.filename.split("/", 1)[0] for info in infos if _FORBIDDEN.match(info.filename)}),
        })
    return {"zips": zips}
