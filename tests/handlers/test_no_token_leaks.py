"""Complete runs (approve, reject, timeout, invalid input), with everything they produce captured:
log lines, console lines, emails (requests, reminders, escalation, failures), HTTP responses and
URLs, outcome notices, and every answer of the local console read all along the runs. No task token may appear in
any of it."""

import json
import logging
import threading

import requests

from local.console.redact import REDACTED
from local.service import eventually


class ConsoleReader(threading.Thread):
    """Reads every page of the local console, again and again, while the runs go on."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.answers: list[str] = []
        self.details: set[str] = set()
        self.stopping = threading.Event()
        self.rounds = 0  # complete reads of every page

    def get(self, path: str, **kwargs) -> requests.Response:
        answer = requests.get(f"{self.url}{path}", timeout=30, **kwargs)
        self.answers.append(answer.text if not kwargs.get("stream") else answer.raw.read(64).decode())
        self.answers.extend(f"{key}: {value}" for key, value in answer.headers.items())
        return answer

    def run(self) -> None:
        for path in ("/", "/_console/static/console.js", "/_console/static/console.css"):
            self.get(path)
        self.get("/_console/api/events", stream=True).close()
        while not self.stopping.is_set():
            # Both machines' executions: a workflow's and the approval it started share a name.
            for execution in self.get("/_console/api/executions").json()["executions"]:
                detail = self.get(f"/_console/api/executions/{execution['machine']}/{execution['name']}")
                assert detail.status_code == 200, detail.text
                self.details.add(execution["name"])
                for email in detail.json()["emails"]:
                    self.get(f"/_console/emails/{email['id']}")
            self.rounds += 1
            self.stopping.wait(0.05)


def test_no_task_token_appears_in_logs_emails_responses_or_urls(harness, capfd, caplog):
    # INFO for every library (botocore's DEBUG prints request bodies, which no deployment runs
    # with); our own logger goes to stdout at the level the tests set (DEBUG).
    caplog.set_level(logging.INFO)
    seen: list[str] = []

    def fetch(method, url, **kwargs):
        seen.append(url)
        answer = requests.request(method, url, timeout=30, **kwargs)
        seen.append(answer.text)
        seen.extend(f"{key}: {value}" for key, value in answer.headers.items())
        return answer

    def start(x, y):
        return fetch("POST", f"{harness.url}/start", json={"x": x, "y": y}).json()["executionArn"]

    def decide(arn, action, comment):
        callback_id = harness.approval_id(arn)
        fetch("GET", f"{harness.url}/{action}?id={callback_id}")
        fetch("POST", f"{harness.url}/{action}", data={"id": callback_id, "comment": comment})

    console = ConsoleReader(harness.url)
    console.start()
    approved, rejected, ignored = start(1, 2), start(3, 4), start(5, 6)
    decide(approved, "approve", "fine")
    decide(rejected, "reject", "not fine")
    harness.approval_id(ignored)
    invalid = harness.start_direct({"x": "1", "y": 2})
    # The approval machine started by itself, as any workflow would, with its own approvers.
    machine = harness.engine.machine_arns["ApprovalStateMachine"]
    direct = harness.sfn.start_execution(stateMachineArn=machine, name="direct-approval", input=json.dumps(
        {"subject": "Rotate the signing key", "details": [{"label": "key", "value": "k-2027"}],
         "link": "https://ci.example.com/runs/9", "requestedBy": "dev@example.com"}))["executionArn"]
    decide(direct, "approve", "rotated")
    for arn in (approved, rejected, invalid, direct):
        harness.wait(arn)
    # The ignored run waits out its follow-ups and its deadline (5 s): asked seldom, since the engine
    # runs in this process and a busy poll would delay its timers.
    harness.wait(ignored, timeout=30, interval=1)
    outcomes = {arn: harness.wait(arn, timeout=30) for arn in (approved, rejected, ignored, invalid, direct)}
    assert [o["status"] for o in outcomes.values()] == ["SUCCEEDED", "FAILED", "FAILED", "FAILED", "SUCCEEDED"]
    assert outcomes[ignored]["error"] == "ApprovalTimedOut"
    # Late and repeated clicks produce answers too.
    decide(ignored, "approve", "too late")
    for arn in outcomes:
        name = arn.rsplit(":", 1)[1]
        fetch("GET", f"{harness.url}/executions/{name}")

    read = console.rounds  # one more round of the console after the last answers
    eventually(lambda: console.rounds >= read + 2, 30, "the console stopped reading")
    console.stopping.set()
    console.join(timeout=30)
    assert {arn.rsplit(":", 1)[1] for arn in outcomes} <= console.details
    captured = capfd.readouterr()
    log_records = "\n".join(record.getMessage() for record in caplog.records)
    tokens = set()
    workflow = f":execution:{harness.engine.state_machine_arn.rsplit(':', 1)[1]}:"
    approvals = f":execution:{machine.rsplit(':', 1)[1]}:"
    for arn in outcomes:  # each workflow's own, and those of the approval it started (named as it is)
        tokens |= issued_tokens(harness.sfn, arn)
        if workflow in arn and arn != invalid:
            tokens |= issued_tokens(harness.sfn, arn.replace(workflow, approvals))
    # A calculation and an approval for each valid run, none for the invalid one, an approval for
    # the direct one, and a new wait after each follow-up of the ignored one (reminders at 2 and 4 s,
    # escalation at 3 s: up to three waits more; on a busy machine one late follow-up may send two at once).
    assert 2 + 2 + 1 + 3 <= len(tokens) <= 2 + 2 + 1 + 5
    emails = [path.read_text() for path in harness.outbox.glob("*.eml")]
    subjects = [line for text in emails for line in text.splitlines() if line.startswith("Subject:")]
    assert any("Reminder: approval needed" in line for line in subjects)
    assert any("Escalated: approval needed" in line for line in subjects)
    # Each request's end told the approver (and the contact once escalated): outcome notices.
    for ending in ("Approved", "Rejected", "Timed out"):
        assert any(line.startswith(f"Subject: {ending}:") for line in subjects), ending

    produced = {
        "log lines": captured.out + captured.err + log_records,
        "console": "\n".join(harness.console),
        "emails": "\n".join(emails),
        "HTTP responses and URLs": "\n".join(seen),
        "local console": "\n".join(console.answers),
        "execution outputs": "\n".join(str(o.get("output", "")) + str(o.get("cause", "")) for o in outcomes.values()),
    }
    assert all(produced.values()), [name for name, text in produced.items() if not text]
    for where, text in produced.items():
        leaked = [token for token in tokens if token in text]
        assert not leaked, f"{len(leaked)} task token(s) found in {where}"
    assert REDACTED in "\n".join(console.answers), "the console never showed a (redacted) task token parameter"


def issued_tokens(sfn, arn: str) -> set[str]:
    """Every task token an execution handed to a task: from its history, as the console shows it."""
    tokens = set()
    for event in sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]:
        parameters = event.get("taskScheduledEventDetails", {}).get("parameters")
        if parameters:
            token = json.loads(parameters).get("Payload", {}).get("taskToken")
            if token:
                tokens.add(token)
    return tokens
