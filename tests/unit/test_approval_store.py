"""Votes in the callbacks table (moto): each approver once, exactly one outcome, delivered once."""

import json
import threading
import time

import pytest

from functions.common.approval_policy import ApprovalPolicy
from functions.common.callbacks.delivery import open_ballot, rearm_approval, vote
from functions.common.callbacks.model import Audit
from functions.common.callbacks.table import FOLLOW_UP_LEASE_SECONDS, ApprovalStore
from functions.common.vocabulary import Ending, Status
from functions.common.errors import AlreadyResolved, Expired, NotFound
from tests.support import FakeStates, doubled_sum_request

TOKEN = "token-" + "t" * 40
NUMBERS = doubled_sum_request(1, 2)
THREE = ["ann@example.com", "bob@example.com", "cy@example.com"]



def open_request(store, rule="any", approvers=THREE, started_at=None, **more):
    policy = ApprovalPolicy.from_config({"APPROVERS": ",".join(approvers), "APPROVAL_POLICY": rule, **more})
    request, ballots = store.create_approval(task_token=TOKEN, execution="exec-1", policy=policy, context=NUMBERS,
                                             started_at=time.time() if started_at is None else started_at)
    return request, {ballot.approver: ballot.id for ballot in ballots}


def cast(store, states, ballot_id, decision="approved", comment="", now=None):
    return vote(store, states, ballot_id, decision=decision, comment=comment, audit=Audit("10.0.0.1", "ua"),
                execution_arn=lambda name: f"arn:execution:{name}", now=now)


def page(store, ballot_id, states=None):
    """What the confirmation page reads: the ballot and its request, or the refusal raised."""
    return open_ballot(store, states or FakeStates(), ballot_id, execution_arn=lambda name: f"arn:execution:{name}",
                       now=time.time())


def test_two_of_three_with_a_rejection_in_between(store):
    states = FakeStates()
    _, ballots = open_request(store, "2")
    assert cast(store, states, ballots["ann@example.com"])[1].outcome is None
    assert cast(store, states, ballots["bob@example.com"], "rejected", "no")[1].outcome is None
    assert states.calls == []
    _, request = cast(store, states, ballots["cy@example.com"], comment="ok")
    assert request.status == Status.APPROVED and request.decided_by == "cy@example.com"
    ((name, call),) = states.calls
    assert name == "send_task_success" and call["taskToken"] == TOKEN
    output = json.loads(call["output"])
    assert output["decision"] == "approved" and output["approver"] == "cy@example.com" and output["policy"] == 2
    assert [(v["approver"], v["decision"]) for v in output["votes"]] == [
        ("ann@example.com", "approved"), ("bob@example.com", "rejected"), ("cy@example.com", "approved")]
    assert set(output) == {"decision", "comment", "decidedAt", "approver", "policy", "votes"}


def test_a_rejection_that_makes_k_unreachable_rejects_with_the_votes_as_written(store):
    states = FakeStates()
    _, ballots = open_request(store, "2")
    cast(store, states, ballots["ann@example.com"], "rejected", "trop cher — «non»")
    _, request = cast(store, states, ballots["bob@example.com"], "rejected", "<b>no</b>")
    assert request.status == Status.REJECTED
    ((name, call),) = states.calls
    assert name == "send_task_failure" and call["error"] == "ApprovalRejected"
    assert "trop cher — «non»" in call["cause"] and "\\u" not in call["cause"]
    cause = json.loads(call["cause"])
    assert cause["comment"] == "<b>no</b>" and cause["approver"] == "bob@example.com" and len(cause["votes"]) == 2


def test_a_second_vote_by_the_same_approver_answers_409_and_counts_once(store):
    states = FakeStates()
    _, ballots = open_request(store, "all")
    cast(store, states, ballots["ann@example.com"])
    with pytest.raises(AlreadyResolved, match="You already answered this request: approved"):
        cast(store, states, ballots["ann@example.com"], "rejected")
    assert store.approval("approval#exec-1").approvals == 1 and store.approval("approval#exec-1").rejections == 0


