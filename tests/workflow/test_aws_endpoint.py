"""Local mode's AWS API (AWS_ENDPOINT_PORT): the real AWS CLI drives the running local engine.

Given a local run, when the AWS CLI starts an execution and a person approves it from its email,
then the CLI reads the approved outcome: the endpoint shares the engine's moto, hooks and handlers.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from local.service import ROOT, decide, eventually, free_port

AWS = str(Path(sys.executable).with_name("aws"))  # the pinned awscli (requirements-dev.txt)
# moto checks no credentials, but the CLI signs every request with some; none of the caller's AWS_* settings.
CLI_ENVIRONMENT = {
    **{key: value for key, value in os.environ.items() if not key.startswith("AWS_")},
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
}
APPROVAL_REQUEST = {"subject": "Pay invoice 42", "details": [{"label": "Amount", "value": "120 EUR"}]}


def aws(endpoint: str, *arguments: str) -> dict:
    run = subprocess.run(
        [AWS, "--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json", "stepfunctions", *arguments],
        capture_output=True, text=True, timeout=60, env=CLI_ENVIRONMENT,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_aws_cli_starts_an_execution_that_a_person_approves(local_service_factory):
    service = local_service_factory()
    assert f"AWS API (for the AWS CLI and SDKs): {service.aws_url}\n" in service.log.read_text()

    machines = {machine["name"]: machine["stateMachineArn"] for machine in aws(service.aws_url, "list-state-machines")["stateMachines"]}
    assert set(machines) == {"approval-workflow-local", "approval-workflow-local-approval"}
    # The approval machine, with no --name, as a person would type it: the execution gets a UUID, as on AWS.
    started = aws(service.aws_url, "start-execution", "--state-machine-arn", machines["approval-workflow-local-approval"],
                  "--input", json.dumps(APPROVAL_REQUEST))
    name = started["executionArn"].rsplit(":", 1)[1]
    uuid.UUID(name)

    ballot = next(iter(service.ballot_links(name, 1).values()))  # any approver of the stage
    assert decide(ballot["approve"], "fine by me").status_code == 200

    def finished() -> dict | None:
        described = aws(service.aws_url, "describe-execution", "--execution-arn", started["executionArn"])
        return described if described["status"] != "RUNNING" else None

    described = eventually(finished, 60, f"execution {name} still RUNNING", interval=0.2)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert (output["decision"], output["comment"]) == ("approved", "fine by me")
    assert service.stop() == 0


def test_an_aws_endpoint_port_that_is_not_a_number_is_answered_in_one_line(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "local"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PORT": str(free_port()), "AWS_ENDPOINT_PORT": "abc", "OUTBOX": str(tmp_path / "outbox")},
    )
    assert run.returncode == 2
    assert run.stdout == (
        "Configuration refused: environment variable AWS_ENDPOINT_PORT='abc': must be a port number from 1 to 65535\n"
    )
    assert run.stderr == ""
    assert not (tmp_path / "outbox").exists()
