"""An approval's whole life, over HTTP through the local engine: it closes when its execution
ends, a vote racing the end is counted before it or refused after it, no follow-up email comes
after the answer, and everyone asked is told how it ended (once, without links)."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from email import message_from_bytes, policy

import pytest
import requests

from local.service import LocalService, decide, eventually, holds, text_of

ANN, BOB, CY = "ann@example.com", "bob@example.com", "cy@example.com"
BOSS = "boss@example.com"
ENDINGS = ("Approved:", "Rejected:", "Timed out:", "Stopped:", "Ended:")
_VOTE_LINE = re.compile(r"^(\S+@\S+?)(?: \(escalation contact\))?: (approved|rejected), (?:\u201c(.*)\u201d|no comment)$")


@pytest.fixture(scope="module")
def two_of_three(tmp_path_factory):
    directory = tmp_path_factory.mktemp("life-two-of-three")
    service = LocalService(directory / "outbox", directory / "local.log",
                           APPROVERS=f"{ANN},{BOB},{CY}", APPROVAL_POLICY="2", APPROVAL_TIMEOUT_SECONDS="120")
    yield service
    assert service.stop() == 0, service.log.read_text()[-2000:]


def notices(service, name: str) -> list:
    return [m for m in service.emails_for(name) if m["Subject"].startswith(ENDINGS)]


def recorded_votes(notice) -> list[tuple[str, str, str]]:
    """The votes an outcome notice lists: (approver, decision, comment as written)."""
    return [
        (found.group(1), found.group(2), found.group(3) or "")
        for found in map(_VOTE_LINE.match, text_of(notice).splitlines())
        if found
    ]


def assert_no_links(notice) -> None:
    html = notice.get_body(preferencelist=("html",)).get_content()
    assert "http" not in text_of(notice) and "href" not in html and "<form" not in html


def test_a_stopped_request_closes_every_link_answers_410_and_nothing_more_is_recorded(two_of_three):
    service = two_of_three
    name = service.start(1, 2)
    links = service.ballot_links(name, 3)
    assert decide(links[ANN]["approve"], "ok by me").status_code == 200
    service.stop_execution(name)
    assert service.wait_until_done(name)["status"] == "ABORTED"
    told = service.wait_for_emails(name, "Stopped:", 3)
    assert sorted(message["To"] for message in told) == [ANN, BOB, CY]
    for approver in (ANN, BOB, CY):
        for action in ("approve", "reject"):
            page = requests.get(links[approver][action], timeout=10)
            assert page.status_code == 410 and "This request was stopped" in page.text
            assert re.search(r"Outcome: <span[^>]*>stopped</span>", page.text), page.text
            assert "already decided" not in page.text and "<form" not in page.text
            answer = decide(links[approver][action], "too late")
            assert answer.status_code == 410 and "This request was stopped" in answer.text
    status = service.status(name)
    assert status["status"] == "ABORTED" and "approval" not in status
    # Nothing was recorded after the stop: each notice lists ann's vote alone, and nobody got a second one.
    holds(lambda: len(notices(service, name)) == 3, 0.5, "a second notice after the stop")
    for notice in told:
        assert recorded_votes(notice) == [(ANN, "approved", "ok by me")]
        assert_no_links(notice)
        assert "stopped before a decision took effect" in text_of(notice)


def test_votes_racing_a_stop_are_counted_before_it_or_refused_after_it(two_of_three):
    service, rounds = two_of_three, 8
    tally: Counter = Counter()
    for round_ in range(rounds):
        name = service.start(round_, 100)
        links = service.ballot_links(name, 3)
        barrier = threading.Barrier(4)
        answers: dict[str, int] = {}

        def vote(approver: str, action: str) -> None:
            session = requests.Session()
            barrier.wait()
            answers[approver] = decide(links[approver][action], f"{approver} in round {round_}", session).status_code

        def stop() -> None:
            barrier.wait()
            time.sleep(0.02 * round_)  # the stop lands at a different moment of the votes each round
            requests.post(f"{service.url}/_console/api/executions/{name}/stop", json={}, timeout=10)

        threads = [threading.Thread(target=vote, args=(ANN, "approve")), threading.Thread(target=vote, args=(BOB, "reject")),
                   threading.Thread(target=vote, args=(CY, "approve")), threading.Thread(target=stop)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done = service.wait_until_done(name)
        # The approval machine's execution ends first: approved, or stopped with the workflow. A
        # workflow stopped after its approval was decided (in Finalize) leaves that approval approved.
        endings = {"SUCCEEDED": ("Approved:",), "ABORTED": ("Stopped:", "Approved:")}.get(done["status"])
        if done["status"] == "FAILED":
            assert done["error"] == "ApprovalRejected"
            endings = ("Rejected:",)
        told = eventually(lambda: (found if len(found := notices(service, name)) >= 3 else None), 30,
                          f"fewer than 3 notices for {name}")
        assert len(told) == 3 and told[0]["Subject"].startswith(endings), (done["status"], told[0]["Subject"])
        assert len({message["Subject"] for message in told}) == 1
        recorded = {approver for approver, _, _ in recorded_votes(told[0])}
        for approver, status in answers.items():
            assert status in (200, 409, 410), (approver, status)
            # Counted (200) and listed, or refused and not listed: never both, never neither.
            assert (status == 200) == (approver in recorded), (round_, answers, recorded, done["status"])
            tally["counted" if status == 200 else "refused"] += 1
        assert all(recorded_votes(notice) == recorded_votes(told[0]) for notice in told)
        tally[done["status"]] += 1
    print(f"\nvotes racing a stop, {rounds} rounds: {dict(tally)}")
    assert tally["counted"] + tally["refused"] == 3 * rounds


def _reminders_written(service, name: str) -> list[float]:
    """When each reminder about `name` reached the outbox (its file's modification time)."""
    times = []
    for path in service.outbox.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["Subject"].startswith("Reminder") and name in text_of(message):
            times.append(path.stat().st_mtime)
    return times


def test_no_reminder_is_sent_after_the_deciding_answer_with_thirty_approvers(local_service_factory):
    approvers = [f"approver{number:02d}@example.com" for number in range(30)]
    service = local_service_factory(APPROVERS=",".join(approvers), REMINDER_INTERVAL_SECONDS="2", MAX_REMINDERS="20",
                                    APPROVAL_TIMEOUT_SECONDS="120")
    rounds, late, waits, reminded = 4, [], [], 0
    for round_ in range(rounds):
        name = service.start(round_, 7)
        links = service.ballot_links(name, 30)
        # The deciding vote at a reminder's moment: as FollowUp starts (it has not claimed the round
        # yet), or as the round of 29 reminders starts going out.
        if round_ % 2 == 0:
            deadline = time.monotonic() + 30
            while f"[{name} approval] -> FollowUp" not in service.log.read_text():
                assert time.monotonic() < deadline, "FollowUp never started"
                time.sleep(0.005)
        else:
            service.wait_for_email(name, "Reminder: approval needed")
        clicked = time.time()
        answer = decide(links[approvers[round_]]["approve"], "go")
        answered = time.time()
        waits.append(answered - clicked)
        assert answer.status_code == 200, answer.text
        assert service.wait_until_done(name)["status"] == "SUCCEEDED"
        time.sleep(2.5)  # past the next reminder's moment
        reminders = _reminders_written(service, name)
        reminded += bool(reminders)
        late += [when - answered for when in reminders if when > answered]
    print(f"\nreminders after the deciding answer, {rounds} rounds of 30 approvers ({reminded} with reminders): {len(late)}; "
          f"the deciding answer took {min(waits):.2f} to {max(waits):.2f} s (it waits for the round being sent)")
    assert late == []
    assert reminded >= rounds // 2, "the votes never landed while reminders were going out"
    assert service.stop() == 0


@pytest.fixture(scope="module")
def escalating(tmp_path_factory):
    directory = tmp_path_factory.mktemp("life-notices")
    service = LocalService(directory / "outbox", directory / "local.log", APPROVERS=f"{ANN},{BOB}",
                           ESCALATION_EMAIL=BOSS, ESCALATE_AFTER_SECONDS="8", APPROVAL_TIMEOUT_SECONDS="11")
    yield service
    assert service.stop() == 0, service.log.read_text()[-2000:]


def test_everyone_asked_is_told_once_how_it_ended_without_links(escalating):
    service = escalating
    runs = {ending: service.start(number, number) for number, ending in enumerate(("Approved", "Rejected", "Stopped", "Timed out"))}
    links = {ending: service.ballot_links(name, 2) for ending, name in runs.items()}
    assert decide(links["Approved"][ANN]["approve"], "oui — «d'accord»").status_code == 200
    assert decide(links["Rejected"][BOB]["reject"], "<b>non</b>").status_code == 200
    service.stop_execution(runs["Stopped"])
    expected = {"Approved": [ANN, BOB], "Rejected": [ANN, BOB], "Stopped": [ANN, BOB], "Timed out": [ANN, BOB, BOSS]}
    for ending, name in runs.items():
        service.wait_until_done(name, timeout=30)
        told = service.wait_for_emails(name, f"{ending}:", len(expected[ending]), timeout=30)
        assert sorted(message["To"] for message in told) == expected[ending], ending
        for notice in told:
            assert_no_links(notice)
    for ending, name in runs.items():  # exactly one each: nothing more came
        holds(lambda: sorted(message["To"] for message in notices(service, name)) == expected[ending], 1 / len(runs),
              f"{ending}: a second notice")
    approved = notices(service, runs["Approved"])[0]
    assert recorded_votes(approved) == [(ANN, "approved", "oui — «d'accord»")]
    assert f"{ANN} gave the deciding answer" in text_of(approved) or "you gave the deciding answer" in text_of(approved)
    rejected = next(m for m in notices(service, runs["Rejected"]) if m["To"] == ANN)
    assert recorded_votes(rejected) == [(BOB, "rejected", "<b>non</b>")] and f"{BOB} gave the deciding answer" in text_of(rejected)
    timed_out = notices(service, runs["Timed out"])[0]
    assert "Nobody answered." in text_of(timed_out) and "timed out" in text_of(timed_out)
    # RECIPIENT_EMAIL keeps its failure email.
    for ending in ("Rejected", "Timed out"):
        service.wait_for_email(runs[ending], "Workflow failed")


def test_a_stage_may_turn_outcome_notices_off(local_service_factory):
    service = local_service_factory(APPROVERS=f"{ANN},{BOB}", OUTCOME_NOTICES="false")
    approved, rejected = service.start(5, 5), service.start(6, 6)
    assert decide(service.ballot_links(approved, 2)[ANN]["approve"]).status_code == 200
    assert decide(service.ballot_links(rejected, 2)[BOB]["reject"]).status_code == 200
    for name in (approved, rejected):
        service.wait_until_done(name)
    service.wait_for_email(rejected, "Workflow failed")
    holds(lambda: notices(service, approved) == [] and notices(service, rejected) == [], 1, "a notice was sent")
    assert service.stop() == 0


def test_make_local_refuses_outcome_notices_that_are_not_true_or_false(tmp_path):
    with pytest.raises(RuntimeError) as refused:
        LocalService(tmp_path / "outbox", tmp_path / "local.log", OUTCOME_NOTICES="sometimes")
    assert "environment variable OUTCOME_NOTICES='sometimes': must be true or false, got 'sometimes'" in str(refused.value)
