"""`serverless package`, run once for all deploy-artifact tests (offline, no AWS credentials)."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from local.template import packaging_lock

ROOT = Path(__file__).resolve().parents[2]
# A copy of .serverless/, taken while packaging is locked: another packaging on this checkout (a
# local run compiling its template) empties .serverless/ while the tests read it.
BUILD = ROOT / ".local" / "deploy-tests"
TEMPLATE = BUILD / "cloudformation-template-update-stack.json"
PACKAGE_OUTPUT = BUILD / "package-output.txt"  # what `serverless package` printed, for the tests


@pytest.fixture(scope="session")
def packaged():
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({"SLS_AWS_REQUEST_MAX_RETRIES": "0", "SLS_TELEMETRY_DISABLED": "1"})
    started = time.monotonic()
    with packaging_lock():  # the local runs of other workers compile their template meanwhile
        run = subprocess.run(
            ["npx", "serverless", "package", "--stage", "dev"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )
        if run.returncode == 0:
            shutil.rmtree(BUILD, ignore_errors=True)
            shutil.copytree(ROOT / ".serverless", BUILD)
    assert run.returncode == 0, f"serverless package failed:\n{run.stdout}\n{run.stderr}"
    PACKAGE_OUTPUT.write_text(run.stdout + run.stderr)
    print(f"serverless package: {time.monotonic() - started:.1f} s")
    return json.loads(TEMPLATE.read_text())


