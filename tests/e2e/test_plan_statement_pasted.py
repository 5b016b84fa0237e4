"""The regulated path: the key's administrators paste the statement `plan` prints, with the command it
prints, before the stack exists. The deploy recognises it as ours (same Sid, nothing added), check calls it
OK, and the stack's delete takes it out again: the key policy ends byte for byte as before the paste."""

from __future__ import annotations

import json
from typing import Any

from expel_onboarding_cli import cli
from localaws import demo, deploy, landing_zone, stack_parameters
from tests.cli.planning import plan, printed_statement
from tests.support.local_aws import local_aws


def jq_add(policy_text: str, statement: dict[str, Any]) -> str:
    """What the printed jq program `.Statement |= (map(select(.Sid != $s.Sid)) + [$s])` writes: the policy
    with the statement last, printed as jq prints (two-space indent)."""
    policy = json.loads(policy_text)
    policy["Statement"] = [s for s in policy["Statement"] if s.get("Sid") != statement["Sid"]] + [statement]
    return json.dumps(policy, indent=2)


def test_a_statement_pasted_from_plan_is_ours_through_deploy_check_and_delete() -> None:
    with local_aws() as endpoint:
        zone = landing_zone.seed("3")
        delegate_arn = stack_parameters.deploy_org(zone)
        key = zone.cloudtrail_key_arn
        # The key policy as jq prints it, so that jq's own reformatting of the paste is not a difference.
        before = json.dumps(landing_zone.key_policy_of(key), indent=2)
        landing_zone.put_key_policy_text(key, before)

        code, printed = plan(endpoint)
        assert code == cli.EXIT_ACTION_REQUIRED
        statement = printed_statement(printed)
        landing_zone.put_key_policy_text(key, jq_add(before, statement))
        pasted = landing_zone.key_policy_text_of(key)

        deploy.deploy(stack_parameters.parameters(zone, delegate_arn))
        assert landing_zone.key_policy_text_of(key) == pasted, "the deploy added or changed a statement"
        code, shown = demo.run_cli("check", endpoint=endpoint)
        assert code == 0, shown
        assert f"Our statement '{statement['Sid']}' is in the policy" in shown

        deploy.destroy()
        demo.wait_deleted()
        assert landing_zone.key_policy_text_of(key) == before
