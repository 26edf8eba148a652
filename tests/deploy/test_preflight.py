"""The `make deploy` preflight (deploy/preflight.py) against moto: each way a first deploy fails early.

moto answers STS and SES; it has no SESv2 GetAccount, so each test says whether the account is in
the SES sandbox by answering that one call itself (a botocore before-call handler).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import pytest
from moto import mock_aws

from deploy.preflight import run
from tests.deploy.conftest import ROOT

REGION = "eu-west-1"
SENDER = "workflow@acme.test"
RECIPIENT = "approver@acme.test"


@pytest.fixture
def aws():
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def answer_get_account(session, *, production: bool) -> None:
    from botocore.awsrequest import AWSResponse

    def get_account(**_):
        response = AWSResponse("https://email.test", 200, {}, None)
        return response, {"ProductionAccessEnabled": production, "SendingEnabled": True}

    session.events.register("before-call.sesv2.GetAccount", get_account)


def env_file(tmp_path, **stage):
    path = tmp_path / "env.json"
    path.write_text(json.dumps({"dev": {"RECIPIENT_EMAIL": RECIPIENT, "SENDER_EMAIL": SENDER, **stage}}))
    return path


def verify(*identities):
    ses = boto3.client("ses", region_name=REGION)
    for identity in identities:
        if "@" in identity:
            ses.verify_email_identity(EmailAddress=identity)
        else:
            ses.verify_domain_identity(Domain=identity)


def test_all_good_in_the_sandbox_with_every_address_verified(aws, tmp_path):
    answer_get_account(aws, production=False)
    verify(SENDER, RECIPIENT)
    assert run("dev", REGION, session=aws, env_file=env_file(tmp_path)) == []


def test_all_good_with_production_access_and_a_verified_sender_domain(aws, tmp_path):
    answer_get_account(aws, production=True)
    verify("acme.test")  # the domain covers the sender; out of the sandbox recipients need nothing
    assert run("dev", REGION, session=aws, env_file=env_file(tmp_path, RECIPIENT_EMAIL="boss@elsewhere.test")) == []


def test_an_unverified_sender_is_named_with_the_command_that_verifies_it(aws, tmp_path):
    answer_get_account(aws, production=True)
    (problem,) = run("dev", REGION, session=aws, env_file=env_file(tmp_path))
    assert problem.startswith(f"SENDER_EMAIL {SENDER} is not a verified SES identity in {REGION}")
    assert f"aws ses verify-email-identity --email-address {SENDER} --region {REGION}" in problem


def test_in_the_sandbox_an_unverified_recipient_is_named(aws, tmp_path):
    answer_get_account(aws, production=False)
    verify(SENDER, "second@acme.test")
    problems = run("dev", REGION, session=aws,
                   env_file=env_file(tmp_path, APPROVERS=["second@acme.test", "third@acme.test"],
                                     ESCALATION_EMAIL="chief@acme.test"))
    assert len(problems) == 3
    assert all("in the sandbox" in problem and "request production access" in problem for problem in problems)
    named = " ".join(problems)
    for address in (RECIPIENT, "third@acme.test", "chief@acme.test"):
        assert f"{address} is not one" in named
    assert "second@acme.test is not one" not in named


@pytest.mark.parametrize("key, value", [
    ("RECIPIENT_EMAIL", "approver@example.com"),
    ("SENDER_EMAIL", "workflow@mail.example.org"),
    ("APPROVERS", ["ok@acme.test", "someone@example.net"]),
    ("ESCALATION_EMAIL", "chief@example.com"),
])
def test_a_placeholder_address_is_refused(aws, tmp_path, key, value):
    answer_get_account(aws, production=True)
    verify("acme.test", "mail.example.org")
    problems = run("dev", REGION, session=aws, env_file=env_file(tmp_path, **{key: value}))
    (problem,) = problems
    placeholder = value[-1] if isinstance(value, list) else value
    assert problem == (f"{key} is {placeholder}, a placeholder that no mailbox answers: "
                       f'set a real address in env.json under "dev".')


def test_a_stage_missing_from_env_json_is_named(aws, tmp_path):
    (problem,) = run("staging", REGION, session=aws, env_file=env_file(tmp_path))
    assert problem.startswith('env.json has no stage "staging" (it has: dev).')


def test_the_shipped_env_json_is_refused_for_its_placeholders(aws):
    answer_get_account(aws, production=True)
    problems = run("dev", REGION, session=aws)
    assert [p.split(" is ")[0] for p in problems] == ["SENDER_EMAIL", "RECIPIENT_EMAIL"]


def test_without_credentials_the_command_fails_at_once_saying_how_to_provide_them(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance-metadata probe
    })
    for command in (["--stage", "dev"], ["--stage", "dev", "--remove"]):
        run_ = subprocess.run([sys.executable, "-m", "deploy.preflight", *command], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert run_.returncode == 1, run_.stdout + run_.stderr
        assert "AWS credentials do not resolve (Unable to locate credentials)" in run_.stderr
        assert "aws configure" in run_.stderr and "SKIP_PREFLIGHT=1" in run_.stderr
        assert "Traceback" not in run_.stderr