def test_a_vote_after_the_outcome_answers_409_with_the_outcome(store):
    states = FakeStates()
    _, ballots = open_request(store, "any")
    cast(store, states, ballots["ann@example.com"], "rejected")
    with pytest.raises(AlreadyResolved, match="already decided: rejected") as refused:
        cast(store, states, ballots["bob@example.com"])
    assert refused.value.subject.outcome == "rejected"
    assert len(states.calls) == 1


def test_a_vote_after_the_deadline_answers_410(store):
    states = FakeStates()
    _, ballots = open_request(store, "any", started_at=time.time() - 601)
    with pytest.raises(Expired, match="expired"):
        cast(store, states, ballots["ann@example.com"])
    with pytest.raises(Expired):
        page(store, ballots["bob@example.com"])
    assert states.calls == []


def test_every_approver_clicking_several_times_at_once_counts_each_once_and_decides_once(store):
    states = FakeStates()
    _, ballots = open_request(store, "all")
    answers, barrier = [], threading.Barrier(15)

    def click(ballot_id):
        barrier.wait()
        try:
            answers.append(cast(store, states, ballot_id)[1].status)
        except AlreadyResolved:
            answers.append(409)

    threads = [threading.Thread(target=click, args=(ballots[a],)) for a in THREE for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    request = store.approval("approval#exec-1")
    assert request.approvals == 3 and len(request.votes) == 3 and request.status == Status.APPROVED
    assert answers.count(409) == 12
    assert [name for name, _ in states.calls] == ["send_task_success"]


def test_the_escalation_contact_decides_alone_and_later_votes_answer_409(store):
    states = FakeStates()
    request, ballots = open_request(store, "all", ESCALATION_EMAIL="boss@example.com", ESCALATE_AFTER_SECONDS=60)
    cast(store, states, ballots["ann@example.com"])
    contact = store.add_escalation(store.approval(request.id), time.time())
    assert store.add_escalation(store.approval(request.id), time.time()) is None  # once
    _, decided = cast(store, states, contact.id, "approved", "go")
    # The contact's vote counts with the others ("so far" on the pages includes it).
    assert decided.status == Status.APPROVED and decided.decided_by == "boss@example.com" and decided.approvals == 2
    with pytest.raises(AlreadyResolved, match="already decided: approved"):
        cast(store, states, ballots["bob@example.com"])
    assert json.loads(states.calls[0][1]["output"])["votes"][-1]["role"] == "escalation"


def test_a_decision_made_between_two_waits_is_delivered_by_the_next_wait_once(store):
    _, ballots = open_request(store, "any")
    between = FakeStates(dead_tokens={TOKEN})  # the first wait timed out; the next has not started
    _, request = cast(store, between, ballots["ann@example.com"])
    assert request.status == Status.APPROVED and between.calls == []
    states = FakeStates()
    rearm_approval(store, states, "exec-1", task_token="token-of-the-next-wait")
    ((name, call),) = states.calls
    assert name == "send_task_success" and call["taskToken"] == "token-of-the-next-wait"


def test_a_wait_armed_before_the_decision_receives_it_from_the_voter(store):
    _, ballots = open_request(store, "any")
    rearm_approval(store, FakeStates(), "exec-1", task_token="token-of-the-next-wait")  # still open: nothing sent
    states = FakeStates(dead_tokens={TOKEN})
    cast(store, states, ballots["ann@example.com"])
    assert [call["taskToken"] for _, call in states.calls] == ["token-of-the-next-wait"]


def test_a_vote_for_a_stopped_execution_closes_the_request_records_nothing_and_answers_410(store):
    _, ballots = open_request(store, "any")
    ended = FakeStates(dead_task_code="TaskTimedOut", status="ABORTED")
    with pytest.raises(Expired, match="stopped"):
        cast(store, ended, ballots["ann@example.com"])
    request = store.approval("approval#exec-1")
    assert request.closed_as == Ending.STOPPED and request.votes == () and request.outcome is None
    with pytest.raises(Expired, match="stopped"):
        page(store, ballots["bob@example.com"])  # even where the execution reads as running
    assert ended.calls == []


def test_a_deciding_vote_whose_task_died_meanwhile_stays_counted_and_the_request_closes_as_stopped(store):
    # The execution was running when the vote was checked, and stopped before the outcome reached it.
    _, ballots = open_request(store, "any")
    states = FakeStates(dead_task_code="TaskTimedOut")
    states.describe_execution = lambda executionArn, answers=iter(["RUNNING", "ABORTED"]): {"status": next(answers)}
    _, request = cast(store, states, ballots["ann@example.com"], comment="yes")
    assert request.closed_as == Ending.STOPPED and request.outcome is None and request.ending == Ending.STOPPED
    assert [vote.comment for vote in request.votes] == ["yes"]  # counted before the close, and said so


def test_the_close_happens_once_and_so_do_the_notices(store):
    request, ballots = open_request(store, "2")
    cast(store, FakeStates(), ballots["ann@example.com"])
    closed = store.close(request, Ending.STOPPED, "ABORTED", time.time())
    assert closed is not None and closed.closed_as == Ending.STOPPED and not closed.is_open
    assert store.close(request, "approved", "SUCCEEDED", time.time()) is None  # a second report changes nothing
    assert store.claim_notices(request.id, time.time()) is True
    assert store.claim_notices(request.id, time.time()) is False
    with pytest.raises(Expired, match="stopped"):
        cast(store, FakeStates(), ballots["bob@example.com"])
    assert len(store.approval(request.id).votes) == 1
    assert store.count_reminder(store.approval(request.id)) is False


def test_a_deciding_vote_waits_for_follow_up_emails_being_sent_and_none_start_after_it(store):
    request, ballots = open_request(store, "any", REMINDER_INTERVAL_SECONDS=60)
    assert store.count_reminder(request) is True  # FollowUp holds the lease while it sends
    assert store.may_send_follow_up(request.id) is True
    decided = threading.Event()

    def click():
        cast(store, FakeStates(), ballots["ann@example.com"])
        decided.set()

    voter = threading.Thread(target=click)
    voter.start()
    assert not decided.wait(0.5), "the vote decided while reminders were being sent"
    assert store.approval(request.id).status == "PENDING"
    assert store.may_send_follow_up(request.id) is False  # the waiting vote asked FollowUp to stop
    store.end_follow_up(request.id)
    assert decided.wait(5)
    voter.join()
    assert store.approval(request.id).status == Status.APPROVED
    assert store.count_reminder(store.approval(request.id)) is False  # no follow-up once decided
    assert FOLLOW_UP_LEASE_SECONDS <= 12  # a voter never waits past the page function's 15 s


def test_reminder_rounds_and_deadline_are_recorded_once(store):
    request, _ = open_request(store, "any", REMINDER_INTERVAL_SECONDS=60)
    assert store.count_reminder(request) is True
    assert store.count_reminder(request) is False  # the same round again: someone did it first
    assert store.close_approval(request.id, Status.EXPIRED) is True
    assert store.count_reminder(store.approval(request.id)) is False  # never after the end


def test_a_retried_request_opens_nothing_new_and_links_of_other_kinds_are_unknown(store, callback_store):
    request, ballots = open_request(store)
    policy = request.policy
    assert store.create_approval(task_token="t2", execution="exec-1", policy=policy, context=NUMBERS,
                                 started_at=time.time()) is None
    with pytest.raises(NotFound):
        store.ballot("A" * 32)
    registered = callback_store.register(kind="calculation", task_token="t", execution="e", ttl_seconds=60, context={})
    with pytest.raises(NotFound):
        store.ballot(registered.id)
    assert "taskToken" not in repr(store.approval(request.id)) and TOKEN not in repr(store.approval(request.id))


def longest_addresses(count):
    """Distinct addresses of the longest length accepted (254 characters)."""
    domain = "@example.com"
    return [f"{index:03d}" + "a" * (254 - len(domain) - 3) + domain for index in range(count)]


def test_the_largest_request_fits_dynamodb_and_step_functions_limits(store):
    """50 approvers (the most allowed) with the longest addresses, all rejecting, each with a
    500-character comment of characters JSON must escape and of 4-byte characters: the record
    stays under 400 KB (moto refuses more), the rejection cause under 32,768 characters, with
    the deciding vote's comment whole."""
    from functions.common.callbacks.model import CAUSE_LIMIT
    from functions.common.vocabulary import Ending, Status

    approvers = longest_addresses(50)
    states = FakeStates()
    _, ballots = open_request(store, "all", approvers)
    escaped, wide = '"' * 500, "😀" * 500
    # With "all", the first rejection decides: 49 approvals with long comments, then the rejection.
    for index, address in enumerate(approvers[:-1]):
        cast(store, states, ballots[address], "approved", wide if index % 2 else escaped)
    _, request = cast(store, states, ballots[approvers[-1]], "rejected", escaped)
    ((name, call),) = states.calls
    assert name == "send_task_failure"
    assert len(call["cause"]) <= CAUSE_LIMIT
    cause = json.loads(call["cause"])
    assert len(cause["votes"]) == 50 and cause["comment"] == escaped
    others = [vote["comment"] for vote in cause["votes"] if vote["approver"] != approvers[-1]]
    assert all(comment.endswith("…") for comment in others)


def test_a_cause_within_the_limit_keeps_every_comment_as_written():
    from functions.common.callbacks.model import rejection_cause
    from functions.common.vocabulary import Ending, Status

    votes = [{"approver": f"a{i}@example.com", "decision": "rejected", "comment": "non — «trop cher»\n" * 20,
              "decidedAt": "2026-12-01T00:00:00+00:00", "role": "approver"} for i in range(3)]
    story = {"comment": votes[-1]["comment"], "approver": "a2@example.com", "decidedAt": "x", "policy": "all",
             "votes": votes}
    assert json.loads(rejection_cause(story))["votes"] == votes


def test_an_approved_outcome_of_the_largest_request_fits_a_state_output(store):
    approvers = longest_addresses(50)
    states = FakeStates()
    _, ballots = open_request(store, "50", approvers)
    for address in approvers:
        cast(store, states, ballots[address], "approved", "😀" * 500)
    ((name, call),) = states.calls
    assert name == "send_task_success"
    assert len(call["output"].encode()) <= 262_144 - 4_096  # with room for the workflow's own input


def test_more_approvers_than_the_limit_are_refused_naming_the_key():
    from functions.common.approval_policy import PolicyError

    with pytest.raises(PolicyError) as refused:
        ApprovalPolicy.from_config({"APPROVERS": ",".join(longest_addresses(51))})
    assert str(refused.value).startswith("APPROVERS: lists 51 approvers; at most 50")
    with pytest.raises(PolicyError, match="is not an email address"):
        ApprovalPolicy.from_config({"APPROVERS": "a" * 243 + "@example.com"})  # 255 characters


def test_an_end_reported_while_follow_up_sends_closes_after_it_or_is_retried(store, monkeypatch):
    from functions.close_approval.logic import CloseDeferred, close_approval
    from functions.common.callbacks import table
    from functions.common.settings import Settings

    request, _ = open_request(store, "any", REMINDER_INTERVAL_SECONDS=60)
    assert store.count_reminder(request) is True  # the lease: 10 s
    monkeypatch.setattr(table, "FOLLOW_UP_LEASE_SECONDS", 0)  # the close gives up after 2 s, not 12
    event = {"detail": {"name": "exec-1", "status": "ABORTED"}}

    class Mailer:
        def __init__(self):
            self.sent = []

        def send(self, email):
            self.sent.append(email.recipient)

    mailer = Mailer()
    with pytest.raises(CloseDeferred):  # EventBridge retries the invocation
        close_approval(event, store=store, mailer=mailer, settings=Settings(sender_email="w@example.com"))
    assert store.approval(request.id).is_open and mailer.sent == []
    store.end_follow_up(request.id)
    answer = close_approval(event, store=store, mailer=mailer, settings=Settings(sender_email="w@example.com"))
    assert answer == {"closed": True, "notices": 3} and sorted(mailer.sent) == THREE
    assert store.approval(request.id).closed_as == Ending.STOPPED
