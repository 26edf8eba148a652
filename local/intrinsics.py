"""The few CloudFormation intrinsic functions the service uses: function environments, role policies."""

from __future__ import annotations

import re
from typing import Any, Mapping

from local.config import ConfigError

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")
# serverless-step-functions' pseudo parameters in a definition: "arn:#{AWS::Partition}:states:::…".
_PSEUDO_PARAMETER = re.compile(r"#\{(AWS::[A-Za-z]+)\}")


def pseudo_parameters(region: str, account: str, stack: str) -> dict[str, str]:
    """CloudFormation's pseudo parameters, as the local engine (and the benchmarks) resolve them."""
    return {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack,
    }


def resolve_intrinsics(value: Any, *, names: Mapping[str, str], api_base_url: str) -> Any:
    """Replace Ref / Fn::GetAtt / Fn::Sub with local values.

    `names` maps "Logical", "Logical.Attribute" and pseudo parameters ("AWS::Region") to values.
    A URL built on ${ApiGatewayRestApi} is the deployed API's base URL: locally, the front's URL.
    """
    if isinstance(value, str):
        return _PSEUDO_PARAMETER.sub(lambda match: str(_name(names, match.group(1))), value)
    if isinstance(value, list):
        return [resolve_intrinsics(inner, names=names, api_base_url=api_base_url) for inner in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, argument), = value.items()
        if key == "Ref":
            return _name(names, argument)
        if key == "Fn::GetAtt":
            return _name(names, ".".join(argument))
        if key == "Fn::Sub":
            template, variables = (argument, {}) if isinstance(argument, str) else argument
            if "${ApiGatewayRestApi}" in template:
                return api_base_url
            local = {**names, **{k: resolve_intrinsics(v, names=names, api_base_url=api_base_url)
                                 for k, v in variables.items()}}
            return _PLACEHOLDER.sub(lambda match: str(_name(local, match.group(1))), template)
        if key == "Fn::Join":
            separator, parts = argument
            return separator.join(str(resolve_intrinsics(part, names=names, api_base_url=api_base_url)) for part in parts)
        if key.startswith("Fn::"):
            raise ConfigError(f"{key} is not supported by the local engine")
    return {key: resolve_intrinsics(inner, names=names, api_base_url=api_base_url) for key, inner in value.items()}


def _name(names: Mapping[str, str], key: str) -> str:
    if key not in names:
        raise ConfigError(f"the local engine has no value for {key!r}")
    return names[key]
