"""EventBridge events and rules: one builder for the local engine and the tests.

Step Functions sends a "Step Functions Execution Status Change" event to the default bus when
an execution's status changes; a rule's pattern picks the events a function receives.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Mapping

EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"


def execution_status_change(
    *,
    execution_arn: str,
    state_machine_arn: str,
    status: str,
    start_date: float,
    stop_date: float | None,
    input_json: str | None,
    output_json: str | None = None,
    error: str | None = None,
    cause: str | None = None,
    region: str = "us-east-1",
    account: str = "123456789012",
) -> dict[str, Any]:
    """The event as EventBridge delivers it to a target (dates: epoch milliseconds, like AWS's)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": EXECUTION_STATUS_CHANGE,
        "source": "aws.states",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stop_date or time.time())),
        "region": region,
        "resources": [execution_arn],
        "detail": {
            "executionArn": execution_arn,
            "stateMachineArn": state_machine_arn,
            "name": execution_arn.rsplit(":", 1)[1],
            "status": status,
            "startDate": int(start_date * 1000),
            "stopDate": int(stop_date * 1000) if stop_date is not None else None,
            "input": input_json,
            "output": output_json,
            "inputDetails": {"included": input_json is not None},
            "outputDetails": {"included": output_json is not None} if output_json is not None else None,
            "error": error,
            "cause": cause,
        },
    }


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """An EventBridge event pattern's exact-match subset: each field lists the values it accepts."""
    for key, expected in pattern.items():
        if key not in event:
            return False
        value = event[key]
        if isinstance(expected, Mapping):
            if not isinstance(value, Mapping) or not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if any(isinstance(choice, Mapping) for choice in expected):
                raise ValueError(f"content filters are not supported locally: {json.dumps(expected)}")
            values = value if isinstance(value, list) else [value]
            if not any(item in expected for item in values):
                return False
        else:
            raise ValueError(f"an event pattern lists the values it accepts: {key}: {expected!r}")
    return True
