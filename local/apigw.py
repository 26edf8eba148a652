"""API Gateway REST proxy events and responses: one builder for the local front and the tests."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any, Mapping
from urllib.parse import parse_qsl


def proxy_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    source_ip: str = "127.0.0.1",
    stage: str = "local",
) -> dict[str, Any]:
    """An event shaped like the one API Gateway's Lambda proxy integration sends."""
    headers = dict(headers or {})
    pairs = parse_qsl(query, keep_blank_values=True)
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value  # API Gateway keeps the last value
        multi.setdefault(key, []).append(value)
    if isinstance(body, bytes):
        try:
            text, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode("ascii"), True
    else:
        text, encoded = body, False
    request_id = str(uuid.uuid4())
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers or None,
        "multiValueHeaders": {key: [value] for key, value in headers.items()} or None,
        "queryStringParameters": single or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method.upper(),
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "accountId": "123456789012",
            "apiId": "local",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", headers.get("user-agent"))},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def response_parts(result: Mapping[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body bytes) from a Lambda proxy response."""
    headers = {key: str(value) for key, value in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = ", ".join(str(value) for value in values)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    return int(result.get("statusCode", 200)), headers, data
