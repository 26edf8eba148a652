"""Whole executions over HTTP against `python -m local`, the process `make local` runs."""

from __future__ import annotations

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

import pytest
import requests

from tests.conftest import IAM_CALLS  # every call of the local runs, for the least-privilege record

ROOT = Path(__file__).resolve().parents[2]
_LINK = re.compile(r"https?://[^\s<>\"']+")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalService:
    def __init__(self, outbox: Path, log: Path, **environment: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.outbox = outbox
        self.log = log
        self._emails: list[tuple[object, str]] = []  # (message, plain text), in the order read
        self._read: set[str] = set()
        self._by_name: dict[str, tuple[int, list]] = {}  # name -> (emails scanned, its emails)
        self._emails_lock = threading.Lock()
        env = {**os.environ, "PORT": str(self.port), "OUTBOX": str(outbox), **environment}
        if "LOCAL_TEMPLATE" not in environment:  # the stack's own roles: every call is recorded
            IAM_CALLS.mkdir(parents=True, exist_ok=True)
            env["LOCAL_IAM_RECORD"] = str(IAM_CALLS / f"{uuid.uuid4()}.jsonl")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local"],
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        # A first run with new policy overrides compiles its template (about 20 s, one packaging
        # at a time on the machine): the deadline allows a few in line.
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"local mode exited: {log.read_text()}")
            try:
                requests.get(f"{self.url}/executions/none", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("local mode did not start within 180 s")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)

    # -- the API ---------------------------------------------------------------------------
    def start(self, x: int, y: int) -> str:
        answer = requests.post(f"{self.url}/start", json={"x": x, "y": y}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["executionArn"].rsplit(":", 1)[1]

    def status(self, name: str) -> dict:
        answer = requests.get(f"{self.url}/executions/{name}", timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def stop_execution(self, name: str) -> None:
        """StopExecution, as the local console's Stop button asks for it."""
        answer = requests.post(f"{self.url}/_console/api/executions/{name}/stop", json={}, timeout=10)
        assert answer.status_code == 200, answer.text

    def wait_until_done(self, name: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status(name)
            if status["status"] != "RUNNING":
                return status
            time.sleep(0.1)
        raise AssertionError(f"execution {name} still RUNNING after {timeout} s")

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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.emails_for(name):
                if message["Subject"].startswith(subject_start):
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no email {subject_start!r} for {name} within {timeout} s")

    def approval_links(self, name: str) -> dict[str, str]:
        message = self.wait_for_email(name, "Approval needed")
        links = _LINK.findall(text_of(message))
        return {link.split("?")[0].rsplit("/", 1)[1]: link for link in links}


    def ballot_links(self, name: str, count: int, subject_start: str = "Approval needed", timeout: float = 30):
        """{approver: {"approve": link, "reject": link}} from the first `count` matching emails."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = {
                message["To"]: {
                    link.split("?")[0].rsplit("/", 1)[1]: link for link in _LINK.findall(text_of(message))
                }
                for message in self.emails_for(name)
                if message["Subject"].startswith(subject_start)
            }
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"fewer than {count} emails {subject_start!r} for {name} within {timeout} s")


    def wait_for_emails(self, name: str, subject_start: str, count: int, timeout: float = 30) -> list:
        """The first `count` emails about `name` whose subject starts so (fails if fewer arrive)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.emails_for(name) if m["Subject"].startswith(subject_start)]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"fewer than {count} emails {subject_start!r} for {name} within {timeout} s")


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def decide(link: str, comment: str = "", session=requests) -> requests.Response:
    """What the confirmation page's button does: POST the id (and comment) to the same path."""
    url, _, query = link.partition("?")
    callback_id = query.removeprefix("id=")
    return session.post(url, data={"id": callback_id, "comment": comment}, timeout=30)


@pytest.fixture(scope="session")
def local_service(tmp_path_factory):
    directory = tmp_path_factory.mktemp("local")
    service = LocalService(directory / "outbox", directory / "local.log")
    yield service
    assert service.stop() == 0, service.log.read_text()[-2000:]


@pytest.fixture(scope="session")
def impatient_service(tmp_path_factory):
    """A second local run whose approval deadline is 3 seconds (APPROVAL_TIMEOUT_SECONDS override)."""
    directory = tmp_path_factory.mktemp("impatient")
    service = LocalService(directory / "outbox", directory / "local.log", APPROVAL_TIMEOUT_SECONDS="3")
    yield service
    assert service.stop() == 0, service.log.read_text()[-2000:]


@pytest.fixture
def local_service_factory(tmp_path):
    started = []

    def make(**environment):
        directory = tmp_path / f"run{len(started)}"
        directory.mkdir()
        service = LocalService(directory / "outbox", directory / "local.log", **environment)
        started.append(service)
        return service

    yield make
    for service in started:
        if service.process.poll() is None:
            service.process.kill()
            service.process.wait()
