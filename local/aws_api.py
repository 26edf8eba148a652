"""The embedded moto's AWS API over HTTP (AWS_ENDPOINT_PORT), for the AWS CLI and SDKs.

moto's server application answers from moto's process-wide backends, the ones the engine's
mock_aws fills: a state machine started here runs on the engine, through its hooks, as one
started by POST /start does. Calls made here act as the account itself (no role is checked).
"""

from __future__ import annotations

import socket

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
            host, port, DomainDispatcherApplication(create_backend_app),
            threaded=True, request_handler=Handler, fd=listener.fileno(),
        )
