"""The local console in a real browser (Debian's Chromium, driven by Playwright): a person starts a
workflow from the console's form, watches it wait in Approval on the graph, approves through the
link of the email the console shows, and sees SUCCEEDED arrive without reloading; a rejected run
shows its way through NotifyFailure to Failed, with the cause, and its reason in the list; Stop
asks first, and stops the approval the workflow started too. The list shows both state machines'
executions; a workflow links to the approval it started and back. With three approvers, reminders
and escalation, the approval machine's execution follows the votes and ends with the outcome, the
reminder timers are no error, and thirteen emails keep the page short. An approval started from
the console's own form (subject, details, link) is approved from its email and shows all three;
one the approval machine refuses marks the field that broke its rule.

Every request the page makes stays on 127.0.0.1, and no console response carries a task token.
Screenshots at 1280 and 390 px go to test-artifacts/.
"""

import re
from urllib.parse import urlsplit

import pytest

from local.console.redact import REDACTED
from tests.browser.conftest import ARTIFACTS
from tests.conftest import local_run
from local.service import decide, eventually

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
_TOKEN_VALUE = re.compile(r'task_?token\\*"?\s*:\s*\\*"([^"\\]*)', re.IGNORECASE)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    yield from local_run(tmp_path_factory, "console")


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

    def check(self, expected_error: str | None = None) -> None:
        """Once the context is closed: only 127.0.0.1 asked, no error on the page (but the expected
        one), no task token in any console answer."""
        hosts = {urlsplit(url).hostname for url in self.urls if not url.startswith(("data:", "about:"))}
        assert hosts == {"127.0.0.1"}, f"the browser asked other hosts: {hosts}"
        assert [error for error in self.errors if not expected_error or expected_error not in error] == [], self.errors
        assert len(self.console_bodies) > 10
        for body in self.console_bodies:
            for value in _TOKEN_VALUE.findall(body):
                assert value == REDACTED, "a console response carries a task token"


def open_console(browser, service):
    """The console's page at a desktop's size, live, marked to tell a reload: (context, watch, page)."""
    context = browser.new_context(viewport=DESKTOP)
    watch = Watch(context, service)
    page = watch.page(context)
    page.goto(f"{service.url}/")
    page.wait_for_selector("#live.up")
    page.evaluate("window.notReloaded = true")
    return context, watch, page


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
    eventually(lambda: bool(page.evaluate(expression)), timeout, f"still false: {expression}")


