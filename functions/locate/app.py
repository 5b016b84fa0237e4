"""Custom::LogTarget: the organization trail's bucket, topic and delivery mode, at deploy time.

The template needs the bucket before any step runs (the Expel role's GetObject, the function roles)
and the trail's topic for the relay queue's policy, so CloudFormation asks here first. It also keeps a
record of the trail (bucket, key prefix, key, topic, home region), which every run compares with the
trail of its day, and refuses a NotificationPrefix under which the trail writes no log file. Reads
only: Delete has nothing to undo. A plain AWS::Lambda::Function, outside SAM's Globals, because every
other function's environment is built from this resource's attributes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from crhelper import CfnResource

from expel_onboarding import clients, discovery
from expel_onboarding.naming import owned_id
from expel_onboarding.settings import delivery_mode

logger = Logger()
# INFO, never DEBUG: crhelper would log the whole event, pre-signed ResponseURL included.
helper = CfnResource(json_logging=False, log_level="INFO", boto_level="CRITICAL", sleep_on_delete=0)


@helper.create
@helper.update
def locate(event: dict[str, Any], context: LambdaContext) -> str:
    # Only reads, and no state machine around it: a throttle is waited out here.
    return clients.again_when_throttled(lambda: located(event))


def located(event: dict[str, Any]) -> str:
    properties = event["ResourceProperties"]
    account, region, partition = properties["AccountId"], properties["Region"], properties["Partition"]
    requested = delivery_mode(str(properties.get("DeliveryMode", "auto")), "DeliveryMode")
    management_account_id, organization_id = discovery.management_account(clients.organizations())
    found = discovery.log_target(
        clients.cloudtrail(),
        str(properties.get("LogBucketName", "")),
        requested,
        account,
        region,
        organization_id=organization_id,
        notification_prefix=str(properties.get("NotificationPrefix", "")),
        our_entry=discovery.our_entry_on(clients.s3(), owned_id(event["StackId"]), account),
        revision=str(properties.get("Revision", "1")),
    )
    # The Expel role's decrypt grant, for a key discovered only at run time, names this account's keys.
    found = replace(found, management_account_id=management_account_id)
    helper.Data.update(found.attributes(partition, region, account))
    logger.info("log target", extra={"bucket": found.bucket, "mode": found.delivery_mode, "trail": found.trail_arn})
    return f"{found.bucket}|{found.delivery_mode.value}"


@helper.delete
def nothing_to_undo(event: dict[str, Any], context: LambdaContext) -> None:
    """Locating only read."""


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> None:
    helper(event, context)
