"""Task tokens never leave the console: removed by key where they are named, and by value anywhere.

Step Functions puts the token in the history (a waitForTaskToken task's Parameters carry it).
Every value under a key named like a task token is replaced, in JSON documents and in JSON
encoded inside strings; the values seen that way are remembered, and every response the
console sends is scrubbed of them, wherever they appear.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

REDACTED = "[task token redacted]"
_KEY = re.compile(r"^task_?token$", re.IGNORECASE)
# "taskToken": "…", taskToken=…, \"taskToken\": \"…\" in free text (error causes, messages).
_IN_TEXT = re.compile(r"""(task_?token\\*["']?\s*[:=]\s*\\*["']?)([^"'\\\s,}&]+)""", re.IGNORECASE)
# Where a remembered token could stand: runs of the characters tokens are made of (an ARN's or a
# URL's separators end a run, so a token inside one is found whole).
_CANDIDATE = re.compile(r"[A-Za-z0-9+_-]{16,}")


class Redactor:
    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def document(self, value: Any) -> Any:
        """A copy of a JSON value with every task token replaced (JSON inside strings included)."""
        if isinstance(value, dict):
            answer = {}
            for key, inner in value.items():
                if _KEY.match(str(key).removesuffix(".$")) and isinstance(inner, str) and not inner.startswith("$"):
                    self._remember(inner)
                    answer[key] = REDACTED
                else:
                    answer[key] = self.document(inner)
            return answer
        if isinstance(value, list):
            return [self.document(inner) for inner in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def json_text(self, text: str | None) -> Any:
        """A JSON-encoded string as a redacted value (or the redacted text if it is not JSON)."""
        if text is None:
            return None
        try:
            return self.document(json.loads(text))
        except ValueError:
            return self.text(text)

    def text(self, text: str) -> str:
        stripped = text.strip()
        if stripped[:1] in ("{", "[") and "oken" in stripped:
            try:
                return json.dumps(self.document(json.loads(stripped)), ensure_ascii=False)
            except ValueError:
                pass
        return self._scrub(_IN_TEXT.sub(self._named, text))

    def body(self, data: bytes) -> bytes:
        """The last pass over every response body: no remembered token survives, wherever it is."""
        text = data.decode("utf-8", errors="replace")
        return self._scrub(_IN_TEXT.sub(self._named, text)).encode("utf-8")

    def _named(self, match: re.Match[str]) -> str:
        if match.group(2).startswith("$") or match.group(2) == REDACTED.split()[0]:
            return match.group(0)
        self._remember(match.group(2))
        return match.group(1) + REDACTED

    def _remember(self, token: str) -> None:
        with self._lock:
            self._seen.add(token)

    def _scrub(self, text: str) -> str:
        seen = self._seen
        if not seen:
            return text

        return _CANDIDATE.sub(lambda match: REDACTED if match.group(0) in seen else match.group(0), text)
