"""The management-account template and the member role its StackSet deploys."""

from __future__ import annotations

import copy
import json
from fnmatch import fnmatchcase
from typing import Any

import pytest

from expel_onboarding.naming import DELEGATE_READER_ALIAS
from localaws import templates
from tests.support.cfn_template import ROOT, resolve_conditions
from tests.template.contract import guide_read_only_permissions, log_scope_violations, own_log_group

MANAGEMENT = templates.read(ROOT / "org" / "management.yaml")
MEMBER = templates.read(ROOT / "org" / "member-role.yaml")
LOG_ARCHIVE = templates.read(ROOT / "template.yaml")


def read_only_statement(role: dict[str, Any]) -> dict[str, Any]:
    (policy,) = role["Properties"]["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    return statement


@pytest.mark.parametrize("template", [MANAGEMENT, MEMBER], ids=["management", "member"])
def test_the_expel_role_has_the_seeds_read_only_permissions_and_no_s3_access(template: dict[str, Any]) -> None:
    statement = read_only_statement(template["Resources"]["ExpelRole"])
    assert set(statement["Action"]) == guide_read_only_permissions()
    assert "s3:GetObject" not in statement["Action"]


@pytest.mark.parametrize("template", [MANAGEMENT, MEMBER], ids=["management", "member"])
def test_the_expel_role_trusts_expel_with_the_workbench_external_id(template: dict[str, Any]) -> None:
    (trust,) = template["Resources"]["ExpelRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "ExpelPrincipalArn"}}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "WorkbenchExternalId"}}}


def test_the_stackset_deploys_the_member_role_file_exactly() -> None:
    body = MANAGEMENT["Resources"]["ExpelRoleStackSet"]["Properties"]["TemplateBody"]
    assert body == (ROOT / "org" / "member-role.yaml").read_text(encoding="utf-8"), "run make org"
    assert templates.parse(body)["Resources"]["ExpelRole"]


def test_the_stackset_is_service_managed_with_auto_deployment() -> None:
    stack_set = MANAGEMENT["Resources"]["ExpelRoleStackSet"]["Properties"]
    assert stack_set["PermissionModel"] == "SERVICE_MANAGED"
    assert stack_set["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    assert stack_set["OperationPreferences"] == {
        "MaxConcurrentPercentage": {"Ref": "MaxConcurrentPercentage"},
        "FailureTolerancePercentage": {"Ref": "FailureTolerancePercentage"},
        "RegionConcurrencyType": {"Ref": "RegionConcurrencyType"},
    }
    passed = {p["ParameterKey"] for p in stack_set["Parameters"]}
    assert passed == set(MEMBER["Parameters"])


@pytest.mark.parametrize(
    ("ou_ids", "targets"),
    [("", [{"Ref": "OrganizationRootId"}]), ("ou-ab12-cdef3456", {"Ref": "TargetOuIds"})],
    ids=["root-by-default", "ous-when-given"],
)
def test_the_stackset_targets_the_root_or_the_given_ous(ou_ids: str, targets: Any) -> None:
    conditions = {"TargetRoot": ou_ids == "", "NotifiesATopic": False, "RunsTheDelegate": True}
    resolved = resolve_conditions(MANAGEMENT, conditions)
    (group,) = resolved["Resources"]["ExpelRoleStackSet"]["Properties"]["StackInstancesGroup"]
    assert group["DeploymentTargets"]["OrganizationalUnitIds"] == targets


def test_the_delegate_may_touch_only_the_one_key() -> None:
    policy, _logs = MANAGEMENT["Resources"]["KeyPolicyDelegate"]["Properties"]["Policies"]
    (statement,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert sorted(statement["Action"]) == ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy"]
    assert statement["Resource"] == {"Ref": "CloudTrailKeyArn"}


def test_the_delegate_edits_one_at_a_time_and_never_bypasses_the_lockout_safety_check() -> None:
    delegate = MANAGEMENT["Resources"]["KeyPolicyDelegate"]["Properties"]
    assert delegate["ReservedConcurrentExecutions"] == 1
    statements = [s for policy in delegate["Policies"] for s in policy["Statement"]]
    (never,) = [s for s in statements if s.get("Sid") == "NeverBypassTheLockoutSafetyCheck"]
    assert (never["Effect"], never["Action"], never["Resource"]) == ("Deny", "kms:PutKeyPolicy", "*")
    assert never["Condition"] == {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}


def test_the_delegate_acts_for_the_expel_role_and_key_its_own_stack_names() -> None:
    variables = MANAGEMENT["Resources"]["KeyPolicyDelegate"]["Properties"]["Environment"]["Variables"]
    assert variables["CLOUDTRAIL_KEY_ARN"] == {"Ref": "CloudTrailKeyArn"}
    assert variables["EXPEL_ROLE_ARN"] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${LogArchiveAccountId}:role/${ExpelRoleName}"
    }
    assert variables["LOG_ARCHIVE_ACCOUNT_ID"] == {"Ref": "LogArchiveAccountId"}
    assert MANAGEMENT["Resources"]["KeyPolicyDelegate"]["Properties"]["CodeUri"] == "../functions/key_policy_delegate/"


def test_each_onboarding_role_of_this_organization_may_invoke_the_delegate_through_its_own_door_only() -> None:
    resources = MANAGEMENT["Resources"]
    assert not [name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Permission"]
    policies = {
        json.dumps(r["Properties"]["ResourceArn"]): r["Properties"]["PolicyDocument"]["Statement"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::ResourcePolicy"
    }
    alias = resources["KeyPolicyDelegateReader"]
    assert alias["Type"] == "AWS::Lambda::Alias"
    assert alias["Properties"]["FunctionName"] == {"Ref": "KeyPolicyDelegate"}
    assert alias["Properties"]["Name"] == DELEGATE_READER_ALIAS
    # The same code behind both doors: the alias is a permission boundary, not a pinned release.
    assert alias["Properties"]["FunctionVersion"] == "$LATEST"
    # The paths the onboarding template gives the role behind each door, and only that role.
    functions = LOG_ARCHIVE["Resources"]
    doors = {
        json.dumps({"Fn::GetAtt": ["KeyPolicyDelegate", "Arn"]}): "KeyPolicyFunction",
        json.dumps({"Ref": "KeyPolicyDelegateReader"}): "VerifyFunction",
    }
    assert set(policies) == set(doors)
    for resource, caller in doors.items():
        (statement,) = policies[resource]
        assert (statement["Effect"], statement["Action"]) == ("Allow", "lambda:InvokeFunction")
        assert statement["Resource"] == json.loads(resource)
        assert statement["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${LogArchiveAccountId}:root"}}
        assert statement["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}
        path = functions[caller]["Properties"]["RolePath"]
        assert statement["Condition"]["ArnLike"] == {
            "aws:PrincipalArn": {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{LogArchiveAccountId}}:role{path}*"}
        }


def test_the_outputs_are_what_the_log_archive_deploy_needs() -> None:
    assert MANAGEMENT["Outputs"]["KeyPolicyDelegateArn"]["Value"] == {"Fn::GetAtt": ["KeyPolicyDelegate", "Arn"]}
    assert MANAGEMENT["Outputs"]["ExpelRoleName"]["Value"] == {"Ref": "ExpelRoleName"}


def test_the_log_archive_functions_reach_the_key_only_by_invoking_the_delegate() -> None:
    doors = {
        "KeyPolicyFunction": {"Ref": "KeyPolicyDelegateArn"},
        "VerifyFunction": {"Fn::Sub": f"${{KeyPolicyDelegateArn}}:{DELEGATE_READER_ALIAS}"},
    }
    for function, door in doors.items():
        statements = [s for p in LOG_ARCHIVE["Resources"][function]["Properties"]["Policies"] for s in p["Statement"]]
        reaching = [s["Fn::If"][1] for s in statements if "Fn::If" in s and s["Fn::If"][0] == "KeyPolicyDelegateGiven"]
        assert reaching == [
            {
                **reaching[0],
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": door,
            }
        ]
        assert not any("sts:AssumeRole" in json.dumps(s) for s in statements)


def test_both_stacks_default_to_the_same_role_name() -> None:
    names = {t["Parameters"]["ExpelRoleName"]["Default"] for t in (MANAGEMENT, MEMBER, LOG_ARCHIVE)}
    assert names == {"ExpelTrailAssumeRole"}


# --- No principal of the Log Archive account can put the management account's key policy --------
PORTFOLIO = templates.read(ROOT / "servicecatalog" / "portfolio.yaml")
STACKSET_BODY = templates.parse(MANAGEMENT["Resources"]["ExpelRoleStackSet"]["Properties"]["TemplateBody"])


def documents(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every policy document (a mapping with a Statement) under node, with where it is."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if "Statement" in node:
            found.append((path, node))
        for key, value in node.items():
            found += documents(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += documents(value, f"{path}[{index}]")
    return found


def allows_put_key_policy(statement: Any) -> bool:
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    actions = statement.get("Action", [])
    return any(
        fnmatchcase("kms:putkeypolicy", str(a).lower()) for a in (actions if isinstance(actions, list) else [actions])
    )


def put_key_policy_grants(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    grants = []
    for name, resource in template["Resources"].items():
        for path, document in documents(resource.get("Properties", {})):
            statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
            for statement in statements:
                # An Fn::If in a statement list: either branch may be deployed.
                branches = (
                    statement["Fn::If"][1:] if isinstance(statement, dict) and "Fn::If" in statement else [statement]
                )
                grants += [(f"{name}{path}", branch) for branch in branches if allows_put_key_policy(branch)]
    return grants


def test_no_policy_in_any_template_grants_kms_put_key_policy_to_a_principal_of_the_log_archive_account() -> None:
    # The management account: only the delegate's own execution role (SAM trusts lambda.amazonaws.com
    # with it) holds PutKeyPolicy, and no role there trusts the Log Archive account at all.
    assert [where for where, _ in put_key_policy_grants(MANAGEMENT)] == ["KeyPolicyDelegate/Policies[0]"]
    assert put_key_policy_grants(MEMBER) == put_key_policy_grants(STACKSET_BODY) == []
    for template in (MANAGEMENT, MEMBER, STACKSET_BODY):
        for name, resource in template["Resources"].items():
            trust = json.dumps(resource.get("Properties", {}).get("AssumeRolePolicyDocument", {}))
            assert "LogArchiveAccountId" not in trust, name
    # The Log Archive account: its grants reach keys of its own account only. KMS takes PutKeyPolicy only
    # from the key's own account (AWS KMS API reference, "PutKeyPolicy": cross-account use, no), and the one
    # grant that names a key parameter says so.
    for where, statement in put_key_policy_grants(LOG_ARCHIVE) + put_key_policy_grants(PORTFOLIO):
        if where.startswith("NotificationKey/KeyPolicy"):
            assert statement["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
        elif statement["Resource"] != "*":
            assert statement["Condition"] == {"StringEquals": {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}}, where


def test_the_delegate_writes_only_to_its_own_log_group() -> None:
    assert log_scope_violations(MANAGEMENT) == []
    (denied,) = MANAGEMENT["Resources"]["KeyPolicyDelegate"]["Properties"]["Policies"][1]["Statement"]
    assert denied["NotResource"] == own_log_group("KeyPolicyDelegateLogGroup")


def test_the_delegates_layer_is_built_exactly_as_the_log_archive_stacks_layer() -> None:
    """The local deploy builds the layer once and gives it to both stacks (localaws.sam_build.build_org)."""
    (org,) = [r for r in copy.deepcopy(MANAGEMENT)["Resources"].values() if r["Type"].endswith("LayerVersion")]
    (ours,) = [r for r in copy.deepcopy(LOG_ARCHIVE)["Resources"].values() if r["Type"].endswith("LayerVersion")]
    for layer, folder in ((org, ROOT / "org"), (ours, ROOT)):
        layer["Properties"]["ContentUri"] = (folder / layer["Properties"]["ContentUri"]).resolve()
        layer["Properties"].pop("Description")
    assert org["Properties"] == ours["Properties"]
    assert org["Metadata"] == ours["Metadata"]


@pytest.mark.parametrize(("given", "actions"), [(False, None), (True, [{"Ref": "KeyPolicyAlarmTopicArn"}])])
def test_the_key_policy_alarm_notifies_the_topic_only_when_one_is_given(given: bool, actions: Any) -> None:
    resolved = resolve_conditions(MANAGEMENT, {"TargetRoot": True, "NotifiesATopic": given, "RunsTheDelegate": True})
    alarm = resolved["Resources"]["KeyPolicyChangedByAnotherAlarm"]["Properties"]
    assert alarm.get("AlarmActions") == actions


def test_the_manual_path_makes_no_function_and_no_delegate_output() -> None:
    conditions = {"TargetRoot": True, "NotifiesATopic": False, "RunsTheDelegate": False}
    resolved = resolve_conditions(MANAGEMENT, conditions)
    made = {name: r for name, r in resolved["Resources"].items() if conditions.get(r.get("Condition", ""), True)}
    kinds = {resource["Type"] for resource in made.values()}
    assert not {"AWS::Serverless::Function", "AWS::Serverless::LayerVersion", "AWS::Lambda::ResourcePolicy"} & kinds
    outputs = {name for name, o in resolved["Outputs"].items() if conditions.get(o.get("Condition", ""), True)}
    assert "KeyPolicyDelegateArn" not in outputs
    assert {"ExpelRole", "ExpelRoleStackSet", "KeyPolicyChangedByAnother"} <= set(made)
