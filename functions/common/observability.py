"""Powertools logger, metrics and tracer shared by every function (one of each per container).

The tracer is created on first use: the X-Ray SDK costs more at cold start than boto3 itself, so
the pure steps (Validate, Finalize), which call nothing worth a subsegment, never load it.
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()


@functools.cache
def _tracer() -> Any:
    from aws_lambda_powertools import Tracer

    return Tracer()


def __getattr__(name: str) -> Any:
    if name == "tracer":
        return _tracer()
    raise AttributeError(name)
