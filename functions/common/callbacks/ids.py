"""The ids in links and callback URLs: random, unguessable, checked before any lookup."""

from __future__ import annotations

import re
import secrets
from typing import Any

from functions.common.errors import InvalidLink

# 24 random bytes = 192 bits, URL-safe base64 without padding: 32 characters.
_ID_BYTES = 24
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")


def new_callback_id() -> str:
    return secrets.token_urlsafe(_ID_BYTES)


def check_callback_id(value: Any) -> str:
    """Return the id if it has the shape of one we issue; a malformed id is refused before any lookup."""
    if not isinstance(value, str) or not _ID_PATTERN.fullmatch(value):
        raise InvalidLink("That link is not valid: the id is missing or malformed.")
    return value


def approval_request_id(execution: str) -> str:
    # "#" never appears in an id we issue, so no link can name a request record.
    return f"approval#{execution}"
