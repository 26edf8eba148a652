"""HTML pages for the approve / reject links. Every value is escaped; no script anywhere."""

from __future__ import annotations

from html import escape

from aws_lambda_powertools.event_handler import Response

from functions.common.approval_emails import request_facts
from functions.common.callbacks.model import ESCALATION, ApprovalRequest, Ballot
from functions.common.display import (
    APPROVE_COLOUR,
    REJECT_COLOUR,
    deadline_text,
    deadline_words,
    facts_table,
    time_words,
)
from functions.common.errors import InvalidLink, RequestRefused
from functions.common.vocabulary import Decision, Ending

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
    ":root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#f6f8fa;--card:#fff;--line:#d1d9e0}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--card:#161b22;--line:#3d444d}}"
    "body{font:16px/1.5 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;background:var(--bg);color:var(--fg);"
    "margin:0;padding:1.5rem 1rem}"
    "main{max-width:36rem;margin:0 auto;background:var(--card);border:1px solid var(--line);border-radius:8px;"
    "padding:1.5rem}"
    "h1{font-size:1.4rem;line-height:1.3;margin:0 0 1rem}p{margin:0 0 .75rem}.muted{color:var(--muted)}"
    "table{border-collapse:collapse;margin:1rem 0}th,td{padding:.25rem 1rem .25rem 0;text-align:left;vertical-align:top}"
    "th{color:var(--muted);font-weight:normal}"
    "label{display:block;margin:1rem 0 .25rem}"
    "textarea{width:100%;box-sizing:border-box;min-height:5rem;font:inherit;padding:.5rem;border-radius:6px;"
    "border:1px solid var(--line);background:var(--card);color:var(--fg)}"
    "button{font-family:inherit;font-weight:bold;font-size:1.1rem;color:#fff;border:0;border-radius:6px;padding:.9rem 2rem;margin:1rem 0 .5rem;"
    "cursor:pointer;width:100%}"
    "button:focus-visible,a:focus-visible{outline:3px solid #0969da;outline-offset:2px}"
    ".approve{background:" + APPROVE_COLOUR + "}.reject{background:" + REJECT_COLOUR + "}"
    ".badge{display:inline-block;font-weight:bold;border-radius:999px;padding:.1rem .6rem;color:#fff}"
    "ul.votes{padding-left:1.2rem;margin:.25rem 0 1rem}"
    ".subject{font-size:1.1rem;font-weight:bold;overflow-wrap:anywhere}"
)

_COLOUR = {Decision.APPROVED: APPROVE_COLOUR, Decision.REJECTED: REJECT_COLOUR}
_OTHER = {Decision.APPROVED: Decision.REJECTED, Decision.REJECTED: Decision.APPROVED}


def page(status_code: int, title: str, body: str) -> Response:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return Response(
        status_code=status_code,
        content_type="text/html; charset=utf-8",
        body=html,
        headers=dict(SECURITY_HEADERS),
    )


def badge(decision: str) -> str:
    return f'<span class="badge" style="background:{_COLOUR.get(decision, "#59636e")}">{escape(decision)}</span>'


def request_details(request: ApprovalRequest) -> str:
    """The subject, the details, the deadline, the policy and the votes so far."""
    context = request.context
    facts = request_facts(request)
    if request.is_open:
        facts.append(("deadline", deadline_words(request.expires_at)))
    votes = "".join(
        f"<li>{escape(vote.approver)}{' (escalation)' if vote.role == ESCALATION else ''}: {badge(vote.decision)}"
        f"{' &ldquo;' + escape(vote.comment) + '&rdquo;' if vote.comment else ''}"
        f' <span class="muted">{escape(time_words(vote.decided_at))}</span></li>'
        for vote in request.votes
    )
    standing = (
        f"<p>Policy: {escape(request.policy.describe())}. "
        f"So far: {request.approvals} approved, {request.rejections} rejected.</p>"
        if len(request.policy.approvers) > 1
        else ""
    )
    subject = f'<p class="subject">{escape(context["subject"])}</p>'
    # The caller's own https link: it leaves this page, and tells the site nothing of it.
    opening = (
        f'<p><a href="{escape(context["link"])}" rel="noopener noreferrer" target="_blank">Open</a> '
        f'<span class="muted">{escape(context["link"])}</span></p>'
        if context.get("link") else ""
    )
    return subject + opening + facts_table(facts) + standing + (f'<ul class="votes">{votes}</ul>' if votes else "")


