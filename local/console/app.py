"""The console's HTTP side, served by the local front on the API's port: `GET /` and `/_console/…`.

Pages and JSON for the browser, a server-sent event stream that says "something changed"
(the page then reads what it shows), the emails' HTML for sandboxed frames, the Stop button's
POST, the start form's explanation of a refused body, field by field, and the approval form's
POST (StartExecution of the approval machine). Every body passes the token redactor last.

An execution is /_console/api/executions/<machine>/<name> (machine: "workflow", "approval"): a
child execution is named as its parent. /_console/api/executions/<name> is the workflow's (or,
without one of that name, the first machine's that has it).
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote

import jsonschema

from functions.common.http import media_type
from local.console.changes import MIN_INTERVAL_SECONDS, Changes
from local.console.lineage import STARTED_BY
from local.console.reader import MACHINE_KEY, ConsoleReader, machine_key
from local.tables import callbacks_table_name

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
MERMAID = HERE / "node_modules" / "@mermaid-js" / "tiny" / "dist" / "mermaid.tiny.js"
PREFIX = "/_console/"

KEEP_ALIVE_SECONDS = 15

# Mermaid writes its styles inline into the SVG it draws: hence style-src 'unsafe-inline'; scripts
# only from this server, no eval.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# An email is shown as a document that runs nothing and loads nothing.
EMAIL_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)
_STATIC_FILES = {
    "console.js": (STATIC / "console.js", "text/javascript; charset=utf-8"),
    "console.css": (STATIC / "console.css", "text/css; charset=utf-8"),
    "mermaid.js": (MERMAID, "text/javascript; charset=utf-8"),
}
_EXECUTION = re.compile(r"api/executions/(?:([^/]+)/)?([^/]+)")
_STOP = "/stop"
_START_PROBLEMS = "api/start-problems"
_START_APPROVAL = "api/approvals"
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,80}")
# The machine the approval form starts (serverless.yml's logical id, as the engine names it).
APPROVAL_MACHINE = "ApprovalStateMachine"


class Console:
    def __init__(self, engine: Any, port: int) -> None:
        self.engine = engine
        self.changes = Changes()
        self.allowed_hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        # POST /start's request model (the state machine's own http event in serverless.yml).
        self.start_schema = next((route.schema for route in engine.service.routes if route.function is None), None)
        self._reader: ConsoleReader | None = None
        self._reader_lock = threading.Lock()
        engine.observers.append(self.changes.bump)

    @staticmethod
    def owns(path: str) -> bool:
        return path == "/" or path.startswith(PREFIX) or path == PREFIX.rstrip("/")

    @staticmethod
    def check_routes(paths: list[str]) -> None:
        """The API keeps its paths: none may fall under the console's."""
        for path in paths:
            if Console.owns(path):
                raise ValueError(f"API route {path} collides with the local console (/ and {PREFIX})")

    def reader(self) -> ConsoleReader:
        with self._reader_lock:
            if self._reader is None:
                import boto3

                region = self.engine.service.region
                self._reader = ConsoleReader(
                    states=boto3.client("stepfunctions", region_name=region),
                    dynamodb=boto3.client("dynamodb", region_name=region),
                    table=callbacks_table_name(self.engine.service.resources),
                    machines={machine_key(machine.logical_id): self.engine.machine_arns[machine.logical_id]
                              for machine in self.engine.service.machines},
                    outbox=self.engine.outbox,
                    version_of=self.changes.of,
                    shared_version=lambda: self.changes.shared,
                )
            return self._reader

    # -- requests -------------------------------------------------------------------------
    def serve(self, handler: Any, method: str, path: str, headers: Any, body: bytes = b"") -> None:
        answer: Callable[[int, dict[str, str], bytes], None] = lambda status, extra, body: handler.answer(
            status, {**_BASE_HEADERS, **extra}, self.reader().redactor.body(body)
        )
        host = (headers.get("Host") or "").lower()
        if host not in self.allowed_hosts:
            # Another name for this machine (DNS rebinding) gets nothing: the console shows live links.
            return answer(421, _JSON, _message(f"The console answers on http://127.0.0.1 only, not {host or '?'}."))
        relative = path[len(PREFIX):] if path.startswith(PREFIX) else ""
        if relative.startswith("static/") and method in ("GET", "HEAD"):
            # The console's own files, read once: nothing of the workflow is in them.
            return self._static(lambda status, extra, body: handler.answer(status, {**_BASE_HEADERS, **extra}, body),
                                relative[len("static/"):])
        if method == "POST":
            found = _EXECUTION.fullmatch(relative.removesuffix(_STOP)) if relative.endswith(_STOP) else None
            if relative not in (_START_PROBLEMS, _START_APPROVAL) and not found:
                return answer(404, _JSON, _message(f"No console route for POST {path}."))
            if not self._same_origin(headers):
                return answer(403, _JSON, _message("Only the console's own page may post here."))
            if relative == _START_PROBLEMS:
                return answer(200, _JSON, _dump(start_problems(self.start_schema or {}, body)))
            if relative == _START_APPROVAL:
                return self._start_approval(answer, body)
            machine, name = self._execution(found)
            stopped = self.reader().stop(machine, name) if machine else None
            if stopped is None:
                return answer(404, _JSON, _message(self._missing(found)))
            self.changes.bump()
            return answer(200, _JSON, json.dumps(stopped).encode())
        if method not in ("GET", "HEAD"):
            return answer(405, {**_JSON, "Allow": "GET, HEAD"}, _message(f"{method} is not supported here."))
        if path == "/":
            return answer(200, {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": PAGE_POLICY,
                                "X-Frame-Options": "DENY"}, _file(STATIC / "index.html"))
        if relative == "api/events":
            return self._events(handler)
        if relative == "api/executions":
            return answer(200, _JSON, _dump(self.reader().executions()))
        found = _EXECUTION.fullmatch(relative)
        if found:
            machine, name = self._execution(found)
            detail = self.reader().execution(machine, name) if machine else None
            if detail is None:
                return answer(404, _JSON, _message(self._missing(found)))
            return answer(200, _JSON, detail)
        if relative.startswith("emails/"):
            html = self.reader().email_html(unquote(relative[len("emails/"):]))
            if html is None:
                return answer(404, _JSON, _message("No such email in the outbox."))
            return answer(200, {"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": EMAIL_POLICY},
                          _in_new_tab(html).encode("utf-8"))
        return answer(404, _JSON, _message(f"No console route for GET {path}."))

    def _execution(self, found: re.Match[str]) -> tuple[str | None, str]:
        """(machine, name) of an execution path; machine None when there is no such execution."""
        name = unquote(found.group(2))
        if not _NAME.fullmatch(name):
            return None, name
        if found.group(1) is None:
            return self.reader().machine_of(name), name
        machine = unquote(found.group(1))
        return (machine if MACHINE_KEY.fullmatch(machine) and machine in self.reader().machines else None), name

    def _missing(self, found: re.Match[str]) -> str:
        machines = self.reader().machines
        if found.group(1) is not None and unquote(found.group(1)) not in machines:
            return f"No state machine {unquote(found.group(1))} here: the console shows {', '.join(machines)}."
        return f"No execution named {unquote(found.group(2))}."

    def _start_approval(self, answer: Callable[[int, dict[str, str], bytes], None], body: bytes) -> None:
        """The approval form: StartExecution of the approval machine with the request as its input,
        by the console's own client, as the AWS CLI would (there is no API route for it)."""
        try:
            request = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):
            return answer(400, _JSON, _message("The body is not valid JSON."))
        if not isinstance(request, dict):
            return answer(400, _JSON, _message("The body must be a JSON object: the approval request."))
        if STARTED_BY in request:  # the console would link it to a parent that never started it
            return answer(400, _JSON, _message(f"{STARTED_BY} is Step Functions' own: only a parent execution sets it."))
        reader = self.reader()
        try:
            started = reader.start(machine_key(APPROVAL_MACHINE), request)
        except reader.states.exceptions.ClientError as error:  # Step Functions' own refusal (the input's size)
            return answer(400, _JSON, _message(f"StartExecution refused the input: {error.response['Error']['Message']}"))
        self.changes.bump()
        return answer(200, _JSON, _dump(started))

    def _same_origin(self, headers: Any) -> bool:
        origin = headers.get("Origin")
        if origin is not None and origin.removeprefix("http://") not in self.allowed_hosts:
            return False
        # A JSON POST cannot come from another site's form; fetch from another origin needs CORS, never granted.
        return media_type(headers) == "application/json"

    def _static(self, answer: Callable[..., None], name: str) -> None:
        entry = _STATIC_FILES.get(name)
        if entry is None:
            return answer(404, _JSON, _message(f"No console file {name}."))
        path, content_type = entry
        if not path.exists():
            # Only the graph library can be missing: `make local` installs it.
            body = b"window.mermaid = undefined;"
            return answer(200, {"Content-Type": content_type, "Cache-Control": "no-store"}, body)
        caching = "max-age=3600" if name == "mermaid.js" else "no-cache"
        return answer(200, {"Content-Type": content_type, "Cache-Control": caching}, _file(path))

    def _events(self, handler: Any) -> None:
        """Server-sent events: the version number whenever something the console shows changed."""
        handler.send_response(200)
        for key, value in {**_BASE_HEADERS, "Content-Type": "text/event-stream", "Cache-Control": "no-store",
                           "Connection": "close"}.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.close_connection = True
        if handler.command == "HEAD":
            return
        version = -1  # the first message goes out at once: the page reads its first view
        sent = 0.0
        try:
            while not self.changes.closed:
                if version == -1:
                    version = self.changes.version
                    message = f"retry: 1000\ndata: {version}\n\n"
                else:
                    newer = self.changes.settled_after(version, KEEP_ALIVE_SECONDS, sent + MIN_INTERVAL_SECONDS)
                    message = ": keep-alive\n\n" if newer == version else f"data: {newer}\n\n"
                    version = newer
                sent = time.monotonic()
                handler.wfile.write(message.encode())
                handler.wfile.flush()
        except OSError:
            return  # the page went away


