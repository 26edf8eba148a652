"""The deploy artifact: `serverless package` offline, then cfn-lint and assertions on the template."""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from pathlib import Path

import yaml

from tests.deploy.conftest import BUILD, ROOT, TEMPLATE


def resources(template, kind):
    return {name: value for name, value in template["Resources"].items() if value["Type"] == kind}


def definition(template) -> dict:
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine").values()
    text = machine["Properties"]["DefinitionString"]
    text = text["Fn::Sub"][0] if isinstance(text, dict) else text
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
    assert states["Approval"]["Resource"].endswith("lambda:invoke.waitForTaskToken")
    assert states["Calculate"]["TimeoutSeconds"] == 60
    assert states["Approval"]["TimeoutSeconds"] == json.loads((ROOT / "env.json").read_text())["dev"][
        "APPROVAL_TIMEOUT_SECONDS"]
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
    assert len(set(used)) == len(functions) == 9
    table = {"Fn::GetAtt": ["CallbacksTable", "Arn"]}
    for name, role in roles.items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for action in actions:
                    assert action != "*" and not action.endswith(":*"), (name, action)
                    if action.startswith("dynamodb:"):
                        assert statement["Resource"] == table, (name, statement)
                    if action.startswith("ses:"):
                        assert all("identity/" in json.dumps(r) for r in statement["Resource"]), name
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
    assert len(zips) == 9
    forbidden = re.compile(r"^(tests|local|node_modules|boto3|botocore|s3transfer|plugins|schemas|statemachines)/")
    for path in zips:
        names = zipfile.ZipFile(path).namelist()
        assert not [name for name in names if forbidden.match(name)], path.name
        own = {name.split("/")[1] for name in names
               if name.startswith("functions/") and name.count("/") >= 2 and "/__pycache__/" not in name}
        print(f"{path.name}: {path.stat().st_size} bytes")
        assert "common" in own and len(own) == 2, (path.name, own)  # its own folder and common/


def test_the_start_api_may_start_only_this_state_machine(packaged):
    role = packaged["Resources"]["ApigatewayToStepFunctionsRole"]
    (statement,) = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert statement["Action"] == ["states:StartExecution"] or statement["Action"] == "states:StartExecution"
    assert statement["Resource"] == [{"Ref": "ApprovalStateMachine"}]


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
