"""POST /start with an invalid body: 400 naming the field and the rule, in API Gateway's words.

Deployed, API Gateway validates the body against schemas/start.json and answers with the
stack's BAD_REQUEST_BODY template, which carries `$context.error.validationErrorString`; the
local front fills the same template from serverless.yml with the same words
(tests/deploy/test_package.py checks the template itself).
"""

from __future__ import annotations

import pytest
import requests

HINT = ' (send {"x": integer, "y": integer} and nothing else)'
NOT_INTEGER = "does not match any allowed primitive type (allowed: [\"integer\"])"

CASES = [
    ("missing-x", {"y": 2}, '[object has missing required properties (["x"])]'),
    ("missing-both", {}, '[object has missing required properties (["x","y"])]'),
    ("string-y", {"x": 1, "y": "2"}, f"[instance type (string) {NOT_INTEGER}]"),
    ("float-x", {"x": 1.5, "y": 2}, f"[instance type (number) {NOT_INTEGER}]"),
    ("boolean-y", {"x": 1, "y": True}, f"[instance type (boolean) {NOT_INTEGER}]"),
    ("null-x", {"x": None, "y": 2}, f"[instance type (null) {NOT_INTEGER}]"),
    ("extra-field", {"x": 1, "y": 2, "z": 3},
     '[object instance has properties which are not allowed by the schema: ["z"]]'),
    ("array", [1, 2], '[instance type (array) does not match any allowed primitive type (allowed: ["object"])]'),
    ("string", "x=1&y=2",
     '[instance type (string) does not match any allowed primitive type (allowed: ["object"])]'),
    ("too-large", {"x": 9007199254740992, "y": 1},
     "[numeric instance is greater than the required maximum (maximum: 9007199254740991, found: 9007199254740992)]"),
    ("several", {"x": "a", "z": 1},
     '[object instance has properties which are not allowed by the schema: ["z"], '
     'object has missing required properties (["y"]), '
     f"instance type (string) {NOT_INTEGER}]"),
]


@pytest.mark.parametrize("value, reasons", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_invalid_start_body_says_which_rule_it_breaks(local_service, value, reasons):
    answer = requests.post(f"{local_service.url}/start", json=value, timeout=10)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {"message": f"Invalid request body: {reasons}{HINT}"}


def test_a_body_that_is_not_json_is_refused_the_same_way(local_service):
    answer = requests.post(f"{local_service.url}/start", data=b'{"x": 1,', timeout=10,
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json() == {"message": f"Invalid request body: [the body is not valid JSON]{HINT}"}
