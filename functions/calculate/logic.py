from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.common.callbacks.model import CALCULATION
from functions.common.callbacks.table import CallbackStore
from functions.common.vocabulary import Status
from functions.common.errors import DoublingApiUnavailable
from functions.common.observability import logger, metrics
from functions.common.outbound import requests
from functions.common.settings import Settings


def request_doubling(
    event: dict[str, Any], *, store: CallbackStore, settings: Settings, http: Any = requests
) -> dict[str, Any]:
    total = event["x"] + event["y"]
    callback = store.register(
        kind=CALCULATION,
        task_token=event["taskToken"],
        execution=event["execution"],
        ttl_seconds=settings.calculation_timeout_seconds,
        context={"x": event["x"], "y": event["y"], "sum": total},
    )
    body = {"value": total, "callbackUrl": settings.callbacks_url + callback.id}
    try:
        answer = http.post(settings.doubling_api_url, json=body, timeout=settings.http_timeout_seconds)
        refused = answer.status_code >= 300
        reason = f"answered HTTP {answer.status_code}"
    except requests.RequestException as error:
        refused, reason = True, f"could not be reached ({type(error).__name__})"
    if refused:
        # The partner may have answered before its HTTP answer failed: that answer stands.
        store.mark(callback.id, Status.CANCELLED, only_if_pending=True)
        metrics.add_metric(name="DoublingApiRefused", unit=MetricUnit.Count, value=1)
        raise DoublingApiUnavailable(f"The doubling API {reason}.")
    metrics.add_metric(name="DoublingRequested", unit=MetricUnit.Count, value=1)
    logger.info("doubling requested", extra={"sum": total})
    return {"sum": total}
