import os

import pytest

# Tests never reach AWS: fake credentials and a fixed region for every boto3 client (moto intercepts).
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "ApprovalWorkflowTests",
        "POWERTOOLS_SERVICE_NAME": "approval-workflow",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
    }
)


class FakeLambdaContext:
    function_name = "test"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    """Under pytest-xdist (pytest.ini: -n, --dist loadgroup), the deploy tests share one worker:
    they package into the one .serverless/ folder of the repo, one after the other."""
    for item in items:
        if "tests/deploy/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("deploy"))
