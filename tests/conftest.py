import json
import os
import shutil
from pathlib import Path

import pytest

from local.service import IAM_RECORD_DIR, LocalService

IAM_CALLS = Path(__file__).resolve().parents[1] / "test-artifacts" / "iam-calls"

# Tests never reach AWS: fake credentials and a fixed region for every boto3 client (moto intercepts).
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "ApprovalWorkflowTests",
        "POWERTOOLS_SERVICE_NAME": "approval-workflow",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        # Every local run the tests start (local/service.py) records its AWS calls here.
        IAM_RECORD_DIR: str(IAM_CALLS),
    }
)


def local_run(tmp_path_factory, label: str, **environment: str):
    """A `python -m local` (local/service.py) for a session or a module: fixtures yield from it."""
    directory = tmp_path_factory.mktemp(label)
    service = LocalService(directory / "outbox", directory / "local.log", **environment)
    yield service
    assert service.stop() == 0, service.log.read_text()[-2000:]


@pytest.fixture(scope="session")
def local_service(tmp_path_factory):
    yield from local_run(tmp_path_factory, "local")


@pytest.fixture(scope="session")
def impatient_service(tmp_path_factory):
    """A second local run whose approval deadline is 3 seconds (APPROVAL_TIMEOUT_SECONDS override)."""
    yield from local_run(tmp_path_factory, "impatient", APPROVAL_TIMEOUT_SECONDS="3")


@pytest.fixture
def local_service_factory(tmp_path):
    started = []

    def make(**environment):
        directory = tmp_path / f"run{len(started)}"
        directory.mkdir()
        service = LocalService(directory / "outbox", directory / "local.log", **environment)
        started.append(service)
        return service

    yield make
    for service in started:
        service.kill()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    """Under pytest-xdist (pytest.ini: -n, --dist loadgroup), the deploy tests share one worker:
    they package into the one .serverless/ folder of the repo, one after the other."""
    for item in items:
        if "tests/deploy/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("deploy"))


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # once, before any worker starts a local run
        shutil.rmtree(IAM_CALLS, ignore_errors=True)
        from local.template import compiled_template

        # The local stage's template, compiled once here rather than by the first local run of
        # each worker at once (runs with other policy overrides compile their own, in turn).
        compiled_template("local", environ={})


def pytest_sessionfinish(session, exitstatus):
    """The least-privilege record: every AWS call of the workflow tests' local runs, checked against
    the role that made it. A denied call fails the run; granted actions no test used are listed as
    candidates to remove (test-artifacts/least-privilege.md)."""
    if hasattr(session.config, "workerinput") or not IAM_CALLS.exists():
        return
    from local.iam import granted_actions
    from local.template import compiled_template

    calls = [json.loads(line) for path in IAM_CALLS.glob("*.jsonl") for line in path.read_text().splitlines()]
    denied = sorted({(c["role"], c["action"], c["resource"]) for c in calls if c["decision"] != "Allowed"})
    used: dict[str, set[str]] = {}
    for call in calls:
        if call["decision"] == "Allowed":
            used.setdefault(call["role"], set()).add(call["action"])
    granted = granted_actions(compiled_template("local", environ={}))
    lines = ["# Least privilege, as the workflow tests exercised it", "",
             f"{len(calls)} distinct calls recorded; {len(denied)} denied.", "",
             "| role | used by the tests | granted, never used (candidates to remove) |", "|---|---|---|"]
    for role in sorted(granted):
        # The Lambda runtime writes logs and traces itself; no handler calls these.
        unused = sorted(a for a in granted[role] - used.get(role, set()) if not a.startswith(("logs:", "xray:")))
        lines.append(f"| {role} | {', '.join(sorted(used.get(role, set()))) or '–'} | {', '.join(unused) or '–'} |")
    if denied:
        lines += ["", "## Denied", ""] + [f"- {role}: {action} on {resource}" for role, action, resource in denied]
    report = IAM_CALLS.parent / "least-privilege.md"
    report.write_text("\n".join(lines) + "\n")
    print(f"\nleast-privilege record: {report}")
    if denied:
        print("AWS calls the stack's own roles denied during the workflow tests:")
        for role, action, resource in denied:
            print(f"  {role}: {action} on {resource}")
        session.exitstatus = 1
