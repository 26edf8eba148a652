"""What a person sees, in Chromium at a phone's width and a desktop's: the approval email, the
pages, the failure email; a comment with accents, an em dash, guillemets and markup end to end."""

from __future__ import annotations

import json
import re

import pytest
import requests

from tests.browser.conftest import ARTIFACTS
from tests.conftest import local_run
from local.service import text_of

COMMENT = "Très cher — «non» <b>markup</b>"
WIDTHS = (390, 1280)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    yield from local_run(tmp_path_factory, "what-people-see")


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def looks_finished(text: str) -> None:
    """Visible text a person reads: no JSON, no escapes."""
    assert not re.search(r"[{}]", text), text
    assert "\\u" not in text, text


def shoot(browser, name: str, *, url: str | None = None, html: str | None = None):
    """Open a page or an email at each width; screenshot it; return what each width shows."""
    shown = {}
    for width in WIDTHS:
        page = browser.new_page(viewport={"width": width, "height": 900})
        if url:
            page.goto(url)
        else:
            page.set_content(html)
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        shown[width] = page
    return shown


def button_colours(page) -> dict[str, str]:
    return {
        label: page.locator("a", has_text=re.compile(f"^{label}$")).evaluate(
            "a => getComputedStyle(a.parentElement).backgroundColor")
        for label in ("Approve", "Reject")
    }


def test_the_emails_and_pages_a_person_sees(service, browser):
    name = service.start(1234, -34)
    request = service.wait_for_email(name, "Approval needed")
    assert request["Subject"] == "Approval needed: 1234 + -34, doubled = 2400"

    for width, page in shoot(browser, "email-approval", html=html_of(request)).items():
        text = page.inner_text("body")
        looks_finished(text)
        for words in ("Your approval is needed", "1234", "2400", "deadline", "(in 10 minutes)"):
            assert words in text, (width, words)
        colours = button_colours(page)
        assert colours["Approve"] != colours["Reject"]  # distinct at a glance: green and red
        assert page.locator("a", has_text=re.compile("^Approve$")).is_visible()
        page.close()

    reject_link = service.approval_links(name)["reject"]
    pages = shoot(browser, "page-reject-confirmation", url=reject_link)
    for page in pages.values():
        looks_finished(page.inner_text("body"))
        assert page.inner_text("h1") == "Reject this request?"
        assert page.locator("a", has_text="Approve instead").is_visible()  # the other action, one click away
    page = pages[390]
    page.fill("textarea[name=comment]", COMMENT)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.inner_text("h1") == "You rejected this request"
    assert COMMENT in page.inner_text("main")  # as written: the markup shows as text
    page.screenshot(path=str(ARTIFACTS / "page-reject-result-390.png"), full_page=True)
    pages[1280].close()
    page.close()

    done = service.wait_until_done(name)
    assert done["error"] == "ApprovalRejected" and json.loads(done["cause"])["comment"] == COMMENT
    raw = requests.get(f"{service.url}/executions/{name}", timeout=10).content.decode("utf-8")
    assert "«non»" in raw and "\\u00e8" not in raw  # the status API keeps the characters as written

    failure = service.wait_for_email(name, "Workflow failed: ApprovalRejected")
    assert COMMENT in text_of(failure)
    assert "&lt;b&gt;markup&lt;/b&gt;" in html_of(failure) and "<b>markup</b>" not in html_of(failure)
    for page in shoot(browser, "email-failure", html=html_of(failure)).values():
        text = page.inner_text("body")
        looks_finished(text)
        for words in ("rejected by approver@example.com", COMMENT, "1234", "1200", "2400", "What to do next"):
            assert words in text, words
        page.close()

    for page in shoot(browser, "page-409", url=reject_link).values():
        text = page.inner_text("main")
        looks_finished(text)
        assert page.inner_text("h1") == "Already decided" and "rejected" in text and "2400" in text
        page.close()
