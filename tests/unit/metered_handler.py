"""A handler that records a metric on every call, as Calculate does (for test_lambda_runtime)."""

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

metrics = Metrics()


@metrics.log_metrics
def handler(event, context):
    metrics.add_metric(name="Called", unit=MetricUnit.Count, value=1)
    return event
