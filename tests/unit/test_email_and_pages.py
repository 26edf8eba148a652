from email import message_from_bytes, policy

from functions.approval_pages.pages import SECURITY_HEADERS, confirm_page, decided_page, error_page
from functions.common.approval_emails import REMINDER, REQUEST, ballot_email
from functions.common.approval_policy import ApprovalPolicy
from functions.common.vocabulary import Decision
from functions.common.callbacks.model import ESCALATION, ApprovalRequest, Ballot, Vote
from functions.common.email import build_message
from functions.common.errors import AlreadyResolved, Expired, InvalidLink, MalformedRequest, NotFound
from functions.common.settings import Settings
from functions.notify_failure.logic import failure_email
from tests.support import doubled_sum_request

TOKEN = "AAAAQUFBQUFBQUFB-the-task-token"
HOSTILE = '<script>alert("x")</script>'
SETTINGS = Settings(
    api_base_url="https://api.example.com/dev",
    sender_email="workflow@example.com",
    recipient_email="approver@example.com",
)
POLICY = ApprovalPolicy.from_config(
    {"APPROVERS": "ann@example.com,bob@example.com,cy@example.com", "APPROVAL_POLICY": "2"}
)

REQUEST_RECORD = ApprovalRequest(
    id="approval#exec",
    execution="exec-" + HOSTILE,
    status="PENDING",
    started_at=1_800_000_000,
    context=doubled_sum_request(3, 4),
    policy=POLICY,
    approvals=1,
    votes=(Vote("bob@example.com", "approved", HOSTILE, "2027-01-15T08:01:00+00:00"),),
)
BALLOT = Ballot("A" * 32, REQUEST_RECORD.id, "ann@example.com", "approver")


