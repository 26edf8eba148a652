"""Several approvers, over HTTP through the local engine: policies, reminders, escalation, deadline."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from local.service import LocalService, decide, eventually, holds

ANN, BOB, CY = "ann@example.com", "bob@example.com", "cy@example.com"
BOSS = "boss@example.com"


@pytest.fixture(scope="module")
def two_of_three(tmp_path_factory):
    directory = tmp_path_factory.mktemp("two-of-three")
    service = LocalService(directory / "outbox", directory / "local.log",
                           APPROVERS=f"{ANN},{BOB},{CY}", APPROVAL_POLICY="2",
                           REMINDER_INTERVAL_SECONDS="3", MAX_REMINDERS="5", APPROVAL_TIMEOUT_SECONDS="120")
    yield service
    assert service.stop() == 0, service.log.read_text()[-2000:]


@pytest.fixture(scope="module")
def all_with_escalation(tmp_path_factory):
    directory = tmp_path_factory.mktemp("all-escalation")
    service = LocalService(directory / "outbox", directory / "local.log",
                           APPROVERS=json.dumps([ANN, BOB]), APPROVAL_POLICY="all",
                           ESCALATION_EMAIL=BOSS, ESCALATE_AFTER_SECONDS="3", APPROVAL_TIMEOUT_SECONDS="120")
    yield service
    assert service.stop() == 0, service.log.read_text()[-2000:]


def subjects_to(service, name, subject_start):
    return sorted(m["To"] for m in service.emails_for(name) if m["Subject"].startswith(subject_start))


def test_two_of_three_with_a_rejection_in_between(two_of_three):
    name = two_of_three.start(2, 3)
    links = two_of_three.ballot_links(name, 3)
    assert sorted(links) == [ANN, BOB, CY]  # each approver their own email and links
    assert len({links[a]["approve"] for a in links}) == 3
    assert decide(links[ANN]["approve"], "yes").status_code == 200
    waiting = two_of_three.status(name)
    assert waiting["status"] == "RUNNING"
    assert waiting["approval"] == {**waiting["approval"], "policy": 2, "approvals": 1, "rejections": 0,
                                   "votesNeeded": 1, "approvers": 3}
    assert "@" not in json.dumps(waiting["approval"])  # counts, never addresses
    assert 0 < waiting["approval"]["deadline"] - waiting["startDate"] <= 121  # epoch seconds, like the dates
    rejected = decide(links[BOB]["reject"], "non, merci")
    assert rejected.status_code == 200 and "still open" in rejected.text
    page = requests.get(links[CY]["approve"], timeout=10)
    assert f"You decide as <strong>{CY}</strong>" in page.text and "needs 2 of 3 approvals" in page.text
    assert "So far: 1 approved, 1 rejected" in page.text
    assert decide(links[CY]["approve"], "ok").status_code == 200
    done = two_of_three.wait_until_done(name)
    assert done["status"] == "SUCCEEDED"
    output = done["output"]
    assert output["approver"] == CY and output["policy"] == 2 and output["comment"] == "ok"
    assert [(v["approver"], v["decision"], v["comment"]) for v in output["votes"]] == [
        (ANN, "approved", "yes"), (BOB, "rejected", "non, merci"), (CY, "approved", "ok")]


def test_every_approver_clicking_several_times_at_once_counts_once_with_one_outcome(two_of_three):
    name = two_of_three.start(4, 5)
    links = two_of_three.ballot_links(name, 3)
    answers, barrier = [], threading.Barrier(12)

    def click(link):
        session = requests.Session()
        barrier.wait()
        answers.append(decide(link, session=session).status_code)

    threads = [threading.Thread(target=click, args=(links[a]["approve"],)) for a in (ANN, BOB, CY) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = two_of_three.wait_until_done(name)
    assert done["status"] == "SUCCEEDED"
    # Two approvals decide; the third approver's vote came too late to count, and repeats are refused.
    assert len(done["output"]["votes"]) == 2
    assert answers.count(200) == 2 and answers.count(409) == 10


def test_reminders_go_to_those_who_have_not_voted_and_stop_with_the_outcome(two_of_three):
    name = two_of_three.start(6, 7)
    links = two_of_three.ballot_links(name, 3)
    assert decide(links[ANN]["approve"]).status_code == 200  # before the first reminder (at 3 s)
    reminded = two_of_three.ballot_links(name, 2, "Reminder: approval needed")
    assert sorted(reminded) == [BOB, CY]
    assert reminded[BOB]["approve"] == links[BOB]["approve"]  # the same links
    assert decide(links[BOB]["approve"]).status_code == 200
    done = two_of_three.wait_until_done(name, timeout=2)  # the deciding vote ends the wait at once
    assert done["status"] == "SUCCEEDED"
    holds(lambda: subjects_to(two_of_three, name, "Reminder") == [BOB, CY], 4,  # past the second reminder's time
          "a reminder went out after the outcome")


def test_all_with_one_rejection_rejects_with_the_votes_in_the_cause(all_with_escalation):
    name = all_with_escalation.start(1, 1)
    links = all_with_escalation.ballot_links(name, 2)
    assert decide(links[ANN]["approve"]).status_code == 200
    assert decide(links[BOB]["reject"], "pas ça — «non»").status_code == 200
    done = all_with_escalation.wait_until_done(name, timeout=2)
    assert done["status"] == "FAILED" and done["error"] == "ApprovalRejected"
    cause = json.loads(done["cause"])
    assert cause["approver"] == BOB and cause["comment"] == "pas ça — «non»" and "\\u" not in done["cause"]
    assert [v["decision"] for v in cause["votes"]] == ["approved", "rejected"]


def test_the_escalation_contact_decides_alone(all_with_escalation):
    name = all_with_escalation.start(2, 2)
    links = all_with_escalation.ballot_links(name, 2)
    assert decide(links[ANN]["approve"]).status_code == 200
    escalated = all_with_escalation.ballot_links(name, 1, "Escalated: approval needed")
    assert list(escalated) == [BOSS]
    page = requests.get(escalated[BOSS]["reject"], timeout=10)
    assert "the escalation contact: your answer alone decides" in page.text
    waiting = requests.get(links[BOB]["approve"], timeout=10)  # an approver's page says so too
    assert f"escalated to <strong>{BOSS}</strong>" in waiting.text and "they may now decide alone" in waiting.text
    assert decide(escalated[BOSS]["reject"], "stop").status_code == 200
    done = all_with_escalation.wait_until_done(name, timeout=2)
    assert done["status"] == "FAILED" and done["error"] == "ApprovalRejected"
    assert json.loads(done["cause"])["approver"] == BOSS
    late = decide(links[BOB]["approve"])
    assert late.status_code == 409 and "already decided: rejected" in late.text
    # The counts include the contact's vote, and nothing claims the contact may still decide.
    assert "So far: 1 approved, 1 rejected" in late.text and "may now decide alone" not in late.text
    assert all(decide(link).status_code == 409 for link in escalated[BOSS].values())


def test_the_deadline_is_exact_with_reminders_on(local_service_factory):
    # Reminders every 4 s and a 6 s deadline: it ends at 6 s, not at the next interval (8 s).
    service = local_service_factory(REMINDER_INTERVAL_SECONDS="4", APPROVAL_TIMEOUT_SECONDS="6")
    name = service.start(3, 3)
    service.ballot_links(name, 1)
    deadline = service.status(name)["approval"]["deadline"]  # epoch seconds: 6 s after Approval began
    done = service.wait_until_done(name, timeout=30)
    assert done["status"] == "FAILED" and done["error"] == "ApprovalTimedOut"
    # Ended at the deadline (then FollowUp, NotifyFailure and its email), not at the next interval.
    assert 0 <= done["stopDate"] - deadline < 1.5
    assert len(subjects_to(service, name, "Reminder")) == 1
    assert service.stop() == 0


def test_a_vote_that_lands_while_the_task_rearms_is_not_lost(local_service_factory):
    # FollowUp starts 2 s late: the vote lands after the first wait ended and before the next began.
    service = local_service_factory(REMINDER_INTERVAL_SECONDS="2", APPROVAL_TIMEOUT_SECONDS="60",
                                    LOCAL_FUNCTION_DELAY="followUp:2")
    name = service.start(8, 8)
    links = service.ballot_links(name, 1)
    eventually(lambda: f"[{name} approval] -> FollowUp" in service.log.read_text(), 10, "the first wait never ended",
               interval=0.02)
    answer = decide(links["approver@example.com"]["approve"], "between waits")
    assert answer.status_code == 200
    done = service.wait_until_done(name, timeout=15)
    assert done["status"] == "SUCCEEDED" and done["output"]["comment"] == "between waits"
    assert service.stop() == 0


def test_make_local_refuses_a_configuration_that_cannot_work_naming_the_key(tmp_path):
    with pytest.raises(RuntimeError) as refused:
        LocalService(tmp_path / "outbox", tmp_path / "local.log", APPROVAL_POLICY="3")
    assert "Configuration refused: environment variable APPROVAL_POLICY='3': asks for 3 approvals" in str(refused.value)
