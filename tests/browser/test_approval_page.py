"""A person approves in a real browser: headless Chromium (Debian's) driven by Playwright."""

import os
import shutil
from pathlib import Path

import pytest

from tests.workflow.conftest import LocalService

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    directory = tmp_path_factory.mktemp("browser")
    service = LocalService(directory / "outbox", directory / "local.log")
    yield service
    assert service.stop() == 0


def test_a_person_approves_from_the_emailed_link(service, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: run `make test` (it installs it) or apt-get install chromium")
    from playwright.sync_api import sync_playwright

    name = service.start(19, 23)
    approve_link = service.approval_links(name)["approve"]
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        response = page.goto(approve_link)
        assert response.status == 200
        assert response.headers["referrer-policy"] == "no-referrer"
        for number in ("19", "23", "42", "84"):
            assert page.locator("td", has_text=number).first.is_visible()
        page.fill("textarea[name=comment]", "approved from the browser")
        page.screenshot(path=str(ARTIFACTS / "approve-confirmation.png"), full_page=True)
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert "Request approved" in page.inner_text("h1")
        page.screenshot(path=str(ARTIFACTS / "approve-result.png"), full_page=True)
        browser.close()
    done = service.wait_until_done(name)
    assert done["status"] == "SUCCEEDED"
    assert done["output"]["comment"] == "approved from the browser"
