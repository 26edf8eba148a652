"""Deploy rehearsal: the real `serverless deploy` and `serverless remove` against moto's server.

Stage "rehearsal" (env.json) is the one stage serverless-localstack sends to moto
(custom.localstack in serverless.yml) instead of AWS; tests/deploy/moto_server.py runs moto with
its two known bugs worked around. One cycle: deploy, deploy again (no changes), remove.

What moto cannot show: it skips ApiGateway::Model, RequestValidator, GatewayResponse and
S3::BucketPolicy (no physical resource; the template tests cover them), checks wiring rather than
AWS's own validation, and does not delete a REST API when its stack is deleted.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import boto3
import pytest

from local.template import packaging_lock
from tests.deploy.conftest import ROOT

DEPLOYED_TEMPLATE = ROOT / ".local" / "rehearsal-template.json"
from local.service import eventually, free_port

pytestmark = [pytest.mark.deploy, pytest.mark.timeout(900)]

STAGE = "rehearsal"
STACK = f"approval-workflow-{STAGE}"
MOTO_SKIPS = {"AWS::ApiGateway::Model", "AWS::ApiGateway::RequestValidator", "AWS::ApiGateway::GatewayResponse",
              "AWS::S3::BucketPolicy"}
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    process = subprocess.Popen([sys.executable, "-m", "tests.deploy.moto_server", str(port)], cwd=ROOT,
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)

    def ready() -> bool:
        assert process.poll() is None, log.read_text()
        return "ready" in log.read_text()

    eventually(ready, 60, "moto's server did not start", interval=0.1)
    yield port
    process.terminate()
    process.wait(timeout=30)


def serverless(command: str, port: int) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "REHEARSAL_PORT": str(port), "SLS_TELEMETRY_DISABLED": "1",
    })
    with packaging_lock():
        run = subprocess.run(["npx", "serverless", command, "--stage", STAGE], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
        compiled = ROOT / ".serverless" / "cloudformation-template-update-stack.json"
        if command == "deploy" and run.returncode == 0:  # read now: other packagings empty .serverless/
            DEPLOYED_TEMPLATE.write_text(compiled.read_text())
    output = run.stdout + run.stderr
    assert run.returncode == 0, f"serverless {command} failed:\n{output}"
    print(output)
    return output


def aws(service: str, port: int):
    return boto3.client(service, endpoint_url=f"http://localhost:{port}", **CREDENTIALS)


def test_deploy_redeploy_and_remove(moto_server):
    port = moto_server
    deployed = serverless("deploy", port)

    # The stack holds every resource of the compiled template that moto creates.
    template = json.loads(DEPLOYED_TEMPLATE.read_text())
    stack = aws("cloudformation", port).describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    summaries = aws("cloudformation", port).list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    created = {r["LogicalResourceId"]: r["ResourceType"] for r in summaries}
    expected = {name: r["Type"] for name, r in template["Resources"].items() if r["Type"] not in MOTO_SKIPS}
    assert {name: created.get(name) for name in expected} == expected
    functions = {f["FunctionName"] for f in aws("lambda", port).list_functions()["Functions"]}
    declared = {f"{STACK}-{name}" for name, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"
                for name in [r["Properties"]["FunctionName"].removeprefix(f"{STACK}-")]}
    assert functions == declared and len(functions) == 12
    table = aws("dynamodb", port).describe_table(TableName=f"{STACK}-callbacks")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    machines = {m["name"]: m["stateMachineArn"] for m in aws("stepfunctions", port).list_state_machines()["stateMachines"]}
    assert set(machines) == {STACK, f"{STACK}-approval"}
    definition = json.loads(aws("stepfunctions", port).describe_state_machine(stateMachineArn=machines[STACK])["definition"])
    assert definition["States"]["Approval"]["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert definition["States"]["Approval"]["Parameters"]["StateMachineArn"] == machines[f"{STACK}-approval"]
    assert definition["States"]["Validate"]["Resource"].endswith(f"function:{STACK}-validate")

    # The endpoints printed and the stack's outputs name the deployed REST API.
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["ApprovalStateMachineArn"] == machines[f"{STACK}-approval"]
    (api,) = [r["PhysicalResourceId"] for r in summaries if r["LogicalResourceId"] == "ApiGatewayRestApi"]
    assert outputs["ServiceEndpoint"] == f"https://{api}.execute-api.us-east-1.amazonaws.com/{STAGE}"
    base = f"http://localhost:{port}/restapis/{api}/{STAGE}/_user_request_"
    assert f"POST - {base}/start" in deployed
    assert re.search(rf"^endpoint: {re.escape(base)}$", deployed, re.MULTILINE), deployed
    assert "undefined" not in deployed
    paths = {r["path"] for r in aws("apigateway", port).get_resources(restApiId=api)["items"]}
    assert paths >= {"/start", "/double", "/callbacks/{id}", "/approve", "/reject", "/executions/{name}"}

    # A second deploy of the same code changes nothing.
    assert "No changes to deploy" in serverless("deploy", port)

    serverless("remove", port)
    (summary,) = [s for s in aws("cloudformation", port).list_stacks()["StackSummaries"] if s["StackName"] == STACK]
    assert summary["StackStatus"] == "DELETE_COMPLETE"
    assert aws("lambda", port).list_functions()["Functions"] == []
    assert aws("dynamodb", port).list_tables()["TableNames"] == []
    assert aws("stepfunctions", port).list_state_machines()["stateMachines"] == []
    assert aws("s3", port).list_buckets()["Buckets"] == []
    assert aws("iam", port).list_roles()["Roles"] == []
    assert aws("logs", port).describe_log_groups()["logGroups"] == []
    # moto leaves the REST API behind when its stack is deleted (AWS deletes it).
    assert [a["id"] for a in aws("apigateway", port).get_rest_apis()["items"]] == [api]
