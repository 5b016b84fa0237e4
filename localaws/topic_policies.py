"""Gap: moto does not evaluate an SNS topic's policy for a caller of another account.

AWS allows a cross-account call on a topic only when the topic's policy grants it to the caller (SNS
developer guide, "Example cases for Amazon SNS access control", granting another account access to a
topic: https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html). moto lets any account
subscribe to any topic, and then keeps that subscription where the topic's own publishes never look, so a
cross-account Subscribe succeeds and delivers nothing: a silent loss the real AWS never shows. Here a
caller of another account needs an Allow in the topic's policy naming it (its ARN, its account or "*"),
the action and the topic; otherwise SNS answers AuthorizationError, as AWS words it ("User: <caller> is
not authorized to perform: SNS:<action> on resource: <topic>"), with no explicit deny in it.

Only the actions a subscriber calls on a topic are emulated; same-account calls go on as before (IAM
policies are not emulated here). A subscription a policy does grant is still kept where moto keeps it, so
its deliveries would not arrive: no local landing zone grants one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.sns.models import sns_backends

from localaws import resource_denies
from localaws.callers import caller_of
from localaws.policy_language import applies, principal_matches, statements
from localaws.refusals import refuse

SUBSCRIBER_ACTIONS = frozenset({"Subscribe", "ListSubscriptionsByTopic", "GetTopicAttributes"})


def authorizing(original: Callable[..., None]) -> Callable[..., None]:
    """moto's authorization hook, evaluating a topic's policy for callers of another account, and the explicit
    Denies of a topic's or a queue's policy for every caller (localaws.resource_denies), first
    (localaws.replacements applies it as the gap topic-and-queue-policies)."""

    def authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        if self.service_name == "sns":
            _refuse_if_not_granted(self)
        if self.service_name in ("sns", "sqs"):
            resource_denies.refuse_if_denied(self)
        original(self, iam_request_cls, resource)

    return authorize


def _refuse_if_not_granted(response: Any) -> None:
    operation = response._get_action()
    topic_arn = str(response._get_param("TopicArn") or "")
    if operation not in SUBSCRIBER_ACTIONS or topic_arn.count(":") != 5:
        return
    _, partition, _, region, owner, _ = topic_arn.split(":")
    account = response.current_account
    if owner == account:
        return
    topic = sns_backends[owner][region].topics.get(topic_arn)
    if topic is None:
        return  # moto answers NotFound itself
    caller = caller_of(response.access_key, account, partition)

    def context() -> dict[str, str]:
        return {"aws:principalarn": caller.principal_arn, "aws:principalaccount": account}

    action = f"sns:{operation}"
    granted = any(
        principal_matches(statement, caller.principal_arn, account) and applies(statement, action, topic_arn, context)
        for statement in statements(topic.policy, "Allow")
    )
    if not granted:
        message = f"User: {caller.arn} is not authorized to perform: SNS:{operation} on resource: {topic_arn}"
        refuse(response, "AuthorizationError", message)
