"""The in-process Lambda runner (local/lambda_runtime.py)."""

from local.config import Function
from local.lambda_runtime import FunctionRunner


def test_a_function_that_records_a_metric_runs_past_powertools_hundred_value_flush(monkeypatch):
    """Locally metrics are off; Powertools kept them anyway and, at the 100th value, published
    them without a namespace: the 100th invocation raised SchemaValidationError."""
    # No namespace, as when the engine imports the functions' common modules outside any function.
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    function = Function(name="metered", handler="tests/unit/metered_handler.handler", environment={}, timeout=6,
                        memory=128)
    environment = {"AWS_LAMBDA_FUNCTION_NAME": "metered", "POWERTOOLS_METRICS_DISABLED": "true"}
    runner = FunctionRunner({"metered": function}, {"metered": environment}, "us-east-1", "123456789012")
    answers = [runner.invoke("metered", {"call": number}) for number in range(150)]
    assert answers == [{"call": number} for number in range(150)]
