"""The embedded moto's AWS API over HTTP (AWS_ENDPOINT_PORT), for the AWS CLI and SDKs.

moto's server application answers from moto's process-wide backends, the ones the engine's
mock_aws fills: a state machine started here runs on the engine, through its hooks, as one
started by POST /start does. Calls made here act as the account itself (no role is checked).
"""

from __future__ import annotations

import io
import json
import socket
import uuid
from typing import Any, Callable

from werkzeug.serving import BaseWSGIServer, make_server


def make_aws_server(host: str, port: int) -> BaseWSGIServer:
    """Listening on return; OSError if the port is taken (werkzeug alone would exit the process)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

    class Handler(MotoRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass  # the engine prints the workflow's progress instead

    with socket.create_server((host, port)) as listener:
        # werkzeug serves a duplicate of the listening socket's descriptor.
        return make_server(
            host, port, _named_executions(DomainDispatcherApplication(create_backend_app)),
            threaded=True, request_handler=Handler, fd=listener.fileno(),
        )


def _named_executions(app: Callable[..., Any]) -> Callable[..., Any]:
    """A StartExecution without a name gets a UUID, as on AWS: moto 5.2.5 names it 'None' (a
    second one collides, and the engine cannot tell the execution's events and emails apart)."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET") == "AWSStepFunctions.StartExecution":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            try:
                request = json.loads(body)
            except ValueError:
                request = None  # left for moto to refuse
            if isinstance(request, dict) and "name" not in request:
                body = json.dumps({**request, "name": str(uuid.uuid4())}).encode()
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return app(environ, start_response)

    return wsgi
