"""The local console in a real browser (Debian's Chromium, driven by Playwright): a person starts a
workflow from the console's form, watches it wait in Approval on the graph, approves through the
link of the email the console shows, and sees SUCCEEDED arrive without reloading; a rejected run
shows its way through NotifyFailure to Failed, with the cause.

Every request the page makes stays on 127.0.0.1, and no console response carries a task token.
Screenshots at 1280 and 390 px go to test-artifacts/.
"""

import re
import time
from urllib.parse import urlsplit

import pytest

from local.console.redact import REDACTED
from tests.browser.conftest import ARTIFACTS, local_service

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
_TOKEN_VALUE = re.compile(r'task_?token\\*"?\s*:\s*\\*"([^"\\]*)', re.IGNORECASE)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    yield from local_service(tmp_path_factory, "console")


class Watch:
    """Everything the browser asked for and every console answer, for the checks at the end."""

    def __init__(self, context, service):
        self.urls: list[str] = []
        self.console_bodies: list[str] = []
        self.errors: list[str] = []
        self.base = service.url
        context.on("request", lambda request: self.urls.append(request.url))
        context.on("response", self._response)

    def _response(self, response):
        path = urlsplit(response.url).path
        if urlsplit(response.url).netloc == urlsplit(self.base).netloc and (path == "/" or path.startswith("/_console/")):
            if not path.endswith("/api/events"):  # the stream never ends; its messages are version numbers
                try:
                    self.console_bodies.append(response.text())
                except Exception:  # noqa: BLE001 - a response the page dropped (navigated away)
                    pass

    def page(self, context):
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page


