"""API Gateway REST proxy events and responses: one builder for the local front and the tests."""

from __future__ import annotations

import base64
import json
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


def validation_error_string(validator: Any, value: Any) -> str:
    """What API Gateway puts in `$context.error.validationErrorString` when its model refuses a body.

    API Gateway validates request models with a draft-04 validator (java-json-tools) and lists
    its messages, in brackets, comma-separated: the object's own rules first (keywords in
    alphabetical order), then each field's (fields in alphabetical order). Its messages name the
    rule and the value's type but not the field, except for missing and extra fields.
    `validator` is a jsonschema Draft4Validator for the same model.
    """
    messages = []
    for error in sorted(validator.iter_errors(value), key=lambda e: ([str(p) for p in e.absolute_path], e.validator)):
        # A keyword the model does not use today falls back to jsonschema's own words.
        message = _VALIDATION_MESSAGES.get(error.validator, lambda e: e.message)(error)
        if message not in messages:  # jsonschema reports each missing field apart; API Gateway once
            messages.append(message)
    return "[" + ", ".join(messages) + "]"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}[type(value)]


def _json_list(names: Any) -> str:
    return json.dumps(sorted(names), separators=(",", ":"), ensure_ascii=False)


_VALIDATION_MESSAGES = {
    "type": lambda e: (
        f"instance type ({_json_type(e.instance)}) does not match any allowed primitive type "
        f"(allowed: {_json_list([e.validator_value] if isinstance(e.validator_value, str) else e.validator_value)})"
    ),
    "required": lambda e: (
        f"object has missing required properties ({_json_list(n for n in e.validator_value if n not in e.instance)})"
    ),
    "additionalProperties": lambda e: (
        "object instance has properties which are not allowed by the schema: "
        + _json_list(set(e.instance) - set(e.schema.get("properties", {})))
    ),
    "maximum": lambda e: (
        f"numeric instance is greater than the required maximum (maximum: {e.validator_value}, found: {e.instance})"
    ),
    "minimum": lambda e: (
        f"numeric instance is lower than the required minimum (minimum: {e.validator_value}, found: {e.instance})"
    ),
}


def gateway_response(resources: Mapping[str, Any], response_type: str, **context: str) -> bytes | None:
    """The body of the stack's own GatewayResponse of this type (serverless.yml `resources`), with
    its `$context.…` variables filled in: e.g. context={"error.validationErrorString": …}.

    Values are JSON-escaped, as API Gateway does for a template of application/json.
    None when the stack does not customise that response.
    """
    for resource in resources.values():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::ApiGateway::GatewayResponse" and properties.get("ResponseType") == response_type:
            text = properties["ResponseTemplates"]["application/json"]
            for name in sorted(context, key=len, reverse=True):
                text = text.replace("$context." + name, json.dumps(context[name], ensure_ascii=False)[1:-1])
            # A lone surrogate (a JSON key "\ud800") cannot be UTF-8: it goes back as the JSON escape it came as.
            return text.encode("utf-8", "backslashreplace")
    return None
