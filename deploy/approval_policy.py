"""The stage's approval policy, planned for deploy: what serverless.yml reads as ${approvalPolicy:<key>}.

plugins/approval-policy.js runs this on the stage's env.json block at `serverless package` /
`deploy`; `make local` (local/config.py) calls `plan`. The policy itself, and every check of it,
is functions/common/approval_policy.py (the functions read it from their environment): this
module only shapes it for the template. Not in any Lambda zip. Standard library only.

    python3 -m deploy.approval_policy < stage-block.json   # prints the plan as JSON
    (--environment-overrides: same-named environment variables override the block, as in local mode)
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Mapping

from functions.common.approval_policy import POLICY_KEYS, ApprovalPolicy, PolicyError, check_address

# What the local stage takes from the environment (local mode's overrides), and its template depends on.
ENVIRONMENT_KEYS = (*POLICY_KEYS, "SENDER_EMAIL")


def plan(stage: Mapping[str, Any]) -> dict[str, Any]:
    """What serverless.yml reads as ${approvalPolicy:<key>}: the checked policy, ready to deploy."""
    policy = ApprovalPolicy.from_config(stage)
    sender = str(stage.get("SENDER_EMAIL") or "").strip()
    recipient = str(stage.get("RECIPIENT_EMAIL") or "").strip()
    check_address("SENDER_EMAIL", sender)
    check_address("RECIPIENT_EMAIL", recipient)
    return {
        **{_camel(key): value for key, value in policy.environment().items()},
        # The one address the functions may send as (the ses:FromAddress condition of their roles).
        "senderEmail": sender,
    }


def _camel(key: str) -> str:
    first, *rest = key.lower().split("_")
    return first + "".join(part.capitalize() for part in rest)


def main(argv: list[str] | None = None) -> int:
    try:
        stage = json.load(sys.stdin)
        if not isinstance(stage, dict):
            raise PolicyError("env.json", "the stage must be an object of keys")
        if "--environment-overrides" in (sys.argv[1:] if argv is None else argv):
            # The local stage, as `make local` runs it: same-named environment variables win.
            stage = {**stage, **{key: os.environ[key] for key in ENVIRONMENT_KEYS if key in os.environ}}
        print(json.dumps(plan(stage)))
    except PolicyError as error:
        print(str(error), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
