"""How values are shown to a person, the same in emails and pages: one layout for every email."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from typing import Any, Iterable, Sequence

# Colours that read on light and dark backgrounds alike; buttons carry their own background.
APPROVE_COLOUR = "#1a7f37"
REJECT_COLOUR = "#cf222e"
OPEN_COLOUR = "#59636e"  # a request's own link: neutral, beside the two decisions
_TEXT = "#1f2328"
_MUTED = "#59636e"
_FONT = "-apple-system,'Segoe UI',Helvetica,Arial,sans-serif"


def deadline_text(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def time_words(iso: str) -> str:
    """2026-11-21T14:11:52+00:00 -> 2026-11-21 14:11:52 UTC (as recorded, for people)."""
    try:
        return deadline_text(datetime.fromisoformat(iso).timestamp())
    except (TypeError, ValueError):
        return iso


def relative_text(epoch_seconds: float, now: float | None = None) -> str:
    """"in 10 minutes" / "2 hours ago": rounded to the largest whole unit."""
    now = time.time() if now is None else now
    delta = round(epoch_seconds - now)
    size = abs(delta)
    for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if size >= seconds or unit == "second":
            count = size // seconds
            words = f"{count} {unit}{'' if count == 1 else 's'}"
            break
    return f"in {words}" if delta >= 0 else f"{words} ago"


def deadline_words(epoch_seconds: int, now: float | None = None) -> str:
    """The deadline in UTC and relative: "2026-11-21 14:10:00 UTC (in 10 minutes)"."""
    return f"{deadline_text(epoch_seconds)} ({relative_text(epoch_seconds, now)})"


def facts_table(facts: Iterable[tuple[str, Any]], *, inline: bool = False) -> str:
    """An HTML table of (name, value) rows, every value escaped; `inline` styles it for email clients."""
    th, td, table = "", "", ""
    if inline:
        th = f' style="text-align:left;font-weight:normal;color:{_MUTED};padding:4px 16px 4px 0;vertical-align:top"'
        td = ' style="padding:4px 0;vertical-align:top"'
        table = ' role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:16px 0"'
    rows = "".join(f"<tr><th{th}>{escape(str(name))}</th><td{td}>{escape(str(value))}</td></tr>" for name, value in facts)
    return f"<table{table}>{rows}</table>"


def facts_text(facts: Iterable[tuple[str, Any]]) -> str:
    """The same facts for a plain-text part, names aligned."""
    facts = list(facts)
    width = max((len(str(name)) for name, _ in facts), default=0)
    return "\n".join(f"{str(name):>{width}}: {value}" for name, value in facts)


@dataclass(frozen=True)
class Button:
    label: str
    url: str
    colour: str


def button_html(button: Button) -> str:
    """A "bulletproof" button: a padded table cell, so it shows even where CSS on links is dropped."""
    return (
        '<td style="padding:0 12px 12px 0">'
        f'<table role="presentation" cellpadding="0" cellspacing="0"><tr>'
        f'<td bgcolor="{button.colour}" style="background:{button.colour};border-radius:6px">'
        f'<a href="{escape(button.url)}" style="display:inline-block;padding:12px 28px;font:bold 16px {_FONT};'
        f'color:#ffffff;text-decoration:none;border-radius:6px">{escape(button.label)}</a>'
        "</td></tr></table></td>"
    )


@dataclass(frozen=True)
class Message:
    """One email's content: the same sentences and facts go into its HTML and its text part."""

    heading: str
    paragraphs: Sequence[str]
    facts: Sequence[tuple[str, Any]] = ()
    buttons: Sequence[Button] = ()
    notes: Sequence[str] = ()

    def html(self) -> str:
        paragraphs = "".join(f'<p style="margin:0 0 12px">{escape(text)}</p>' for text in self.paragraphs)
        buttons = (
            f'<table role="presentation" cellpadding="0" cellspacing="0" style="margin:8px 0 4px"><tr>'
            f"{''.join(button_html(button) for button in self.buttons)}</tr></table>"
            if self.buttons
            else ""
        )
        notes = "".join(
            f'<p style="margin:0 0 8px;font-size:13px;color:{_MUTED}">{escape(text)}</p>' for text in self.notes
        )
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="color-scheme" content="light dark"><meta name="supported-color-schemes" content="light dark">'
            f"<title>{escape(self.heading)}</title>"
            "<style>@media (prefers-color-scheme: dark){.card{background:#161b22!important;color:#e6edf3!important}"
            ".page{background:#0d1117!important}th{color:#9198a1!important}}</style></head>"
            f'<body class="page" style="margin:0;padding:0;background:#f6f8fa">'
            f'<table role="presentation" class="page" width="100%" cellpadding="0" cellspacing="0" '
            f'style="background:#f6f8fa;padding:24px 12px"><tr><td align="center">'
            f'<table role="presentation" class="card" width="100%" cellpadding="0" cellspacing="0" '
            f'style="max-width:560px;background:#ffffff;border:1px solid #d1d9e0;border-radius:8px;'
            f'font:16px/1.5 {_FONT};color:{_TEXT}"><tr><td style="padding:24px">'
            f'<h1 style="margin:0 0 16px;font-size:20px;line-height:1.3">{escape(self.heading)}</h1>'
            f"{paragraphs}{facts_table(self.facts, inline=True) if self.facts else ''}{buttons}{notes}"
            "</td></tr></table></td></tr></table></body></html>"
        )

    def text(self) -> str:
        parts = [self.heading, "", *self.paragraphs]
        if self.facts:
            parts += ["", facts_text(self.facts)]
        if self.buttons:
            width = max(len(button.label) for button in self.buttons) + 1
            parts += ["", *(f"{button.label + ':':<{width}} {button.url}" for button in self.buttons)]
        if self.notes:
            parts += ["", *self.notes]
        return "\n".join(parts) + "\n"
