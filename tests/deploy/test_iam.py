"""The roles of the compiled template, checked with the same IAM evaluator local mode uses."""

from __future__ import annotations

import json
import subprocess

import pytest

from local.iam import Call, Enforcer, role_of, roles_from_template, template_names
from tests.deploy.conftest import ROOT

REGION, ACCOUNT = "us-east-1", "123456789012"
# AWS's limit on the inline policies of one role, whitespace not counted.
INLINE_POLICY_LIMIT = 10_240


@pytest.fixture(scope="module")
def iam(packaged):
    enforcer = Enforcer(roles_from_template(packaged, template_names(packaged, REGION, ACCOUNT)),
                        region=REGION, account=ACCOUNT, report=lambda line: None)
    yield enforcer
    enforcer.close()


def called_functions(template, machine_id: str) -> dict[str, str]:
    """{state: function logical id} for every Task of a state machine that calls a Lambda function."""
    definition = template["Resources"][machine_id]["Properties"]["DefinitionString"]
    if isinstance(definition, dict):  # {"Fn::Sub": [text, variables]}: each variable is a whole value
        definition, variables = definition["Fn::Sub"]
        for name, value in variables.items():
            definition = definition.replace(f'"${{{name}}}"', json.dumps(value))
    states = json.loads(definition)["States"]
    called = {}
    for name, state in states.items():
        if state["Type"] != "Task" or "startExecution" in json.dumps(state["Resource"]):
            continue
        target = state.get("Parameters", {}).get("FunctionName", state["Resource"])
        called[name] = target["Fn::GetAtt"][0]
    return called


@pytest.mark.parametrize("machine, states", [
    ("WorkflowStateMachine", {"Validate", "Calculate", "Finalize", "NotifyFailure"}),
    ("ApprovalStateMachine", {"CheckRequest", "Approval", "FollowUp", "AwaitApproval"}),
])
def test_each_state_machine_may_invoke_every_function_its_definition_calls(packaged, iam, machine, states):
    called = called_functions(packaged, machine)
    assert set(called) == states
    names = template_names(packaged, REGION, ACCOUNT)
    role = role_of(packaged, machine)
    for state, function in called.items():
        call = Call("lambda:InvokeFunction", names[f"{function}.Arn"], {})
        assert iam.check(role, call) is None, f"{state}: the state machine's role may not invoke {function}"


def test_the_workflow_may_start_the_approval_machine_watch_it_and_stop_it_and_no_other(packaged, iam):
    """What startExecution.sync:2 needs (AWS: "IAM policies for Step Functions"), on the approval machine only."""
    names = template_names(packaged, REGION, ACCOUNT)
    role = role_of(packaged, "WorkflowStateMachine")
    approvals, execution = names["ApprovalStateMachine"], names["ApprovalStateMachine"].replace(":stateMachine:", ":execution:") + ":e"
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
    for call in [Call("states:StartExecution", approvals, {}), Call("states:DescribeExecution", execution, {}),
                 Call("states:StopExecution", execution, {}), Call("events:PutRule", rule, {}),
                 Call("events:PutTargets", rule, {}), Call("events:DescribeRule", rule, {})]:
        assert iam.check(role, call) is None, call
    workflow = names["WorkflowStateMachine"]
    assert "is not authorized" in iam.check(role, Call("states:StartExecution", workflow, {}))
    assert "is not authorized" in iam.check(role_of(packaged, "ApprovalStateMachine"),
                                            Call("states:StartExecution", approvals, {}))


def test_every_function_role_may_make_the_calls_its_code_makes(packaged, iam):
    names = template_names(packaged, REGION, ACCOUNT)
    table = names["CallbacksTable.Arn"]
    sender = json.loads((ROOT / "env.json").read_text())["dev"]["SENDER_EMAIL"]
    send = Call("ses:SendRawEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{sender}",
                {"ses:FromAddress": sender, "ses:Recipients": ["approver@example.com"]})
    answer = Call("states:SendTaskSuccess", "*", {})
    for function, call in [
        ("Calculate", Call("dynamodb:PutItem", table, {})),
        ("Callbacks", answer),
        ("RequestApproval", send),
        ("FollowUp", send),
        ("NotifyFailure", send),
        ("ApprovalPages", answer),
        ("ApprovalPages", Call("dynamodb:UpdateItem", table, {"dynamodb:ReturnValues": "ALL_NEW"})),
    ]:
        role = role_of(packaged, f"{function}LambdaFunction")
        assert iam.check(role, call) is None, (function, call)


def test_email_may_be_sent_only_as_the_stages_sender(packaged, iam):
    role = role_of(packaged, "RequestApprovalLambdaFunction")
    other = Call("ses:SendRawEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/ceo@example.com",
                 {"ses:FromAddress": "ceo@example.com", "ses:Recipients": ["approver@example.com"]})
    assert "is not authorized to perform: ses:SendRawEmail" in iam.check(role, other)