_JSON = {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}
_BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}


@functools.lru_cache(maxsize=8)
def _file(path: Path) -> bytes:
    return path.read_bytes()


def _message(text: str) -> bytes:
    return json.dumps({"message": text}).encode()


def _dump(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")


def _in_new_tab(html: str) -> str:
    """Links in a shown email open a new tab (the frame's sandbox allows popups, nothing else)."""
    base = '<base target="_blank">'
    found = re.search(r"<head[^>]*>", html, re.IGNORECASE)
    if found:
        return html[: found.end()] + base + html[found.end():]
    return base + html


def start_problems(schema: dict[str, Any], body: bytes) -> dict[str, Any]:
    """What is wrong with a body POST /start refused, in plain words: {"fields": {name: problem},
    "body": problem of the body as a whole or None}. The start form marks only those fields."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return {"fields": {}, "body": "The body is not valid JSON."}
    if not isinstance(value, dict):
        return {"fields": {}, "body": "The body must be a JSON object."}
    properties = schema.get("properties", {})
    fields: dict[str, str] = {}
    others: list[str] = []
    for error in jsonschema.Draft4Validator(schema).iter_errors(value):
        if error.path:
            name = str(error.path[0])
            rule = properties.get(name, {})
            if error.validator == "type" and error.validator_value == "integer":
                fields.setdefault(name, f"{name} must be a whole number")
            elif error.validator in ("minimum", "maximum"):
                fields.setdefault(name, f"{name} must be between {rule.get('minimum')} and {rule.get('maximum')}")
            else:
                fields.setdefault(name, f"{name}: {error.message}")
        elif error.validator == "required":
            for name in error.validator_value:
                if name not in value:
                    fields.setdefault(name, f"{name} is missing")
        elif error.validator == "additionalProperties":
            others.append(f"Only {' and '.join(properties)} are accepted.")
        else:
            others.append(error.message)
    return {"fields": fields, "body": " ".join(others) or None}

