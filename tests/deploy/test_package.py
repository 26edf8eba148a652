"""The deploy artifact: `serverless package` offline, then cfn-lint and assertions on the template."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import yaml

from tests.deploy.conftest import BUILD, PACKAGE_OUTPUT, ROOT, TEMPLATE


def resources(template, kind):
    return {name: value for name, value in template["Resources"].items() if value["Type"] == kind}


def definition(template, machine: str = "WorkflowStateMachine") -> dict:
    """A state machine's ASL, with the Fn::Sub variables that are plain strings (the partition's ARNs) put back."""
    text = template["Resources"][machine]["Properties"]["DefinitionString"]
    if isinstance(text, dict):
        text, variables = text["Fn::Sub"]
        for name, value in variables.items():
            if isinstance(value.get("Fn::Sub"), str):
                text = text.replace("${" + name + "}", value["Fn::Sub"])
    return json.loads(text)


def test_template_passes_cfn_lint(packaged):
    lint = subprocess.run(["cfn-lint", str(TEMPLATE)], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"})
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_every_route_of_the_contract_is_deployed(packaged):
    paths = {}
    for resource in resources(packaged, "AWS::ApiGateway::Resource").values():
        paths[resource["Properties"]["PathPart"]] = resource
    methods = set()
    for method in resources(packaged, "AWS::ApiGateway::Method").values():
        resource_ref = method["Properties"]["ResourceId"]["Ref"]
        part = packaged["Resources"][resource_ref]["Properties"]["PathPart"]
        parent = packaged["Resources"][resource_ref]["Properties"]["ParentId"]
        prefix = "" if "Fn::GetAtt" in parent else packaged["Resources"][parent["Ref"]]["Properties"]["PathPart"] + "/"
        methods.add((method["Properties"]["HttpMethod"], "/" + prefix + part))
    assert {m for m in methods if m[0] != "OPTIONS"} == {
        ("POST", "/start"), ("POST", "/double"), ("POST", "/callbacks/{id}"),
        ("GET", "/approve"), ("POST", "/approve"), ("GET", "/reject"), ("POST", "/reject"),
        ("GET", "/executions/{name}"),
    }


def test_start_accepts_only_json_checked_by_the_request_model(packaged):
    (start,) = [m for m in resources(packaged, "AWS::ApiGateway::Method").values()
                if "states:action/StartExecution" in json.dumps(m)]
    integration = start["Properties"]["Integration"]
    assert integration["PassthroughBehavior"] == "NEVER"
    assert set(integration["RequestTemplates"]) == {"application/json"}
    assert "RequestValidatorId" in start["Properties"]
    (model,) = resources(packaged, "AWS::ApiGateway::Model").values()
    schema = model["Properties"]["Schema"]
    assert schema == json.loads((ROOT / "schemas" / "start.json").read_text())


def test_both_waits_have_timeouts_and_every_task_a_catch(packaged):
    states = definition(packaged)["States"]
    assert states["Calculate"]["Resource"].endswith("lambda:invoke.waitForTaskToken")
    assert states["Calculate"]["TimeoutSeconds"] == 60
    # The workflow's approval is the approval machine's execution, waited for to its end.
    approval = states["Approval"]
    assert approval["Resource"] == "arn:${AWS::Partition}:states:::states:startExecution.sync:2"
    assert approval["Parameters"]["Name.$"] == "$$.Execution.Name"
    assert approval["Parameters"]["Input"]["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$"] == "$$.Execution.Id"
    assert approval["Next"] == "Finalize"
    for name, state in states.items():
        if state["Type"] == "Task":
            assert state.get("Catch"), f"{name} has no Catch"
            assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name
    assert any(r["ErrorEquals"][:2] == ["DoublingApiUnavailable", "DoublingFailed"] and r["BackoffRate"] > 1
               for r in states["Calculate"]["Retry"])
    fails = {name: state for name, state in states.items() if state["Type"] == "Fail"}
    assert fails["Failed"]["ErrorPath"] == "$.outcome.error"
    assert "Pass" not in {state["Type"] for state in states.values()}


def test_each_function_has_its_own_role_without_wildcard_actions(packaged):
    roles = resources(packaged, "AWS::IAM::Role")
    functions = resources(packaged, "AWS::Lambda::Function")
    used = [function["Properties"]["Role"]["Fn::GetAtt"][0] for function in functions.values()]
    assert len(set(used)) == len(functions) == 12
    table = {"Fn::GetAtt": ["CallbacksTable", "Arn"]}
    for name, role in roles.items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for action in actions:
                    assert action != "*" and not action.endswith(":*"), (name, action)
                    if action.startswith("dynamodb:"):
                        assert statement["Resource"] == table, (name, statement)
                    if action.startswith("ses:"):  # as the stage's sender only
                        assert "identity/" in json.dumps(statement["Resource"]), name
                        assert statement["Condition"]["StringEquals"]["ses:FromAddress"] == "workflow@example.com"
    # The partner-style doubling API and the pure steps can touch nothing but their logs.
    for name in ("DoubleIamRoleLambdaExecution", "ValidateIamRoleLambdaExecution", "FinalizeIamRoleLambdaExecution"):
        actions = {a for p in roles[name]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
                   for a in s["Action"]}
        assert all(a.startswith(("logs:", "xray:")) for a in actions), (name, actions)


def test_callbacks_table_is_on_demand_with_ttl(packaged):
    table = packaged["Resources"]["CallbacksTable"]
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert table["DeletionPolicy"] == "Delete"  # `serverless remove` leaves nothing behind


def test_zips_hold_only_what_the_function_imports(packaged):
    zips = sorted(BUILD.glob("*.zip"))
    assert len(zips) == 12
    forbidden = re.compile(r"^(tests|local|node_modules|boto3|botocore|s3transfer|plugins|schemas|statemachines)/")
    for path in zips:
        names = zipfile.ZipFile(path).namelist()
        assert not [name for name in names if forbidden.match(name)], path.name
        own = {name.split("/")[1] for name in names
               if name.startswith("functions/") and name.count("/") >= 2 and "/__pycache__/" not in name}
        print(f"{path.name}: {path.stat().st_size} bytes")
        assert "common" in own and len(own) == 2, (path.name, own)  # its own folder and common/


def test_the_start_api_may_start_only_the_workflow(packaged):
    role = packaged["Resources"]["ApigatewayToStepFunctionsRole"]
    (statement,) = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert statement["Action"] == ["states:StartExecution"] or statement["Action"] == "states:StartExecution"
    assert statement["Resource"] == [{"Ref": "WorkflowStateMachine"}]


def test_the_approval_machine_waits_with_its_plans_timeouts_and_fails_with_its_own_error_names(packaged):
    states = definition(packaged, "ApprovalStateMachine")["States"]
    assert packaged["Outputs"]["ApprovalStateMachineArn"]["Value"] == {"Ref": "ApprovalStateMachine"}
    assert packaged["Resources"]["ApprovalStateMachine"]["Properties"]["StateMachineName"] == "approval-workflow-dev-approval"
    assert states["CheckRequest"]["Catch"] == [{"ErrorEquals": ["InvalidApprovalRequest"], "ResultPath": "$", "Next": "Refused"}]
    for waiting, timeout in (("Approval", "$.firstWaitSeconds"), ("AwaitApproval", "$.approvalWait.seconds")):
        assert states[waiting]["Resource"] == "arn:${AWS::Partition}:states:::lambda:invoke.waitForTaskToken"
        assert states[waiting]["TimeoutSecondsPath"] == timeout and states[waiting]["End"] is True
        assert states[waiting]["Catch"][0] == {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.approvalWait",
                                                "Next": "FollowUp"}
    assert states["FollowUp"]["Catch"] == [{"ErrorEquals": ["ApprovalTimedOut"], "ResultPath": "$", "Next": "Refused"}]
    assert {key: states["Failed"][key] for key in ("Type", "ErrorPath", "CausePath")} == {
        "Type": "Fail", "ErrorPath": "$.error", "CausePath": "$.lambda.errorMessage"}


def test_the_api_is_throttled():
    import yaml

    config = yaml.safe_load((ROOT / "serverless.yml").read_text())
    assert "serverless-api-gateway-throttling" in config["plugins"]
    throttling = config["custom"]["apiGatewayThrottling"]
    assert throttling["maxRequestsPerSecond"] > 0 and throttling["maxConcurrentRequests"] > 0


# What the Lambda Python runtime brings besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")


def test_every_module_in_each_zip_ships_as_python_312_bytecode(packaged):
    """Compiled for the runtime, in unchecked-hash mode; the service's own code keeps its source."""
    import importlib.util

    for path in sorted(BUILD.glob("*.zip")):
        archive = zipfile.ZipFile(path)
        names = set(archive.namelist())
        assert path.stat().st_size <= 1024 * 1024, (path.name, path.stat().st_size)
        own = [name for name in names if name.startswith("functions/") and name.endswith(".py")]
        assert own and not [name for name in names if name.endswith(".py") and not name.startswith("functions/")]
        compiled = [importlib.util.cache_from_source(name) for name in own]
        compiled += [name for name in names if name.endswith(".pyc") and "__pycache__" not in name]
        assert len(compiled) > 100, path.name
        for name in compiled:
            header = archive.read(name)[:8]
            assert header[:4] == importlib.util.MAGIC_NUMBER, (path.name, name, "not Python 3.12 bytecode")
            assert int.from_bytes(header[4:8], "little") == 0b01, (path.name, name, "not unchecked-hash")