@pytest.mark.parametrize("function", ["Executions", "ApprovalPages"])
def test_the_routes_anyone_can_reach_cannot_read_a_task_token(packaged, iam, function):
    names = template_names(packaged, REGION, ACCOUNT)
    table = names["CallbacksTable.Arn"]
    role = role_of(packaged, f"{function}LambdaFunction")
    public = Call("dynamodb:GetItem", table, {"dynamodb:Attributes": ["id", "status", "votes"]})
    assert iam.check(role, public) is None
    for context in ({"dynamodb:Attributes": ["id", "taskToken"]}, {}):  # with the token, or every attribute
        assert iam.check(role, Call("dynamodb:GetItem", table, context)) is not None, context
    for action in ("dynamodb:Query", "dynamodb:Scan", "dynamodb:PutItem"):
        assert iam.check(role, Call(action, table, {})) is not None, action


def test_each_roles_inline_policies_fit_awss_size_limit(packaged):
    names = template_names(packaged, "ap-southeast-2", ACCOUNT)  # the longest region names make the longest ARNs
    for role in roles_from_template(packaged, names).values():
        size = sum(len(json.dumps(policy["policy"], separators=(",", ":"))) for policy in role.policies)
        assert size <= INLINE_POLICY_LIMIT, f"{role.logical_id}: {size} characters of inline policy"


@pytest.mark.parametrize("machine, group", [("WorkflowStateMachine", "StateMachineLogGroup"),
                                            ("ApprovalStateMachine", "ApprovalMachineLogGroup")])
def test_each_state_machine_logs_errors_without_execution_data(packaged, machine, group):
    logging = packaged["Resources"][machine]["Properties"]["LoggingConfiguration"]
    assert logging["Level"] == "ERROR" and logging["IncludeExecutionData"] is False
    assert logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"] == {"Fn::GetAtt": [group, "Arn"]}


@pytest.mark.parametrize("stage, loaded", [("dev", False), ("prod", False), ("rehearsal", True)])
def test_only_the_rehearsal_loads_serverless_localstack(stage, loaded):
    script = f"""
      const Rehearsal = require('./plugins/rehearsal.js');
      const serverless = {{ service: {{ provider: {{ stage: 'dev' }}, custom: {{}} }}, getProvider: () => ({{}}),
                            configSchemaHandler: {{ defineCustomProperties() {{}} }}, cli: {{ log() {{}} }} }};
      let plugin;
      try {{ plugin = new Rehearsal(serverless, {{ stage: '{stage}' }}); }} catch (error) {{ plugin = {{ hooks: 'failed' }}; }}
      const required = Object.keys(require.cache).some((path) => path.includes('serverless-localstack'));
      console.log(JSON.stringify({{ required, hooks: Boolean(plugin.hooks) }}));
    """
    run = subprocess.run(["node", "-e", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(run.stdout)["required"] is loaded
    plugins = (ROOT / "serverless.yml").read_text().split("\ncustom:")[0]
    assert "serverless-localstack" not in plugins.replace("# serverless-localstack", "")


def test_eventbridge_may_invoke_the_function_of_each_rule_and_only_from_that_rule(packaged):
    """Lambda's resource policy, which local mode does not check when it delivers the event itself."""
    rules = {r["Properties"]["Name"]: r for r in packaged["Resources"].values() if r["Type"] == "AWS::Events::Rule"}
    assert rules, "no EventBridge rule: closing an approval needs one"
    permissions = [r["Properties"] for r in packaged["Resources"].values() if r["Type"] == "AWS::Lambda::Permission"
                   and r["Properties"]["Principal"] == "events.amazonaws.com"]
    for name, rule in rules.items():
        (target,) = rule["Properties"]["Targets"]
        granted = [p for p in permissions if p["FunctionName"] == target["Arn"] and name in json.dumps(p["SourceArn"])]
        assert len(granted) == 1 and granted[0]["Action"] == "lambda:InvokeFunction", name


@pytest.mark.parametrize("service, operation, parameters, code", [
    ("ses", "SendRawEmail", {"Source": "ceo@example.com", "Destinations": ["a@example.com"]}, "AccessDenied"),
    ("dynamodb", "Scan", {"TableName": "approval-workflow-dev-callbacks"}, "AccessDeniedException"),
])
def test_a_denied_call_answers_with_the_services_own_error_code(packaged, iam, service, operation, parameters, code):
    import boto3

    model = boto3.client(service, region_name=REGION).meta.service_model.operation_model(operation)
    with iam.acting_as(role_of(packaged, "RequestApprovalLambdaFunction")):
        http, parsed = iam._before_call(None, model=model, context={"local-iam-parameters": parameters})
    assert http.status_code == 403 and parsed["Error"]["Code"] == code
    assert parsed["Error"]["Message"].startswith("User: arn:aws:sts::123456789012:assumed-role/")