def row(page, machine: str, name: str):
    """The list's row of one execution: a workflow's and the approval it started share a name."""
    return page.locator(f"#executions li[data-machine={machine}][data-name='{name}']")


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
    context, watch, page = open_console(browser, service)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip", "the skip link comes first"

    # A refused start: the wrong field marked, in plain words, with the API's 400 under it; nothing started.
    page.fill("#x", "1.5")
    page.click("#start button[type=submit]")
    message = page.locator("#start-message")
    message.wait_for()
    assert message.locator(".problems").inner_text() == "x must be a whole number."
    assert message.locator(".api-answer").inner_text().startswith("POST /start answered 400: Invalid request body")
    assert page.get_attribute("#x", "aria-invalid") == "true" and page.get_attribute("#y", "aria-invalid") is None
    page.fill("#x", "3")
    page.fill("#y", "four")
    page.click("#start button[type=submit]")
    message.locator(".problems", has_text="y must be a whole number.").wait_for()
    assert page.get_attribute("#y", "aria-invalid") == "true" and page.get_attribute("#x", "aria-invalid") is None
    assert page.evaluate("document.activeElement.id") == "y"
    shoot(page, "console-start-refused", DESKTOP)

    # Approved: started from the form, seen waiting in Approval, approved through the email's link.
    approved = start_from_form(page, "19", "23")
    assert message.is_hidden()
    row(page, "workflow", approved).wait_for()
    row(page, "approval", approved).wait_for()  # the approval machine's execution, named as its workflow
    node(page, "waiting", "Approval").wait_for()
    assert "starts an execution, waits for its end" in node(page, "waiting", "Approval").text_content()
    assert "◐ waiting" in node(page, "waiting", "Approval").text_content()
    for state in ("Validate", "IsInputValid", "Calculate"):
        assert "✓ passed" in node(page, "passed", state).text_content()
    page.locator("#votes td", has_text="waiting").wait_for()  # the approval is registered, then emailed
    page.locator("#emails article h5", has_text="Approval needed: 19 + 23").wait_for()
    # What is asked, as the workflow asks it; and the approval it started, one click away.
    page.locator("#request .subject", has_text="19 + 23, doubled = 84").wait_for()
    assert page.locator("#request .details dt").all_inner_texts() == ["x", "y", "sum", "doubled"]
    child = page.locator(f"#lineage li.child a[data-machine=approval][data-name='{approved}']")
    child.wait_for()
    assert page.locator("#lineage li.child").inner_text().startswith("↓ started in Approval:")
    assert page.locator("#votes td", has_text="waiting").count() == 1
    assert page.locator("#emails iframe").first.get_attribute("sandbox") == "allow-popups allow-popups-to-escape-sandbox"
    # Calculate's: the workflow's own wait for a callback (its Approval Task starts the approval machine).
    scheduled = page.locator("#history details", has=page.locator("summary", has_text="TaskScheduled")).first
    scheduled.locator("summary").focus()
    page.keyboard.press("Enter")  # the event opens from the keyboard: its Parameters, token redacted
    assert f'"taskToken": "{REDACTED}"' in scheduled.inner_text()
    shoot(page, "console-waiting", DESKTOP)
    shoot(page, "console-waiting", PHONE)

    decide_through_console(context, page, "approve", "approved from the console")
    page.locator(f"#executions li[data-machine=workflow][data-name='{approved}'][data-status=SUCCEEDED]").wait_for()
    page.locator("#execution-status", has_text="succeeded").wait_for()
    assert page.evaluate("window.notReloaded") is True, "the page reloaded"
    node(page, "passed", "Finalize").wait_for()
    page.locator("#votes td", has_text="approved from the console").wait_for()
    assert "approved from the console" in page.inner_text("#output")
    assert service.status(approved)["status"] == "SUCCEEDED"
    shoot(page, "console-succeeded", DESKTOP)
    shoot(page, "console-succeeded", PHONE)

    # The approval it started: its own machine's graph, and a link back to the workflow.
    child.click()
    until(page, f"location.hash === '#/executions/approval/{approved}'")
    page.locator("#execution-status", has_text="succeeded").wait_for()
    node(page, "passed", "CheckRequest").wait_for()
    assert page.locator("#graph b", has_text="Finalize").count() == 0
    assert page.locator("#execution-title .machine").inner_text() == "approval"
    assert "approval-workflow-local-approval" in page.inner_text("#execution-facts")
    parent = page.locator(f"#lineage li.parent a[data-machine=workflow][data-name='{approved}']")
    assert page.locator("#lineage li.parent").inner_text().startswith("↑ started by")
    assert '"decision": "approved"' in page.inner_text("#output")
    shoot(page, "console-child", DESKTOP)
    parent.click()
    until(page, f"location.hash === '#/executions/workflow/{approved}'")
    node(page, "passed", "Finalize").wait_for()

    # Rejected: the path through NotifyFailure to Failed, with the error and its cause.
    rejected = start_from_form(page, "5", "6")
    node(page, "waiting", "Approval").wait_for()
    decide_through_console(context, page, "reject", "not this one")
    page.locator("#execution-status", has_text="failed").wait_for()
    node(page, "failed", "Failed").wait_for()
    # The Approval Task fails as startExecution.sync does (States.TaskFailed); the workflow names the approval's error.
    assert "⚠ error caught: States.TaskFailed" in node(page, "caught", "Approval").text_content()
    assert "✓ passed" in node(page, "passed", "NotifyFailure").text_content()
    assert "✗ failed: ApprovalRejected" in node(page, "failed", "Failed").text_content()
    assert page.inner_text("#failure-error") == "ApprovalRejected"
    assert "not this one" in page.inner_text("#failure-cause")
    page.locator("#emails section[data-kind=failure] article h5", has_text="Workflow failed: ApprovalRejected").wait_for()
    assert page.locator("#history li.bad", has_text="ExecutionFailed").count() == 1
    # The list says why it failed, not only that it did.
    assert row(page, "workflow", rejected).locator(".reason").inner_text() == "ApprovalRejected"
    assert row(page, "approval", rejected).locator(".reason").inner_text() == "ApprovalRejected"
    assert page.locator(f"#executions li[data-name='{approved}'] .reason").count() == 0
    assert page.locator("#approval-summary [data-fact=outcome]").inner_text().startswith("outcome\n✗ rejected by approver@example.com at 20")
    assert page.evaluate("window.notReloaded") is True, "the page reloaded"
    assert service.status(rejected)["error"] == "ApprovalRejected"
    shoot(page, "console-rejected", DESKTOP)
    shoot(page, "console-rejected", PHONE)

    # Stop asks first, naming the execution: cancelled, nothing happens; confirmed, StopExecution.
    stopped = start_from_form(page, "7", "8")
    node(page, "waiting", "Approval").wait_for()
    dialog = page.locator("#stop-dialog")
    for viewport, close in ((PHONE, lambda: dialog.locator("button", has_text="Cancel").click()),
                            (DESKTOP, lambda: page.keyboard.press("Escape"))):
        page.set_viewport_size(viewport)
        page.click("#stop")
        dialog.wait_for()
        assert stopped in dialog.inner_text() and "Stop this execution?" in dialog.inner_text()
        assert "and so does the approval it started" in dialog.inner_text()
        # The viewport only: a modal sits in its middle.
        page.screenshot(path=str(ARTIFACTS / f"console-stop-asks-{viewport['width']}.png"))
        close()
        dialog.wait_for(state="hidden")
    assert service.status(stopped)["status"] == "RUNNING"
    page.click("#stop")
    dialog.locator("button", has_text="Stop execution").click()
    page.locator("#execution-status", has_text="aborted").wait_for()
    assert "■ stopped" in node(page, "stopped", "Approval").text_content()
    assert page.locator("#stop").is_hidden()
    assert service.status(stopped)["status"] == "ABORTED"
    # Its approval stopped with it, as on AWS (a .sync Task stops the execution it started).
    page.locator(f"#executions li[data-machine=approval][data-name='{stopped}'][data-status=ABORTED]").wait_for()
    page.locator("#lineage li.child .badge.aborted").wait_for()

    # Keyboard: the list's links open an execution with Enter, and focus goes to it.
    page.focus(f"#executions li[data-machine=workflow][data-name='{approved}'] a")
    page.keyboard.press("Enter")
    until(page, f"location.hash.endsWith('{approved}')")
    page.locator("#execution-status", has_text="succeeded").wait_for()
    until(page, "document.activeElement && document.activeElement.id === 'execution-title'")

    context.close()
    watch.check(expected_error="the server responded with a status of 400")  # the refused start, on purpose


