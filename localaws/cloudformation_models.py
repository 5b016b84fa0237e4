"""Gaps in moto's CloudFormation resource models: the resource types it skips or has no model for, a
state machine it creates where executions never run, and AWS::NoValue left behind as null.

cloudformation_gaps() (localaws.cloudformation) installs them.
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.models import cloudformation_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.s3.models import s3_backends
from moto.scheduler.models import scheduler_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from localaws.lambda_models import LambdaAlias, LambdaResourcePolicy, Named


class _SnsSubscription(Named, CloudFormationModel):
    """Gap: moto's CloudFormation silently skips AWS::SNS::Subscription."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::Subscription"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> _SnsSubscription:
        properties = cloudformation_json["Properties"]
        backend = sns_backends[account_id][region_name]
        subscription = backend.subscribe(properties["TopicArn"], properties["Endpoint"], properties["Protocol"])
        if str(properties.get("RawMessageDelivery", "false")).lower() == "true":
            backend.set_subscription_attributes(subscription.arn, "RawMessageDelivery", "true")
        return cls(subscription.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        sns_backends[account_id][region_name].unsubscribe(self.physical_id)


class _SnsTopicPolicy(Named, CloudFormationModel):
    """Gap: moto's CloudFormation silently skips AWS::SNS::TopicPolicy."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::TopicPolicy"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> _SnsTopicPolicy:
        properties = cloudformation_json["Properties"]
        backend = sns_backends[account_id][region_name]
        for topic in properties["Topics"]:
            backend.set_topic_attribute(topic, "policy", json.dumps(properties["PolicyDocument"]))
        return cls(",".join(properties["Topics"]))

    def delete(self, account_id: str, region_name: str) -> None:
        """The topics go with the stack too; nothing to restore."""


class _SqsQueuePolicy(Named, CloudFormationModel):
    """Gap: moto's CloudFormation silently skips AWS::SQS::QueuePolicy."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> _SqsQueuePolicy:
        properties = cloudformation_json["Properties"]
        backend = sqs_backends[account_id][region_name]
        for queue_url in properties["Queues"]:
            backend.set_queue_attributes(
                queue_url.rsplit("/", 1)[-1], {"Policy": json.dumps(properties["PolicyDocument"])}
            )
        return cls(",".join(properties["Queues"]))

    def delete(self, account_id: str, region_name: str) -> None:
        """The queues go with the stack too; nothing to restore."""


class _Schedule(Named, CloudFormationModel):
    """Gap: moto's CloudFormation has no model for AWS::Scheduler::Schedule (its API has one)."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Scheduler::Schedule"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> _Schedule:
        properties = cloudformation_json["Properties"]
        name = properties.get("Name", resource_name)
        scheduler_backends[account_id][region_name].create_schedule(
            description=properties.get("Description", ""),
            end_date=properties.get("EndDate"),
            flexible_time_window=properties["FlexibleTimeWindow"],
            group_name=properties.get("GroupName", "default"),
            kms_key_arn=properties.get("KmsKeyArn"),
            name=name,
            schedule_expression=properties["ScheduleExpression"],
            schedule_expression_timezone=properties.get("ScheduleExpressionTimezone"),
            start_date=properties.get("StartDate"),
            state=properties.get("State", "ENABLED"),
            target=properties["Target"],
            action_after_completion=None,
        )
        return cls(name)

    def delete(self, account_id: str, region_name: str) -> None:
        scheduler_backends[account_id][region_name].delete_schedule("default", self.physical_id)


class _Alarm(Named, CloudFormationModel):
    """Gap: moto's CloudFormation has no model for AWS::CloudWatch::Alarm (its API has one)."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> _Alarm:
        properties = cloudformation_json["Properties"]
        name = properties.get("AlarmName", resource_name)
        cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=name,
            namespace=properties["Namespace"],
            metric_name=properties["MetricName"],
            comparison_operator=properties["ComparisonOperator"],
            evaluation_periods=int(properties["EvaluationPeriods"]),
            period=int(properties["Period"]),
            threshold=float(properties["Threshold"]),
            statistic=properties["Statistic"],
            description=properties.get("AlarmDescription", ""),
            dimensions=properties.get("Dimensions", []),
            alarm_actions=properties.get("AlarmActions", []),
            treat_missing_data=properties.get("TreatMissingData"),
            datapoints_to_alarm=int(properties["DatapointsToAlarm"]) if "DatapointsToAlarm" in properties else None,
        )
        return cls(name)

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.physical_id])


