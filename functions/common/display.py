"""How values are shown to a person, the same in emails and pages."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from typing import Any, Iterable


def deadline_text(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def facts_table(facts: Iterable[tuple[str, Any]]) -> str:
    """An HTML table of (name, value) rows, every value escaped."""
    rows = "".join(f"<tr><th>{escape(str(name))}</th><td>{escape(str(value))}</td></tr>" for name, value in facts)
    return f"<table>{rows}</table>"
