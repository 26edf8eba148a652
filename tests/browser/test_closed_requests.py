"""After a request closed, in Chromium: the 410 pages of a stopped request, the 409 pages after the
escalation contact decided, and the outcome notice each person receives."""

from __future__ import annotations

import re

import pytest

from tests.conftest import local_run
from tests.browser.test_emails_and_pages import html_of, looks_finished, shoot
from local.service import decide

ANN, BOB, BOSS = "ann@example.com", "bob@example.com", "boss@example.com"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    yield from local_run(tmp_path_factory, "closed-requests", APPROVERS=f"{ANN},{BOB}", APPROVAL_POLICY="all",
                        ESCALATION_EMAIL=BOSS, ESCALATE_AFTER_SECONDS="3", APPROVAL_TIMEOUT_SECONDS="120")


def test_a_stopped_request_s_pages_say_stopped_and_its_notice_says_so_too(service, browser):
    name = service.start(11, 31)
    links = service.ballot_links(name, 2)
    assert decide(links[ANN]["approve"], "fine — «oui»").status_code == 200
    service.stop_execution(name)
    notice = next(m for m in service.wait_for_emails(name, "Stopped:", 2) if m["To"] == BOB)
    for page in shoot(browser, "page-410-stopped", url=links[BOB]["approve"]).values():
        text = page.inner_text("main")
        looks_finished(text)
        assert page.inner_text("h1") == "No longer waiting"
        assert "This request was stopped" in text and re.search(r"Outcome:\s*stopped", text)
        assert "fine — «oui»" in text and "84" in text  # the vote counted before the stop, the numbers
        assert page.locator("form").count() == 0 and page.locator("button").count() == 0
        page.close()
    for page in shoot(browser, "email-outcome-stopped", html=html_of(notice)).values():
        text = page.inner_text("body")
        looks_finished(text)
        for words in ("Stopped", "stopped before a decision took effect", f"{ANN}: approved", "fine — «oui»", "84",
                      "no links"):
            assert words in text, words
        assert page.locator("a").count() == 0
        page.close()


def test_after_the_escalation_contact_decided_every_page_says_so_with_the_counts(service, browser):
    name = service.start(2, 40)
    links = service.ballot_links(name, 2)
    assert decide(links[ANN]["approve"]).status_code == 200
    escalated = service.ballot_links(name, 1, "Escalated: approval needed")
    for page in shoot(browser, "page-approver-after-escalation", url=links[BOB]["approve"]).values():
        text = page.inner_text("main")
        assert f"escalated to {BOSS}" in text and "they may now decide alone" in text
        page.close()
    assert decide(escalated[BOSS]["approve"], "go ahead").status_code == 200
    assert service.wait_until_done(name)["status"] == "SUCCEEDED"
    for link in (links[BOB]["reject"], escalated[BOSS]["reject"]):
        for page in shoot(browser, "page-409-after-escalation", url=link).values():
            text = page.inner_text("main")
            looks_finished(text)
            assert page.inner_text("h1") == "Already decided"
            assert re.search(r"Outcome:\s*approved", text) and "So far: 2 approved, 0 rejected" in text
            assert "go ahead" in text and "may now decide alone" not in text and page.locator("form").count() == 0
            page.close()
    notice = next(m for m in service.wait_for_emails(name, "Approved:", 3) if m["To"] == BOB)
    for page in shoot(browser, "email-outcome-approved", html=html_of(notice)).values():
        text = page.inner_text("body")
        looks_finished(text)
        assert f"{BOSS} (the escalation contact) gave the deciding answer" in text and page.locator("a").count() == 0
        page.close()
