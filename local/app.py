"""The local service wired once: the engine, the HTTP front and the console on one port, and
the embedded moto's AWS API (for the AWS CLI and SDKs) on another.

`make local` (local/__main__.py), the handler tests and `make bench` all run this one wiring.
"""

from __future__ import annotations

import errno
import threading
from pathlib import Path
from typing import Any, Callable, TypeVar

from werkzeug.serving import BaseWSGIServer

from local.aws_api import make_aws_server
from local.config import Service
from local.console.app import Console
from local.engine import LocalEngine
from local.front import make_server, serve_in_thread

T = TypeVar("T")


class PortInUse(OSError):
    """A port the local service was to listen on is taken: `port` says which."""

    def __init__(self, port: int) -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} is already in use")
        self.port = port


class LocalApp:
    """Raises ConfigError (a setting that cannot work) or PortInUse before anything starts.

    `aws_port`: where to serve the AWS API; None serves none (the handler tests and the bench
    run many apps on one machine and call moto in-process)."""

    def __init__(
        self, service: Service, *, host: str, port: int, outbox: Path, report: Callable[[str], None],
        aws_port: int | None = None,
    ) -> None:
        self.service = service
        self.engine = LocalEngine(service, api_base_url=f"http://{host}:{port}", outbox=outbox, console=report)
        self.console = Console(self.engine, port)
        self.server = _listening(port, lambda: make_server(
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
        ))
        self.aws_server: BaseWSGIServer | None = None
        self.aws_url: str | None = None
        if aws_port is not None:
            try:
                self.aws_server = _listening(aws_port, lambda: make_aws_server(host, aws_port))
            except OSError:
                self.server.server_close()
                raise
            self.aws_url = f"http://{host}:{aws_port}"

    @property
    def url(self) -> str:
        return self.engine.api_base_url

    def start(self) -> Any:
        self.engine.start()
        if self.aws_server is not None:  # before the front: whoever sees the front answer can call it
            threading.Thread(target=self.aws_server.serve_forever, name="local-aws-api", daemon=True).start()
        return serve_in_thread(self.server)

    def stop(self) -> None:
        self.console.changes.close()
        self.server.shutdown()
        self.server.server_close()
        if self.aws_server is not None:
            self.aws_server.shutdown()
            self.aws_server.server_close()
        self.engine.stop()


def _listening(port: int, listen: Callable[[], T]) -> T:
    try:
        return listen()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(port) from error
        raise
