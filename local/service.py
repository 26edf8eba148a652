"""`python -m local` as a child process, driven over HTTP and read through its outbox.

One process helper for the tests (tests/workflow, tests/browser), the handler tests' port and
`make bench`: each measures or checks the same front `make local` serves.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any, Callable, TypeVar

import requests

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"https?://[^\s<>\"']+")
# Where a child records every AWS call it checks against IAM (one file per run); tests/conftest.py sets it.
IAM_RECORD_DIR = "LOCAL_IAM_RECORD_DIR"
REQUEST_TIMEOUT_SECONDS = 10  # one request to the local run, before the caller gives up

T = TypeVar("T")


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports (each probe is held until all are bound)."""
    with contextlib.ExitStack() as probes:
        ports = []
        for _ in range(count):
            probe = probes.enter_context(socket.socket())
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
        return ports


def eventually(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05) -> T:
    """Call `probe` until it returns something other than None or False (0 and "" count as found),
    at most `timeout` seconds; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None and found is not False:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(interval)


def holds(probe: Callable[[], bool], seconds: float, what: str, interval: float = 0.05) -> None:
    """Assert that `probe` stays true for `seconds` (that nothing happens meanwhile)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert probe(), what
        time.sleep(interval)
    assert probe(), what


def text_of(message: Any) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def links_of(message: Any) -> dict[str, str]:
    """{"approve": link, "reject": link} (by the link's last path segment) from an email."""
    return {link.split("?")[0].rsplit("/", 1)[1]: link for link in LINK.findall(text_of(message))}


def decide(link: str, comment: str = "", session: Any = requests) -> requests.Response:
    """What the confirmation page's button does: POST the id (and comment) to the same path."""
    url, _, query = link.partition("?")
    callback_id = query.removeprefix("id=")
    return session.post(url, data={"id": callback_id, "comment": comment}, timeout=30)


class LocalService:
    def __init__(self, outbox: Path, log: Path, **environment: str) -> None:
        self.outbox = outbox
        self.log = log
        self._emails: list[tuple[object, str]] = []  # (message, plain text), in the order read
        self._read: set[str] = set()
        self._by_name: dict[str, tuple[int, list]] = {}  # name -> (emails scanned, its emails)
        self._emails_lock = threading.Lock()
        # A free port may be taken by another process before this one binds it (runs side by side):
        # then local mode says so in one line, and the run starts again on other ports.
        for attempt in range(3):
            try:
                self._start(environment)
                return
            except RuntimeError as error:
                if "is already in use" not in str(error) or attempt == 2:
                    raise

    def _start(self, environment: dict[str, str]) -> None:
        self.port, aws_port = free_ports(2)
        # Each run's AWS API on a port of its own too, so that runs side by side never collide.
        self.aws_port = int(environment.get("AWS_ENDPOINT_PORT", aws_port))
        self.url = f"http://127.0.0.1:{self.port}"
        self.aws_url = f"http://127.0.0.1:{self.aws_port}"
        env = {**os.environ, "PORT": str(self.port), "AWS_ENDPOINT_PORT": str(self.aws_port), "OUTBOX": str(self.outbox),
               **environment}
        record_dir = env.pop(IAM_RECORD_DIR, None)
        if record_dir and "LOCAL_TEMPLATE" not in environment:  # the stack's own roles: every call is recorded
            Path(record_dir).mkdir(parents=True, exist_ok=True)
            env["LOCAL_IAM_RECORD"] = str(Path(record_dir) / f"{uuid.uuid4()}.jsonl")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        # A first run with new policy overrides compiles its template (about 20 s, one packaging
        # at a time on the machine): the deadline allows a few in line.
        eventually(self._ready, 180, "local mode did not start", interval=0.1)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"local mode exited: {self.log.read_text()}")
        try:
            requests.get(f"{self.url}/executions/none", timeout=1)
            return True
        except requests.RequestException:
            return False

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    # -- the API ---------------------------------------------------------------------------
    def start(self, x: int, y: int) -> str:
        answer = requests.post(f"{self.url}/start", json={"x": x, "y": y}, timeout=REQUEST_TIMEOUT_SECONDS)
        assert answer.status_code == 200, answer.text
        return answer.json()["executionArn"].rsplit(":", 1)[1]

    def status(self, name: str) -> dict:
        answer = requests.get(f"{self.url}/executions/{name}", timeout=REQUEST_TIMEOUT_SECONDS)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def stop_execution(self, name: str) -> None:
        """StopExecution, as the local console's Stop button asks for it."""
        answer = requests.post(f"{self.url}/_console/api/executions/{name}/stop", json={}, timeout=10)
        assert answer.status_code == 200, answer.text

    def wait_until_done(self, name: str, timeout: float = 60) -> dict:
        def finished() -> dict | None:
            status = self.status(name)
            return status if status["status"] != "RUNNING" else None

        return eventually(finished, timeout, f"execution {name} still RUNNING", interval=0.1)

    # -- the outbox ------------------------------------------------------------------------
    # Read incrementally: each .eml is parsed once (local mode writes it whole, by a rename), and
    # each execution's emails are found by scanning only what arrived since that name was asked.
    def _read_new_emails(self) -> list[tuple[object, str]]:
        if self.outbox.exists():
            for path in sorted(self.outbox.glob("*.eml")):
                if path.name not in self._read:
                    message = message_from_bytes(path.read_bytes(), policy=policy.default)
                    self._read.add(path.name)
                    self._emails.append((message, text_of(message)))
        return self._emails

    def emails(self) -> list:
        with self._emails_lock:
            return [message for message, _ in self._read_new_emails()]

    def emails_for(self, name: str) -> list:
        with self._emails_lock:
            emails = self._read_new_emails()
            scanned, found = self._by_name.get(name, (0, []))
            found = found + [message for message, text in emails[scanned:] if name in text]
            self._by_name[name] = (len(emails), found)
            return list(found)

    def wait_for_email(self, name: str, subject_start: str, timeout: float = 30):
        return eventually(
            lambda: next((m for m in self.emails_for(name) if m["Subject"].startswith(subject_start)), None),
            timeout, f"no email {subject_start!r} for {name}")

    def approval_links(self, name: str) -> dict[str, str]:
        return links_of(self.wait_for_email(name, "Approval needed"))

    def ballot_links(self, name: str, count: int, subject_start: str = "Approval needed", timeout: float = 30):
        """{approver: {"approve": link, "reject": link}} from the first `count` matching emails."""
        def found() -> dict | None:
            ballots = {message["To"]: links_of(message) for message in self.emails_for(name)
                       if message["Subject"].startswith(subject_start)}
            return ballots if len(ballots) >= count else None

        return eventually(found, timeout, f"fewer than {count} emails {subject_start!r} for {name}")

    def wait_for_emails(self, name: str, subject_start: str, count: int, timeout: float = 30) -> list:
        """The first `count` emails about `name` whose subject starts so (fails if fewer arrive)."""
        def found() -> list | None:
            matching = [m for m in self.emails_for(name) if m["Subject"].startswith(subject_start)]
            return matching if len(matching) >= count else None

        return eventually(found, timeout, f"fewer than {count} emails {subject_start!r} for {name}")
