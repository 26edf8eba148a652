"""Faults of the partner and of SES, through whole executions on local mode.

The doubling API is replaced (DOUBLING_API_URL) by a partner in this test process whose
behaviour is chosen by the value it is asked to double.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from local.service import decide, eventually, free_port

# value (x + y) -> behaviour
SERVER_ERROR, SLOW_ONCE, MALFORMED, TWICE, SILENT, ERROR_CALLBACK = 1001, 1002, 1003, 1004, 1005, 1006


class Partner:
    def __init__(self) -> None:
        self.port = free_port()
        self.calls: dict[int, int] = {}
        self.callback_answers: dict[int, list[int]] = {}
        self.lock = threading.Lock()
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                value, url = request["value"], request["callbackUrl"]
                with partner.lock:
                    attempt = partner.calls[value] = partner.calls.get(value, 0) + 1
                if value == SERVER_ERROR:
                    return self._answer(503)
                if value == SLOW_ONCE and attempt == 1:
                    time.sleep(2)  # a partner slower than the caller's HTTP timeout (1 s below)
                self._answer(202)
                if value == SILENT:
                    return
                bodies = {
                    MALFORMED: [{"result": "twice"}],
                    TWICE: [{"result": 2 * value}, {"result": 2 * value}],
                    ERROR_CALLBACK: [{"error": "Overloaded", "cause": "try later"}],
                }.get(value, [{"result": 2 * value}])
                for body in bodies:
                    answer = requests.post(url, json=body, timeout=10)
                    with partner.lock:
                        partner.callback_answers.setdefault(value, []).append(answer.status_code)

            def _answer(self, status):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def partner():
    partner = Partner()
    yield partner
    partner.server.shutdown()


@pytest.fixture(scope="module")
def faulty(tmp_path_factory, partner):
    from local.service import LocalService

    directory = tmp_path_factory.mktemp("faults")
    service = LocalService(
        directory / "outbox", directory / "local.log",
        DOUBLING_API_URL=f"http://127.0.0.1:{partner.port}/double",
        CALCULATION_TIMEOUT_SECONDS="2", RETRY_INTERVAL_SECONDS="1", HTTP_TIMEOUT_SECONDS="1",
    )
    yield service
    assert service.stop() == 0


def run_all(service, values):
    names = {value: service.start(value - 1, 1) for value in values}
    return names, {value: service.wait_until_done(name, timeout=90) for value, name in names.items()}


def test_partner_faults_are_retried_then_named_calculation_failed(faulty, partner):
    names, done = run_all(faulty, [SERVER_ERROR, MALFORMED, SILENT, ERROR_CALLBACK])
    for value in (SERVER_ERROR, MALFORMED, SILENT, ERROR_CALLBACK):
        assert done[value]["status"] == "FAILED", (value, done[value])
        assert done[value]["error"] == "CalculationFailed", (value, done[value])
        assert partner.calls[value] == 3, f"{value}: expected 1 call + 2 retries, got {partner.calls[value]}"
        faulty.wait_for_email(names[value], "Workflow failed: CalculationFailed")
    assert set(partner.callback_answers[MALFORMED]) == {400}
    assert "Overloaded" in done[ERROR_CALLBACK]["cause"]


def test_a_slow_partner_is_retried_and_the_run_goes_on(faulty, partner):
    name = faulty.start(SLOW_ONCE - 1, 1)
    links = faulty.approval_links(name)
    assert partner.calls[SLOW_ONCE] == 2
    assert decide(links["approve"]).status_code == 200
    done = faulty.wait_until_done(name)
    assert done["status"] == "SUCCEEDED" and done["output"]["doubled"] == 2 * SLOW_ONCE


def test_a_duplicate_callback_gets_409_and_the_first_wins(faulty, partner):
    name = faulty.start(TWICE - 1, 1)
    links = faulty.approval_links(name)
    # The partner sends its second callback after the first one let the run go on.
    eventually(lambda: len(partner.callback_answers.get(TWICE, [])) >= 2, 10, "no second callback")
    assert partner.callback_answers[TWICE] == [200, 409]
    decide(links["reject"])
    assert faulty.wait_until_done(name)["error"] == "ApprovalRejected"


def test_ses_refusing_the_approval_email_fails_at_once(local_service_factory):
    service = local_service_factory(LOCAL_SES_VERIFY="0")
    name = service.start(1, 1)
    # The approval deadline is 600 s: ending within 30 s means it did not wait for it.
    done = service.wait_until_done(name, timeout=30)
    assert done["status"] == "FAILED" and done["error"] == "NotificationFailed"
    assert "SES refused" in done["cause"]
    assert service.emails() == []  # neither the approval nor the failure email could be sent
    assert service.stop() == 0
