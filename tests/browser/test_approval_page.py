"""A person approves in a real browser: headless Chromium (Debian's) driven by Playwright."""

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.conftest import local_run

ANN, BOB = "ann@example.com", "bob@example.com"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    yield from local_run(tmp_path_factory, "browser", APPROVERS=f"{ANN},{BOB}", APPROVAL_POLICY="all")


def test_two_approvers_approve_from_their_own_emailed_links(service, browser):
    name = service.start(19, 23)
    links = service.ballot_links(name, 2)
    for approver, width, heading_after in ((ANN, 1280, "still open"), (BOB, 390, "is approved")):
        page = browser.new_page(viewport={"width": width, "height": 900})
        response = page.goto(links[approver]["approve"])
        assert response.status == 200
        assert response.headers["referrer-policy"] == "no-referrer"
        assert f"You decide as {approver}." in page.inner_text("main")
        assert "needs all 2 approvals" in page.inner_text("main")
        for number in ("19", "23", "42", "84"):
            assert page.locator("td", has_text=number).first.is_visible()
        page.fill("textarea[name=comment]", f"approved by {approver.split('@')[0]} from the browser")
        page.screenshot(path=str(ARTIFACTS / f"approve-confirmation-{width}.png"), full_page=True)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.inner_text("h1") == "You approved this request"
        assert heading_after in page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / f"approve-result-{width}.png"), full_page=True)
        page.close()
    done = service.wait_until_done(name)
    assert done["status"] == "SUCCEEDED"
    assert [(vote["approver"], vote["comment"]) for vote in done["output"]["votes"]] == [
        (ANN, "approved by ann from the browser"), (BOB, "approved by bob from the browser")]
