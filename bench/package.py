"""The deployment artifact: `npx serverless package --stage dev`, offline, and what is in the zips."""

from __future__ import annotations

import os
import re
import subprocess
import time
import zipfile
from collections import Counter
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
        elapsed = time.perf_counter() - started
        attempts.append(elapsed)
        if run.returncode == 0:
            break
        time.sleep(5)
    answer: dict[str, Any] = {
        "attempts": attempts,
        "command": "SLS_AWS_REQUEST_MAX_RETRIES=0 " + " ".join(COMMAND) + "  (every AWS_* variable removed)",
        "seconds": elapsed,
        "returncode": run.returncode,
        "output_tail": (run.stdout + run.stderr)[-1500:] if run.returncode else "",
    }
    if run.returncode == 0:
        answer.update(inspect(BUILD))
    return answer


def _top_level(name: str) -> str:
    top = name.split("/", 1)[0]
    if top.endswith((".dist-info", ".egg-info")):
        return "*.dist-info / *.egg-info"
    return top


def inspect(build: Path) -> dict[str, Any]:
    zips = []
    for path in sorted(build.glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
        names = [info.filename for info in infos]
        zips.append({
            "name": path.name,
            "bytes": path.stat().st_size,
            "uncompressed": sum(info.file_size for info in infos),
            "files": len(infos),
            "bytecode": sum(1 for info in infos if info.filename.endswith(".pyc")),
            "forbidden": sorted({name.split("/", 1)[0] for name in names if _FORBIDDEN.match(name)}),
        })
    # Do the zips differ only in functions/? (the same requirements in each, then)
    contents = []
    for item in zips:
        with zipfile.ZipFile(build / item["name"]) as archive:
            contents.append(sorted((info.filename, info.file_size) for info in archive.infolist()
                                   if not info.filename.startswith("functions/")))
    same_requirements = bool(contents) and all(content == contents[0] for content in contents)
    largest: list[dict[str, Any]] = []
    sample = ""
    if zips:
        biggest = max(zips, key=lambda item: item["bytes"])
        sample = biggest["name"]
        with zipfile.ZipFile(build / sample) as archive:
            infos = archive.infolist()
        sizes: Counter[str] = Counter()
        compressed: Counter[str] = Counter()
        files: Counter[str] = Counter()
        for info in infos:
            top = _top_level(info.filename)
            sizes[top] += info.file_size
            compressed[top] += info.compress_size
            files[top] += 1
        largest = [{"name": name, "uncompressed": size, "compressed": compressed[name], "files": files[name]}
                   for name, size in sizes.most_common(10)]
    return {"zips": zips, "largest_packages": largest, "sample_zip": sample,
            "same_requirements": same_requirements}
