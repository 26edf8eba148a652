"""The local service wired once: the engine, the HTTP front and the console on one port.

`make local` (local/__main__.py), the handler tests and `make bench` all run this one wiring.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from local.config import Service
from local.console.app import Console
from local.engine import LocalEngine
from local.front import make_server, serve_in_thread


class LocalApp:
    """Raises ConfigError (a setting that cannot work) or OSError (the port is taken) before anything starts."""

    def __init__(self, service: Service, *, host: str, port: int, outbox: Path, report: Callable[[str], None]) -> None:
        self.service = service
        self.engine = LocalEngine(service, api_base_url=f"http://{host}:{port}", outbox=outbox, console=report)
        self.console = Console(self.engine, port)
        self.server = make_server(
            host,
            port,
            service.routes,
            # Late-bound: whoever wraps engine.invoke (bench's timing) sees the front's calls too.
            lambda function, event: self.engine.invoke(function, event),
            self.engine.start_execution,
            service.stage,
            report=report,
            resources=service.resources,
            console=self.console,
            start_api_errors=service.start_api_errors,
        )

    @property
    def url(self) -> str:
        return self.engine.api_base_url

    def start(self) -> Any:
        self.engine.start()
        return serve_in_thread(self.server)

    def stop(self) -> None:
        self.console.changes.close()
        self.server.shutdown()
        self.server.server_close()
        self.engine.stop()
