"""Each handler builds its settings and store once per container, from its own function's environment."""

from __future__ import annotations

import importlib


def test_a_function_builds_its_dependencies_once_from_its_own_environment(harness):
    executions = importlib.import_module("functions.executions.handler")
    double = importlib.import_module("functions.double.handler")
    for _ in range(3):
        status, _, _ = harness.call("executions", "GET", "/executions/nope", resource="/executions/{name}",
                                    path_parameters={"name": "nope"})
        assert status == 404
        status, _, _ = harness.call("double", "POST", "/double", headers={"Content-Type": "application/json"},
                                    body="{}")
        assert status == 400
    assert executions.dependencies.cache_info().misses == 1
    assert double.dependencies.cache_info().misses == 1
    # Only the executions function has STATE_MACHINE_ARN in its environment (serverless.yml).
    assert executions.dependencies()[0].state_machine_arn == harness.engine.state_machine_arn
    assert double.dependencies().state_machine_arn == ""
    assert double.dependencies().api_base_url == harness.url
