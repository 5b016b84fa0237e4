"""The manual path, for an organization that runs no code in its management account: the org stack with
KeyPolicyEditing=manual makes the role everywhere and the key watch, and no function; the Log Archive stack
is deployed without a delegate; the key's administrators paste the statement `plan` printed, and take it
out again with the removal command. Every person's step is the README's."""

from __future__ import annotations

from pathlib import Path

import pytest

from expel_onboarding import key_policy
from expel_onboarding.naming import key_statement_sid
from expel_onboarding_cli import cli
from localaws import clients, demo, deploy, landing_zone, stack_parameters
from localaws.accounts import MANAGEMENT, as_account
from tests.cli.planning import change, plan, printed_statement, write_management_profile
from tests.support.local_aws import local_aws


def test_the_manual_path_runs_no_code_in_the_management_account_and_leaves_the_key_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with local_aws() as endpoint:
        zone = landing_zone.seed("3")
        key = zone.cloudtrail_key_arn
        org = deploy.deploy_org({**stack_parameters.org_parameters(key), "KeyPolicyEditing": "manual"})
        assert "KeyPolicyDelegateArn" not in org
        with as_account(MANAGEMENT):
            assert clients.lambda_().list_functions()["Functions"] == []
            (rule,) = clients.events().list_rules()["Rules"]
        assert "no delegate" in rule["EventPattern"]  # every PutKeyPolicy on the key is someone else's
        before = landing_zone.key_policy_text_of(key)

        # The Log Archive engineer: plan, then deploy without a delegate. The key step waits for a person.
        code, printed = plan(endpoint)
        assert code == cli.EXIT_ACTION_REQUIRED
        statement = printed_statement(printed)
        role = f"arn:aws:iam::{landing_zone.LOG_ARCHIVE}:role/ExpelTrailAssumeRole"
        assert statement["Sid"] == key_statement_sid(role, key)
        outputs = deploy.deploy({"WorkbenchExternalId": landing_zone.EXTERNAL_ID})
        assert outputs["ActionRequired"].split(", ")[0] == "KeyPolicy"

        # The key's administrator, in the management account: the printed statement, added as printed.
        landing_zone.put_key_policy_text(key, key_policy.apply_text(before, statement))
        # From the Log Archive account the key policy cannot be read: check still names the statement to keep.
        code, shown = demo.run_cli("check", endpoint=endpoint)
        assert code == cli.EXIT_ACTION_REQUIRED, shown
        assert statement["Sid"] in shown
        # The key's administrator confirms it with a plan that reads the policy as them.
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
        profile = write_management_profile(tmp_path / "credentials")
        code, printed = plan(endpoint, "--key-profile", profile)
        assert change(printed, "KeyPolicy").startswith("  ok       KeyPolicy"), printed

        # Removal: the stack goes, and the administrator runs the removal the README gives, with the same Sid.
        deploy.destroy()
        demo.wait_deleted()
        landing_zone.put_key_policy_text(
            key, key_policy.remove_text(landing_zone.key_policy_text_of(key), statement["Sid"])
        )
        assert landing_zone.key_policy_text_of(key) == before
