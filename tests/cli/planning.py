"""What the plan tests share: running the CLI's plan, reading one change from its table, and a profile
that acts in the management account of the local landing zone."""

from __future__ import annotations

import io
import json
import shlex
from pathlib import Path
from typing import Any

from expel_onboarding_cli import cli
from localaws import accounts, clients, landing_zone

MANAGEMENT_PROFILE = "management"


def ready(delegate_arn: str) -> list[str]:
    """What a deploy that can run unattended passes: the org/ stack's delegate edits the key policy. Our
    entry filters on the folder the trail writes its log files under, beside the security-lake team's
    entry under reports/."""
    return ["--parameter-overrides", f"KeyPolicyDelegateArn={delegate_arn}"]


def plan(endpoint: str, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(["plan", "--region", "us-east-1", "--endpoint-url", endpoint, *argv], out=out)
    return code, out.getvalue()


def change(printed: str, name: str) -> str:
    """The lines of one change in the table: its mark line and everything indented under it."""
    lines = printed.splitlines()
    table = lines.index("Changes")
    start = next(i for i, line in enumerate(lines) if i > table and line[11:].startswith(f"{name} "))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith(" " * 25):
            break
        block.append(line)
    return "\n".join(block)


def write_management_profile(path: Path) -> str:
    """A credentials file whose profile acts in the management account, as an administrator there would;
    its name. Point AWS_SHARED_CREDENTIALS_FILE at the file."""
    # An administrator's own access key in that account (moto attributes a key to the account that made it);
    # no role in the management account trusts the Log Archive account, and the local AWS enforces trust.
    with accounts.as_account(landing_zone.MANAGEMENT):
        iam = clients.iam()
        iam.create_user(UserName="key-administrator")
        key = iam.create_access_key(UserName="key-administrator")["AccessKey"]
    path.write_text(
        f"[{MANAGEMENT_PROFILE}]\n"
        f"aws_access_key_id = {key['AccessKeyId']}\n"
        f"aws_secret_access_key = {key['SecretAccessKey']}\n",
        encoding="utf-8",
    )
    return MANAGEMENT_PROFILE


def printed_statement(printed: str) -> dict[str, Any]:
    """The key statement in the plan's printed command, `jq --argjson s '<statement>'`."""
    (command,) = [line.strip() for line in change(printed, "KeyPolicy").splitlines() if "--argjson s" in line]
    words = shlex.split(command)
    statement: dict[str, Any] = json.loads(words[words.index("--argjson") + 2])
    return statement
