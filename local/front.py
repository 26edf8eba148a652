"""The local HTTP front: API Gateway's part, built from the http events in serverless.yml."""

from __future__ import annotations

import json
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

import jsonschema

from functions.common.http import media_type
from local.apigw import gateway_response, proxy_event, response_parts, validation_error_string
from local.config import HttpRoute

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
_CONTENT_LENGTH = re.compile(r"[0-9]{1,15}")


class Route:
    def __init__(self, route: HttpRoute) -> None:
        self.spec = route
        names = re.findall(r"\{([^}/]+)\}", route.path)
        pattern = re.escape(route.path)
        for name in names:
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]+)")
        self.regex = re.compile(pattern + "$")
        self.validator = jsonschema.Draft4Validator(route.schema) if route.schema else None

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.match(path)
        return None if found is None else {key: unquote(value) for key, value in found.groupdict().items()}


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def make_server(
    host: str,
    port: int,
    routes: list[HttpRoute],
    invoke: Callable[[str, dict], dict],
    start_execution: Callable[[str], dict],
    stage: str,
    report: Callable[[str], None] = print,
    resources: dict[str, Any] | None = None,
    console: Any = None,
    start_api_errors: dict[str, str] | None = None,
) -> ThreadingHTTPServer:
    """`resources`: serverless.yml's CloudFormation resources, for the stack's own gateway responses.
    `start_api_errors`: serverless.yml's custom.startApiErrors, the words of POST /start's 502 and 503.
    `console`: the local console (local/console), served at / and /_console/ next to the API."""
    compiled = [Route(route) for route in routes]
    if console is not None:
        console.check_routes([route.path for route in routes])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive request.
        disable_nagle_algorithm = True
        server_version = "approval-workflow-local"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass  # the engine prints the workflow's progress instead

        def answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            """One whole answer; the console (local/console/app.py) answers through it too."""
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in ("content-length", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, message: str) -> None:
            self.answer(status, {"Content-Type": "application/json"}, json.dumps({"message": message}).encode())

        def _dispatch(self) -> None:
            url = urlsplit(self.path)
            declared = self.headers.get("Content-Length", "0")
            if not _CONTENT_LENGTH.fullmatch(declared.strip()):
                # Nothing of the body can be read reliably: answer, then close the connection.
                self.close_connection = True
                return self._json(400, "Content-Length must be the body's size: a whole number of bytes.")
            length = int(declared)
            if length > MAX_BODY_BYTES:
                self.close_connection = True
                return self._json(413, "Request too large.")
            body = self.rfile.read(length) if length else b""
            path = "/" + url.path.strip("/") if url.path.strip("/") else "/"
            if console is not None and console.owns(url.path):
                return console.serve(self, self.command, url.path, self.headers, body)
            try:
                self._route(url, path, body)
            finally:
                if console is not None and self.command not in ("GET", "HEAD", "OPTIONS"):
                    console.changes.bump()  # a vote or a callback may change what the console shows

        def _route(self, url: Any, path: str, body: bytes) -> None:
            for route in compiled:
                parameters = route.match(path)
                if parameters is None or route.spec.method != self.command:
                    continue
                if route.spec.function is None:
                    return self._start(route, body)
                event = proxy_event(
                    self.command,
                    path,
                    resource=route.spec.path,
                    path_parameters=parameters,
                    query=url.query,
                    headers={key: value for key, value in self.headers.items()},
                    body=body if body else None,
                    source_ip=self.client_address[0],
                    stage=stage,
                )
                try:
                    result = invoke(route.spec.function, event)
                except Exception as error:  # noqa: BLE001 - API Gateway answers a failed Lambda with 502
                    report(f"  {route.spec.function} failed: {type(error).__name__}: {error}")
                    return self._json(502, "Internal server error")
                return self.answer(*response_parts(result))
            self._gateway(404, "MISSING_AUTHENTICATION_TOKEN", httpMethod=self.command, path=path)

        def _start(self, route: Route, body: bytes) -> None:
            # Mirrors the deployed integration: JSON only, checked against the request model.
            if media_type(self.headers) != "application/json":
                return self._gateway(415, "UNSUPPORTED_MEDIA_TYPE")
            try:
                value = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
            except (ValueError, RecursionError):
                return self._bad_request_body("[the body is not valid JSON]")
            if route.validator is not None and not route.validator.is_valid(value):
                return self._bad_request_body(validation_error_string(route.validator, value))
            try:
                answer = start_execution(json.dumps(value))
            except Exception as error:  # noqa: BLE001 - answered as the deployed integration responses do
                report(f"  StartExecution failed: {type(error).__name__}: {error}")
                return self._start_failed(error)
            self.answer(200, {"Content-Type": "application/json"}, json.dumps(answer).encode())

        def _start_failed(self, error: Exception) -> None:
            # As the deployed integration answers (serverless.yml custom.startApiErrors): Step
            # Functions' 4xx -> 502, anything else -> 503.
            response = getattr(error, "response", None) or {}
            refused = 400 <= response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500) < 500
            message = (start_api_errors or {}).get("refused" if refused else "unavailable", "Step Functions failed.")
            details = response.get("Error")
            reason = {"__type": details["Code"], "message": details.get("Message", "")} if details else {
                "message": str(error)}
            body = json.dumps({"message": message, "reason": reason}).encode()
            self.answer(502 if refused else 503, {"Content-Type": "application/json"}, body)

        def _bad_request_body(self, reasons: str) -> None:
            self._gateway(400, "BAD_REQUEST_BODY", **{"error.validationErrorString": reasons})

        def _gateway(self, status: int, response_type: str, **context: str) -> None:
            # API Gateway's own answer, from the stack's gateway responses (serverless.yml) when it has one.
            body = gateway_response(resources or {}, response_type, **context)
            if body is None:
                return self._json(status, HTTPStatus(status).phrase)
            self.answer(status, {"Content-Type": "application/json"}, body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, CONNECT, made-up ones) finds no route: 404 JSON, not the stdlib's 501.
            if name.startswith("do_"):
                return self._dispatch
            raise AttributeError(name)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 256

    server = Server((host, port), Handler)
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="local-front", daemon=True)
    thread.start()
    return thread