def state_machine_from_cloudformation(
    resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
) -> Any:
    """Gap: a state machine created through CloudFormation lands in the backend that does not
    execute, and DefinitionS3Location and DefinitionSubstitutions are ignored. This reads the
    definition from (emulated) S3, substitutes, and creates it where executions run."""
    properties = cloudformation_json["Properties"]
    definition = properties.get("DefinitionString", "")
    location = properties.get("DefinitionS3Location")
    if location:
        bucket = s3_backends[account_id]["aws"].get_object(location["Bucket"], location["Key"])
        definition = bucket.value.decode("utf-8") if bucket is not None else ""
    for name, value in properties.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace("${" + name + "}", str(value))
    backend = stepfunctions_parser_backends[account_id][region_name]
    name = properties.get("StateMachineName", resource_name)
    return backend.create_state_machine(name, definition, properties.get("RoleArn", ""))


class _StackSet(Named, CloudFormationModel):
    """Gap: moto's CloudFormation has no model for AWS::CloudFormation::StackSet (it logs "No Moto
    CloudFormation support" and skips it). This records the stack set in moto's CloudFormation, so that Ref
    (its StackSetId) and DescribeStackSet answer; its stack instances are not made: the local landing zone
    has no member account that a test or the demo signs in to as Expel."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFormation::StackSet"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> _StackSet:
        properties = cloudformation_json["Properties"]
        body = properties.get("TemplateBody", "")
        stack_set = cloudformation_backends[account_id][region_name].create_stack_set(
            name=properties["StackSetName"],
            template=body if isinstance(body, str) else json.dumps(body),
            parameters={p["ParameterKey"]: p["ParameterValue"] for p in properties.get("Parameters", [])},
            tags={},
            permission_model=properties.get("PermissionModel", "SELF_MANAGED"),
            admin_role=None,
            exec_role=None,
            description=properties.get("Description"),
        )
        return cls(str(stack_set.id))

    def delete(self, account_id: str, region_name: str) -> None:
        cloudformation_backends[account_id][region_name].delete_stack_set(self.physical_id)


def state_machine_deleted(resource_name: str, cloudformation_json: Any, account_id: str, region_name: str) -> None:
    """Gap: deleting the stack deletes its state machine from the backend that does not execute, where
    state_machine_from_cloudformation did not create it: it stayed behind. resource_name is its ARN."""
    stepfunctions_parser_backends[account_id][region_name].delete_state_machine(resource_name)


MODELS: dict[str, Any] = {
    model.cloudformation_type(): model
    for model in (
        _SnsSubscription,
        _SnsTopicPolicy,
        _SqsQueuePolicy,
        _Schedule,
        _Alarm,
        LambdaResourcePolicy,
        LambdaAlias,
        _StackSet,
    )
}
_ORIGINAL_RESOURCE_CLASS = cfn_parsing.resource_class_from_type
_ORIGINAL_CLEAN_JSON = cfn_parsing.clean_json


def resource_class_from_type(resource_type: str) -> Any:
    if resource_type in MODELS:
        return MODELS[resource_type]
    return _ORIGINAL_RESOURCE_CLASS(resource_type)


def clean_json(resource_json: Any, resources_map: Any) -> Any:
    """Gap: moto resolves AWS::NoValue to None but keeps it, so an !If that drops a list item or
    a property leaves a null behind (IAM then calls the policy malformed). CloudFormation removes it."""
    cleaned = _ORIGINAL_CLEAN_JSON(resource_json, resources_map)
    if isinstance(cleaned, list):
        return [item for item in cleaned if item is not None]
    if isinstance(cleaned, dict) and isinstance(resource_json, dict):
        return {key: value for key, value in cleaned.items() if value is not None or resource_json.get(key) is None}
    return cleaned