def parts(email):
    message = message_from_bytes(build_message(email), policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return message, text, html


def test_approval_email_goes_to_its_approver_with_their_links_numbers_policy_and_deadline():
    message, text, html = parts(ballot_email(REQUEST_RECORD, BALLOT, SETTINGS, REQUEST, now=1_800_000_000))
    assert message["To"] == "ann@example.com" and message["From"] == "workflow@example.com"
    assert message["Subject"] == "Approval needed: 3 + 4, doubled = 14"
    assert (message["X-Workflow-Email"], message["X-Workflow-Execution"]) == ("request", REQUEST_RECORD.execution)
    for body in (text, html):
        assert "https://api.example.com/dev/approve?id=" + "A" * 32 in body
        assert "https://api.example.com/dev/reject?id=" + "A" * 32 in body
        assert "2027-01-15 08:10:00 UTC (in 10 minutes)" in body
        assert "needs 2 of 3 approvals" in body and "So far 1 approved and 0 rejected" in body
        assert "You decide as ann@example.com" in body
        for number in ("3", "4", "7", "14"):
            assert number in body


def test_reminder_and_escalation_emails_say_what_they_are():
    reminder, text, _ = parts(ballot_email(REQUEST_RECORD, BALLOT, SETTINGS, REMINDER, now=1_800_000_060))
    assert reminder["Subject"].startswith("Reminder: approval needed")
    assert "You have not answered yet" in text and reminder["X-Workflow-Email"] == "reminder"
    contact = Ballot("B" * 32, REQUEST_RECORD.id, "boss@example.com", ESCALATION)
    escalation, text, _ = parts(ballot_email(REQUEST_RECORD, contact, SETTINGS, ESCALATION, now=1_800_000_300))
    assert escalation["To"] == "boss@example.com" and escalation["Subject"].startswith("Escalated: approval needed")
    assert "within 5 minutes" in text and "your answer alone decides" in text
    assert escalation["X-Workflow-Email"] == "escalation"


def test_approval_email_escapes_html_and_carries_no_token():
    _, _, html = parts(ballot_email(REQUEST_RECORD, BALLOT, SETTINGS, REQUEST))
    assert HOSTILE not in html
    assert "&lt;script&gt;" in html
    raw = build_message(ballot_email(REQUEST_RECORD, BALLOT, SETTINGS, REQUEST)).decode()
    assert TOKEN not in raw and "taskToken" not in raw


def test_failure_email_names_the_outcome_and_escapes_the_cause():
    email = failure_email("exec-1", "CalculationFailed", HOSTILE, {"input": {"x": 1, "y": 2}}, SETTINGS)
    message, text, html = parts(email)
    assert message["Subject"] == "Workflow failed: CalculationFailed (1 + 2)"
    assert (message["X-Workflow-Email"], message["X-Workflow-Execution"]) == ("failure", "exec-1")
    assert HOSTILE in text and HOSTILE not in html and "&lt;script&gt;" in html
    assert "What to do next" in text


def test_confirm_page_shows_voter_policy_votes_numbers_and_a_post_form_and_sends_security_headers():
    response = confirm_page(BALLOT, REQUEST_RECORD, Decision.APPROVED)
    body = response.body
    assert response.status_code == 200
    assert '<form method="post" action="approve">' in body
    assert f'name="id" value="{"A" * 32}"' in body
    assert "ann@example.com" in body and "needs 2 of 3 approvals" in body and "bob@example.com" in body
    assert f'href="reject?id={"A" * 32}"' in body  # the other action, one click away
    for number in ("<td>3</td>", "<td>4</td>", "<td>7</td>", "<td>14</td>", "2027-01-15 08:10:00 UTC"):
        assert number in body
    assert "<script" not in body.lower()
    for header, value in SECURITY_HEADERS.items():
        assert response.headers[header] == value
    assert "script-src" not in SECURITY_HEADERS["Content-Security-Policy"]
    assert "default-src 'none'" in SECURITY_HEADERS["Content-Security-Policy"]


def test_decided_page_says_what_remains_and_escapes_comments():
    voted = ApprovalRequest(**{**REQUEST_RECORD.__dict__, "approvals": 1,
                               "votes": (*REQUEST_RECORD.votes, Vote("ann@example.com", "rejected", HOSTILE, "t"))})
    body = decided_page(BALLOT, voted).body
    assert "You rejected this request" in body and "needs 1 more approval" in body
    assert HOSTILE not in body and "&lt;script&gt;" in body


def test_error_pages_have_their_status_a_matching_heading_and_escape_the_message():
    cases = [
        (InvalidLink(HOSTILE), 400, "This link is not valid"),
        (MalformedRequest(HOSTILE), 400, "Your answer could not be recorded"),
        (NotFound(HOSTILE), 404, "Unknown link"),
        (AlreadyResolved(HOSTILE, REQUEST_RECORD), 409, "Already decided"),
        (Expired(HOSTILE, REQUEST_RECORD), 410, "No longer waiting"),
    ]
    for error, status, heading in cases:
        response = error_page(error)
        assert response.status_code == status
        assert f"<h1>{heading}</h1>" in response.body
        assert HOSTILE not in response.body
        assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "<td>14</td>" in error_page(AlreadyResolved("x", REQUEST_RECORD)).body  # the request is shown


def _closed(**changes):
    from dataclasses import replace

    return replace(REQUEST_RECORD, **changes)


def test_outcome_notices_say_how_it_ended_who_decided_and_the_votes_as_written_without_links():
    from functions.common.approval_emails import outcome_email

    votes = (*REQUEST_RECORD.votes, Vote("cy@example.com", "approved", "d'accord — «oui»", "2027-01-15T08:02:00+00:00"))
    cases = {
        "approved": _closed(status="APPROVED", approvals=2, votes=votes, decided_by="cy@example.com", closed_as="approved"),
        "rejected": _closed(status="REJECTED", rejections=2, decided_by="bob@example.com", closed_as="rejected",
                            votes=(Vote("bob@example.com", "rejected", "", "2027-01-15T08:01:00+00:00"),)),
        "timed out": _closed(status="EXPIRED", closed_as="timed out"),
        "stopped": _closed(status="APPROVED", approvals=2, votes=votes, decided_by="cy@example.com", closed_as="stopped"),
    }
    for ending, request in cases.items():
        message, text, html = parts(outcome_email(request, "ann@example.com", SETTINGS))
        assert message["To"] == "ann@example.com"
        assert message["Subject"] == f"{ending.capitalize()}: 3 + 4, doubled = 14"
        assert "http" not in text and "href" not in html, ending
        assert f"outcome: {ending}" in text
    _, text, html = parts(outcome_email(cases["approved"], "ann@example.com", SETTINGS))
    assert "cy@example.com gave the deciding answer" in text
    assert f"bob@example.com: approved, \u201c{HOSTILE}\u201d" in text and HOSTILE not in html  # as written; escaped
    assert "cy@example.com: approved, \u201cd'accord — «oui»\u201d" in text
    _, text, _ = parts(outcome_email(cases["approved"], "cy@example.com", SETTINGS))
    assert "you gave the deciding answer" in text
    _, text, _ = parts(outcome_email(cases["rejected"], "ann@example.com", SETTINGS))
    assert "bob@example.com: rejected, no comment" in text
    _, text, _ = parts(outcome_email(cases["stopped"], "ann@example.com", SETTINGS))
    assert "stopped before a decision took effect" in text and "deciding answer" not in text  # never an outcome it did not have
    _, text, _ = parts(outcome_email(cases["timed out"], "ann@example.com", SETTINGS))
    assert "Nobody decided before the deadline" in text and "Nobody answered" not in text  # bob had voted


def test_the_timeout_failure_email_tells_what_was_tried_and_names_no_configuration_key():
    import re

    from functions.notify_failure.logic import timeout_story

    escalating = ApprovalPolicy.from_config({"APPROVERS": "ann@example.com,bob@example.com", "ESCALATION_EMAIL": "boss@example.com",
                                             "ESCALATE_AFTER_SECONDS": "300", "REMINDER_INTERVAL_SECONDS": "120"})
    tried = _closed(policy=escalating, status="EXPIRED", reminders_sent=2, escalated_at=1_800_000_300, votes=(), approvals=0)
    state = {"input": {"x": 3, "y": 4}, "calculation": {"sum": 7, "doubled": 14}, "failure": {"Error": "ApprovalTimedOut"}}
    _, text, _ = parts(failure_email("exec", "ApprovalTimedOut", "Nobody decided", state, SETTINGS, tried))
    assert "Nobody decided within 10 minutes: 0 approved and 0 rejected" in text
    assert "The approvers who had not answered were reminded 2 times." in text
    assert "escalated to boss@example.com at 2027-01-15 08:05:00 UTC" in text
    assert "reminded and escalated, yet nobody answered" in text
    untried = _closed(status="EXPIRED", votes=(), approvals=0)
    paragraphs, advice = timeout_story(untried)
    assert "Nobody was reminded and nobody else was asked" in advice and not any("reminder" in p for p in paragraphs)
    for body in (text, " ".join(paragraphs) + advice):
        assert not re.search(r"\b[A-Z]+_[A-Z_]+\b", body), body  # no REMINDER_INTERVAL_SECONDS and the like
