"""README's outcomes table (Use), one whole execution per row, over HTTP."""

import concurrent.futures
import json

import requests

from local.service import decide, holds


def test_approve_succeeds_with_the_whole_story(local_service):
    name = local_service.start(20, 22)
    links = local_service.approval_links(name)
    page = requests.get(links["approve"], timeout=10)
    assert page.status_code == 200
    for number in ("<td>20</td>", "<td>22</td>", "<td>42</td>", "<td>84</td>"):
        assert number in page.text
    answer = decide(links["approve"], comment="looks right")
    assert answer.status_code == 200 and "approved" in answer.text
    done = local_service.wait_until_done(name)
    assert done["status"] == "SUCCEEDED"
    output = done["output"]
    assert {key: output[key] for key in ("x", "y", "sum", "doubled", "decision", "comment")} == {
        "x": 20, "y": 22, "sum": 42, "doubled": 84, "decision": "approved", "comment": "looks right"}
    assert output["decidedAt"] and output["approver"] == "approver@example.com"
    assert not [m for m in local_service.emails_for(name) if m["Subject"].startswith("Workflow failed")]


def test_fetching_the_links_like_a_mail_scanner_decides_nothing(local_service):
    name = local_service.start(1, 2)
    links = local_service.approval_links(name)
    for _ in range(3):
        for link in links.values():
            assert requests.get(link, timeout=10).status_code == 200
            # Only GET and POST are routes (as on API Gateway): other methods find nothing.
            assert requests.head(link, timeout=10).status_code == 404
    holds(lambda: local_service.status(name)["status"] == "RUNNING", 0.5, "a fetched link decided")
    # The link still works for the person afterwards.
    assert decide(links["reject"]).status_code == 200
    assert local_service.wait_until_done(name)["error"] == "ApprovalRejected"


def test_reject_fails_with_the_comment_and_sends_one_failure_email(local_service):
    name = local_service.start(5, 6)
    links = local_service.approval_links(name)
    assert decide(links["reject"], comment="numbers are wrong").status_code == 200
    done = local_service.wait_until_done(name)
    assert done["status"] == "FAILED" and done["error"] == "ApprovalRejected"
    assert json.loads(done["cause"])["comment"] == "numbers are wrong"
    local_service.wait_for_email(name, "Workflow failed: ApprovalRejected")
    failures = [m for m in local_service.emails_for(name) if m["Subject"].startswith("Workflow failed")]
    assert len(failures) == 1


def test_a_second_decision_answers_409_and_changes_nothing(local_service):
    name = local_service.start(2, 2)
    links = local_service.approval_links(name)
    assert decide(links["approve"]).status_code == 200
    second = decide(links["reject"])
    assert second.status_code == 409 and "already" in second.text
    assert requests.get(links["approve"], timeout=10).status_code == 409
    assert local_service.wait_until_done(name)["status"] == "SUCCEEDED"


def test_twenty_concurrent_decisions_record_exactly_one(local_service):
    name = local_service.start(7, 8)
    links = local_service.approval_links(name)
    actions = ["approve", "reject"] * 10
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda action: decide(links[action]).status_code, actions))
    assert sorted(answers) == [200] + [409] * 19
    done = local_service.wait_until_done(name)
    winner = actions[answers.index(200)]
    assert done["status"] == ("SUCCEEDED" if winner == "approve" else "FAILED")


def test_fifty_concurrent_executions_each_reach_their_own_end(local_service):
    pairs = [(index, 1000 + index) for index in range(50)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        names = list(pool.map(lambda pair: local_service.start(*pair), pairs))

    def finish(index_name):
        index, name = index_name
        links = local_service.approval_links(name)
        action = "approve" if index % 2 == 0 else "reject"
        assert decide(links[action], comment=f"run {index}").status_code == 200
        return local_service.wait_until_done(name, timeout=120)

    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(finish, enumerate(names)))
    for (index, (x, y)), result in zip(enumerate(pairs), results):
        if index % 2 == 0:
            assert result["status"] == "SUCCEEDED", result
            assert result["output"]["x"] == x and result["output"]["y"] == y
            assert result["output"]["doubled"] == 2 * (x + y)
            assert result["output"]["comment"] == f"run {index}"
        else:
            assert result["status"] == "FAILED" and result["error"] == "ApprovalRejected", result
            assert json.loads(result["cause"])["comment"] == f"run {index}"


def test_nobody_deciding_times_out_and_a_late_click_answers_410(impatient_service):
    name = impatient_service.start(9, 9)
    links = impatient_service.approval_links(name)
    done = impatient_service.wait_until_done(name, timeout=30)
    assert done["status"] == "FAILED" and done["error"] == "ApprovalTimedOut"
    impatient_service.wait_for_email(name, "Workflow failed: ApprovalTimedOut")
    late = decide(links["approve"])
    assert late.status_code == 410 and "expired" in late.text.lower()
    assert requests.get(links["approve"], timeout=10).status_code == 410


def test_the_console_follows_each_execution_and_prints_the_links(local_service):
    name = local_service.start(30, 12)
    links = local_service.approval_links(name)
    decide(links["approve"])
    local_service.wait_until_done(name)
    console = local_service.log.read_text()
    for step in ("Validate", "IsInputValid", "Calculate", "Approval", "Finalize"):
        assert f"[{name}] -> {step}" in console
    assert f"[{name}] SUCCEEDED" in console
    # The approval it started runs on the approval machine, under the same name.
    for step in ("CheckRequest", "Approval"):
        assert f"[{name} approval] -> {step}" in console
    assert f"[{name} approval] SUCCEEDED" in console
    assert links["approve"] in console and links["reject"] in console
