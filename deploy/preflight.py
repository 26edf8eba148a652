"""`make deploy` / `make remove` preflight: what a first deploy would otherwise meet late.

Answers in seconds, before npm, pip or packaging:
- AWS credentials resolve (STS GetCallerIdentity);
- the stage exists in env.json and no address in it is a placeholder (example.com/.org/.net);
- the sender is verified in SES in the stack's region (the address or its domain);
- while the account is in the SES sandbox, every recipient is verified too.

Each failure says what to do. `SKIP_PREFLIGHT=1` (read by the Makefile) skips it all.
Usage: python -m deploy.preflight --stage dev [--region us-east-1] [--remove]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net")
# The keys of env.json that hold addresses: one address each, or a list (APPROVERS).
ADDRESS_KEYS = ("SENDER_EMAIL", "RECIPIENT_EMAIL", "APPROVERS", "ESCALATION_EMAIL")
RECIPIENT_KEYS = ("RECIPIENT_EMAIL", "APPROVERS", "ESCALATION_EMAIL")
SKIP_HINT = "SKIP_PREFLIGHT=1 skips these checks."


class PreflightError(Exception):
    pass


@dataclass(frozen=True)
class Address:
    key: str
    value: str

    @property
    def domain(self) -> str:
        return self.value.rsplit("@", 1)[-1].lower()

    @property
    def is_placeholder(self) -> bool:
        return any(self.domain == d or self.domain.endswith("." + d) for d in PLACEHOLDER_DOMAINS)


def stage_addresses(env_file: Path, stage: str) -> list[Address]:
    """Every address the stage's configuration names, or PreflightError saying what to fix."""
    try:
        stages = json.loads(env_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PreflightError(f"{env_file.name} cannot be read ({error}): it holds each stage's settings.") from None
    if stage not in stages:
        known = ", ".join(sorted(stages)) or "none"
        raise PreflightError(
            f'{env_file.name} has no stage "{stage}" (it has: {known}). Add a "{stage}" entry '
            f"with RECIPIENT_EMAIL and SENDER_EMAIL, or deploy an existing stage: make deploy STAGE=<stage>."
        )
    config = stages[stage]
    addresses = []
    for key in ADDRESS_KEYS:
        value = config.get(key)
        if value in (None, "", []):
            continue
        values = value if isinstance(value, list) else str(value).split(",") if key == "APPROVERS" else [value]
        addresses.extend(Address(key, str(item).strip()) for item in values if str(item).strip())
    missing = [key for key in ("SENDER_EMAIL", "RECIPIENT_EMAIL") if not config.get(key)]
    if missing:
        raise PreflightError(f'{env_file.name}, stage "{stage}": set {" and ".join(missing)}.')
    return addresses


def placeholder_problems(addresses: list[Address], stage: str) -> list[str]:
    return [
        f'{address.key} is {address.value}, a placeholder that no mailbox answers: set a real address '
        f'in env.json under "{stage}".'
        for address in addresses
        if address.is_placeholder
    ]


def account_of(session: Any) -> str:
    """The account the credentials belong to, or PreflightError saying how to provide them."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return session.client("sts", config=_quick()).get_caller_identity()["Account"]
    except (BotoCoreError, ClientError) as error:
        raise PreflightError(
            f"AWS credentials do not resolve ({error}). Run `aws configure` (or `aws sso login "
            f"--profile <name>` and export AWS_PROFILE=<name>), or set AWS_ACCESS_KEY_ID and "
            f"AWS_SECRET_ACCESS_KEY, then try again."
        ) from None


def ses_problems(session: Any, region: str, addresses: list[Address]) -> list[str]:
    """The sender, and in the sandbox every recipient, must be verified identities (address or domain)."""
    ses = session.client("ses", region_name=region, config=_quick())
    names = sorted({a.value for a in addresses} | {a.domain for a in addresses})
    verified = set()
    for start in range(0, len(names), 100):  # the API takes up to 100 identities a call
        attributes = ses.get_identity_verification_attributes(Identities=names[start:start + 100])
        verified |= {
            name.lower() for name, value in attributes["VerificationAttributes"].items()
            if value.get("VerificationStatus") == "Success"
        }

    def is_verified(address: Address) -> bool:
        return address.value.lower() in verified or address.domain in verified

    problems = []
    for address in addresses:
        if address.key == "SENDER_EMAIL" and not is_verified(address):
            problems.append(
                f"SENDER_EMAIL {address.value} is not a verified SES identity in {region}: run "
                f"`aws ses verify-email-identity --email-address {address.value} --region {region}` and "
                f"click the link AWS emails to it (or verify the domain {address.domain})."
            )
    if in_sandbox(session, region):
        for address in addresses:
            if address.key in RECIPIENT_KEYS and not is_verified(address):
                problems.append(
                    f"The SES account in {region} is in the sandbox, where mail goes only to verified "
                    f"addresses, and {address.key} {address.value} is not one: run `aws ses "
                    f"verify-email-identity --email-address {address.value} --region {region}` and click "
                    f"the link, or request production access for SES in {region}."
                )
    return problems


def in_sandbox(session: Any, region: str) -> bool:
    """Whether SES in this region may send only to verified addresses (SESv2 GetAccount)."""
    account = session.client("sesv2", region_name=region, config=_quick()).get_account()
    return not account["ProductionAccessEnabled"]


def run(stage: str, region: str, *, session: Any = None, env_file: Path = ROOT / "env.json") -> list[str]:
    """Every problem found, each with what to do; empty when a deploy can go ahead."""
    try:
        addresses = stage_addresses(env_file, stage)
    except PreflightError as error:
        return [str(error)]
    problems = placeholder_problems(addresses, stage)
    if session is None:
        import boto3

        session = boto3.Session(region_name=region)
    try:
        account_of(session)
    except PreflightError as error:
        return [str(error), *problems]
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        problems += ses_problems(session, region, [a for a in addresses if not a.is_placeholder])
    except (BotoCoreError, ClientError) as error:
        problems.append(
            f"SES in {region} could not be asked about the addresses ({error}): the deploying identity "
            f"needs ses:GetIdentityVerificationAttributes and ses:GetAccount."
        )
    return problems


def _quick() -> Any:
    from botocore.config import Config

    # Answer in seconds: no long retry ladders, short timeouts.
    return Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 2})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.preflight", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--remove", action="store_true", help="checks for `remove`: credentials only")
    arguments = parser.parse_args(argv)
    if arguments.remove:
        try:
            import boto3

            account = account_of(boto3.Session(region_name=arguments.region))
        except PreflightError as error:
            print(f"preflight: {error}\n{SKIP_HINT}", file=sys.stderr)
            return 1
        print(f"preflight: ok (account {account}, region {arguments.region}, stage {arguments.stage})")
        return 0
    problems = run(arguments.stage, arguments.region)
    if problems:
        print(f"preflight: {len(problems)} problem(s) before deploying stage {arguments.stage} "
              f"to {arguments.region}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print(SKIP_HINT, file=sys.stderr)
        return 1
    print(f"preflight: ok (stage {arguments.stage}, region {arguments.region})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
