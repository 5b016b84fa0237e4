"""Gap: moto never evaluates a topic's or a queue's own policy for a caller of the same account.

AWS does, and an explicit Deny in it refuses the call whatever the caller's IAM policies allow (IAM user guide,
"Policy evaluation logic": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
The onboarding's topic and queues deny every principal but the intended ones (template.yaml). Here each call
on an SNS topic or an SQS queue is judged against the Deny statements of that resource's policy, with the
request context IAM gives a principal's direct call:

- aws:PrincipalArn (a role session as its role) and aws:PrincipalAccount;
- aws:PrincipalIsAWSService and aws:ViaAWSService false, and no aws:CalledVia: every call through the API
  here is a principal's own. A service's call (S3's event, SNS's delivery to a queue, Lambda's poll of a
  queue, the local CloudFormation's writes) goes through moto's backends, never through this check, as a
  service principal's or a forward access session's call escapes these Denies on AWS;
- aws:SecureTransport true, and sns:Endpoint and sns:Protocol for Subscribe.

The answer is AWS's: SNS's AuthorizationError and SQS's AccessDenied, "User: <caller> is not authorized to
perform: <action> on resource: <arn> with an explicit deny in a resource-based policy" (IAM user guide,
"Access denied error messages"). Allow statements are not evaluated: same-account IAM policies are not
emulated, so nothing here refuses what AWS would allow.
"""

from __future__ import annotations

from typing import Any

from moto.sns.models import sns_backends
from moto.sqs.exceptions import QueueDoesNotExist
from moto.sqs.models import sqs_backends

from localaws.callers import caller_of
from localaws.policy_language import applies, principal_matches, statements
from localaws.refusals import refuse
from localaws.request_headers import PRINCIPAL_HEADER

# Operations authorized as another action (a batch as its single form).
AUTHORIZED_AS = {
    "PublishBatch": "Publish",
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def refuse_if_denied(response: Any) -> None:
    """Refuse an SNS or SQS call that an explicit Deny of its topic's or queue's policy matches."""
    operation = response._get_action()
    name = AUTHORIZED_AS.get(operation, operation)
    if response.service_name == "sns":
        arn, policy = _topic(response)
        # SNS's message names the action in upper case, as AWS words it ("SNS:Publish").
        code, action, shown = "AuthorizationError", f"sns:{name}", f"SNS:{name}"
    else:
        arn, policy = _queue(response)
        code, action, shown = "AccessDenied", f"sqs:{name}", f"sqs:{name}"
    if not policy:
        return
    account = response.current_account
    partition = arn.split(":")[1]
    named = (response.headers or {}).get(PRINCIPAL_HEADER)
    caller = caller_of(response.access_key, account, partition)
    caller_arn, principal_arn = (str(named), str(named)) if named else (caller.arn, caller.principal_arn)
    context = {
        "aws:principalarn": principal_arn,
        "aws:principalaccount": account,
        "aws:principalisawsservice": "false",
        "aws:viaawsservice": "false",
        "aws:securetransport": "true",
    }
    if operation == "Subscribe":
        context["sns:endpoint"] = str(response._get_param("Endpoint") or "")
        context["sns:protocol"] = str(response._get_param("Protocol") or "")
    if any(
        principal_matches(statement, principal_arn, account) and applies(statement, action, arn, lambda: context)
        for statement in statements(policy, "Deny")
    ):
        refuse(
            response,
            code,
            f"User: {caller_arn} is not authorized to perform: {shown} on resource: {arn} "
            "with an explicit deny in a resource-based policy",
        )


def _topic(response: Any) -> tuple[str, str]:
    arn = str(response._get_param("TopicArn") or "")
    if arn.count(":") != 5:
        return arn, ""
    _, _, _, region, owner, _ = arn.split(":")
    topic = sns_backends[owner][region].topics.get(arn)
    return arn, topic.policy if topic is not None else ""


def _queue(response: Any) -> tuple[str, str]:
    try:
        queue = sqs_backends[response.current_account][response.region].get_queue(response._get_queue_name())
    except (QueueDoesNotExist, AttributeError, TypeError):
        return "", ""
    return str(queue.queue_arn), str(queue.policy or "")
