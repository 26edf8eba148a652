"""Typed configuration, read from the function's environment (serverless.yml + env.json)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from functions.common.approval_policy import POLICY_KEYS

DEFAULT_CALCULATION_TIMEOUT_SECONDS = 60
DEFAULT_HTTP_TIMEOUT_SECONDS = 5  # one HTTP request to the partner or to a callback URL


@dataclass(frozen=True)
class Settings:
    table_name: str = ""
    state_machine_arn: str = ""
    api_base_url: str = ""
    doubling_api_url: str = ""
    recipient_email: str = ""
    sender_email: str = ""
    calculation_timeout_seconds: int = DEFAULT_CALCULATION_TIMEOUT_SECONDS
    http_timeout_seconds: float = DEFAULT_HTTP_TIMEOUT_SECONDS
    policy_environment: Mapping[str, str] = field(default_factory=dict)
    approver_domains: str = ""  # where a request's own approvers may be (empty: the stage's approvers' domains)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        api_base_url = env.get("API_BASE_URL", "").rstrip("/")
        return cls(
            table_name=env.get("TABLE_NAME", ""),
            state_machine_arn=env.get("STATE_MACHINE_ARN", ""),
            api_base_url=api_base_url,
            # Empty means "this stack's own doubling API".
            doubling_api_url=env.get("DOUBLING_API_URL", "") or f"{api_base_url}/double",
            recipient_email=env.get("RECIPIENT_EMAIL", ""),
            sender_email=env.get("SENDER_EMAIL", ""),
            calculation_timeout_seconds=_positive_int(
                env, "CALCULATION_TIMEOUT_SECONDS", DEFAULT_CALCULATION_TIMEOUT_SECONDS
            ),
            http_timeout_seconds=_positive_int(env, "HTTP_TIMEOUT_SECONDS", DEFAULT_HTTP_TIMEOUT_SECONDS),
            policy_environment={key: env[key] for key in POLICY_KEYS if key in env},
            approver_domains=env.get("APPROVER_DOMAINS", ""),
        )

    @property
    def callbacks_url(self) -> str:
        """The only URL prefix the doubling API may call back to."""
        return f"{self.api_base_url}/callbacks/"

    def execution_arn(self, name: str) -> str:
        # arn:aws:states:region:account:stateMachine:NAME -> arn:aws:states:region:account:execution:NAME:exec
        prefix = self.state_machine_arn.replace(":stateMachine:", ":execution:", 1)
        return f"{prefix}:{name}"


def _positive_int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{key} must be a whole number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{key} must be positive, got {value}")
    return value
