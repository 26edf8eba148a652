import json
import os
import threading

import pytest
import yaml

from local.config import ROOT, ConfigError, load_service, port
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
    assert default.functions["checkRequest"].environment["APPROVAL_TIMEOUT_SECONDS"] == "600"
    overridden = load_service(stage="local", environ={"APPROVAL_TIMEOUT_SECONDS": "5", "SENDER_EMAIL": "s@x.org"})
    assert overridden.functions["checkRequest"].environment["APPROVAL_TIMEOUT_SECONDS"] == "5"  # Lambda: strings
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
def test_a_policy_that_cannot_work_is_refused_naming_the_key_and_the_variable_it_came_from(environment, key):
    with pytest.raises(ConfigError, match=f"^environment variable {key}={environment[key]!r}: ") as refused:
        load_service(stage="local", environ=environment)
    assert "env.json" not in str(refused.value)


def test_a_refused_value_from_env_json_names_the_file_and_the_stage(tmp_path):
    for name in ("serverless.yml", "statemachines", "schemas"):
        (tmp_path / name).symlink_to(ROOT / name)
    stages = json.loads((ROOT / "env.json").read_text())
    stages["local"]["APPROVAL_POLICY"] = 3
    (tmp_path / "env.json").write_text(json.dumps(stages))
    with pytest.raises(ConfigError) as refused:
        load_service(stage="local", environ={}, root=tmp_path)
    assert str(refused.value) == (
        "env.json, stage 'local': APPROVAL_POLICY: asks for 3 approvals but there is 1 approver (APPROVERS)")
    # The same key set in the environment: the environment is named, and env.json is not.
    with pytest.raises(ConfigError) as refused:
        load_service(stage="local", environ={"APPROVAL_POLICY": "2"}, root=tmp_path)
    assert str(refused.value) == (
        "environment variable APPROVAL_POLICY='2': asks for 2 approvals but there is 1 approver (APPROVERS)")


def test_a_refusal_says_which_other_key_it_names_comes_from_the_environment():
    with pytest.raises(ConfigError) as refused:
        load_service(stage="local", environ={"APPROVAL_TIMEOUT_SECONDS": "30", "ESCALATION_EMAIL": "lead@example.com",
                                             "ESCALATE_AFTER_SECONDS": "60"})
    assert str(refused.value) == (
        "environment variable ESCALATE_AFTER_SECONDS='60': must be less than APPROVAL_TIMEOUT_SECONDS (30), got 60; "
        "APPROVAL_TIMEOUT_SECONDS comes from the environment too")


@pytest.mark.parametrize("text", ["abc", "", "0", "65536", "-1", "3000.5", "3e3", "１２３"])
def test_port_must_be_a_port_number(text):
    with pytest.raises(ConfigError) as refused:
        port({"PORT": text})
    assert str(refused.value) == f"environment variable PORT={text!r}: must be a port number from 1 to 65535"


def test_port_defaults_to_3000_and_takes_any_valid_number():
    assert port({}) == 3000
    assert port({"PORT": "1"}) == 1 and port({"PORT": "65535"}) == 65535 and port({"PORT": " 8080 "}) == 8080


def test_policy_keys_are_overridden_by_the_environment_and_reach_the_functions_as_strings():
    service = load_service(stage="local", environ={"APPROVERS": '["a@example.com", "b@example.com"]',
                                                   "APPROVAL_POLICY": "all", "REMINDER_INTERVAL_SECONDS": "60"})
    environment = service.functions["checkRequest"].environment
    assert environment["APPROVERS"] == "a@example.com,b@example.com" and environment["APPROVAL_POLICY"] == "all"
    assert environment["REMINDER_INTERVAL_SECONDS"] == "60"


def test_only_the_keys_local_template_compiles_with_reach_a_role():
    """local/template.py compiles the roles with ROLE_KEYS' overrides alone: no other stage key may
    reach an IAM statement, or local mode would check calls against another stage's roles."""
    import re

    from local.template import ROLE_KEYS

    raw = yaml.safe_load((ROOT / "serverless.yml").read_text())  # anchors expanded
    statements = [raw["provider"].get("iam", {}).get("role", {}).get("statements", [])]
    statements += [spec.get("iamRoleStatements", []) for spec in raw["functions"].values()]
    statements += [machine.get("iamRoleStatements", []) for machine in raw["stepFunctions"]["stateMachines"].values()]
    text = json.dumps(statements)
    used = set(re.findall(r"\$\{self:custom\.stageConfig\.([A-Z_]+)", text))
    used |= {re.sub(r"(?<!^)([A-Z])", r"_\1", name).upper() for name in re.findall(r"\$\{approvalPolicy:(\w+)\}", text)}
    assert used and used <= set(ROLE_KEYS), used