# What the Lambda Python runtime brings besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")


def test_every_handler_imports_from_its_own_zip_alone_and_its_bytecode(packaged, tmp_path):
    """The zip plus what the runtime provides is enough: nothing the handler imports was trimmed.

    As on Lambda: the unzipped directory is read-only and nothing writes bytecode. The service's
    own sources are then replaced by a module that fails, so the import succeeds only if every
    module came from the zip's bytecode.
    """
    import shutil
    import stat
    import sys
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        source = site / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, runtime / name)
    functions = yaml.safe_load((ROOT / "serverless.yml").read_text())["functions"]
    for name, spec in functions.items():
        root = tmp_path / name
        zipfile.ZipFile(BUILD / f"{name}.zip").extractall(root)
        for source in root.glob("functions/**/*.py"):
            source.write_text("raise ImportError('imported from source, not from the bytecode')\n")
        files = sorted(root.rglob("*"))
        for path in files:
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        module = spec["handler"].rsplit(".", 1)[0].replace("/", ".")
        run = subprocess.run(
            [sys.executable, "-S", "-W", "error::ImportWarning", "-c",
             f"import sys; sys.path[:0] = [{str(root)!r}, {str(runtime)!r}]; import {module}"],
            capture_output=True, text=True, timeout=120, cwd=root,
            env={"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_SERVICE_NAME": "check", "PATH": os.environ["PATH"],
                 "PYTHONDONTWRITEBYTECODE": "1", "LAMBDA_TASK_ROOT": str(root)},
        )
        assert run.returncode == 0, f"{name}: {run.stderr[-2000:]}"
        assert sorted(root.rglob("*")) == files, f"{name}: files written into the function's directory"