def shoot(page, name: str, viewport: dict) -> None:
    """A screenshot of the whole page. The viewport is stretched to the page's height rather than
    using full_page, which leaves out-of-process frames (the sandboxed emails) blank."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size(viewport)
    page.wait_for_timeout(300)
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": viewport["width"], "height": min(height, 12000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{viewport['width']}.png"))
    page.set_viewport_size(viewport)


def until(page, expression: str, timeout: float = 30) -> None:
    """Poll a JavaScript expression (wait_for_function would need 'unsafe-eval', which the page's CSP refuses)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(50)


def node(page, mark: str, state: str):
    """The graph's node for `state`, drawn with `mark` (a CSS class from the graph and a text marker)."""
    name = page.locator("b", has_text=re.compile(rf"^{state}$"))
    return page.locator(f"#graph g.node.{mark}", has=name)


def start_from_form(page, x: str, y: str) -> str:
    before = page.evaluate("location.hash")
    page.fill("#x", x)
    page.fill("#y", y)
    page.click("#start button[type=submit]")
    until(page, f"location.hash.startsWith('#/executions/') && location.hash !== {before!r}")
    return page.evaluate("decodeURIComponent(location.hash.split('/').pop())")


def decide_through_console(context, page, action: str, comment: str) -> None:
    """Open the email's link from the console (a new tab), confirm the decision there."""
    link = page.locator(f"#emails a[data-link={action}]").first
    link.wait_for()
    with context.expect_page() as opened:
        link.click()
    confirmation = opened.value
    confirmation.wait_for_load_state()
    confirmation.fill("textarea[name=comment]", comment)
    with confirmation.expect_navigation():
        confirmation.click("button[type=submit]")
    assert confirmation.inner_text("h1").startswith("You ")  # "You approved this request" / "You rejected …"
    confirmation.close()


def test_the_console_follows_workflows_live_from_its_form_to_their_outcome(service, browser):
    context = browser.new_context(viewport=DESKTOP)
    watch = Watch(context, service)
    page = watch.page(context)
    page.goto(f"{service.url}/")
    page.wait_for_selector("#live.up")
    page.evaluate("window.notReloaded = true")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip", "the skip link comes first"

    # A refused start: the API's 400 message, inline, and nothing started.
    page.fill("#x", "1.5")
    page.click("#start button[type=submit]")
    message = page.locator("#start-message")
    message.wait_for()
    assert message.inner_text().startswith("400") and "Invalid request body" in message.inner_text()
    assert page.get_attribute("#x", "aria-invalid") == "true"

    # Approved: started from the form, seen waiting in Approval, approved through the email's link.
    approved = start_from_form(page, "19", "23")
    assert message.is_hidden()
    page.locator(f"#executions li[data-name='{approved}']").wait_for()
    node(page, "waiting", "Approval").wait_for()
    assert "◐ waiting" in node(page, "waiting", "Approval").text_content()
    for state in ("Validate", "IsInputValid", "Calculate"):
        assert "✓ passed" in node(page, "passed", state).text_content()
    page.locator("#votes td", has_text="waiting").wait_for()  # the approval is registered, then emailed
    page.locator("#emails article h4", has_text="Approval needed: 19 + 23").wait_for()
    assert page.locator("#votes td", has_text="waiting").count() == 1
    assert page.locator("#emails iframe").first.get_attribute("sandbox") == "allow-popups allow-popups-to-escape-sandbox"
    scheduled = page.locator("#history details", has=page.locator("summary", has_text="TaskScheduled")).last
    scheduled.locator("summary").focus()
    page.keyboard.press("Enter")  # the event opens from the keyboard: its Parameters, token redacted
    assert f'"taskToken": "{REDACTED}"' in scheduled.inner_text()
    shoot(page, "console-waiting", DESKTOP)
    shoot(page, "console-waiting", PHONE)

    decide_through_console(context, page, "approve", "approved from the console")
    page.locator(f"#executions li[data-name='{approved}'][data-status=SUCCEEDED]").wait_for()
    page.locator("#execution-status", has_text="succeeded").wait_for()
    assert page.evaluate("window.notReloaded") is True, "the page reloaded"
    node(page, "passed", "Finalize").wait_for()
    page.locator("#votes td", has_text="approved from the console").wait_for()
    assert "approved from the console" in page.inner_text("#output")
    assert service.status(approved)["status"] == "SUCCEEDED"
    shoot(page, "console-succeeded", DESKTOP)
    shoot(page, "console-succeeded", PHONE)

    # Rejected: the path through NotifyFailure to Failed, with the error and its cause.
    rejected = start_from_form(page, "5", "6")
    node(page, "waiting", "Approval").wait_for()
    decide_through_console(context, page, "reject", "not this one")
    page.locator("#execution-status", has_text="failed").wait_for()
    node(page, "failed", "Failed").wait_for()
    assert "⚠ error caught: ApprovalRejected" in node(page, "caught", "Approval").text_content()
    assert "✓ passed" in node(page, "passed", "NotifyFailure").text_content()
    assert "✗ failed: ApprovalRejected" in node(page, "failed", "Failed").text_content()
    assert page.inner_text("#failure-error") == "ApprovalRejected"
    assert "not this one" in page.inner_text("#failure-cause")
    page.locator("#emails article h4", has_text="Workflow failed: ApprovalRejected").wait_for()
    assert page.locator("#history li.bad", has_text="ExecutionFailed").count() == 1
    assert page.evaluate("window.notReloaded") is True, "the page reloaded"
    assert service.status(rejected)["error"] == "ApprovalRejected"
    shoot(page, "console-rejected", DESKTOP)
    shoot(page, "console-rejected", PHONE)

    # Stop: StopExecution from the button; the state it waited in is marked stopped.
    stopped = start_from_form(page, "7", "8")
    node(page, "waiting", "Approval").wait_for()
    page.click("#stop")
    page.locator("#execution-status", has_text="aborted").wait_for()
    assert "■ stopped" in node(page, "stopped", "Approval").text_content()
    assert page.locator("#stop").is_hidden()
    assert service.status(stopped)["status"] == "ABORTED"

    # Keyboard: the list's links open an execution with Enter, and focus goes to it.
    page.focus(f"#executions li[data-name='{approved}'] a")
    page.keyboard.press("Enter")
    until(page, f"location.hash.endsWith('{approved}')")
    page.locator("#execution-status", has_text="succeeded").wait_for()
    assert page.evaluate("document.activeElement.id") == "execution-title"

    context.close()
    hosts = {urlsplit(url).hostname for url in watch.urls if not url.startswith(("data:", "about:"))}
    assert hosts == {"127.0.0.1"}, f"the browser asked other hosts: {hosts}"
    expected = "the server responded with a status of 400"  # the refused start, on purpose
    assert [error for error in watch.errors if expected not in error] == [], watch.errors
    assert len(watch.console_bodies) > 10
    for body in watch.console_bodies:
        for value in _TOKEN_VALUE.findall(body):
            assert value == REDACTED, "a console response carries a task token"
