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


def approval_services(settings: Any) -> dict[str, Any]:
    """What the functions that email the people asked work with: the approval store and the mailer."""
    from functions.common.callbacks.table import ApprovalStore
    from functions.common.email import Mailer

    return {"store": ApprovalStore(settings.table_name, client("dynamodb")), "mailer": Mailer(client("ses"))}
