import math

import pytest

from functions.common.errors import InvalidInput
from functions.validate.logic import MAX_SAFE_INTEGER, validate_numbers


@pytest.mark.parametrize(
    "value",
    [
        {"x": 0, "y": 0},
        {"x": -5, "y": 7},
        {"x": MAX_SAFE_INTEGER, "y": -MAX_SAFE_INTEGER},
    ],
)
def test_accepts_integers_in_the_safe_range(value):
    assert validate_numbers(value) == value


@pytest.mark.parametrize(
    "value, reason",
    [
        ({"x": True, "y": 1}, "boolean"),
        ({"x": 1, "y": False}, "boolean"),
        ({"x": 1.0, "y": 1}, "fraction"),
        ({"x": 1, "y": 2.5}, "fraction"),
        ({"x": math.nan, "y": 1}, "fraction"),
        ({"x": math.inf, "y": 1}, "fraction"),
        ({"x": "1", "y": 1}, "string"),
        ({"x": "١", "y": 1}, "string"),
        ({"x": None, "y": 1}, "null"),
        ({"x": [1], "y": 1}, "array"),
        ({"x": {"v": 1}, "y": 1}, "object"),
        ({"x": MAX_SAFE_INTEGER + 1, "y": 0}, "between"),
        ({"x": 0, "y": -MAX_SAFE_INTEGER - 1}, "between"),
        ({"x": 1}, "y is missing"),
        ({}, "x is missing"),
        ({"x": 1, "y": 2, "z": 3}, "Unexpected field"),
        ([1, 2], "JSON object"),
        ("x=1&y=2", "JSON object"),
        (None, "JSON object"),
    ],
)
def test_refuses_anything_else_with_a_reason(value, reason):
    with pytest.raises(InvalidInput) as refused:
        validate_numbers(value)
    assert reason in str(refused.value)