def detail_row(page, number: int, part: str):
    """The approval form's detail row `number` (1-based): its "label" or "value" input."""
    return page.locator(f"#approval-details li:nth-child({number}) .detail-{part}")


def test_an_approval_started_from_the_console_is_approved_from_its_email_and_shows_what_was_asked(service, browser):
    context, watch, page = open_console(browser, service)
    submit = page.locator("#start-approval button[type=submit]")
    message = page.locator("#approval-message")
    assert page.inner_text("#approval-machine") == "approval-workflow-local-approval"

    # The form checks the subject itself: without one nothing is sent.
    submit.click()
    message.wait_for()
    assert message.inner_text() == "subject is required: what is asked, in one line."
    assert page.get_attribute("#approval-subject", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "approval-subject"
    assert page.evaluate("location.hash") == ""

    # The approval machine checks the rest: a link it refuses fails the execution at once
    # (InvalidApprovalRequest), and the form marks that field, in the machine's words.
    page.fill("#approval-subject", "Deploy v2 to production")
    page.fill("#approval-link", "http://ci.example.com/runs/42")
    submit.click()
    message.locator(".problems", has_text="link: must be an https URL (https://…)").wait_for()
    refused = page.evaluate("decodeURIComponent(location.hash.split('/').pop())")
    assert page.evaluate("location.hash").startswith("#/executions/approval/")
    assert page.get_attribute("#approval-link", "aria-invalid") == "true"
    assert page.get_attribute("#approval-subject", "aria-invalid") is None
    until(page, "document.activeElement && document.activeElement.id === 'approval-link'")
    assert page.inner_text("#failure-error") == "InvalidApprovalRequest"
    assert page.locator("#votes", has_text="No approval was requested.").count() == 1
    assert not [m for m in service.emails_for(refused) if m["Subject"].startswith("Approval needed")]
    shoot(page, "console-direct-approval-refused", DESKTOP)

    # Two detail rows (a third added, then removed), an https link, who asks.
    detail_row(page, 1, "label").fill("commit")
    detail_row(page, 1, "value").fill("4f2a9c1")
    page.click("#add-detail")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Detail 2: label"
    detail_row(page, 2, "label").fill("environment")
    detail_row(page, 2, "value").fill("production (eu-west-1)")
    page.click("#add-detail")
    detail_row(page, 3, "label").fill("left over")
    page.click("#approval-details li:nth-child(3) button.remove")
    assert page.locator("#approval-details li").count() == 2
    page.fill("#approval-link", "https://ci.example.com/runs/42")
    page.fill("#approval-requested-by", "dev@example.com")
    submit.click()
    until(page, f"location.hash.startsWith('#/executions/approval/') && !location.hash.endsWith('{refused}')")
    name = page.evaluate("decodeURIComponent(location.hash.split('/').pop())")
    assert message.is_hidden() and page.locator("#start-approval [aria-invalid]").count() == 0
    row(page, "approval", name).wait_for()
    assert row(page, "workflow", name).count() == 0  # started directly: no workflow of its name
    node(page, "waiting", "Approval").wait_for()
    assert "✓ passed" in node(page, "passed", "CheckRequest").text_content()
    assert page.locator("#lineage").is_hidden()  # no parent
    page.locator("#request .subject", has_text="Deploy v2 to production").wait_for()
    shoot(page, "console-direct-approval-waiting", DESKTOP)

    # The approver opens the approve link of their email in the browser and approves there: the
    # page shows what is asked too.
    links = service.ballot_links(name, 1)["approver@example.com"]
    ballot = context.new_page()
    ballot.goto(links["approve"])
    shown = ballot.inner_text("body")
    for text in ("Deploy v2 to production", "commit", "4f2a9c1", "environment", "production (eu-west-1)",
                 "https://ci.example.com/runs/42"):
        assert text in shown, text
    ballot.fill("textarea[name=comment]", "ship it")
    with ballot.expect_navigation():
        ballot.click("button[type=submit]")
    assert ballot.inner_text("h1") == "You approved this request"
    ballot.close()

    # The console follows it to SUCCEEDED without a reload, with the subject, the details and the link.
    page.locator("#execution-status", has_text="succeeded").wait_for()
    page.locator(f"#executions li[data-machine=approval][data-name='{name}'][data-status=SUCCEEDED]").wait_for()
    assert page.evaluate("window.notReloaded") is True, "the page reloaded"
    node(page, "passed", "Approval").wait_for()
    assert page.inner_text("#request .subject") == "Deploy v2 to production"
    assert page.locator("#request .details dt").all_inner_texts() == ["commit", "environment"]
    assert page.locator("#request .details dd").all_inner_texts() == ["4f2a9c1", "production (eu-west-1)"]
    link = page.locator("#request a.link-button")
    assert (link.inner_text(), link.get_attribute("href")) == ("Open", "https://ci.example.com/runs/42")
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert "requested by dev@example.com" in page.inner_text("#request")
    page.locator("#approval-summary [data-fact=outcome]").wait_for()
    assert page.locator("#approval-summary [data-fact=outcome] dd").inner_text().startswith("✓ approved by approver@example.com")
    page.locator("#votes td", has_text="ship it").wait_for()
    output = page.inner_text("#output")
    assert '"decision": "approved"' in output and '"comment": "ship it"' in output
    page.locator("#emails article h5", has_text="Approval needed: Deploy v2 to production").wait_for()
    # Its end told the approver and the requester.
    page.locator("#emails section[data-kind=outcome] h4", has_text="(2)").wait_for()
    shoot(page, "console-direct-approval-approved", DESKTOP)
    shoot(page, "console-direct-approval-approved", PHONE)

    context.close()
    watch.check()


@pytest.fixture(scope="module")
def reminding(tmp_path_factory):
    """Two of three approvers, a reminder every second (at most three), escalation after two."""
    yield from local_run(
        tmp_path_factory, "console-reminders", APPROVERS="ann@example.com,bob@example.com,cy@example.com",
        APPROVAL_POLICY="2", REMINDER_INTERVAL_SECONDS="1", MAX_REMINDERS="3", ESCALATION_EMAIL="lead@example.com",
        ESCALATE_AFTER_SECONDS="2", APPROVAL_TIMEOUT_SECONDS="120",
    )


def fact(page, name: str) -> str:
    """One line of the approval summary, without its label."""
    return page.locator(f"#approval-summary [data-fact={name}] dd").inner_text()


def test_the_approval_summary_follows_the_votes_and_reminders_are_no_error(reminding, browser):
    context = browser.new_context(viewport=DESKTOP)
    watch = Watch(context, reminding)
    page = watch.page(context)
    name = reminding.start(2, 3)
    # The workflow's own link (no machine: the workflow's), then the approval it started: the
    # approval machine's execution, where the reminders and the escalation happen.
    page.goto(f"{reminding.url}/#/executions/{name}")
    page.wait_for_selector("#live.up")
    until(page, f"location.hash === '#/executions/workflow/{name}'")
    page.locator("#lineage li.child a[data-machine=approval]").click()
    until(page, f"location.hash === '#/executions/approval/{name}'")
    page.locator("#lineage li.parent a[data-machine=workflow]").wait_for()

    # While it waits: the policy in words, the counts, what is still needed, the deadline and time left.
    page.locator("#approval-summary [data-fact=policy]").wait_for()
    assert fact(page, "policy") == "needs 2 of 3 approvals"
    assert re.fullmatch(r"20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (1|2) minutes?\)", fact(page, "deadline"))
    assert page.locator("#approval-summary [data-fact=outcome]").count() == 0

    # Every follow-up due: three rounds of reminders to the three approvers, then the escalation.
    until(page, "document.querySelectorAll('#emails article.email').length === 13")
    links = reminding.ballot_links(name, 3)
    assert decide(links["ann@example.com"]["approve"], "fine by me").status_code == 200
    page.locator("#approval-summary [data-fact=votes] dd", has_text="1 approved").wait_for()
    assert fact(page, "votes") == "1 approved · 0 rejected · 2 of 3 yet to vote"
    assert fact(page, "needed") == "1 more approval to approve; 2 rejections would reject"
    assert fact(page, "reminders") == "3 of 3 sent (every 1 s)"
    assert re.fullmatch(r"escalated to lead@example\.com at 20\S+ \S+ UTC \((\d+ seconds? ago|just now)\)", fact(page, "escalation"))

    # The reminder timers fired: the planned path, not an error.
    assert "◔ timer fired" in node(page, "timer", "Approval").text_content()
    for mark in ("caught", "failed"):
        assert page.locator(f"#graph g.node.{mark}").count() == 0, mark
    assert page.locator("#history .event-type.bad").count() == 0
    assert page.locator("#history .event-type.timer", has_text="TaskTimedOut (timer)").count() >= 1
    assert "◔ States.Timeout" in page.inner_text("#graph")

    # Thirteen emails by kind, the first of each whole: a page of a few screens, not ten.
    groups = page.locator("#emails section.email-group")
    assert [groups.nth(i).get_attribute("data-kind") for i in range(groups.count())] == ["request", "reminder", "escalation"]
    assert [text.split(" (")[1] for text in groups.locator("h4").all_inner_texts()] == ["3)", "9)", "1)"]
    assert page.locator("#emails iframe").count() == 3
    assert page.locator("#emails section[data-kind=reminder] details.more > summary").inner_text() == "8 more reminders"
    emails_height = page.evaluate("document.getElementById('emails').getBoundingClientRect().height")
    page_height = page.evaluate("document.documentElement.scrollHeight")
    assert emails_height < 1800, emails_height
    assert page_height < 5000, page_height
    shoot(page, "console-approval-waiting", DESKTOP)
    shoot(page, "console-approval-waiting", PHONE)

    # A collapsed email opens on demand, links and all.
    more = page.locator("#emails section[data-kind=reminder] details.more")
    more.locator("> summary").click()
    collapsed = more.locator("article.email").first
    assert collapsed.locator("a[data-link=approve]").is_visible()
    collapsed.locator("details.show summary").click()
    collapsed.locator("iframe").wait_for()

    # The second approval decides: the outcome and who decided, and still no error marker.
    assert decide(links["bob@example.com"]["approve"], "yes").status_code == 200
    page.locator("#execution-status", has_text="succeeded").wait_for()
    page.locator("#approval-summary [data-fact=outcome]").wait_for()
    assert re.fullmatch(r"✓ approved by bob@example\.com at 20\S+ \S+ UTC \((\d+ seconds? ago|just now)\)", fact(page, "outcome"))
    assert fact(page, "votes") == "2 approved · 0 rejected · 1 of 3 did not vote"
    assert page.locator("#approval-summary [data-fact=needed]").count() == 0
    node(page, "passed", "AwaitApproval").wait_for()  # the approval machine's end: approved
    for mark in ("caught", "failed"):
        assert page.locator(f"#graph g.node.{mark}").count() == 0, mark
    assert page.locator("#history .event-type.bad").count() == 0
    # The newest events first; the earlier ones on demand.
    total = int(page.inner_text("#event-count").strip("()"))
    assert total > 25 and page.locator("#history li.event:not(.earlier)").count() == 25
    page.locator("#history button", has_text=f"Show the {total - 25} earlier events").click()
    until(page, f"document.querySelectorAll('#history li.event').length === {total}")
    assert page.locator("#history .event-type", has_text="ExecutionStarted").count() == 1
    shoot(page, "console-approval-decided", DESKTOP)
    shoot(page, "console-approval-decided", PHONE)
    context.close()
    assert watch.errors == [], watch.errors


# The labels that say something, per machine: the workflow's Choice rule and Default (its Catches
# are all States.ALL: dotted, unlabelled); the approval machine's named Catches and its two timers.
GRAPH_LABELS = {
    "workflow": ["$.input.x is numeric and $.input.y is numeric", "Default"],
    "approval": ["Catch: ApprovalTimedOut", "Catch: InvalidApprovalRequest", "Catch: NotificationFailed",
                 "◔ States.Timeout", "◔ States.Timeout"],
}


@pytest.mark.parametrize("machine", ["workflow", "approval"])
def test_the_graph_is_readable_at_both_widths(reminding, browser, machine):
    name = reminding.start(4, 5)
    reminding.approval_links(name)  # the approval machine's execution has started
    for viewport in (DESKTOP, PHONE):
        page = browser.new_page(viewport=viewport)
        page.goto(f"{reminding.url}/#/executions/{machine}/{name}")
        page.wait_for_selector("#graph svg")
        labels = page.evaluate(
            "[...document.querySelectorAll('#graph .edgeLabel foreignObject')]"
            ".filter((label) => label.textContent.trim())"
            ".map((label) => [label.textContent, label.width.baseVal.value, label.firstElementChild.scrollWidth])"
        )
        # Only the labels that say something; none clipped.
        assert sorted(text for text, _, _ in labels) == GRAPH_LABELS[machine]
        for text, width, needed in labels:
            assert needed <= width + 1, f"{text!r} clipped: {needed} px in {width} px"
        if machine == "workflow":
            assert "Catch" not in page.inner_text("#graph")
        # No label over another label or over a state.
        boxes = page.evaluate(
            "[...document.querySelectorAll('#graph .edgeLabel foreignObject, #graph g.node')]"
            ".filter((box) => box.matches('g.node') || box.textContent.trim())"
            ".map((box) => { const r = box.getBoundingClientRect();"
            " return [box.textContent.trim(), box.matches('g.node'), r.left, r.top, r.right, r.bottom]; })"
        )
        labels, states = [box for box in boxes if not box[1]], [box for box in boxes if box[1]]
        for index, (text, _, left, top, right, bottom) in enumerate(labels):
            for other in labels[index + 1:] + states:
                overlap = min(right, other[4]) - max(left, other[2]), min(bottom, other[5]) - max(top, other[3])
                assert min(overlap) <= 1, f"{text!r} covers {other[0]!r}"
        fitted = page.evaluate("document.getElementById('graph').classList.contains('fit')")
        sizes = page.evaluate("[document.querySelector('#graph svg').getBoundingClientRect().width,"
                              " document.getElementById('graph').clientWidth]")
        if viewport is PHONE:
            assert fitted and sizes[0] <= sizes[1], sizes  # opens fitted: the whole graph in view
            assert page.inner_text("#fit") == "Actual size"
        else:
            assert not fitted
        page.screenshot(path=str(ARTIFACTS / f"console-graph-{machine}-{viewport['width']}.png"))
        page.close()
