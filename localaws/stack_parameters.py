"""The local stacks' parameters on the local landing zone: org/management.yaml's, and template.yaml's,
whose KeyPolicyDelegateArn is the management stack's output (deployed once)."""

from __future__ import annotations

from localaws import clients, deploy, landing_zone
from localaws.accounts import LOG_ARCHIVE, MANAGEMENT, as_account


def org_parameters(cloudtrail_key_arn: str) -> dict[str, str]:
    """org/management.yaml's parameters on this landing zone: the delegate may act on its trail's key, for
    this organization's onboarding roles."""
    with as_account(MANAGEMENT):
        organization_id = clients.organizations().describe_organization()["Organization"]["Id"]
    return {
        "WorkbenchExternalId": landing_zone.EXTERNAL_ID,
        "OrganizationRootId": "r-a1b2",
        "LogArchiveAccountId": LOG_ARCHIVE,
        "OrganizationId": organization_id,
        "CloudTrailKeyArn": cloudtrail_key_arn,
    }


def deploy_org(zone: landing_zone.LandingZone) -> str:
    """The management-account stack, deployed as the management account (once); its delegate's ARN."""
    outputs = deploy.org_outputs() or deploy.deploy_org(org_parameters(zone.cloudtrail_key_arn))
    return outputs["KeyPolicyDelegateArn"]


def parameters(zone: landing_zone.LandingZone, delegate_arn: str | None = None) -> dict[str, str]:
    """The Log Archive stack's parameters; its KeyPolicyDelegateArn is the org stack's output."""
    return {
        "WorkbenchExternalId": landing_zone.EXTERNAL_ID,
        "KeyPolicyDelegateArn": delegate_arn or deploy_org(zone),
    }
