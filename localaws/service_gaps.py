"""Gaps in moto's services beyond CloudFormation and Lambda, each named where it is filled.

filled() is what the tests, make bench and the local server run under: the landing zone's service
control policies (localaws.controls), role trust (localaws.trust_policies), a topic's policy for callers
of another account and a topic's or queue's explicit Denies (localaws.topic_policies), a trail's topic named by
ARN (below), S3's events in their full shape (localaws.s3_events), SNS's and SQS's CloudWatch metrics
(localaws.service_metrics), with the emulator's own costs cut
(localaws.speedups). server_gaps() adds what only moto's server lacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.cloudtrail.models import Trail
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.organizations.exceptions import OrganizationsClientError
from moto.organizations.models import organizations_backends
from moto.utilities.utils import get_partition

from localaws import replacements


@contextmanager
def filled() -> Iterator[None]:
    """The rules AWS enforces and moto does not, for as long as the context lasts."""
    with replacements.applied(
        "service-control-policies",
        "topic-and-queue-policies",
        "role-trust",
        "cloudtrail-topic-by-arn",
        "s3-full-event-shape",
        "sns-publish-metrics",
        "iam-policy-simulator",
        "organizations-accounts-listed-by-the-management-account",
        *replacements.EVERYWHERE,
    ):
        yield


def _trail_topic_arn(self: Trail) -> str | None:
    name: str | None = self.sns_topic_name
    if not name or name.startswith("arn:"):
        return name or None
    return f"arn:{get_partition(self.region_name)}:sns:{self.region_name}:{self.account_id}:{name}"


# Gap: CloudTrail takes SnsTopicName as a topic name or ARN, and the topic may be in another account (a Control
# Tower 3.x trail publishes to the Audit account's AllConfigNotifications topic). moto's Trail.topic_arn always
# builds "arn:...:<the trail's account>:<SnsTopicName>", so an ARN becomes a topic that does not exist
# (InsufficientSnsTopicPolicyException) and DescribeTrails shows a mangled SnsTopicARN. This keeps an ARN as it
# is (moto's SNS already finds a topic of any account by its ARN).
TRAIL_TOPIC_ARN = property(_trail_topic_arn)


def seeded_accounts_first(original: Callable[[], str], member_ids: tuple[str, ...]) -> Callable[[], str]:
    """localaws.landing_zone.create_member_account's gap, for a seed that runs in another process than
    the server: the member accounts get the ids the landing zone's seeding gives them, in the order it
    creates them (the Log Archive, moto's default account everything acts from, first), and random ids
    after that."""

    def account_id() -> str:
        for member in member_ids:
            if member not in organizations_backends.master_accounts:
                return member
        return str(original())

    return account_id


def listing_only_in_the_management_account(original: Callable[..., Any]) -> Callable[..., Any]:
    """Gap: moto answers ListAccounts in a member account with an empty list. AWS refuses it: "This operation
    can be called only from the organization's management account or by a member account that is a
    delegated administrator" (AWS Organizations API reference, ListAccounts), with AccessDeniedException.
    (The local landing zone has no delegated administrator.)"""

    def list_accounts(self: Any, *args: Any, **kwargs: Any) -> Any:
        joined = organizations_backends.master_accounts.get(self.account_id)
        if joined is not None and joined[0] != self.account_id:
            raise OrganizationsClientError(
                "AccessDeniedException", "You don't have permissions to access this resource."
            )
        return original(self, *args, **kwargs)

    return list_accounts


@contextmanager
def server_gaps(member_ids: tuple[str, ...] = (DEFAULT_ACCOUNT_ID,)) -> Iterator[None]:
    """The gap only moto's server has: the seeded member accounts, from another process."""
    with replacements.applied("organizations-seeded-account-ids", member_ids=member_ids):
        yield


def forget_organizations() -> None:
    """Gap: resetting moto keeps its map of member accounts to organizations, so an account seeded
    as a member stays one in the next test or server, pointing at an organization that is gone."""
    organizations_backends.master_accounts.clear()
