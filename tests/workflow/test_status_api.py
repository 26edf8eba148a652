"""GET /executions/{name}: dates as POST /start gives them, characters as written."""

from __future__ import annotations

import requests

from local.service import decide

COMMENT = "Approuvé — «très bien», <b>merci</b>"


def test_dates_are_epoch_seconds_like_start_and_text_is_kept_as_written(local_service):
    started = requests.post(f"{local_service.url}/start", json={"x": 20, "y": 1}, timeout=10).json()
    # What Step Functions' StartExecution answers through API Gateway: epoch seconds.
    assert isinstance(started["startDate"], float)
    name = started["executionArn"].rsplit(":", 1)[1]
    assert decide(local_service.approval_links(name)["approve"], COMMENT).status_code == 200
    done = local_service.wait_until_done(name)
    assert done["status"] == "SUCCEEDED"
    assert done["startDate"] == started["startDate"]
    assert isinstance(done["stopDate"], float) and done["stopDate"] >= done["startDate"]
    raw = requests.get(f"{local_service.url}/executions/{name}", timeout=10)
    assert raw.headers["Content-Type"].startswith("application/json")
    assert COMMENT in raw.content.decode("utf-8")
    assert "\\u" not in raw.text
    assert done["output"]["comment"] == COMMENT
