"""The approval machine's input: each field's rule, the stage's defaults, the allowed domains,
and nobody deciding their own request."""

import time

import pytest

from functions.common.approval_policy import ApprovalPolicy
from functions.common.approval_request import allowed_domains, check_request
from functions.common.callbacks.model import ApprovalRequest, Ballot
from functions.common.callbacks.refusals import ballot_refusal
from functions.common.errors import Forbidden, InvalidApprovalRequest
from functions.common.vocabulary import Status

STAGE = {"APPROVERS": "ann@example.com,bob@example.com", "APPROVAL_POLICY": "any", "APPROVAL_TIMEOUT_SECONDS": "600"}
DOMAINS = allowed_domains(STAGE)


def checked(**fields):
    return check_request({"subject": "Deploy v2 to production", **fields}, STAGE, DOMAINS)


def test_a_subject_alone_is_decided_by_the_stages_approvers_and_policy():
    plan = checked()
    assert plan.context == {"subject": "Deploy v2 to production", "details": []}
    assert plan.policy.approvers == ("ann@example.com", "bob@example.com") and plan.policy.label == "any"
    assert plan.policy.timeout_seconds == 600
    assert plan.event()["firstWaitSeconds"] == 600


def test_every_field_given_is_kept_in_order_and_the_policy_is_the_requests_own():
    plan = checked(
        details=[{"label": "service", "value": "billing"}, {"label": "rows", "value": 1200}],
        link="https://ci.example.com/runs/42", requestedBy="dev@example.com",
        approvers=["ann@example.com", "cy@example.com", "dee@example.com"], policy=2, timeoutSeconds=120,
        reminderIntervalSeconds=30, maxReminders=2, escalation={"email": "boss@example.com", "afterSeconds": 90},
    )
    assert [row["label"] for row in plan.context["details"]] == ["service", "rows"]
    assert plan.context["link"] == "https://ci.example.com/runs/42" and plan.context["requestedBy"] == "dev@example.com"
    policy = plan.policy
    assert (policy.required, len(policy.approvers), policy.timeout_seconds) == (2, 3, 120)
    assert (policy.reminder_interval_seconds, policy.max_reminders) == (30, 2)
    assert (policy.escalation_email, policy.escalate_after_seconds) == ("boss@example.com", 90)
    assert plan.event()["firstWaitSeconds"] == 30
    # Carried through the state machine as JSON, and read back the same.
    from functions.common.approval_request import Plan

    assert Plan.from_event(plan.event()) == plan


@pytest.mark.parametrize("fields, field, rule", [
    ({"subject": ""}, "subject", "is required"),
    ({"subject": "x" * 201}, "subject", "at most 200"),
    ({"subject": "two\nlines"}, "subject", "one line"),
    ({"details": {"a": 1}}, "details", "must be a list"),
    ({"details": [{"label": "a", "value": 1}] * 31}, "details", "at most 30"),
    ({"details": [{"label": "a"}]}, "details[0]", "nothing else"),
    ({"details": [{"label": "a" * 61, "value": 1}]}, "details[0].label", "1 to 60"),
    ({"details": [{"label": "a", "value": True}]}, "details[0].value", "a text or a number"),
    ({"details": [{"label": "a", "value": "v" * 1001}]}, "details[0].value", "at most 1000"),
    ({"link": "http://ci.example.com"}, "link", "https URL"),
    ({"link": "javascript:alert(1)"}, "link", "https URL"),
    ({"requestedBy": "not an address"}, "requestedBy", "not an email address"),
    ({"approvers": []}, "approvers", "non-empty list"),
    ({"approvers": ["ann@example.com", "ann@example.com"]}, "approvers", "listed twice"),
    ({"approvers": ["mallory@evil.test"]}, "approvers", "outside the domains"),
    ({"policy": 3}, "policy", "asks for 3 approvals but there are 2"),
    ({"policy": "most"}, "policy", 'must be "any", "all"'),
    ({"timeoutSeconds": 0}, "timeoutSeconds", "at least 1"),
    ({"maxReminders": -1}, "maxReminders", "a whole number"),
    ({"escalation": {"email": "boss@evil.test", "afterSeconds": 60}}, "escalation.email", "outside the domains"),
    ({"escalation": {"email": "boss@example.com"}}, "escalation.afterSeconds", "is required"),
    ({"escalation": "boss@example.com"}, "escalation", '{"email"'),
    ({"requestedBy": "ann@example.com"}, "requestedBy", "nobody may decide their own request"),
    ({"colour": "red"}, "colour", "is not a field"),
    ({"requestedBy": " Ann@example.com"}, "requestedBy", "nobody may decide their own request"),
    ({"requestedBy": "dev@elsewhere.test"}, "requestedBy", "outside the domains"),
    ({"timeoutSeconds": 10**12}, "timeoutSeconds", "at most 31536000"),
    ({"approvers": ["ann@example.com", "boss@example.com"], "policy": "all"}, "escalation", "already an approver"),
])
def test_each_rule_refuses_with_the_field_named(fields, field, rule):
    stage = {**STAGE, "ESCALATION_EMAIL": "boss@example.com", "ESCALATE_AFTER_SECONDS": "60"} if field == "escalation" else STAGE
    with pytest.raises(InvalidApprovalRequest) as refused:
        check_request({"subject": "Deploy", **fields}, stage, DOMAINS)
    message = str(refused.value)
    assert message.startswith(f"{field}: ") and rule in message, message


