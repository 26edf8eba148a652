"""The outbox as the console shows it: each email read once, whole, with its kind and its links."""

from __future__ import annotations

import os
import re
import threading
from datetime import timezone
from email import errors, message_from_bytes, policy
from email.utils import parsedate_to_datetime
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from functions.common.email import EXECUTION_HEADER, KIND_HEADER
from local.console.history import iso
from local.console.redact import Redactor

EMAIL_NAME = re.compile(r"[A-Za-z0-9._@+-]{1,200}")
# Defects of a multipart email cut short: the engine is still writing it.
_UNFINISHED = (errors.CloseBoundaryNotFoundDefect, errors.StartBoundaryNotFoundDefect)
_LINK = re.compile(r"https?://[^\s<>\"']+")
_LOCAL_HOSTS = ("127.0.0.1", "localhost")  # where `make local` serves the API


class Outbox:
    def __init__(self, folder: Path, redactor: Redactor) -> None:
        self.outbox = folder
        self.redactor = redactor
        self._emails: dict[str, dict[str, Any]] = {}  # file name -> email, once complete
        self._lock = threading.Lock()

    def of(self, execution: str) -> list[dict[str, Any]]:
        """The execution's emails: by the header that names it or, without one, by its name in the text."""
        return [
            email for email in self.all()
            if (email["execution"] == execution if email["execution"] else execution in email["text"])
        ]

    def html(self, email_id: str) -> str | None:
        """The HTML part of one outbox email (its id is its file name, without .eml)."""
        if not EMAIL_NAME.fullmatch(email_id) or email_id.startswith("."):
            return None
        path = self.outbox / f"{email_id}.eml"
        if path.parent != self.outbox or not path.is_file():
            return None
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        part = message.get_body(preferencelist=("html",))
        if part is not None and part.get_content_type() == "text/html":
            return self.redactor.text(part.get_content())
        text = message.get_body(preferencelist=("plain",))
        return f"<pre>{escape(text.get_content() if text else '')}</pre>"

    def all(self) -> list[dict[str, Any]]:
        try:
            names = sorted(name for name in os.listdir(self.outbox) if name.endswith(".eml"))
        except OSError:
            return []
        with self._lock:
            for name in names:
                if name not in self._emails:
                    email = _read_email(self.outbox / name)
                    if email is not None:
                        self._emails[name] = email
            return [self._emails[name] for name in names if name in self._emails]


def _read_email(path: Path) -> dict[str, Any] | None:
    """An outbox email as the console shows it; None while the engine is still writing it."""
    try:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if any(isinstance(defect, _UNFINISHED) for part in message.walk() for defect in part.defects):
            return None
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        text = plain.get_content() if plain is not None else ""
        hrefs = _Links.of(html.get_content()) if html is not None else []
    except (OSError, LookupError, ValueError):
        return None
    if not text and not hrefs:
        return None
    links = list(dict.fromkeys(_LINK.findall(text) + hrefs))
    subject = str(message["Subject"] or "")
    try:
        sent = iso(parsedate_to_datetime(str(message["Date"])).astimezone(timezone.utc))
    except (TypeError, ValueError):
        sent = None
    return {
        "id": path.stem,
        "kind": email_kind(str(message[KIND_HEADER] or ""), subject),
        "execution": str(message[EXECUTION_HEADER] or ""),
        "subject": subject,
        "to": str(message["To"] or ""),
        "from": str(message["From"] or ""),
        "date": sent,
        "links": [{"url": link, "label": link_label(link)} for link in links],
        "text": text,
    }


# Without the kind header (an email from elsewhere), the subject says what it is.
_KINDS_BY_SUBJECT = (
    ("reminder", re.compile(r"\breminder\b", re.IGNORECASE)),
    ("escalation", re.compile(r"\bescalat", re.IGNORECASE)),
    ("failure", re.compile(r"\bfail", re.IGNORECASE)),
    ("request", re.compile(r"\bapproval needed\b", re.IGNORECASE)),
    ("outcome", re.compile(r"\b(approved|rejected|decided|decision|outcome|timed out|expired|closed|stopped|cancel)",
                           re.IGNORECASE)),
)


def email_kind(header: str, subject: str) -> str:
    """request, reminder, escalation, outcome, failure, or another kind the sender named; else "other"."""
    named = re.sub(r"[^a-z0-9-]", "", header.strip().lower())[:40]
    if named:
        return named
    return next((kind for kind, pattern in _KINDS_BY_SUBJECT if pattern.search(subject)), "other")


def link_label(url: str) -> str:
    """This service's links by what they do (approve, reject: their last path segment); a link
    elsewhere (the request's own, from its caller) as the email words it: open."""
    try:
        host = urlsplit(url).hostname
    except ValueError:  # not a URL after all ("http://[x")
        host = None
    if host not in _LOCAL_HOSTS:
        return "open"
    path = url.split("?", 1)[0].rstrip("/")
    return path.rsplit("/", 1)[-1] or url


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href and href.startswith(("http://", "https://")):
                self.links.append(href)

    @classmethod
    def of(cls, html: str) -> list[str]:
        parser = cls()
        parser.feed(html)
        return parser.links
