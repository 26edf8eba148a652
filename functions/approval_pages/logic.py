from __future__ import annotations

from urllib.parse import parse_qs

from functions.common.callbacks.ids import check_callback_id
from functions.common.errors import MalformedRequest

MAX_COMMENT_CHARS = 500
MAX_FORM_BYTES = 8 * 1024
_ALLOWED_CONTROL = {"\n", "\r", "\t"}


def parse_decision_form(body: str | None, media_type: str) -> tuple[str, str]:
    """(id, comment) from an application/x-www-form-urlencoded body."""
    if media_type != "application/x-www-form-urlencoded":
        raise MalformedRequest("Send the decision from the confirmation page's form.")
    body = body or ""
    if len(body) > MAX_FORM_BYTES:
        raise MalformedRequest("The form is too large.")
    try:
        fields = parse_qs(body, keep_blank_values=True, max_num_fields=10, errors="strict")
    except ValueError:
        raise MalformedRequest("The form could not be read.") from None
    if any(len(values) > 1 for values in fields.values()):
        raise MalformedRequest("Each form field may be sent once.")
    callback_id = check_callback_id(fields.get("id", [""])[0])
    comment = fields.get("comment", [""])[0].strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise MalformedRequest(f"The comment is limited to {MAX_COMMENT_CHARS} characters.")
    if any(ord(char) < 32 and char not in _ALLOWED_CONTROL for char in comment):
        raise MalformedRequest("The comment contains control characters.")
    return callback_id, comment
