"""The callbacks table on moto, as serverless.yml declares it, for the unit tests of the store."""

import boto3
import pytest
from moto import mock_aws

from functions.common.callbacks.table import ApprovalStore, CallbackStore
from local.hooks import serialize_dynamodb_writes
from tests.support import create_tables_from_serverless_yml


@pytest.fixture
def table():
    """The callbacks table's name, inside moto (no AWS)."""
    serialize_dynamodb_writes()  # moto's conditional writes are not atomic on their own
    with mock_aws():
        yield create_tables_from_serverless_yml()


@pytest.fixture
def store(table):
    return ApprovalStore(table, boto3.client("dynamodb"))


@pytest.fixture
def callback_store(table):
    return CallbackStore(table, boto3.client("dynamodb"))
