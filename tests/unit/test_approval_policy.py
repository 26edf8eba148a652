"""The approval policy: who must agree, when it is decided, and which configurations are refused."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.approval_policy import plan
from functions.common.approval_policy import ApprovalPolicy, PolicyError
from functions.common.vocabulary import Decision

ROOT = Path(__file__).resolve().parents[2]
THREE = "ann@example.com,bob@example.com,cy@example.com"


def policy(rule, approvers=THREE, **more):
    return ApprovalPolicy.from_config({"APPROVERS": approvers, "APPROVAL_POLICY": rule, **more})


def decide(policy, votes):
    """Apply votes in order the way the table does: none counts once the policy has decided."""
    approvals = rejections = 0
    for vote in votes:
        if policy.outcome(approvals, rejections) is not None:
            break
        approvals += vote == "approve"
        rejections += vote == "reject"
    return policy.outcome(approvals, rejections)


@pytest.mark.parametrize(
    "rule, votes, outcome",
    [
        ("any", ["approve"], Decision.APPROVED),
        ("any", ["reject"], Decision.REJECTED),
        ("any", ["reject", "approve"], Decision.REJECTED),  # the first vote decides
        ("all", ["approve", "approve"], None),
        ("all", ["approve", "approve", "approve"], Decision.APPROVED),
        ("all", ["approve", "reject"], Decision.REJECTED),  # one rejection rejects
        ("1", ["reject"], None),  # k = 1: one approval suffices, so one rejection decides nothing
        ("1", ["reject", "reject", "approve"], Decision.APPROVED),
        ("1", ["reject", "reject", "reject"], Decision.REJECTED),
        ("2", ["approve", "reject"], None),
        ("2", ["approve", "reject", "approve"], Decision.APPROVED),
        ("2", ["reject", "reject"], Decision.REJECTED),  # 2 approvals can no longer be reached
        ("3", ["approve", "approve"], None),  # k = n behaves like all
        ("3", ["approve", "reject"], Decision.REJECTED),
        ("3", ["approve", "approve", "approve"], Decision.APPROVED),
    ],
)
def test_policy_outcomes(rule, votes, outcome):
    assert decide(policy(rule), votes) == outcome


def test_thresholds_and_words():
    assert (policy("any").required, policy("any").rejection_limit) == (1, 1)
    assert (policy("all").required, policy("all").rejection_limit) == (3, 1)
    assert (policy("2").required, policy("2").rejection_limit) == (2, 2)
    assert policy("2").describe() == "needs 2 of 3 approvals"
    assert policy("all").describe() == "needs all 3 approvals; one rejection rejects"
    assert policy("any").describe() == "the first of 3 approvers to answer decides"
    assert ApprovalPolicy.from_config({"RECIPIENT_EMAIL": "me@example.com"}).describe() == "needs 1 approval"


def test_only_recipient_email_means_one_approver_and_the_first_vote_decides():
    only = ApprovalPolicy.from_config({"RECIPIENT_EMAIL": "me@example.com", "APPROVAL_TIMEOUT_SECONDS": 600})
    assert only.approvers == ("me@example.com",) and only.rule == "any"
    assert not only.follows_up and only.first_wait_seconds == 600


@pytest.mark.parametrize("approvers", [THREE, json.dumps(THREE.split(",")), THREE.split(","), " ann@example.com , bob@example.com,cy@example.com "])
def test_approvers_as_a_list_a_json_array_or_comma_separated(approvers):
    assert policy("all", approvers).approvers == tuple(THREE.split(","))


def test_reminders_and_escalation_schedule_with_an_exact_deadline():
    p = policy("2", REMINDER_INTERVAL_SECONDS=3, MAX_REMINDERS=2, ESCALATION_EMAIL="boss@example.com",
               ESCALATE_AFTER_SECONDS=4, APPROVAL_TIMEOUT_SECONDS=7)
    assert p.first_wait_seconds == 3
    assert p.next_wait(started_at=100, now=103.1, reminders_sent=1, escalated=False) == 1  # escalation at 4
    assert p.next_wait(started_at=100, now=104.0, reminders_sent=1, escalated=True) == 2  # reminder 2 at 6
    assert p.next_wait(started_at=100, now=106.0, reminders_sent=2, escalated=True) == 1  # deadline at 7, not 9
    # A reminder interval that does not divide the deadline never pushes it back.
    q = policy("any", REMINDER_INTERVAL_SECONDS=4, MAX_REMINDERS=5, APPROVAL_TIMEOUT_SECONDS=10)
    assert q.next_wait(started_at=0, now=8, reminders_sent=2, escalated=False) == 2


@pytest.mark.parametrize(
    "config, key, words",
    [
        ({"APPROVAL_POLICY": "most"}, "APPROVAL_POLICY", 'must be "any", "all" or a whole number'),
        ({"APPROVAL_POLICY": 4}, "APPROVAL_POLICY", "asks for 4 approvals but there are 3 approvers"),
        ({"APPROVAL_POLICY": 0}, "APPROVAL_POLICY", "must ask for at least 1 approval, got 0"),
        ({"APPROVAL_POLICY": True}, "APPROVAL_POLICY", "must be"),
        ({"APPROVERS": "ann@example.com,not-an-address"}, "APPROVERS", "'not-an-address' is not an email address"),
        ({"APPROVERS": "ann@example.com,Ann@example.com"}, "APPROVERS", "is listed twice"),
        ({"APPROVERS": "[1, 2]"}, "APPROVERS", "must be a list of email addresses"),
        ({"APPROVERS": "[nope"}, "APPROVERS", "not a valid JSON array"),
        ({"ESCALATION_EMAIL": "boss@example.com"}, "ESCALATE_AFTER_SECONDS", "is required with ESCALATION_EMAIL"),
        ({"ESCALATION_EMAIL": "boss@example.com", "ESCALATE_AFTER_SECONDS": 600}, "ESCALATE_AFTER_SECONDS",
         "must be less than APPROVAL_TIMEOUT_SECONDS (600)"),
        ({"ESCALATION_EMAIL": "ann@example.com", "ESCALATE_AFTER_SECONDS": 60}, "ESCALATION_EMAIL", "already an approver"),
        ({"ESCALATION_EMAIL": "boss", "ESCALATE_AFTER_SECONDS": 60}, "ESCALATION_EMAIL", "is not an email address"),
        ({"ESCALATE_AFTER_SECONDS": 60}, "ESCALATION_EMAIL", "is required with ESCALATE_AFTER_SECONDS"),
        ({"REMINDER_INTERVAL_SECONDS": "soon"}, "REMINDER_INTERVAL_SECONDS", "must be whole seconds"),
        ({"REMINDER_INTERVAL_SECONDS": 600}, "REMINDER_INTERVAL_SECONDS", "must be less than APPROVAL_TIMEOUT_SECONDS"),
        ({"MAX_REMINDERS": -1}, "MAX_REMINDERS", "must be a whole number"),
        ({"APPROVAL_TIMEOUT_SECONDS": 0}, "APPROVAL_TIMEOUT_SECONDS", "must be at least 1"),
    ],
)
def test_configurations_that_cannot_work_are_refused_naming_the_key(config, key, words):
    with pytest.raises(PolicyError) as refused:
        ApprovalPolicy.from_config({"APPROVERS": THREE, **config})
    assert refused.value.key == key
    assert str(refused.value).startswith(f"{key}: ") and words in str(refused.value)


def test_plan_checks_the_addresses_and_names_the_one_address_email_is_sent_as():
    stage = {"SENDER_EMAIL": "flow@corp.example.org", "RECIPIENT_EMAIL": "ops@example.org", "APPROVERS": THREE}
    planned = plan(stage)
    assert planned["approvers"] == THREE and planned["approvalPolicy"] == "any"
    assert planned["approvalTimeoutSeconds"] == "600"
    assert planned["senderEmail"] == "flow@corp.example.org"
    with pytest.raises(PolicyError, match="^SENDER_EMAIL: "):
        plan({**stage, "SENDER_EMAIL": "nobody"})


def test_the_command_the_packaging_plugin_runs_prints_the_plan_or_names_the_key():
    def run(stage):
        return subprocess.run([sys.executable, "-m", "deploy.approval_policy"], cwd=ROOT,
                              input=json.dumps(stage), capture_output=True, text=True)

    good = run({"SENDER_EMAIL": "a@example.org", "RECIPIENT_EMAIL": "b@example.org", "APPROVAL_POLICY": "all"})
    assert good.returncode == 0 and json.loads(good.stdout)["approvalPolicy"] == "all"
    bad = run({"SENDER_EMAIL": "a@example.org", "RECIPIENT_EMAIL": "b@example.org", "APPROVAL_POLICY": 2})
    assert bad.returncode == 2
    assert bad.stderr.strip() == "APPROVAL_POLICY: asks for 2 approvals but there is 1 approver (APPROVERS)"


def test_the_local_stage_takes_the_same_environment_overrides_as_local_mode():
    """plugins/approval-policy.js passes --environment-overrides for the local stage only."""
    stage = {"SENDER_EMAIL": "a@example.org", "RECIPIENT_EMAIL": "b@example.org"}
    env = {**os.environ, "APPROVAL_POLICY": "all", "APPROVERS": "x@example.org,y@example.org",
           "SENDER_EMAIL": "flow@example.org"}

    def run(*flags):
        return subprocess.run([sys.executable, "-m", "deploy.approval_policy", *flags], cwd=ROOT, env=env,
                              input=json.dumps(stage), capture_output=True, text=True, check=True)

    local = json.loads(run("--environment-overrides").stdout)
    assert (local["approvalPolicy"], local["approvers"], local["senderEmail"]) == (
        "all", "x@example.org,y@example.org", "flow@example.org")
    deployed = json.loads(run().stdout)
    assert (deployed["approvalPolicy"], deployed["approvers"], deployed["senderEmail"]) == (
        "any", "b@example.org", "a@example.org")
