"""Register a pending approval and email the approve / reject links (the id only, never the token)."""

from __future__ import annotations

from html import escape
from typing import Any

from functions.common.callbacks import APPROVAL, CANCELLED, Callback, CallbackStore
from functions.common.display import deadline_text, facts_table
from functions.common.email import Email, Mailer
from functions.common.errors import NotificationFailed
from functions.common.settings import Settings


def request_approval(event: dict[str, Any], *, store: CallbackStore, mailer: Mailer, settings: Settings) -> dict:
    context = {key: event[key] for key in ("x", "y", "sum", "doubled")}
    context["approver"] = settings.recipient_email
    callback = store.register(
        kind=APPROVAL,
        task_token=event["taskToken"],
        execution=event["execution"],
        ttl_seconds=settings.approval_timeout_seconds,
        context=context,
    )
    try:
        mailer.send(approval_email(callback, settings))
    except NotificationFailed:
        store.mark(callback.id, CANCELLED)
        raise
    return {"deadline": callback.expires_at}


def link(settings: Settings, action: str, callback_id: str) -> str:
    return f"{settings.api_base_url}/{action}?id={callback_id}"


def approval_email(callback: Callback, settings: Settings) -> Email:
    numbers = callback.context
    approve, reject = link(settings, "approve", callback.id), link(settings, "reject", callback.id)
    deadline = deadline_text(callback.expires_at)
    facts = [
        ("x", numbers["x"]),
        ("y", numbers["y"]),
        ("sum", numbers["sum"]),
        ("doubled", numbers["doubled"]),
        ("workflow", callback.execution),
        ("deadline", deadline),
    ]
    text = "\n".join(
        [
            "A workflow is waiting for your decision.",
            "",
            *(f"{name:>9}: {value}" for name, value in facts),
            "",
            f"Approve: {approve}",
            f"Reject:  {reject}",
            "",
            "Each link opens a confirmation page; nothing is decided until you press its button.",
            f"Without a decision by {deadline} the workflow fails as timed out.",
        ]
    )
    html = (
        "<!doctype html><html><body>"
        "<p>A workflow is waiting for your decision.</p>"
        f"{facts_table(facts)}"
        f'<p><a href="{escape(approve)}">Approve</a> &middot; <a href="{escape(reject)}">Reject</a></p>'
        "<p>Each link opens a confirmation page; nothing is decided until you press its button.</p>"
        "</body></html>"
    )
    subject = f"Approval needed: {numbers['x']} + {numbers['y']}, doubled = {numbers['doubled']}"
    return Email.to_recipient(settings, subject=subject, text=text, html=html)
