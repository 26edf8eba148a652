"""HTML pages for the approve / reject links. Every value is escaped; no script anywhere."""

from __future__ import annotations

from html import escape

from aws_lambda_powertools.event_handler import Response

from functions.common.callbacks import Callback
from functions.common.display import deadline_text, facts_table

# No script, no framing, no referrer (the id is in the URL), nothing cached.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;margin:1rem 0}th,td{padding:.25rem .75rem;text-align:left}"
    "th{color:#555;font-weight:normal}textarea{width:100%;min-height:5rem}"
    "button{font-size:1rem;padding:.5rem 1.5rem;margin-top:1rem}"
)

VERBS = {"approve": ("Approve", "approved"), "reject": ("Reject", "rejected")}


def page(status_code: int, title: str, body: str) -> Response:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return Response(
        status_code=status_code,
        content_type="text/html; charset=utf-8",
        body=html,
        headers=dict(SECURITY_HEADERS),
    )


def numbers_table(callback: Callback) -> str:
    numbers = callback.context
    facts = [(name, numbers.get(name)) for name in ("x", "y", "sum", "doubled")]
    return facts_table(facts + [("deadline", deadline_text(callback.expires_at))])


def confirm_page(callback: Callback, action: str) -> Response:
    verb, _ = VERBS[action]
    form = (
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="id" value="{escape(callback.id)}">'
        '<label for="comment">Comment (optional, up to 500 characters)</label>'
        '<textarea id="comment" name="comment" maxlength="500"></textarea>'
        f'<button type="submit">{escape(verb)}</button></form>'
    )
    intro = f"<p>Please confirm: {escape(verb.lower())} this request?</p>"
    return page(200, f"{verb} this request?", intro + numbers_table(callback) + form)


def decided_page(callback: Callback) -> Response:
    _, past = VERBS["approve" if callback.decision == "approved" else "reject"]
    comment = f"<p>Comment: {escape(callback.comment)}</p>" if callback.comment else ""
    return page(
        200,
        f"Request {past}",
        f"<p>Your decision was recorded: <strong>{escape(past)}</strong>.</p>{numbers_table(callback)}{comment}",
    )


def error_page(status_code: int, message: str) -> Response:
    titles = {400: "This link is not valid", 404: "Unknown request", 409: "Already decided", 410: "Expired"}
    return page(status_code, titles.get(status_code, "Not possible"), f"<p>{escape(message)}</p>")
