"""The input rules: x and y are JSON integers within JavaScript's safe range."""

from __future__ import annotations

from typing import Any

from functions.common.errors import InvalidInput

MAX_SAFE_INTEGER = 9007199254740991
FIELDS = ("x", "y")


def validate_numbers(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise InvalidInput("The input must be a JSON object with integers x and y.")
    extra = sorted(str(key) for key in value if key not in FIELDS)
    if extra:
        raise InvalidInput(f"Unexpected field(s): {', '.join(extra)[:200]}. Only x and y are accepted.")
    numbers = {}
    for name in FIELDS:
        if name not in value:
            raise InvalidInput(f"{name} is missing.")
        number = value[name]
        # bool is a subclass of int in Python; JSON true/false is not a number.
        if type(number) is not int:
            raise InvalidInput(f"{name} must be a JSON integer, not {_kind(number)}.")
        if abs(number) > MAX_SAFE_INTEGER:
            raise InvalidInput(f"{name} must be between -{MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER}.")
        numbers[name] = number
    return numbers


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        float: "a number with a fraction or exponent",
        str: "a string",
        list: "an array",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)
