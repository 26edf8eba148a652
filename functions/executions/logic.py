from __future__ import annotations

import json
from typing import Any


def execution_status(states: Any, execution_arn: str) -> dict[str, Any] | None:
    try:
        execution = states.describe_execution(executionArn=execution_arn)
    except states.exceptions.ExecutionDoesNotExist:
        return None
    answer: dict[str, Any] = {
        "name": execution["name"],
        "status": execution["status"],
        "input": _json(execution.get("input")),
    }
    if "output" in execution:
        answer["output"] = _json(execution["output"])
    for key in ("error", "cause"):
        if execution.get(key):
            answer[key] = execution[key]
    if "startDate" in execution:
        answer["startDate"] = execution["startDate"].timestamp()
    if execution.get("stopDate"):
        answer["stopDate"] = execution["stopDate"].timestamp()
    return answer


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
