import pytest
import yaml

from functions.common import errors
from functions.notify_failure.logic import FINALIZE, OUTCOMES, STEP_RESULTS, classify, readable_cause
from local.config import ROOT

INPUT = {"x": 1, "y": 2}
CALC = {"x": 1, "y": 2, "sum": 3, "doubled": 6}


def CHILD(status, error):  # noqa: N802 - reads as the cause it builds
    """The cause Step Functions gives a startExecution.sync:2 Task: the child, as DescribeExecution tells it."""
    import json

    return json.dumps({"ExecutionArn": "arn:aws:states:r:1:execution:m:n", "Status": status,
                       **({"Error": error, "Cause": "why"} if error else {})})


@pytest.mark.parametrize(
    "state, outcome",
    [
        ({"Error": "InvalidInput", "Cause": "{}"}, "InvalidInput"),
        ({"Error": "Lambda.Unknown", "Cause": ""}, "InvalidInput"),
        ({"x": "1", "y": 2, "input": None}, "CalculationFailed"),
        ({"input": INPUT, "failure": {"Error": "States.Timeout"}}, "CalculationFailed"),
        ({"input": INPUT, "failure": {"Error": "DoublingApiUnavailable"}}, "CalculationFailed"),
        ({"input": INPUT, "calculation": CALC, "failure": {"Error": "ApprovalRejected"}}, "ApprovalRejected"),
        ({"input": INPUT, "calculation": CALC, "failure": {"Error": "States.Timeout"}}, "ApprovalTimedOut"),
        ({"input": INPUT, "calculation": CALC, "failure": {"Error": "States.HeartbeatTimeout"}}, "ApprovalTimedOut"),
        ({"input": INPUT, "calculation": CALC, "failure": {"Error": "NotificationFailed"}}, "NotificationFailed"),
        ({"input": INPUT, "calculation": CALC, "approval": {}, "failure": {"Error": "States.TaskFailed"}},
         "NotificationFailed"),
        # The approval machine's own failure, in the cause of startExecution.sync:2's States.TaskFailed.
        ({"input": INPUT, "calculation": CALC, "failure": {"Error": "States.TaskFailed", "Cause": CHILD("FAILED", "ApprovalRejected")}},
         "ApprovalRejected"),
        ({"input": INPUT, "calculation": CALC, "failure": {"Error": "States.TaskFailed", "Cause": CHILD("FAILED", "ApprovalTimedOut")}},
         "ApprovalTimedOut"),
        ({"input": INPUT, "calculation": CALC, "failure": {"Error": "States.TaskFailed", "Cause": CHILD("FAILED", "NotificationFailed")}},
         "NotificationFailed"),
        ({"input": INPUT, "calculation": CALC, "failure": {"Error": "States.TaskFailed", "Cause": CHILD("ABORTED", None)}},
         "ApprovalStopped"),
        ({"input": INPUT, "calculation": CALC, "failure": {"Error": "States.TaskFailed", "Cause": CHILD("ABORTED", "Operator")}},
         "ApprovalStopped"),
    ],
)
def test_each_failure_is_named_by_the_step_that_failed(state, outcome):
    assert classify(state) == outcome


def test_invalid_input_that_never_reached_validation_is_invalid_input():
    # IsInputValid's default branch: no failure recorded, no numbers.
    assert classify({"something": "else"}) == "InvalidInput"


def test_lambda_error_causes_are_reduced_to_their_message():
    cause = '{"errorMessage": "x must be a JSON integer", "errorType": "InvalidInput", "stackTrace": ["..."]}'
    assert readable_cause({"Cause": cause}) == "x must be a JSON integer"
    assert readable_cause({"Cause": "plain words"}) == "plain words"


def test_the_states_named_in_a_failure_are_the_state_machines_own():
    # `${...}` serverless variables in values load as plain strings.
    states = yaml.safe_load((ROOT / "statemachines" / "workflow.asl.yml").read_text())["States"]
    for step, key in STEP_RESULTS.items():
        assert states[step]["ResultPath"] == f"$.{key}", step
    assert FINALIZE in states


def test_every_outcome_is_a_workflow_error_of_that_name():
    for name in OUTCOMES:
        assert issubclass(getattr(errors, name), errors.WorkflowError), name
