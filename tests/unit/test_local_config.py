import os
import threading

import pytest
import yaml

from local.config import ROOT, ConfigError, load_service
from local.lambda_runtime import ThreadEnviron


def test_every_function_and_route_comes_from_serverless_yml():
    raw = yaml.safe_load((ROOT / "serverless.yml").read_text())
    service = load_service(stage="local", environ={})
    assert set(service.functions) == set(raw["functions"])
    declared = {
        (event["http"]["method"].upper(), "/" + event["http"]["path"])
        for spec in raw["functions"].values()
        for event in spec.get("events", [])
        if "http" in event
    }
    assert {(route.method, route.path) for route in service.routes if route.function} == declared
    # Each function's eventBridge rules too: closeApproval hears of every execution's end.
    (pattern,) = service.functions["closeApproval"].event_patterns
    assert pattern["source"] == ["aws.states"] and pattern["detail"]["stateMachineArn"] == [{"Ref": "ApprovalStateMachine"}]
    assert not any(function.event_patterns for name, function in service.functions.items() if name != "closeApproval")
    (start,) = [route for route in service.routes if route.function is None]
    assert (start.method, start.path) == ("POST", "/start") and start.schema["additionalProperties"] is False


def test_stage_values_come_from_env_json_and_environment_overrides_them_with_their_type():
    default = load_service(stage="local", environ={})
    states = default.state_machine_definition["States"]
    assert states["Approval"]["TimeoutSeconds"] == 600
    overridden = load_service(stage="local", environ={"APPROVAL_TIMEOUT_SECONDS": "5", "SENDER_EMAIL": "s@x.org"})
    assert overridden.state_machine_definition["States"]["Approval"]["TimeoutSeconds"] == 5
    assert overridden.functions["requestApproval"].environment["APPROVAL_TIMEOUT_SECONDS"] == "5"  # Lambda: strings
    assert overridden.functions["notifyFailure"].environment["SENDER_EMAIL"] == "s@x.org"


def test_each_function_gets_only_its_own_environment():
    service = load_service(stage="local", environ={})
    assert "TABLE_NAME" not in service.functions["double"].environment
    assert "RECIPIENT_EMAIL" not in service.functions["callbacks"].environment
    assert "TABLE_NAME" in service.functions["approvalPages"].environment


def test_unknown_stage_or_variable_fails_loudly(tmp_path):
    with pytest.raises(ConfigError):
        load_service(stage="no-such-stage", environ={})
    (tmp_path / "serverless.yml").write_text("service: x\nprovider:\n  name: aws\n  region: ${ssm:/param}\n")
    with pytest.raises(ConfigError, match="unsupported variable"):
        load_service(stage="local", environ={}, root=tmp_path)


def test_thread_environ_keeps_each_threads_overlay_to_itself():
    environ = ThreadEnviron(dict(os.environ))
    seen = {}
    barrier = threading.Barrier(2)

    def run(name):
        with environ.overlay({"FUNCTION": name}):
            barrier.wait()
            seen[name] = environ["FUNCTION"]

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": "a", "b": "b"}
    assert "FUNCTION" not in environ


@pytest.mark.parametrize(
    "environment, key",
    [
        ({"APPROVAL_POLICY": "3"}, "APPROVAL_POLICY"),
        ({"APPROVERS": "a@example.com,a@example.com"}, "APPROVERS"),
        ({"ESCALATION_EMAIL": "boss@example.com", "ESCALATE_AFTER_SECONDS": "900"}, "ESCALATE_AFTER_SECONDS"),
        ({"APPROVERS": "someone"}, "APPROVERS"),
    ],
)
def test_a_policy_that_cannot_work_is_refused_naming_the_key(environment, key):
    with pytest.raises(ConfigError, match=f"^env.json, stage 'local': {key}: "):
        load_service(stage="local", environ=environment)


def test_policy_keys_are_overridden_by_the_environment_and_reach_the_functions_as_strings():
    service = load_service(stage="local", environ={"APPROVERS": '["a@example.com", "b@example.com"]',
                                                   "APPROVAL_POLICY": "all", "REMINDER_INTERVAL_SECONDS": "60"})
    environment = service.functions["requestApproval"].environment
    assert environment["APPROVERS"] == "a@example.com,b@example.com" and environment["APPROVAL_POLICY"] == "all"
    assert service.state_machine_definition["States"]["Approval"]["TimeoutSeconds"] == 60
