from __future__ import annotations

from typing import Any


from functions.common.callbacks.ids import check_callback_id
from functions.common.errors import MalformedRequest
from functions.common.observability import logger
from functions.common.outbound import requests
from functions.common.settings import Settings

MAX_VALUE = 2 * 9007199254740991


def double_and_call_back(request: dict[str, Any], settings: Settings, http: Any = requests) -> bool:
    """Double the value and POST it to the callback URL; True when the callback was accepted."""
    if set(request) != {"value", "callbackUrl"}:
        raise MalformedRequest("Send exactly two fields: value (an integer) and callbackUrl.")
    value, callback_url = request["value"], request["callbackUrl"]
    if type(value) is not int or abs(value) > MAX_VALUE:
        raise MalformedRequest(f"value must be an integer between -{MAX_VALUE} and {MAX_VALUE}.")
    _check_callback_url(callback_url, settings)
    try:
        answer = http.post(callback_url, json={"result": 2 * value}, timeout=settings.http_timeout_seconds)
    except requests.RequestException as error:
        logger.warning("callback not delivered", extra={"reason": type(error).__name__})
        return False
    logger.info("callback delivered", extra={"status": answer.status_code})
    return answer.status_code < 300


def _check_callback_url(url: Any, settings: Settings) -> None:
    """No open relay: only this service's own /callbacks/{id} URLs are called."""
    prefix = settings.callbacks_url
    try:
        if not isinstance(url, str) or not settings.api_base_url or not url.startswith(prefix):
            raise MalformedRequest("not this service")
        check_callback_id(url[len(prefix) :])
    except MalformedRequest:
        raise MalformedRequest("callbackUrl must be a callback URL of this service.") from None
