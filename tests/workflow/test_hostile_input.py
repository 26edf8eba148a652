"""Malformed and hostile requests on every route, over HTTP against `python -m local`.

README, "Use" (the HTTP API): every error answer carries a message a person understands, and no
input of any shape produces a 5xx or a stack trace. Each row of the table below is one request;
each must answer its exact 4xx quickly, with a readable message (JSON `message`, or the approval
pages' HTML `<p>`), and without a traceback. After the battery the service still runs a whole
workflow.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests

from local.service import decide, eventually, holds

TIMEOUT = 10  # seconds: a hang fails the case
SAFE = 9007199254740991  # Number.MAX_SAFE_INTEGER, the bound of x and y
UNKNOWN_ID = "Zx9_-" + "q" * 27  # well-formed (32 chars of [A-Za-z0-9_-]), never issued
assert len(UNKNOWN_ID) == 32
BASE = "{BASE}"  # replaced by the local service's URL when the request is sent

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TEXT = {"Content-Type": "text/plain"}
BIG = 300 * 1024


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str  # as sent, already percent-encoded
    status: int
    answer: str = "json"  # "json": {"message": ...}; "html": an approval page with a <p> message
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    raw: bool = False  # send with http.client, byte for byte (requests would normalise the path)


def j(method: str, path: str, value: Any, status: int = 400, case_id: str = "", **extra: Any) -> Case:
    """A JSON request; `value` may contain {BASE} inside strings (the service URL)."""
    text = value if isinstance(value, (str, bytes)) else json.dumps(value, ensure_ascii=False)
    body = text if isinstance(text, bytes) else text.encode("utf-8")
    return Case(case_id, method, path, status, headers=dict(JSON), body=body, **extra)


def form(path: str, body: str | bytes, status: int = 400, case_id: str = "", headers: dict | None = None) -> Case:
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    return Case(case_id, "POST", path, status, "html", dict(FORM if headers is None else headers), data)


def page(path: str, status: int, case_id: str) -> Case:
    return Case(case_id, "GET", path, status, "html")


def cb(url: str) -> dict[str, Any]:
    """A /double request, valid but for its callback URL."""
    return {"value": 21, "callbackUrl": url}


OWN_CALLBACK = BASE + "/callbacks/" + UNKNOWN_ID  # the one shape /double accepts

CASES = [
    # ---- POST /start: JSON {"x": int, "y": int}, nothing else -----------------------------------
    j("POST", "/start", b"", case_id="start-empty-body"),
    j("POST", "/start", b'{"x": 1, "y":', case_id="start-truncated-json"),
    j("POST", "/start", [1, 2], case_id="start-array"),
    j("POST", "/start", '"x=1&y=2"', case_id="start-string"),
    j("POST", "/start", "42", case_id="start-number"),
    j("POST", "/start", "null", case_id="start-null"),
    j("POST", "/start", '{"x": NaN, "y": 1}', case_id="start-NaN"),
    j("POST", "/start", '{"x": Infinity, "y": 1}', case_id="start-Infinity"),
    j("POST", "/start", '{"x": 1, "y": -Infinity}', case_id="start-minus-Infinity"),
    j("POST", "/start", {"x": True, "y": False}, case_id="start-booleans"),
    j("POST", "/start", '{"x": 1.0, "y": 2}', case_id="start-float-1.0"),
    j("POST", "/start", '{"x": 1e3, "y": 2}', case_id="start-float-1e3"),
    j("POST", "/start", {"x": "12", "y": 2}, case_id="start-ascii-digit-string"),
    j("POST", "/start", {"x": "١٢", "y": 2}, case_id="start-arabic-indic-digit-string"),
    j("POST", "/start", {"x": SAFE + 1, "y": 0}, case_id="start-x-past-max-safe"),
    j("POST", "/start", {"x": 0, "y": -SAFE - 1}, case_id="start-y-past-min-safe"),
    j("POST", "/start", {"x": 10**400, "y": 0}, case_id="start-400-digit-integer"),
    j("POST", "/start", {"x": {"value": 1}, "y": [2]}, case_id="start-nested-types"),
    j("POST", "/start", {"x": 1, "y": 2, "admin": True}, case_id="start-extra-field"),
    j("POST", "/start", {"x": 1}, case_id="start-missing-y"),
    j("POST", "/start", {"x": 1, "y": 2, "pad": "a" * BIG}, case_id="start-oversized-300KB"),
    j("POST", "/start", b"[" * 100_000, case_id="start-deeply-nested"),
    j("POST", "/start", b'{"x": 1, "y": 2}\xff', case_id="start-non-utf8-bytes"),
    Case("start-form-encoded", "POST", "/start", 415, headers=dict(FORM), body=b"x=1&y=2"),
    Case("start-text-plain", "POST", "/start", 415, headers=dict(TEXT), body=b'{"x": 1, "y": 2}'),
    Case("start-no-content-type", "POST", "/start", 415, body=b'{"x": 1, "y": 2}'),
    Case("start-PUT", "PUT", "/start", 404, headers=dict(JSON), body=b'{"x": 1, "y": 2}'),
    Case("start-DELETE", "DELETE", "/start", 404),
    Case("start-GET", "GET", "/start", 404),
    Case("start-TRACE", "TRACE", "/start", 404),
    Case("start-made-up-method", "BREW", "/start", 404),
    # ---- GET /executions/{name} -----------------------------------------------------------------
    Case("executions-unknown-name", "GET", "/executions/" + "0" * 36, 404),
    Case("executions-80-chars-unknown", "GET", "/executions/" + "a" * 80, 404),
    Case("executions-81-chars", "GET", "/executions/" + "a" * 81, 400),
    Case("executions-traversal-%2F", "GET", "/executions/..%2F..%2Fetc%2Fpasswd", 400),
    Case("executions-dot-dot-encoded", "GET", "/executions/%2e%2e", 400),
    Case("executions-raw-dot-segments", "GET", "/executions/../start", 404, raw=True),
    Case("executions-sql-injection", "GET", "/executions/" + quote("' OR 1=1 --", safe=""), 400),
    Case("executions-script", "GET", "/executions/" + quote("<script>alert(1)</script>", safe=""), 400),
    Case("executions-NUL", "GET", "/executions/abc%00def", 400),
    Case("executions-arn-as-name", "GET", "/executions/" + quote("arn:aws:states:x:1:execution:a:b", safe=""), 400),
    Case("executions-no-name", "GET", "/executions", 404),
    Case("executions-extra-segment", "GET", "/executions/abc/def", 404),
    Case("executions-DELETE", "DELETE", "/executions/" + "0" * 36, 404),
    Case("executions-PATCH", "PATCH", "/executions/" + "0" * 36, 404),
    # ---- GET /approve?id=, GET /reject?id= --------------------------------------------------------
    page("/approve", 400, "approve-page-no-id"),
    page("/approve?id=", 400, "approve-page-empty-id"),
    page("/approve?id=" + UNKNOWN_ID, 404, "approve-page-unknown-id"),
    page("/reject?id=" + UNKNOWN_ID, 404, "reject-page-unknown-id"),
    page("/approve?id=" + UNKNOWN_ID[:31], 400, "approve-page-31-char-id"),
    page("/approve?id=" + "A" * 600, 400, "approve-page-overlong-id"),
    page("/approve?id=%00" + UNKNOWN_ID[1:], 400, "approve-page-NUL-in-id"),
    page("/reject?id=" + quote("' OR 1=1 --", safe=""), 400, "reject-page-sql-injection"),
    page("/approve?id=" + quote("<script>alert(1)</script>", safe=""), 400, "approve-page-script"),
    page("/approve?id=..%2F..%2Fetc%2Fpasswd", 400, "approve-page-traversal"),
    page("/approve?id=%ff%fe" + "A" * 30, 400, "approve-page-invalid-utf8-escapes"),
    page("/approve?id=" + UNKNOWN_ID + "&id=" + quote("<b>x</b>", safe=""), 400, "approve-page-duplicated-id"),
    Case("approve-PUT", "PUT", "/approve?id=" + UNKNOWN_ID, 404),
    Case("reject-DELETE", "DELETE", "/reject?id=" + UNKNOWN_ID, 404),
    Case("approve-PATCH", "PATCH", "/approve", 404, headers=dict(FORM), body=b"id=" + UNKNOWN_ID.encode()),
    Case("approve-raw-dot-segments", "GET", "/approve/../start", 404, raw=True),
    # ---- POST /approve, POST /reject: form fields id, optional comment (<= 500) --------------------
    form("/approve", "id=" + UNKNOWN_ID, 404, "approve-post-unknown-id"),
    form("/reject", "id=" + UNKNOWN_ID + "&comment=no", 404, "reject-post-unknown-id"),
    form("/approve", json.dumps({"id": UNKNOWN_ID}), 400, "approve-post-json-body", headers=dict(JSON)),
    form("/reject", "id=" + UNKNOWN_ID, 400, "reject-post-text-plain", headers=dict(TEXT)),
    form("/approve", "", 400, "approve-post-empty-form"),
    form("/approve", "comment=hello", 400, "approve-post-missing-id"),
    form("/approve", f"id={UNKNOWN_ID}&id={UNKNOWN_ID}", 400, "approve-post-duplicated-id"),
    form("/reject", f"id={UNKNOWN_ID}&comment=a&comment=b", 400, "reject-post-duplicated-comment"),
    form("/approve", f"id={UNKNOWN_ID}&comment=" + "x" * 501, 400, "approve-post-comment-501-chars"),
    form("/reject", f"id={UNKNOWN_ID}&comment=a%00b", 400, "reject-post-NUL-in-comment"),
    form("/approve", "id=%00" + UNKNOWN_ID[1:], 400, "approve-post-NUL-in-id"),
    form("/approve", "id=" + quote("' OR 1=1 --", safe=""), 400, "approve-post-sql-injection"),
    form("/reject", "id=" + quote("<script>alert(1)</script>", safe=""), 400, "reject-post-script"),
    form("/approve", "id=" + "A" * 600, 400, "approve-post-overlong-id"),
    form("/approve", "id=..%2F..%2Fcallbacks%2F" + UNKNOWN_ID, 400, "approve-post-traversal-id"),
    form("/approve", "id=%ff%fe" + "A" * 30, 400, "approve-post-invalid-utf8-escapes"),
    form("/approve", b"id=\xff\xfe" + b"A" * 30, 400, "approve-post-non-utf8-bytes"),
    form("/approve", "&".join(f"f{index}=1" for index in range(50)), 400, "approve-post-50-fields"),
    form("/reject", f"id={UNKNOWN_ID}&comment=" + "a" * BIG, 400, "reject-post-oversized-300KB"),
    # ---- POST /callbacks/{id}: {"result": int} or {"error": str, "cause": str} ------------------
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"result": 42}, 404, "callbacks-unknown-id"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"error": "Boom", "cause": "x"}, 404, "callbacks-unknown-id-error"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", b"", case_id="callbacks-empty-body"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", b'{"result": 4', case_id="callbacks-truncated-json"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", [42], case_id="callbacks-array"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", '"42"', case_id="callbacks-string"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", "42", case_id="callbacks-number"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", "null", case_id="callbacks-null"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", '{"result": NaN}', case_id="callbacks-NaN"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", '{"result": Infinity}', case_id="callbacks-Infinity"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", '{"result": -Infinity}', case_id="callbacks-minus-Infinity"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", '{"result": 1e400}', case_id="callbacks-float-overflow"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"result": True}, case_id="callbacks-boolean"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", '{"result": 84.0}', case_id="callbacks-float-84.0"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", '{"result": 1e3}', case_id="callbacks-float-1e3"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"result": "84"}, case_id="callbacks-ascii-digit-string"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"result": "٨٤"}, case_id="callbacks-arabic-indic-digit-string"),
    # The result is 2 * (x + y), so its bound is 4 * SAFE; past it:
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"result": 4 * SAFE + 1}, case_id="callbacks-result-past-bound"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"result": -(10**30)}, case_id="callbacks-result-huge-negative"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", '{"result": ' + "9" * 5000 + "}", case_id="callbacks-5000-digits"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"result": {"value": 84}}, case_id="callbacks-nested-result"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"result": 84, "extra": 1}, case_id="callbacks-extra-field"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"result": 84, "error": "x"}, case_id="callbacks-result-and-error"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"error": ["Boom"]}, case_id="callbacks-error-not-string"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"error": "E" * 257}, case_id="callbacks-error-too-long"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", {"result": 84, "pad": "a" * BIG}, case_id="callbacks-oversized-300KB"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", b"[" * 60_000, case_id="callbacks-deeply-nested"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", b"\xff\xfe{}", case_id="callbacks-non-utf8-bytes"),
    # A lone surrogate in a key or a value: valid JSON text, not a valid string anywhere else.
    j("POST", f"/callbacks/{UNKNOWN_ID}", b'{"\\ud800": 84}', case_id="callbacks-lone-surrogate-key"),
    j("POST", f"/callbacks/{UNKNOWN_ID}", b'{"error": "\\udfff", "cause": "x"}', 404, "callbacks-lone-surrogate-error"),
    j("POST", "/start", b'{"x": 1, "y": 2, "\\ud800": 3}', case_id="start-lone-surrogate-key"),
    j("POST", "/start", b'{"\\ud800": 1}', case_id="start-only-a-lone-surrogate-key"),
    j("POST", "/double", b'{"value": 1, "callbackUrl": "x", "\\ud800": 1}', case_id="double-lone-surrogate-key"),
    Case("callbacks-text-plain", "POST", f"/callbacks/{UNKNOWN_ID}", 400, headers=dict(TEXT), body=b'{"result": 84}'),
    Case("callbacks-form-encoded", "POST", f"/callbacks/{UNKNOWN_ID}", 400, headers=dict(FORM), body=b"result=84"),
    j("POST", "/callbacks/..%2F..%2Fstart", {"result": 84}, case_id="callbacks-path-traversal"),
    j("POST", "/callbacks/%00" + UNKNOWN_ID[1:], {"result": 84}, case_id="callbacks-path-NUL"),
    j("POST", "/callbacks/" + quote("' OR 1=1 --", safe=""), {"result": 84}, case_id="callbacks-path-sql-injection"),
    j("POST", "/callbacks/" + quote("<script>alert(1)</script>", safe=""), {"result": 84}, case_id="callbacks-path-script"),
    j("POST", "/callbacks/" + "A" * 600, {"result": 84}, case_id="callbacks-path-overlong-id"),
    j("POST", "/callbacks/" + UNKNOWN_ID[:31], {"result": 84}, case_id="callbacks-path-31-char-id"),
    j("POST", f"/callbacks/{UNKNOWN_ID}/extra", {"result": 84}, 404, "callbacks-extra-segment"),
    j("POST", "/callbacks", {"result": 84}, 404, "callbacks-no-id"),
    Case("callbacks-GET", "GET", f"/callbacks/{UNKNOWN_ID}", 404),
    Case("callbacks-PUT", "PUT", f"/callbacks/{UNKNOWN_ID}", 404, headers=dict(JSON), body=b'{"result": 84}'),
    Case("callbacks-DELETE", "DELETE", f"/callbacks/{UNKNOWN_ID}", 404),
    # ---- POST /double: {"value": int, "callbackUrl": this service's /callbacks/{id}} -------------
    j("POST", "/double", b"", case_id="double-empty-body"),
    j("POST", "/double", b'{"value": 21, "callbackUrl": "', case_id="double-truncated-json"),
    j("POST", "/double", [21, OWN_CALLBACK], case_id="double-array"),
    j("POST", "/double", "null", case_id="double-null"),
    j("POST", "/double", '{"value": NaN, "callbackUrl": "%s"}' % OWN_CALLBACK, case_id="double-NaN"),
    j("POST", "/double", '{"value": -Infinity, "callbackUrl": "%s"}' % OWN_CALLBACK, case_id="double-minus-Infinity"),
    j("POST", "/double", {"value": True, "callbackUrl": OWN_CALLBACK}, case_id="double-boolean"),
    j("POST", "/double", '{"value": 21.0, "callbackUrl": "%s"}' % OWN_CALLBACK, case_id="double-float-21.0"),
    j("POST", "/double", '{"value": 1e3, "callbackUrl": "%s"}' % OWN_CALLBACK, case_id="double-float-1e3"),
    j("POST", "/double", {"value": "21", "callbackUrl": OWN_CALLBACK}, case_id="double-ascii-digit-string"),
    j("POST", "/double", {"value": "٢١", "callbackUrl": OWN_CALLBACK}, case_id="double-arabic-indic-digit-string"),
    # The value is x + y, so its bound is 2 * SAFE; past it:
    j("POST", "/double", {"value": 2 * SAFE + 1, "callbackUrl": OWN_CALLBACK}, case_id="double-value-past-bound"),
    j("POST", "/double", {"value": -(10**30), "callbackUrl": OWN_CALLBACK}, case_id="double-value-huge-negative"),
    j("POST", "/double", {"value": {"n": 21}, "callbackUrl": [OWN_CALLBACK]}, case_id="double-nested-types"),
    j("POST", "/double", {"value": 21, "callbackUrl": OWN_CALLBACK, "extra": 1}, case_id="double-extra-field"),
    j("POST", "/double", {"value": 21}, case_id="double-missing-callbackUrl"),
    j("POST", "/double", {"value": 21, "callbackUrl": 12345}, case_id="double-callbackUrl-not-string"),
    j("POST", "/double", cb("http://169.254.169.254/latest/meta-data/"), case_id="double-url-cloud-metadata"),
    j("POST", "/double", cb("file:///etc/passwd"), case_id="double-url-file"),
    j("POST", "/double", cb(f"https://evil.example/callbacks/{UNKNOWN_ID}"), case_id="double-url-other-host"),
    j("POST", "/double", cb(f"{BASE}@evil.example/callbacks/{UNKNOWN_ID}"), case_id="double-url-userinfo-trick"),
    j("POST", "/double", cb(f"{BASE}.evil.example/callbacks/{UNKNOWN_ID}"), case_id="double-url-host-suffix-trick"),
    j("POST", "/double", cb(f"{BASE}/approve?id={UNKNOWN_ID}"), case_id="double-url-own-approve"),
    j("POST", "/double", cb(f"{BASE}/start"), case_id="double-url-own-start"),
    j("POST", "/double", cb(f"{BASE}/callbacks/../approve?id={UNKNOWN_ID}"), case_id="double-url-callbacks-traversal"),
    j("POST", "/double", cb(f"{BASE}/callbacks/..%2F..%2Fstart"), case_id="double-url-callbacks-encoded-traversal"),
    j("POST", "/double", cb(f"{BASE}/callbacks/{UNKNOWN_ID}/../../start"), case_id="double-url-id-then-traversal"),
    j("POST", "/double", cb(f"{BASE}/callbacks/{UNKNOWN_ID}?next=http://evil.example"), case_id="double-url-query"),
    j("POST", "/double", cb(f"{BASE}/callbacks/%00{UNKNOWN_ID[1:]}"), case_id="double-url-NUL"),
    j("POST", "/double", cb(f"{BASE}/callbacks/"), case_id="double-url-no-id"),
    j("POST", "/double", {"value": 21, "callbackUrl": OWN_CALLBACK, "pad": "a" * BIG}, case_id="double-oversized-300KB"),
    j("POST", "/double", b"\xff\xfe{}", case_id="double-non-utf8-bytes"),
    j("POST", "/double", b"{\"value\": " * 6_000, case_id="double-deeply-nested"),
    Case("double-form-encoded", "POST", "/double", 400, headers=dict(FORM), body=b"value=21&callbackUrl=x"),
    Case("double-GET", "GET", "/double", 404),
    Case("double-PATCH", "PATCH", "/double", 404, headers=dict(JSON), body=b'{"value": 21}'),
    # ---- no such route ----------------------------------------------------------------------------
    Case("root-POST", "POST", "/", 404, headers=dict(JSON), body=b'{"x": 1, "y": 2}'),  # GET / is the console
    Case("console-unknown-path", "GET", "/_console/admin", 404),
    Case("console-traversal", "GET", "/_console/static/..%2F..%2Fapp.py", 404),
    Case("console-email-traversal", "GET", "/_console/emails/..%2F..%2Fserverless.yml", 404),
    Case("console-stop-without-json", "POST", "/_console/api/executions/x/stop", 403, headers=dict(FORM), body=b"a=1"),
    Case("unknown-path", "GET", "/admin", 404),
    Case("unknown-path-traversal", "GET", "/..%2F..%2Fetc%2Fpasswd", 404),
    Case("unknown-path-NUL", "POST", "/start%00", 404, headers=dict(JSON), body=b'{"x": 1, "y": 2}'),
]

assert len(CASES) >= 45
assert len({case.id for case in CASES}) == len(CASES), "case ids must be unique"
assert all(case.id for case in CASES)

_STACK_TRACE = re.compile(r"Traceback|File \"|\b[A-Z]\w*(?:Error|Exception)\b|Failed validating")
_PARAGRAPH = re.compile(r"<p>([^<]*[A-Za-z]{3,}[^<]*)</p>")
_WORDS = re.compile(r"[A-Za-z]{3,}.*\s.*[A-Za-z]{3,}")  # at least two words: a sentence, not a code


@dataclass
class Answer:
    status: int
    content_type: str
    text: str


def send(base: str, case: Case) -> Answer:
    body = case.body.replace(BASE.encode(), base.encode()) if case.body is not None else None
    if case.raw:
        netloc = urlsplit(base).netloc
        connection = http.client.HTTPConnection(netloc, timeout=TIMEOUT)
        try:
            connection.putrequest(case.method, case.path, skip_accept_encoding=True)
            for key, value in case.headers.items():
                connection.putheader(key, value)
            connection.putheader("Content-Length", str(len(body or b"")))
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            return Answer(response.status, response.getheader("Content-Type", ""), data.decode("utf-8", "replace"))
        finally:
            connection.close()
    response = requests.request(case.method, base + case.path, headers=case.headers, data=body, timeout=TIMEOUT)
    return Answer(response.status_code, response.headers.get("Content-Type", ""), response.text)


def readable_message(case: Case, answer: Answer) -> str:
    if case.answer == "html":
        assert answer.content_type.startswith("text/html"), answer.content_type
        found = _PARAGRAPH.search(answer.text)
        assert found, answer.text
        return found.group(1)
    assert answer.content_type.startswith("application/json"), answer.content_type
    body = json.loads(answer.text)
    assert isinstance(body, dict) and isinstance(body.get("message"), str), body
    return body["message"]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_request_is_refused_with_a_readable_4xx(local_service, case):
    answer = send(local_service.url, case)
    assert answer.status < 500, f"{answer.status}: {answer.text[:500]}"
    assert answer.status == case.status, f"{answer.status}: {answer.text[:500]}"
    message = readable_message(case, answer)
    assert _WORDS.search(message), f"not a readable message: {message!r}"
    assert not _STACK_TRACE.search(answer.text), answer.text[:2000]
    # Nothing the caller sent comes back as live markup.
    assert "<script" not in answer.text.lower()
    if (case.method, case.path, case.status) == ("POST", "/start", 400):
        assert message.startswith("Invalid request body: [")
    if case.status == 415:
        assert "application/json" in message


@pytest.mark.parametrize("declared", ["abc", "-5", "12x", "1e3", ""], ids=["letters", "negative", "trailing-junk", "exponent", "empty"])
def test_a_malformed_content_length_is_answered_400_not_dropped_or_left_waiting(local_service, declared):
    host, port = local_service.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as connection:
        connection.sendall(
            f"POST /callbacks/{UNKNOWN_ID} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {declared}\r\n\r\n{{\"result\": 84}}".encode()
        )
        answer = b""
        while chunk := connection.recv(65536):  # the front closes the connection after answering
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert int(head.split()[1]) == 400, head
    assert "Content-Length" in json.loads(body)["message"]


def validations_started(service) -> int:
    return sum("-> Validate" in line for line in service.log.read_text(errors="replace").splitlines())


def test_an_invalid_start_request_starts_no_execution(local_service):
    # Anything started earlier in the session has reached its first state once the count holds still.
    counts: list[int] = []

    def settled() -> int | None:
        counts.append(validations_started(local_service))
        return counts[-1] if len(counts) > 5 and len(set(counts[-6:])) == 1 else None

    before = eventually(settled, 10, "the log kept changing", interval=0.1)
    invalid = [case for case in CASES if case.method == "POST" and case.path == "/start"]
    assert len(invalid) >= 20
    for case in invalid:
        assert send(local_service.url, case).status in (400, 415)
    holds(lambda: validations_started(local_service) == before, 1.5, "an invalid request started an execution")
    # The log does show a real start (so the count above measures something).
    name = local_service.start(1, 1)
    eventually(lambda: f"[{name}] -> Validate" in local_service.log.read_text(errors="replace"), 10,
               f"{name} never reached Validate", interval=0.1)
    decide(local_service.approval_links(name)["reject"])
    assert local_service.wait_until_done(name)["error"] == "ApprovalRejected"


@pytest.mark.parametrize(
    ("x", "y"),
    [(12, 30), (SAFE, SAFE)],
    ids=["ordinary-numbers", "largest-safe-integers"],
)
def test_after_the_battery_a_whole_workflow_still_succeeds(local_service, x, y):
    name = local_service.start(x, y)
    links = local_service.approval_links(name)
    confirmation = requests.get(links["approve"], timeout=TIMEOUT)
    assert confirmation.status_code == 200 and f"<td>{2 * (x + y)}</td>" in confirmation.text
    comment = "<b>fine</b> ' OR 1=1 --"
    answer = decide(links["approve"], comment=comment)
    assert answer.status_code == 200, answer.text
    assert "<b>fine</b>" not in answer.text and "&lt;b&gt;fine&lt;/b&gt;" in answer.text
    done = local_service.wait_until_done(name)
    assert done["status"] == "SUCCEEDED", done
    output = done["output"]
    assert (output["x"], output["y"], output["sum"], output["doubled"]) == (x, y, x + y, 2 * (x + y))
    assert output["decision"] == "approved" and output["comment"] == comment
