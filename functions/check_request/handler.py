"""CheckRequest: the approval machine's input checked and completed from the stage's settings."""

import functools

from functions.common.approval_request import allowed_domains, check_request
from functions.common.observability import logger
from functions.common.settings import Settings


@functools.cache
def stage() -> tuple[dict[str, str], frozenset[str]]:
    """The stage's policy settings and the domains requests may name, once per container."""
    settings = Settings.from_env()
    config = {**settings.policy_environment, "APPROVER_DOMAINS": settings.approver_domains}
    return config, allowed_domains(config)


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict, context: object) -> dict:
    settings, domains = stage()
    plan = check_request(event.get("request"), settings, domains)
    logger.info("approval request checked", extra={"approvers": len(plan.policy.approvers), "policy": plan.policy.label})
    return plan.event()
