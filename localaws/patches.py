"""Every workaround for a gap in moto, each naming the gap it covers.

Used by the tests (in-process moto) and by the local AWS of `make demo` (moto's server in this
process). Nothing in the product imports this module.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.util
import io
import json
import os
import sys
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

import boto3
from botocore.exceptions import ClientError
from crhelper import utils as crhelper_utils
from moto import settings as moto_settings
from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import LambdaBackend, LambdaFunction, lambda_backends
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.custom_model import CustomModel
from moto.cloudformation.models import CloudFormationBackend, cloudformation_backends
from moto.cloudformation.parsing import clean_json
from moto.cloudformation.responses import CloudFormationResponse
from moto.cloudtrail.models import Trail
from moto.cloudwatch.models import cloudwatch_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.common_models import CloudFormationModel
from moto.iam.exceptions import IAMException
from moto.iam.responses import IamResponse
from moto.organizations import utils as organizations_utils
from moto.organizations.models import organizations_backends
from moto.s3.models import s3_backends
from moto.scheduler.models import scheduler_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.stepfunctions.models import StateMachine
from moto.utilities.utils import get_partition

from expel_onboarding import clients, custom_resource, delegate, settings
from localaws import controls

_ACTING_AS: ContextVar[str | None] = ContextVar("acting_as", default=None)


def _add_account_header(request: Any, **_: Any) -> None:
    account = _ACTING_AS.get()
    if account is not None:
        request.headers["x-moto-account-id"] = account


@contextmanager
def as_account(account: str) -> Iterator[None]:
    """Make calls as another account of the organization, then act as before.

    moto reads the account from a request header, so this works against the in-process mock and
    against a local AWS server in another process alike. Clients must be made inside the block."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    session.events.register("before-sign", _add_account_header, unique_id="localaws-account-header")
    token = _ACTING_AS.set(account)
    try:
        yield
    finally:
        _ACTING_AS.reset(token)


def create_member_account(organizations: Any, account_id: str, name: str) -> None:
    """Gap: moto gives new member accounts random ids, and acting as one through MOTO_ACCOUNT_ID
    disables the access-key account switching that cross-account AssumeRole relies on. So the
    member gets the id we choose (moto's default account), and no MOTO_ACCOUNT_ID is needed."""
    with mock.patch.object(organizations_utils, "make_random_account_id", return_value=account_id):
        organizations.create_account(Email=f"{name.lower().replace(' ', '-')}@example.com", AccountName=name)


