"""AWS clients, created once per container and only when first used.

Lazy creation keeps boto3 out of the import path of handlers that never call AWS.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def client(service: str) -> Any:
    import boto3  # imported here: functions that never call AWS never pay for boto3

    return boto3.client(service)
