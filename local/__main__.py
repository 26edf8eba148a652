"""`make local`: the whole workflow on this machine, no AWS account needed."""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
from pathlib import Path

from functions.common.approval_policy import ApprovalPolicy
from local.config import ConfigError, load_service
from local.console.app import Console
from local.engine import LocalEngine
from local.front import make_server, serve_in_thread


def console(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> int:
    host = "127.0.0.1"
    port = int(os.environ.get("PORT", "3000"))
    outbox = Path(os.environ.get("OUTBOX", ".local/outbox")).resolve()
    try:
        service = load_service(stage="local")
        engine = LocalEngine(service, api_base_url=f"http://{host}:{port}", outbox=outbox, console=console)
    except ConfigError as error:
        console(f"Configuration refused: {error}")
        return 2
    base_url = engine.api_base_url
    web_console = Console(engine, port)
    try:
        server = make_server(
            host,
            port,
            service.routes,
            engine.invoke,
            engine.start_execution,
            service.stage,
            report=console,
            resources=service.resources,
            console=web_console,
        )
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            console(f"Port {port} is already in use. Stop what uses it, or run: PORT={port + 1} make local")
            return 2
        raise
    engine.start()
    serve_in_thread(server)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    policy = ApprovalPolicy.from_config(service.stage_config)
    console(f"approval workflow running locally at {base_url}  (approval deadline {policy.timeout_seconds} s)")
    console(f"approvers: {', '.join(policy.approvers)}; {policy.describe()}")
    console(f"console: open {base_url}/ to watch every execution on its graph")
    console(f"emails are written to {outbox}")
    for route in service.routes:
        console(f"  {route.method:4} {base_url}{route.path}")
    console(f"try:  curl -s -X POST {base_url}/start -H 'Content-Type: application/json' -d '{{\"x\": 3, \"y\": 4}}'")
    console("Ctrl-C stops it.")
    stop.wait()
    console("stopping")
    web_console.changes.close()
    server.shutdown()
    server.server_close()
    engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
