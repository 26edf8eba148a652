import json
import threading
import time

import pytest

from functions.common.callbacks.delivery import resolve
from functions.common.callbacks.ids import check_callback_id, new_callback_id
from functions.common.callbacks.model import CALCULATION, Audit, Resolution
from functions.common.errors import AlreadyResolved, Expired, MalformedRequest, NotFound
from functions.common.vocabulary import Status
from tests.support import FakeStates

TOKEN = "token-" + "s" * 40
DOUBLED = Resolution(status=Status.SUCCEEDED, output={"doubled": 6})


def register(callback_store, ttl=60, now=None, kind=CALCULATION):
    return callback_store.register(kind=kind, task_token=TOKEN, execution="exec-1", ttl_seconds=ttl,
                          context={"x": 1, "y": 2, "sum": 3}, now=now)


def test_ids_are_192_bit_url_safe_and_unique():
    ids = {new_callback_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(check_callback_id(value) == value for value in ids)
    assert all(len(value) == 32 for value in ids)  # 24 bytes of randomness, base64url


@pytest.mark.parametrize("bad", ["", "short", "../../etc/passwd", "a" * 31 + "\x00", "a" * 33, None, 5, "a" * 31 + "'"])
def test_malformed_ids_are_refused_before_any_lookup(bad):
    with pytest.raises(MalformedRequest):
        check_callback_id(bad)


def test_register_stores_pending_with_expiry_and_get_never_returns_the_token(callback_store):
    callback = register(callback_store, ttl=600, now=1_000)
    stored = callback_store.get(callback.id)
    assert stored.status == Status.PENDING
    assert stored.expires_at == 1_600
    assert stored.context == {"x": 1, "y": 2, "sum": 3}
    assert TOKEN not in repr(stored)


def test_resolve_records_one_decision_and_sends_the_merged_output(callback_store):
    states = FakeStates()
    callback = register(callback_store)
    decided = resolve(callback_store, states, callback.id, kind=CALCULATION, resolution=DOUBLED, audit=Audit("10.0.0.1", "ua"))
    assert decided.status == Status.SUCCEEDED and TOKEN not in repr(decided)
    ((name, kwargs),) = states.calls
    assert name == "send_task_success" and kwargs["taskToken"] == TOKEN
    assert json.loads(kwargs["output"]) == {"x": 1, "y": 2, "sum": 3, "doubled": 6}


def test_failure_resolution_sends_task_failure(callback_store):
    states = FakeStates()
    callback = register(callback_store)
    refusal = Resolution(status=Status.FAILED, error="DoublingFailed", cause="no")
    resolve(callback_store, states, callback.id, kind=CALCULATION, resolution=refusal, audit=Audit())
    assert states.calls == [("send_task_failure", {"taskToken": TOKEN, "error": "DoublingFailed", "cause": "no"})]


def test_second_resolution_is_refused_as_already_decided(callback_store):
    states = FakeStates()
    callback = register(callback_store)
    resolve(callback_store, states, callback.id, kind=CALCULATION, resolution=DOUBLED, audit=Audit())
    with pytest.raises(AlreadyResolved):
        resolve(callback_store, states, callback.id, kind=CALCULATION, resolution=DOUBLED, audit=Audit())
    assert len(states.calls) == 1


def test_concurrent_resolutions_produce_exactly_one_decision(callback_store):
    states = FakeStates()
    callback = register(callback_store)
    outcomes = []
    barrier = threading.Barrier(10)

    def attempt():
        barrier.wait()
        try:
            resolve(callback_store, states, callback.id, kind=CALCULATION, resolution=DOUBLED, audit=Audit())
            outcomes.append("decided")
        except AlreadyResolved:
            outcomes.append("409")

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["409"] * 9 + ["decided"]
    assert len(states.calls) == 1


def test_expired_callback_is_refused_and_not_sent(callback_store):
    states = FakeStates()
    callback = register(callback_store, ttl=10, now=time.time() - 60)
    with pytest.raises(Expired):
        resolve(callback_store, states, callback.id, kind=CALCULATION, resolution=DOUBLED, audit=Audit())
    assert states.calls == []
    assert callback_store.get(callback.id).status == Status.PENDING


def test_unknown_id_and_wrong_kind_are_not_found(callback_store):
    states = FakeStates()
    with pytest.raises(NotFound):
        resolve(callback_store, states, new_callback_id(), kind=CALCULATION, resolution=DOUBLED, audit=Audit())
    other_kind = register(callback_store, kind="another-kind")
    with pytest.raises(NotFound):
        resolve(callback_store, states, other_kind.id, kind=CALCULATION, resolution=DOUBLED, audit=Audit())


@pytest.mark.parametrize("code", ["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"])
def test_a_task_that_no_longer_waits_turns_the_answer_into_expired(callback_store, code):
    callback = register(callback_store)
    with pytest.raises(Expired):
        resolve(callback_store, FakeStates(dead_task_code=code), callback.id, kind=CALCULATION, resolution=DOUBLED, audit=Audit())
    assert callback_store.get(callback.id).status == Status.EXPIRED


def test_an_id_never_expires_before_the_task_it_resumes(callback_store):
    """The task started (and its timeout began) before the id was registered, at 1000.7 here: a
    partner answer 0.3 s before the task's own timeout still finds the id open."""
    callback = register(callback_store, ttl=60, now=1_000.7)
    assert callback.expires_at == 1_061
    states = FakeStates()
    resolve(callback_store, states, callback.id, kind=CALCULATION, resolution=DOUBLED,
            audit=Audit(source_ip="", user_agent=""), now=1_060.4)
    assert [name for name, _ in states.calls] == ["send_task_success"]
