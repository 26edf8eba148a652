"""Calculate marks its callback Status.CANCELLED when the doubling API's answer fails, but never over an
answer the partner already gave through the callback (its POST can fail after it called back)."""

import pytest
import requests

from functions.calculate.logic import request_doubling
from functions.callbacks.logic import resolution_from
from functions.common.callbacks.delivery import resolve
from functions.common.callbacks.model import CALCULATION, Audit
from functions.common.vocabulary import Status
from functions.common.errors import DoublingApiUnavailable
from functions.common.settings import Settings
from tests.support import FakeStates

SETTINGS = Settings(api_base_url="https://api.test/dev", doubling_api_url="https://partner.test/double")
EVENT = {"x": 3, "y": 4, "execution": "exec-1", "taskToken": "token-" + "t" * 40}



class Partner:
    """A doubling API whose HTTP answer fails; with `answers_first`, after it has called back."""

    def __init__(self, store, *, answers_first):
        self.store, self.answers_first, self.callback_id = store, answers_first, None

    def post(self, url, json, timeout):
        self.callback_id = json["callbackUrl"].rsplit("/", 1)[1]
        if self.answers_first:
            resolve(self.store, FakeStates(), self.callback_id, kind=CALCULATION,
                    resolution=resolution_from({"result": 2 * json["value"]}), audit=Audit("203.0.113.9", "partner"))
        raise requests.ConnectionError("connection reset")


def test_a_failed_request_cancels_the_pending_callback(callback_store):
    partner = Partner(callback_store, answers_first=False)
    with pytest.raises(DoublingApiUnavailable):
        request_doubling(EVENT, store=callback_store, settings=SETTINGS, http=partner)
    assert callback_store.get(partner.callback_id).status == Status.CANCELLED


def test_a_failed_request_leaves_the_partners_answer_as_it_is(callback_store):
    partner = Partner(callback_store, answers_first=True)
    with pytest.raises(DoublingApiUnavailable):
        request_doubling(EVENT, store=callback_store, settings=SETTINGS, http=partner)
    assert callback_store.get(partner.callback_id).status == "SUCCEEDED"