def create_organization_trail(bucket: str, key_arn: str, topic_arn: str = "") -> str:
    """Gap: moto keeps a trail in the account that created it, while AWS shows the management
    account's organization trail to every member. So the trail is created where the Log Archive
    account (the caller) can describe it, with the management account's key and, if given, the topic
    it publishes to (named by ARN: it may be another account's, see trail_topics_by_arn)."""
    try:
        trail = boto3.client("cloudtrail").create_trail(
            Name="aws-controltower-BaselineCloudTrail",
            S3BucketName=bucket,
            IsMultiRegionTrail=True,
            IsOrganizationTrail=True,
            KmsKeyId=key_arn,
            **({"SnsTopicName": topic_arn} if topic_arn else {}),
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "InsufficientSnsTopicPolicyException":
            raise
        raise RuntimeError(
            f"moto refused the trail topic {topic_arn}: run the local AWS with patches.control_tower_gaps() "
            "(server.running() and the test fixtures do), which lets a trail name its topic by ARN."
        ) from exc
    return str(trail["TrailARN"])


def _trail_topic_arn(self: Trail) -> str | None:
    name: str | None = self.sns_topic_name
    if not name or name.startswith("arn:"):
        return name or None
    return f"arn:{get_partition(self.region_name)}:sns:{self.region_name}:{self.account_id}:{name}"


@contextmanager
def trail_topics_by_arn() -> Iterator[None]:
    """Gap: CloudTrail takes SnsTopicName as a topic name or ARN, and the topic may be in another
    account (a Control Tower 3.x trail publishes to the Audit account's AllConfigNotifications topic).
    moto's Trail.topic_arn always builds "arn:...:<the trail's account>:<SnsTopicName>", so an ARN
    becomes a topic that does not exist (InsufficientSnsTopicPolicyException) and DescribeTrails
    shows a mangled SnsTopicARN. This keeps an ARN as it is (moto's SNS already finds a topic of any
    account by its ARN)."""
    with mock.patch.object(Trail, "topic_arn", property(_trail_topic_arn)):
        yield


@contextmanager
def control_tower_gaps() -> Iterator[None]:
    """The gaps a Control Tower landing zone meets beyond moto's own behaviour: its SCPs, which moto
    stores but never evaluates (localaws.controls), and its trail's topic, named by ARN."""
    with controls.service_control_policies(), trail_topics_by_arn():
        yield


class _Context:
    """The part of the Lambda context the handlers and Powertools read."""

    def __init__(self, function: Any) -> None:
        self.function_name = function.function_name
        self.memory_limit_in_mb = int(function.memory_size)
        self.invoked_function_arn = function.function_arn
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + int(function.timeout)

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


_HANDLERS: dict[str, Callable[[Any, Any], Any]] = {}


def _handler_of(function: Any) -> Callable[[Any, Any], Any]:
    """Import the handler from the function's own code zip, once per code version."""
    sha = hashlib.sha256(function.code_bytes).hexdigest()
    key = f"{sha}:{function.handler}"
    if key not in _HANDLERS:
        folder = Path(tempfile.mkdtemp(prefix="lambda-code-"))
        with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
            archive.extractall(folder)
        module_name, attribute = function.handler.rsplit(".", 1)
        spec = importlib.util.spec_from_file_location(
            f"lambda_{sha[:12]}_{module_name}", folder / f"{module_name.replace('.', '/')}.py"
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"no {module_name}.py in the code of {function.function_name}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _HANDLERS[key] = getattr(module, attribute)
    return _HANDLERS[key]


def _fresh_container() -> None:
    """Each invocation sees its own function's environment, as a separate Lambda container would."""
    clients.reset()
    settings.settings.cache_clear()
    custom_resource.bridge_settings.cache_clear()
    delegate.config.cache_clear()


class _ThreadEnviron(MutableMapping[str, str]):
    """os.environ with a per-thread overlay, so concurrent in-process functions (the bridge waiting
    on a run while Step Functions invokes the steps) each see only their own environment."""

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self.base = base
        self._local = threading.local()

    @property
    def overlay(self) -> dict[str, str] | None:
        overlay: dict[str, str] | None = getattr(self._local, "overlay", None)
        return overlay

    @overlay.setter
    def overlay(self, value: dict[str, str] | None) -> None:
        self._local.overlay = value

    def _view(self) -> MutableMapping[str, str]:
        return self.overlay if self.overlay is not None else self.base

    def __getitem__(self, key: str) -> str:
        return self._view()[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._view()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._view()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._view()))

    def __len__(self) -> int:
        return len(self._view())

    def copy(self) -> dict[str, str]:
        return dict(self._view())


class _ThreadStdout(io.TextIOBase):
    """sys.stdout with a per-thread capture: what a function prints goes to its own log, as in
    Lambda (where it lands in CloudWatch Logs), not into the terminal of whoever invoked it."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self._local = threading.local()

    @property
    def capture(self) -> io.StringIO | None:
        capture: io.StringIO | None = getattr(self._local, "capture", None)
        return capture

    @capture.setter
    def capture(self, value: io.StringIO | None) -> None:
        self._local.capture = value

    def write(self, text: str) -> int:
        target = self.capture if self.capture is not None else self.real
        return int(target.write(text))

    def flush(self) -> None:
        # Loggers keep this object past the context; by interpreter exit the real stream may be gone.
        if not getattr(self.real, "closed", False):
            self.real.flush()


_THREAD_STDOUT: list[_ThreadStdout] = []


def _thread_stdout() -> _ThreadStdout:
    """One wrapper for the process: a handler module imported under an earlier local AWS keeps its
    logger's stream, and must still be captured under the next one."""
    if not _THREAD_STDOUT:
        _THREAD_STDOUT.append(_ThreadStdout(sys.stdout))
    wrapper = _THREAD_STDOUT[0]
    if sys.stdout is not wrapper:
        wrapper.real = sys.stdout
    return wrapper


def _invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
    if isinstance(event, str):
        event = json.loads(event or "{}")
    environ = os.environ
    if not isinstance(environ, _ThreadEnviron):
        raise RuntimeError("in_process_lambda() is not active")
    previous = environ.overlay
    environ.overlay = {
        **environ.base,
        **{k: str(v) for k, v in self.environment_vars.items()},
        "AWS_REGION": self.region,
        "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
    }
    _fresh_container()
    stdout = sys.stdout
    log = io.StringIO()
    if isinstance(stdout, _ThreadStdout):
        stdout.capture = log
    # A function in another account than moto's default (the management account's key-policy
    # delegate) makes its calls as its own account, as its execution role would.
    acting = ExitStack()
    if self.account_id != DEFAULT_ACCOUNT_ID:
        acting.enter_context(as_account(self.account_id))
    try:
        result = _handler_of(self)(event if event is not None else {}, _Context(self))
        return json.dumps(result), False, log.getvalue()
    except Exception as exc:  # noqa: BLE001 - reported the way Lambda reports an unhandled error
        error = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
        return json.dumps(error), True, log.getvalue()
    finally:
        acting.close()
        environ.overlay = previous
        if isinstance(stdout, _ThreadStdout):
            stdout.capture = None


_ORIGINAL_INVOKE = LambdaBackend.invoke


def _principals(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    values = principal.get("AWS", []) if isinstance(principal, dict) else principal
    return [str(v) for v in (values if isinstance(values, list) else [values])]


def _resource_policy_allows(function: Any, caller: str) -> bool:
    """Whether the function's resource-based policy lets the caller's account invoke it (an explicit
    Deny wins). Only the account is checked: moto knows no caller principal for a condition on it."""
    allowed = {caller, f"arn:aws:iam::{caller}:root"}
    effects = set()
    for statement in function.policy.statements:
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if {"lambda:InvokeFunction", "lambda:*"} & set(actions) and allowed & set(_principals(statement)):
            effects.add(statement.get("Effect", "Allow"))
    return effects == {"Allow"}


def _invoke_across_accounts(
    self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> Any:
    """Gap: moto looks an invoked function up in the caller's own account, even when the caller names
    another account's function by ARN, and never reads the function's resource-based policy. Here a
    cross-account ARN reaches its own account's function, if that policy lets the caller's account
    invoke it; otherwise the caller gets Lambda's AccessDeniedException."""
    parts = function_name.split(":")
    if not function_name.startswith("arn:") or len(parts) < 7 or parts[4] == self.account_id:
        return _ORIGINAL_INVOKE(self, function_name, qualifier, body, headers, response_headers)
    owner = lambda_backends[parts[4]][parts[3]]
    function = owner.get_function(function_name, qualifier)
    if not _resource_policy_allows(function, self.account_id):
        raise LambdaClientError(
            "AccessDeniedException",
            f"User: arn:aws:iam::{self.account_id}:root is not authorized to perform: lambda:InvokeFunction on "
            f"resource: {function_name} because no resource-based policy allows the lambda:InvokeFunction action",
        )
    return _ORIGINAL_INVOKE(owner, function_name, qualifier, body, headers, response_headers)


@contextmanager
def in_process_lambda() -> Iterator[None]:
    """Gap: moto runs Lambda code only in Docker, and there is no Docker here. This runs the
    function's own zipped code in this process, with the function's environment. The one hook
    serves Invoke, Step Functions tasks and CloudFormation custom resources alike."""
    original = os.environ
    os.environ = _ThreadEnviron(original)  # type: ignore[assignment]  # noqa: B003 - a view over the same environment
    try:
        with (
            mock.patch.object(LambdaFunction, "_invoke_lambda", _invoke_in_process),
            mock.patch.object(LambdaBackend, "invoke", _invoke_across_accounts),
            mock.patch.object(sys, "stdout", _thread_stdout()),
        ):
            yield
    finally:
        os.environ = original  # noqa: B003 - the real environment back


# --- CloudFormation ------------------------------------------------------------------------------


class _Named:
    """What every gap model below keeps: the physical id CloudFormation's Ref returns. (A plain
    mix-in: moto builds its model map from CloudFormationModel's direct subclasses.)"""

    def __init__(self, physical_id: str) -> None:
        self.physical_id = physical_id

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id


class _SnsSubscription(_Named, CloudFormationModel):
    """Gap: moto's CloudFormation silently skips AWS::SNS::Subscription."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::Subscription"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
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


class _SnsTopicPolicy(_Named, CloudFormationModel):
    """Gap: moto's CloudFormation silently skips AWS::SNS::TopicPolicy."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::TopicPolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> _SnsTopicPolicy:
        properties = cloudformation_json["Properties"]
        backend = sns_backends[account_id][region_name]
        for topic in properties["Topics"]:
            backend.set_topic_attribute(topic, "policy", json.dumps(properties["PolicyDocument"]))
        return cls(",".join(properties["Topics"]))

    def delete(self, account_id: str, region_name: str) -> None:
        """The topics go with the stack too; nothing to restore."""


class _SqsQueuePolicy(_Named, CloudFormationModel):
    """Gap: moto's CloudFormation silently skips AWS::SQS::QueuePolicy."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
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


class _Schedule(_Named, CloudFormationModel):
    """Gap: moto's CloudFormation has no model for AWS::Scheduler::Schedule (its API has one)."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Scheduler::Schedule"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
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


class _Alarm(_Named, CloudFormationModel):
    """Gap: moto's CloudFormation has no model for AWS::CloudWatch::Alarm (its API has one)."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
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
        )
        return cls(name)

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.physical_id])


def _state_machine_from_cloudformation(
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
    backend = _executing_stepfunctions_backend(account_id, region_name)
    name = properties.get("StateMachineName", resource_name)
    return backend.create_state_machine(name, definition, properties.get("RoleArn", ""))


def _executing_stepfunctions_backend(account_id: str, region_name: str) -> Any:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    return stepfunctions_parser_backends[account_id][region_name]


class _CustomResources:
    """Gap: moto sends custom resources only Create, to a ResponseURL without a scheme, ignores
    the PhysicalResourceId and a FAILED status in the response, and never sends Delete. This sends
    Create and (before anything else is deleted, as CloudFormation's dependency order would) Delete,
    with the physical id the function answered, and records failures on the stack."""

    physical_ids: ClassVar[dict[tuple[str, str], str]] = {}
    reasons: ClassVar[dict[tuple[str, str], str]] = {}

    @staticmethod
    def response_url(region_name: str, stack_id: str) -> str:
        return f"http://localhost:{moto_settings.moto_server_port()}/cloudformation_{region_name}/cfnresponse?stack={stack_id}"

    @classmethod
    def create(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> CustomModel:
        properties = cloudformation_json["Properties"]
        function = lambda_backends[account_id][region_name].get_function(properties["ServiceToken"])
        resource = CustomModel(region_name, str(uuid.uuid4()), kwargs["LogicalId"], resource_name)
        stack = cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"])
        stack.add_custom_resource(resource)
        event = cls.event("Create", kwargs["StackId"], kwargs["LogicalId"], kwargs["ResourceType"], properties)
        # Gap: moto goes on creating the resources that read this one's attributes (Fn::GetAtt) before
        # the function answers, so they get None. CloudFormation waits for the answer: so do we.
        invocation = threading.Thread(target=function.invoke, args=(json.dumps(event), {}, {}), daemon=True)
        invocation.start()
        invocation.join(timeout=float(properties.get("ServiceTimeout", 3600)))
        if not resource.is_created():
            # Parsed, so the rollback sends it a Delete: a failed create may have written before failing.
            stack.resource_map._parsed_resources[kwargs["LogicalId"]] = resource
            reason = cls.reasons.get((kwargs["StackId"], kwargs["LogicalId"]), "no response")
            raise _CustomResourceFailed(f"{kwargs['LogicalId']}: {reason}")
        return resource

    @staticmethod
    def event(request: str, stack_id: str, logical_id: str, resource_type: str, properties: Any) -> dict[str, Any]:
        return {
            "RequestType": request,
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": _CustomResources.response_url(stack_id.split(":")[3], stack_id),
            "StackId": stack_id,
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceProperties": properties,
        }

    @classmethod
    def delete_first(cls, resource_map: Any) -> None:
        """Delete in reverse creation order, so a custom resource that reads another's attributes goes
        first. Each stays parsed (other resources' Fn::GetAtt still resolve while moto deletes them)
        but leaves the template map, so moto does not delete it again."""
        custom = [
            (i, p)
            for i, p in resource_map._parsed_resources.items()
            if isinstance(p, CustomModel) and i in resource_map._resource_json_map
        ]
        for logical_id, parsed in reversed(custom):
            resource_json = resource_map._resource_json_map[logical_id]
            properties = clean_json(resource_json["Properties"], resource_map)
            stack_id = resource_map.stack_id
            event = cls.event("Delete", stack_id, logical_id, resource_json["Type"], properties)
            event["PhysicalResourceId"] = cls.physical_ids.get((stack_id, logical_id), parsed.physical_resource_id)
            function = lambda_backends[resource_map._account_id][resource_map._region_name].get_function(
                properties["ServiceToken"]
            )
            function.invoke(json.dumps(event), {}, {})
            resource_map._resource_json_map.pop(logical_id)

    @classmethod
    def record_response(cls, response: Any) -> None:
        """Records the answer; never moto's verify_readiness, which would create the stack's remaining
        resources on this (the response's) thread while create() still waits on the other."""
        body = json.loads(response.body)
        key = (body["StackId"], body["LogicalResourceId"])
        cls.physical_ids[key] = body.get("PhysicalResourceId", "")
        stack = response.cloudformation_backend.get_stack(body["StackId"])
        if body.get("Status") == "SUCCESS":
            stack.get_custom_resource(body["LogicalResourceId"]).set_data(body.get("Data") or {})
        if body.get("Status") == "FAILED":
            cls.reasons[key] = body.get("Reason", "")
            stack.status = "CREATE_FAILED"
            stack._add_stack_event("CREATE_FAILED", resource_status_reason=body.get("Reason", ""))


class _CustomResourceFailed(Exception):
    """A custom resource answered FAILED (or not at all): CloudFormation stops creating the stack."""


def _create_stack(backend: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """Stops at a failed custom resource, as CloudFormation does, instead of creating what reads it.
    (moto creates resources lazily, from its export check as well as from create_resources, so the
    stop is caught around the whole create.)"""
    try:
        return _ORIGINAL_CREATE_STACK(backend, name, *args, **kwargs)
    except _CustomResourceFailed:
        stack = backend.get_stack(name)
        # A failed stack has no outputs; moto would evaluate them on DescribeStacks, creating the rest.
        stack.output_map._output_json_map = {}
        # Gap: moto does not roll a failed create back. CloudFormation deletes what it created, custom
        # resources first (with the physical id their function answered, even for the failed one).
        resources = stack.resource_map
        resources._resource_json_map = {
            logical_id: resource
            for logical_id, resource in resources._resource_json_map.items()
            if logical_id in resources._parsed_resources
        }
        stack.status = "ROLLBACK_IN_PROGRESS"
        resources.delete()
        resources._resource_json_map = {}  # all gone: the stack's own DeleteStack has nothing left to do
        stack.status = "ROLLBACK_COMPLETE"
        stack._add_stack_event("ROLLBACK_COMPLETE")
        return stack


def _plain_http_connection(host: str, context: Any = None, **kwargs: Any) -> http.client.HTTPConnection:
    """Gap: crhelper always answers CloudFormation over HTTPS (and retries forever); the local
    CloudFormation's response URL is plain HTTP on 127.0.0.1."""
    return http.client.HTTPConnection(host, **kwargs)


_EXTRA_MODELS: dict[str, Any] = {
    model.cloudformation_type(): model
    for model in (_SnsSubscription, _SnsTopicPolicy, _SqsQueuePolicy, _Schedule, _Alarm)
}


def _resource_class_from_type(resource_type: str) -> Any:
    if resource_type in _EXTRA_MODELS:
        return _EXTRA_MODELS[resource_type]
    return _ORIGINAL_RESOURCE_CLASS(resource_type)


_ORIGINAL_RESOURCE_CLASS = cfn_parsing.resource_class_from_type
_ORIGINAL_CREATE_STACK = CloudFormationBackend.create_stack
_ORIGINAL_CLEAN_JSON = cfn_parsing.clean_json


def _clean_json(resource_json: Any, resources_map: Any) -> Any:
    """Gap: moto resolves AWS::NoValue to None but keeps it, so an !If that drops a list item or
    a property leaves a null behind (IAM then calls the policy malformed). CloudFormation removes it."""
    cleaned = _ORIGINAL_CLEAN_JSON(resource_json, resources_map)
    if isinstance(cleaned, list):
        return [item for item in cleaned if item is not None]
    if isinstance(cleaned, dict) and isinstance(resource_json, dict):
        return {key: value for key, value in cleaned.items() if value is not None or resource_json.get(key) is None}
    return cleaned


def _simulator_not_emulated(self: Any) -> Any:
    """Gap: moto's server answers an action it does not implement (IAM's policy simulator) with an
    HTML 500 page that botocore cannot parse; AWS answers every action in its own error format."""
    raise IAMException("InvalidInput", "moto does not emulate the policy simulator (SimulatePrincipalPolicy).")


_ORIGINAL_ACCOUNT_ID = organizations_utils.make_random_account_id


def _seeded_accounts_first(member_ids: tuple[str, ...]) -> Callable[[], str]:
    """create_member_account's gap, for a seed that runs in another process than the server: the
    member accounts get the seed's ids, in the order it creates them (the Log Archive, moto's
    default account everything acts from, first), and random ids after that."""

    def account_id() -> str:
        for member in member_ids:
            if member not in organizations_backends.master_accounts:
                return member
        return str(_ORIGINAL_ACCOUNT_ID())

    return account_id


@contextmanager
def server_gaps(member_ids: tuple[str, ...] = (DEFAULT_ACCOUNT_ID,)) -> Iterator[None]:
    """The gaps only moto's server has (in-process moto raises NotImplementedError, which the
    product already treats as "no simulator"), and the seed's member accounts from another process."""
    with (
        mock.patch.object(IamResponse, "simulate_principal_policy", _simulator_not_emulated, create=True),
        mock.patch.object(organizations_utils, "make_random_account_id", _seeded_accounts_first(member_ids)),
    ):
        yield


@contextmanager
def cloudformation_gaps() -> Iterator[None]:
    """Every CloudFormation gap above, for as long as the context lasts."""
    original_delete = cfn_parsing.ResourceMap.delete

    def delete(resource_map: Any) -> None:
        _CustomResources.delete_first(resource_map)
        original_delete(resource_map)

    def process_cfn_response(response: Any) -> Any:
        _CustomResources.record_response(response)
        return 200, {"status": 200}, json.dumps("{}")

    with (
        mock.patch.object(cfn_parsing, "resource_class_from_type", _resource_class_from_type),
        mock.patch.object(cfn_parsing, "clean_json", _clean_json),
        mock.patch.object(crhelper_utils, "HTTPSConnection", _plain_http_connection),
        mock.patch.object(CustomModel, "create_from_cloudformation_json", _CustomResources.create),
        mock.patch.object(StateMachine, "create_from_cloudformation_json", _state_machine_from_cloudformation),
        mock.patch.object(cfn_parsing.ResourceMap, "delete", delete),
        mock.patch.object(CloudFormationResponse, "process_cfn_response", process_cfn_response),
        mock.patch.object(CloudFormationBackend, "create_stack", _create_stack),
    ):
        yield


def forget_organizations() -> None:
    """Gap: resetting moto keeps its map of member accounts to organizations, so an account seeded
    as a member stays one in the next test or server, pointing at an organization that is gone."""
    organizations_backends.master_accounts.clear()