def voter_line(ballot: Ballot, request: ApprovalRequest) -> str:
    if ballot.role == ESCALATION:
        return (
            f"<p>You decide as <strong>{escape(ballot.approver)}</strong>, the escalation contact: "
            "your answer alone decides.</p>"
        )
    line = f"<p>You decide as <strong>{escape(ballot.approver)}</strong>.</p>"
    if request.escalated_at is not None and request.is_open:
        line += (
            f"<p>Nobody had decided yet, so this request was escalated to "
            f"<strong>{escape(request.policy.escalation_email)}</strong> at {escape(deadline_text(request.escalated_at))}: "
            "they may now decide alone. Until one of you decides, your answer still counts.</p>"
        )
    return line


def confirm_page(ballot: Ballot, request: ApprovalRequest, decision: Decision) -> Response:
    action, other = decision.action, _OTHER[decision].action
    verb = action.capitalize()
    form = (
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="id" value="{escape(ballot.id)}">'
        '<label for="comment">Comment (optional, up to 500 characters)</label>'
        '<textarea id="comment" name="comment" maxlength="500"></textarea>'
        f'<button type="submit" class="{escape(action)}">{escape(verb)}</button></form>'
        f'<p class="muted">Changed your mind? <a href="{escape(other)}?id={escape(ballot.id)}">'
        f"{escape(other.capitalize())} instead</a>.</p>"
    )
    intro = f"<p>Nothing is decided until you press <strong>{escape(verb)}</strong> below.</p>"
    return page(200, f"{verb} this request?", voter_line(ballot, request) + intro + request_details(request) + form)


def decided_page(ballot: Ballot, request: ApprovalRequest) -> Response:
    vote = request.vote_of(ballot.approver)
    mine = vote.decision if vote else "recorded"
    outcome = request.outcome
    if request.ending not in (None, Ending.APPROVED, Ending.REJECTED):
        what = (
            f"<p>Your answer was recorded, but the workflow {escape(str(request.ending))} before it could act on it: "
            "nothing more happens with this request.</p>"
        )
    elif outcome == Decision.APPROVED:
        what = "<p>The request is <strong>approved</strong>: the workflow goes on.</p>"
    elif outcome == Decision.REJECTED:
        what = "<p>The request is <strong>rejected</strong>: the workflow stops and the requester is told.</p>"
    else:
        needed = request.policy.required - request.approvals
        what = (
            f"<p>The request is still open: it needs {needed} more approval{'s' if needed != 1 else ''} "
            "from the other approvers. Nothing more is needed from you.</p>"
        )
    return page(200, f"You {mine} this request", what + request_details(request))


def error_page(error: RequestRefused) -> Response:
    """404 / 409 / 410 / 400, headed by what went wrong, with the request and its outcome when known."""
    status = error.status_code
    if status == 400:
        title = "This link is not valid" if isinstance(error, InvalidLink) else "Your answer could not be recorded"
    else:
        title = {404: "Unknown link", 409: "Already decided", 410: "No longer waiting"}.get(status, "Not possible")
    body = f"<p>{escape(str(error))}</p>"
    request = error.subject if isinstance(error.subject, ApprovalRequest) else None
    if request is not None:
        if request.ending:
            body += f"<p>Outcome: {badge(request.ending)}</p>"
        body += request_details(request)
    body += {
        400: '<p class="muted">Go back to the page, correct it and send it again.</p>',
        404: '<p class="muted">Use the link exactly as it came in your email.</p>',
        409: '<p class="muted">Nothing more to do: the answer above stands.</p>',
        410: '<p class="muted">To decide now, ask for the workflow to be started again.</p>',
    }.get(status, "")
    return page(status, title, body)
