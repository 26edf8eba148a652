"""`make local`: the whole workflow on this machine, no AWS account needed."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

from functions.common.approval_policy import ApprovalPolicy
from local.config import ConfigError, load_service, port as configured_port
from local.app import LocalApp, PortInUse


def console(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> int:
    host = "127.0.0.1"
    outbox = Path(os.environ.get("OUTBOX", ".local/outbox")).resolve()
    try:
        port = configured_port()
        aws_port = configured_port(name="AWS_ENDPOINT_PORT", default=4566)
        if aws_port == port:
            raise ConfigError(f"AWS_ENDPOINT_PORT and PORT are both {port}: the AWS API needs a port of its own")
        service = load_service(stage="local")
        app = LocalApp(service, host=host, port=port, outbox=outbox, report=console, aws_port=aws_port)
    except ConfigError as error:
        console(f"Configuration refused: {error}")
        return 2
    except PortInUse as error:
        variable = "PORT" if error.port == port else "AWS_ENDPOINT_PORT"
        console(f"Port {error.port} is already in use. Stop what uses it, or run: {variable}={error.port + 1} make local")
        return 2
    base_url = app.url
    previous = keep_previous_outbox(outbox)
    app.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    policy = ApprovalPolicy.from_config(service.stage_config)
    console(f"approval workflow running locally at {base_url}  (approval deadline {policy.timeout_seconds} s)")
    console(f"approvers: {', '.join(policy.approvers)}; {policy.describe()}")
    for line in follow_ups(policy):
        console(line)
    console(f"console: open {base_url}/ to watch every execution on its graph")
    console(f"AWS API (for the AWS CLI and SDKs): {app.aws_url}")
    console(f"emails are written to {outbox}" + (f" (the previous run's are in {previous})" if previous else ""))
    for route in service.routes:
        console(f"  {route.method:4} {base_url}{route.path}")
    console(f"try:  curl -s -X POST {base_url}/start -H 'Content-Type: application/json' -d '{{\"x\": 3, \"y\": 4}}'")
    approvals = app.engine.machine_arns["ApprovalStateMachine"]
    console("or an approval of your own (the console's form does the same; any credentials do locally):")
    console(f"      AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --region {service.region} --endpoint-url {app.aws_url} "
            f"stepfunctions start-execution --state-machine-arn {approvals} --input '{{\"subject\": \"Deploy v2\"}}'")
    console("Ctrl-C stops it.")
    stop.wait()
    console("stopping")
    app.stop()
    return 0


def follow_ups(policy: ApprovalPolicy) -> list[str]:
    """The reminders and the escalation, when the stage has them, for the startup banner."""
    lines = []
    if policy.reminder_interval_seconds and policy.max_reminders:
        lines.append(
            f"reminders: every {policy.reminder_interval_seconds} s to approvers who have not voted, "
            f"at most {policy.max_reminders} each"
        )
    if policy.escalation_email:
        lines.append(f"escalation: to {policy.escalation_email} after {policy.escalate_after_seconds} s without an outcome")
    return lines


def keep_previous_outbox(outbox: Path) -> Path | None:
    """Each run starts with an empty outbox of its own: a previous run's emails are kept beside it,
    in a folder named after the time of its last email (UTC). Returns that folder, if any."""
    if not outbox.is_dir():
        return None
    entries = list(outbox.iterdir())
    if not entries:
        return None
    last = max(entry.stat().st_mtime for entry in entries)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(last))
    kept = outbox.with_name(f"{outbox.name}-{stamp}")
    suffix = 1
    while kept.exists():
        suffix += 1
        kept = outbox.with_name(f"{outbox.name}-{stamp}-{suffix}")
    outbox.rename(kept)
    outbox.mkdir()
    return kept


if __name__ == "__main__":
    sys.exit(main())
