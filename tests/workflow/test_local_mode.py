import os
import socket
import subprocess
import sys

import pytest

from local.service import ROOT, LocalService, decide, free_port


@pytest.mark.parametrize("variable", ["PORT", "AWS_ENDPOINT_PORT"])
def test_a_busy_port_gives_a_clear_message_and_exit_code(tmp_path, variable):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = {"PORT": str(free_port()), "AWS_ENDPOINT_PORT": str(free_port()), variable: str(port)}
        run = subprocess.run(
            [sys.executable, "-m", "local"], cwd=ROOT, capture_output=True, text=True, timeout=60,
            env={**os.environ, **ports, "OUTBOX": str(tmp_path)},
        )
    assert run.returncode == 2
    assert run.stdout == f"Port {port} is already in use. Stop what uses it, or run: {variable}={port + 1} make local\n"
    assert run.stderr == ""


def test_ctrl_c_stops_cleanly(local_service_factory):
    service = local_service_factory()
    assert service.stop() == 0
    assert "stopping" in service.log.read_text()


def test_a_port_that_is_not_a_number_is_answered_in_one_line(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "local"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PORT": "abc", "OUTBOX": str(tmp_path / "outbox")},
    )
    assert run.returncode == 2
    assert run.stdout == "Configuration refused: environment variable PORT='abc': must be a port number from 1 to 65535\n"
    assert run.stderr == ""
    assert not (tmp_path / "outbox").exists()


def test_each_run_has_an_outbox_of_its_own_with_emails_named_by_execution_and_recipient(tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (outbox / "earlier.eml").write_text("an email of the previous run")
    service = LocalService(outbox, tmp_path / "local.log", APPROVERS="ann@example.com,bob@example.com",
                           REMINDER_INTERVAL_SECONDS="60", MAX_REMINDERS="2", ESCALATION_EMAIL="lead@example.com",
                           ESCALATE_AFTER_SECONDS="300")
    try:
        (kept,) = [path for path in tmp_path.iterdir() if path.name.startswith("outbox-")]
        assert [path.name for path in kept.iterdir()] == ["earlier.eml"]
        assert list(outbox.iterdir()) == []
        banner = service.log.read_text()
        assert "reminders: every 60 s to approvers who have not voted, at most 2 each\n" in banner
        assert "escalation: to lead@example.com after 300 s without an outcome\n" in banner
        assert f"emails are written to {outbox} (the previous run's are in {kept})\n" in banner
        name = service.start(1, 2)
        links = service.ballot_links(name, 2)
        assert decide(links["ann@example.com"]["approve"]).status_code == 200
        assert service.wait_until_done(name)["status"] == "SUCCEEDED"
        service.ballot_links(name, 2, subject_start="Approved")  # the outcome notices follow the end
        # Each asked approver: the request, then the outcome notice, each named by execution and recipient.
        names = sorted(path.name for path in outbox.glob("*.eml"))
        for recipient in ("ann@example.com", "bob@example.com"):
            assert len([path for path in names if f"-{name}-{recipient}-" in path]) == 2
    finally:
        assert service.stop() == 0


def test_the_banner_says_nothing_of_reminders_or_escalation_when_there_are_none(local_service_factory):
    service = local_service_factory()
    banner = service.log.read_text()
    assert "approvers: approver@example.com; needs 1 approval" in banner
    assert "reminders:" not in banner and "escalation:" not in banner and "previous run" not in banner
    assert service.stop() == 0
