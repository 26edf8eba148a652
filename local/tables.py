"""The stack's DynamoDB tables, created on moto exactly as serverless.yml declares them (TTL too).

One creator for the local engine and the tests.
"""

from __future__ import annotations

from typing import Any, Mapping


def create_tables(resources: Mapping[str, Any], dynamodb: Any) -> dict[str, str]:
    """Create every AWS::DynamoDB::Table of `resources`; returns {logical id: name, logical id.Arn: ARN}."""
    names: dict[str, str] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        properties = resource["Properties"]
        table = dynamodb.create_table(
            TableName=properties["TableName"],
            AttributeDefinitions=properties["AttributeDefinitions"],
            KeySchema=properties["KeySchema"],
            BillingMode=properties.get("BillingMode", "PAY_PER_REQUEST"),
        )["TableDescription"]
        ttl = properties.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=properties["TableName"], TimeToLiveSpecification=ttl)
        names[logical_id] = table["TableName"]
        names[f"{logical_id}.Arn"] = table["TableArn"]
    return names


def callbacks_table_name(resources: Mapping[str, Any]) -> str:
    """The callbacks table's name: the stack's one DynamoDB table."""
    for resource in resources.values():
        if resource.get("Type") == "AWS::DynamoDB::Table":
            return resource["Properties"]["TableName"]
    raise ValueError("serverless.yml declares no DynamoDB table for the callbacks")
