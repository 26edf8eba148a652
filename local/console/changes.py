"""Version numbers bumped by anything the console shows, for its server-sent events."""

from __future__ import annotations

import threading
import time

# Changes are announced once things settle (or at the latest after MAX_DELAY), and at most once
# per MIN_INTERVAL: the page reads between bursts of the workflow's events rather than during
# them, and a busy engine is read at a bounded rate. A change shows within a second.
QUIET_SECONDS = 0.1
MAX_DELAY_SECONDS = 0.5
MIN_INTERVAL_SECONDS = 0.75


class Changes:
    """Version numbers bumped by anything the console shows (one per execution, one for all)."""

    def __init__(self) -> None:
        self.version = 0
        self.shared = 0  # the version of the last change not tied to one execution (emails, API requests)
        self.closed = False
        self._of: dict[str, int] = {}
        self._condition = threading.Condition()

    def bump(self, execution: str | None = None) -> None:
        with self._condition:
            self.version += 1
            if execution is not None:
                self._of[execution] = self.version
            else:
                self.shared = self.version
            self._condition.notify_all()

    def of(self, execution: str) -> int:
        """The version at which this execution last changed (0: never seen changing)."""
        return self._of.get(execution, 0)

    def close(self) -> None:
        with self._condition:
            self.closed = True
            self._condition.notify_all()

    def settled_after(self, since: int, timeout: float, not_before: float = 0.0) -> int:
        """The version once it is past `since` and quiet for QUIET_SECONDS, or MAX_DELAY after the
        first change, and not before the monotonic time `not_before`."""
        with self._condition:
            if not self._condition.wait_for(lambda: self.version != since or self.closed, timeout):
                return since
            first = time.monotonic()
            while not self.closed:
                seen = self.version
                now = time.monotonic()
                left = max(first + MAX_DELAY_SECONDS, not_before) - now
                if left <= 0:
                    break
                quiet = self._condition.wait_for(lambda: self.version != seen or self.closed, min(QUIET_SECONDS, left))
                if not quiet and time.monotonic() >= not_before:
                    break
            return self.version