def test_the_approval_policy_reaches_the_function_that_checks_requests(packaged):
    functions = resources(packaged, "AWS::Lambda::Function")
    environment = functions["CheckRequestLambdaFunction"]["Properties"]["Environment"]["Variables"]
    dev = json.loads((ROOT / "env.json").read_text())["dev"]
    assert environment["APPROVERS"] == dev["RECIPIENT_EMAIL"] and environment["APPROVAL_POLICY"] == "any"
    assert all(isinstance(value, (str, dict)) for value in environment.values())  # Lambda takes strings


def plugin_resolves(stage: dict, address: str) -> subprocess.CompletedProcess:
    """Run the packaging plugin's ${approvalPolicy:...} resolver as osls does, on a stage block."""
    script = f"""
      const Plugin = require('./plugins/approval-policy.js');
      class ServerlessError extends Error {{}}
      const plugin = new Plugin({{ classes: {{ Error: ServerlessError }} }});
      plugin.configurationVariablesSources.approvalPolicy
        .resolve({{ address: {json.dumps(address)}, options: {{ stage: 'qa' }}, serviceDir: process.cwd(),
                   resolveConfigurationProperty: async () => ({json.dumps(stage)}) }})
        .then((r) => console.log(JSON.stringify(r.value)), (e) => {{ console.error(e.message); process.exit(3); }});
    """
    return subprocess.run(["node", "-e", script], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_package_refuses_a_policy_that_cannot_work_naming_the_key():
    stage = {"SENDER_EMAIL": "a@example.org", "RECIPIENT_EMAIL": "b@example.org",
             "APPROVERS": ["b@example.org", "c@example.org"], "APPROVAL_POLICY": 3}
    refused = plugin_resolves(stage, "approvers")
    assert refused.returncode == 3
    assert refused.stderr.strip() == (
        'env.json, stage "qa": APPROVAL_POLICY: asks for 3 approvals but there are 2 approvers (APPROVERS)')
    accepted = plugin_resolves({**stage, "APPROVAL_POLICY": 2, "REMINDER_INTERVAL_SECONDS": 120}, "reminderIntervalSeconds")
    assert accepted.returncode == 0 and json.loads(accepted.stdout) == "120"
    notices = plugin_resolves({**stage, "APPROVAL_POLICY": 2, "OUTCOME_NOTICES": "maybe"}, "outcomeNotices")
    assert notices.returncode == 3 and "OUTCOME_NOTICES: must be true or false, got 'maybe'" in notices.stderr
    off = plugin_resolves({**stage, "APPROVAL_POLICY": 2, "OUTCOME_NOTICES": False}, "outcomeNotices")
    assert off.returncode == 0 and json.loads(off.stdout) == "false"


def test_an_execution_s_end_reaches_close_approval_through_an_event_bridge_rule(packaged):
    rules = resources(packaged, "AWS::Events::Rule")
    (rule,) = rules.values()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"stateMachineArn": [{"Ref": "ApprovalStateMachine"}], "status": ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]},
    }
    assert "EventBusName" not in rule["Properties"]  # the default bus, where Step Functions sends its events
    ((target),) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["CloseApprovalLambdaFunction", "Arn"]}
    permissions = [p["Properties"] for p in resources(packaged, "AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "events.amazonaws.com"]
    assert [p["FunctionName"] for p in permissions] == [{"Fn::GetAtt": ["CloseApprovalLambdaFunction", "Arn"]}]
    # Its own narrow role: reading and closing requests in the one table, and email.
    role = resources(packaged, "AWS::IAM::Role")["CloseApprovalIamRoleLambdaExecution"]
    statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    granted = {(action, json.dumps(s["Resource"])) for s in statements for action in s["Action"]
               if not action.startswith(("logs:", "xray:"))}
    assert {action for action, _ in granted} == {"dynamodb:GetItem", "dynamodb:UpdateItem", "ses:SendRawEmail"}
    table = json.dumps({"Fn::GetAtt": ["CallbacksTable", "Arn"]})
    assert all(resource == table for action, resource in granted if action.startswith("dynamodb:"))
    environment = resources(packaged, "AWS::Lambda::Function")["CloseApprovalLambdaFunction"]["Properties"]["Environment"]
    assert set(environment["Variables"]) >= {"TABLE_NAME", "SENDER_EMAIL"}


def test_package_says_a_refused_policy_once_in_its_own_words(tmp_path):
    """The real `serverless package` on a stage whose policy cannot work: one line naming env.json,
    the stage and the key, not one "Cannot resolve variable at …" per ${approvalPolicy:…}."""
    shutil.copy(ROOT / "serverless.yml", tmp_path)  # the Framework does not follow a symlinked config
    for name in ("plugins", "node_modules", "functions", "statemachines", "schemas", "package.json", "requirements.txt"):
        (tmp_path / name).symlink_to(ROOT / name)
    stages = json.loads((ROOT / "env.json").read_text())
    stages["qa"] = {**stages["dev"], "APPROVERS": ["b@example.org", "c@example.org"], "APPROVAL_POLICY": 3}
    (tmp_path / "env.json").write_text(json.dumps(stages))
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    run = subprocess.run([str(ROOT / "node_modules" / ".bin" / "serverless"), "package", "--stage", "qa"],
                         cwd=tmp_path, env={**env, "SLS_TELEMETRY_DISABLED": "1"}, capture_output=True,
                         text=True, timeout=120)
    said = run.stdout + run.stderr
    message = 'env.json, stage "qa": APPROVAL_POLICY: asks for 3 approvals but there are 2 approvers (APPROVERS)'
    assert run.returncode != 0
    assert said.count(message) == 1, said
    assert "Cannot resolve variable" not in said and "approvalPolicy" not in said, said
    assert not (tmp_path / ".serverless").exists(), "packaging went on after the refusal"


def start_method(template) -> dict:
    (start,) = [m for m in resources(template, "AWS::ApiGateway::Method").values()
                if "states:action/StartExecution" in json.dumps(m)]
    return start["Properties"]


def test_an_invalid_start_body_is_answered_with_the_rule_it_breaks(packaged):
    (response,) = [r["Properties"] for r in resources(packaged, "AWS::ApiGateway::GatewayResponse").values()
                   if r["Properties"]["ResponseType"] == "BAD_REQUEST_BODY"]
    assert response["StatusCode"] == "400"
    template = response["ResponseTemplates"]["application/json"]
    assert "$context.error.validationErrorString" in template
    # Valid JSON once API Gateway fills in the (JSON-escaped) string, as the local front does.
    filled = template.replace("$context.error.validationErrorString", '[object has missing required properties ([\\"y\\"])]')
    assert json.loads(filled) == {"message": 'Invalid request body: [object has missing required properties (["y"])]'
                                             ' (send {"x": integer, "y": integer} and nothing else)'}


def test_step_functions_errors_on_start_reach_the_caller_as_json_5xx(packaged):
    method = start_method(packaged)
    responses = {r["SelectionPattern"]: r for r in method["Integration"]["IntegrationResponses"]}
    assert set(responses) == {"", "4\\d{2}", "5\\d{2}"}  # 200 only when Step Functions answered 2xx
    assert responses[""]["StatusCode"] == 200
    for pattern, status in (("4\\d{2}", 502), ("5\\d{2}", 503)):
        assert responses[pattern]["StatusCode"] == status
        body = responses[pattern]["ResponseTemplates"]["application/json"]
        # $input.json('$'): Step Functions' error body, as JSON.
        error = {"__type": "ThrottlingException", "message": "Rate exceeded"}
        filled = json.loads(body.replace("$input.json('$')", json.dumps(error)))
        assert filled["message"].startswith("Step Functions ") and filled["reason"] == error
        assert re.fullmatch(pattern, str(500 if status == 503 else 429))
    assert {r["StatusCode"] for r in method["MethodResponses"]} >= {200, 502, 503}


def test_arns_name_the_partition_of_the_region(packaged):
    text = json.dumps(packaged)
    assert "arn:aws:" not in text
    states = definition(packaged)["States"]
    assert states["Calculate"]["Resource"] == "arn:${AWS::Partition}:states:::lambda:invoke.waitForTaskToken"
    assert states["Approval"]["Resource"] == "arn:${AWS::Partition}:states:::states:startExecution.sync:2"


def test_no_unused_default_role_and_no_function_versions(packaged):
    assert "IamRoleLambdaExecution" not in packaged["Resources"]
    assert not resources(packaged, "AWS::Lambda::Version")


def test_the_first_api_deployment_waits_for_the_gateway_responses(packaged):
    (deployment,) = resources(packaged, "AWS::ApiGateway::Deployment").values()
    responses = resources(packaged, "AWS::ApiGateway::GatewayResponse")
    assert len(responses) == 3
    assert set(responses) <= set(deployment["DependsOn"])


def test_packaging_prints_no_warning_about_an_http_api_or_a_stack(packaged):
    output = PACKAGE_OUTPUT.read_text()
    assert "Service packaged" in output
    assert "serverless-api-gateway-throttling" not in output, output