def test_an_input_that_is_no_object_is_refused():
    for raw in (None, "approve me", [1, 2], 7):
        with pytest.raises(InvalidApprovalRequest, match="^input: must be a JSON object"):
            check_request(raw, STAGE, DOMAINS)


def test_allowed_domains_are_the_setting_or_else_the_configured_approvers():
    assert DOMAINS == frozenset({"example.com"})
    escalating = {**STAGE, "ESCALATION_EMAIL": "boss@corp.example", "ESCALATE_AFTER_SECONDS": "60"}
    assert allowed_domains(escalating) == {"example.com"}  # the approvers' domains alone
    assert allowed_domains({**STAGE, "APPROVER_DOMAINS": "Ops.Example, other.test"}) == {"ops.example", "other.test"}
    plan = check_request({"subject": "s", "approvers": ["x@other.test"]}, STAGE, allowed_domains({**STAGE, "APPROVER_DOMAINS": "other.test"}))
    assert plan.policy.approvers == ("x@other.test",)


def test_the_requester_may_not_decide_their_own_request():
    """Defence in depth: even a request whose requester holds a ballot refuses that vote (403)."""
    request = ApprovalRequest(
        id="approval#e", execution="e", status=Status.PENDING, started_at=time.time(),
        context={"subject": "s", "details": [], "requestedBy": "Dev@example.com"},
        policy=ApprovalPolicy.from_config({"APPROVERS": "dev@example.com,ann@example.com"}),
    )
    refusal = ballot_refusal(request, Ballot("b" * 32, request.id, "dev@example.com", "approver"), time.time())
    assert isinstance(refusal, Forbidden) and refusal.status_code == 403
    assert ballot_refusal(request, Ballot("a" * 32, request.id, "ann@example.com", "approver"), time.time()) is None


def test_approver_domains_come_from_env_json_or_in_local_mode_the_environment():
    from local.config import load_service

    assert load_service(stage="local", environ={}).functions["checkRequest"].environment["APPROVER_DOMAINS"] == ""
    overridden = load_service(stage="local", environ={"APPROVER_DOMAINS": "ops.example"})
    assert overridden.functions["checkRequest"].environment["APPROVER_DOMAINS"] == "ops.example"


def test_numbers_are_kept_as_the_table_can_keep_them():
    """A whole number stays one; a decimal or a number past DynamoDB's 38 digits is kept as its text."""
    from functions.common.callbacks.table import encode

    plan = checked(details=[{"label": "rows", "value": 1200}, {"label": "ratio", "value": 12.5},
                            {"label": "huge", "value": 10**40}])
    assert [row["value"] for row in plan.context["details"]] == [1200, "12.5", str(10**40)]
    encode({"context": plan.context})  # storable as the request's context
