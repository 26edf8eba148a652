from email import message_from_bytes, policy

from functions.approval_pages.pages import SECURITY_HEADERS, confirm_page, decided_page, error_page
from functions.common.callbacks import Callback
from functions.common.email import build_message
from functions.common.settings import Settings
from functions.notify_failure.logic import failure_email
from functions.request_approval.logic import approval_email

TOKEN = "AAAAQUFBQUFBQUFB-the-task-token"
HOSTILE = '<script>alert("x")</script>'
SETTINGS = Settings(
    api_base_url="https://api.example.com/dev",
    sender_email="workflow@example.com",
    recipient_email="approver@example.com",
)
CALLBACK = Callback(
    id="A" * 32,
    kind="approval",
    status="PENDING",
    execution="exec-" + HOSTILE,
    created_at=1_800_000_000,
    expires_at=1_800_000_600,
    context={"x": 3, "y": 4, "sum": 7, "doubled": 14},
)


def parts(email):
    message = message_from_bytes(build_message(email), policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return message, text, html


def test_approval_email_has_both_links_numbers_and_deadline_in_text_and_html():
    message, text, html = parts(approval_email(CALLBACK, SETTINGS))
    assert message["To"] == "approver@example.com" and message["From"] == "workflow@example.com"
    for body in (text, html):
        assert "https://api.example.com/dev/approve?id=" + "A" * 32 in body
        assert "https://api.example.com/dev/reject?id=" + "A" * 32 in body
        assert "2027-01-15 08:10:00 UTC" in body
        for number in ("3", "4", "7", "14"):
            assert number in body


def test_approval_email_escapes_html_and_carries_no_token():
    _, _, html = parts(approval_email(CALLBACK, SETTINGS))
    assert HOSTILE not in html
    assert "&lt;script&gt;" in html
    raw = build_message(approval_email(CALLBACK, SETTINGS)).decode()
    assert TOKEN not in raw and "taskToken" not in raw


def test_failure_email_names_the_outcome_and_escapes_the_cause():
    email = failure_email("exec-1", "ApprovalRejected", HOSTILE, {"input": {"x": 1, "y": 2}}, SETTINGS)
    message, text, html = parts(email)
    assert message["Subject"] == "Workflow failed: ApprovalRejected"
    assert HOSTILE in text and HOSTILE not in html and "&lt;script&gt;" in html


def test_confirm_page_shows_numbers_and_a_post_form_and_sends_security_headers():
    response = confirm_page(CALLBACK, "approve")
    body = response.body
    assert response.status_code == 200
    assert '<form method="post" action="approve">' in body
    assert f'name="id" value="{"A" * 32}"' in body
    for number in ("<td>3</td>", "<td>4</td>", "<td>7</td>", "<td>14</td>", "2027-01-15 08:10:00 UTC"):
        assert number in body
    assert "<script" not in body.lower()
    for header, value in SECURITY_HEADERS.items():
        assert response.headers[header] == value
    assert "script-src" not in SECURITY_HEADERS["Content-Security-Policy"]
    assert "default-src 'none'" in SECURITY_HEADERS["Content-Security-Policy"]


def test_decided_page_escapes_the_comment():
    decided = Callback(**{**CALLBACK.__dict__, "status": "APPROVED", "decision": "approved", "comment": HOSTILE})
    body = decided_page(decided).body
    assert "approved" in body and HOSTILE not in body and "&lt;script&gt;" in body


def test_error_pages_have_their_status_and_escape_the_message():
    for status in (400, 404, 409, 410):
        response = error_page(status, HOSTILE)
        assert response.status_code == status
        assert HOSTILE not in response.body
        assert response.headers["Referrer-Policy"] == "no-referrer"
