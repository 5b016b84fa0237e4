"""The stack's settings, as every step function sees them: read from the environment once.

template.yaml sets these variables on every function from the stack's parameters and resources,
so a run started by CloudFormation, the schedule or a person acts on the same deployed settings.
A step's event carries only what changes per run: the mode and what discovery found.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from typing import Any

from expel_onboarding import discovery, key_policy, notification, ownership, relay, subscription, verify
from expel_onboarding.delivery import DeliveryMode
from expel_onboarding.errors import InvalidInput
from expel_onboarding.naming import key_statement_sid, owned_id
from expel_onboarding.reports import Mode
from expel_onboarding.steps import Phase
from expel_onboarding.trail import TrailRecord


@dataclass(frozen=True)
class Settings:
    stack_id: str
    account_id: str
    region: str
    partition: str
    log_bucket: str
    cloudtrail_key_arn: str
    key_policy_delegate_arn: str
    fix_object_ownership: bool
    notification_prefix: str
    topic_arn: str
    queue_arn: str
    queue_url: str
    subscription_arn: str
    notification_key_arn: str
    expel_role_name: str
    expel_role_in_stack: bool
    expel_role_arn: str
    expel_principal_arn: str
    workbench_external_id: str
    delivery_mode: DeliveryMode
    delivery_reason: str
    requested_delivery_mode: DeliveryMode
    trail_topic_arn: str
    relay_queue_arn: str
    relay_dead_letter_arn: str
    # The organization trail as LogTarget read it at deploy time (trail.TrailRecord's JSON).
    log_target_trail: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        def get(name: str) -> str:
            if name not in environ:
                raise InvalidInput(
                    f"The environment variable {name} is not set.",
                    "deploy the function from template.yaml, which sets every variable settings.py reads.",
                )
            return environ[name]

        raw: dict[str, Any] = {field_name: get(name) for name, field_name in VARIABLES.items()}
        return cls(
            **{
                **raw,
                "fix_object_ownership": raw["fix_object_ownership"] == "true",
                "expel_role_in_stack": raw["expel_role_in_stack"] == "true",
                "delivery_mode": delivery_mode(raw["delivery_mode"], "DELIVERY_MODE"),
                "requested_delivery_mode": delivery_mode(raw["requested_delivery_mode"], "REQUESTED_DELIVERY_MODE"),
            }
        )

    def targeting(self, override: Mapping[str, str]) -> Settings:
        """These settings aimed at an earlier target (the bucket or key a stack update moved away from)."""
        unknown = set(override) - set(OVERRIDABLE)
        if unknown:
            raise InvalidInput(
                f"The event's Override names {sorted(unknown)}.", f"override only {', '.join(OVERRIDABLE)}."
            )
        changes: dict[str, Any] = {OVERRIDABLE[name]: value for name, value in override.items()}
        if "delivery_mode" in changes:
            changes["delivery_mode"] = delivery_mode(changes["delivery_mode"], "Override.DeliveryMode")
        return replace(self, **changes)

    @property
    def owned_id(self) -> str:
        return owned_id(self.stack_id)

    @property
    def built_for(self) -> TrailRecord:
        return TrailRecord.parse(self.log_target_trail)

    def discovery_target(self) -> discovery.Target:
        return discovery.Target(
            self.log_bucket,
            self.account_id,
            self.region,
            self.cloudtrail_key_arn,
            self.delivery_mode,
            self.delivery_reason,
            self.trail_topic_arn,
            self.requested_delivery_mode,
            self.built_for,
            self.notification_prefix,
        )

    def ownership_target(self) -> ownership.Target:
        # In trail-topic mode the bucket is Control Tower's under CT.S3.PV.8: the step only reads it.
        writable = self.delivery_mode is DeliveryMode.BUCKET_NOTIFICATION
        return ownership.Target(self.log_bucket, self.account_id, self.fix_object_ownership, writable)

    def relay_target(self) -> relay.Target:
        return relay.Target(
            self.log_bucket, self.account_id, self.region, self.partition, self.topic_arn, self.owned_id
        )

    def subscription_target(self) -> subscription.Target:
        return subscription.Target(
            self.trail_topic_arn, self.relay_queue_arn, self.relay_dead_letter_arn, self.account_id
        )

    def notification_target(self) -> notification.Target:
        return notification.Target(
            self.log_bucket,
            self.account_id,
            self.owned_id,
            self.topic_arn,
            self.notification_prefix,
            self.built_for.log_root if self.built_for.trail_arn else "",
            self.trail_topic_arn,
        )

    def key_target(self, discovered_key_arn: str) -> key_policy.Target | None:
        """Our key-policy target, or None when the logs are SSE-S3 and there is no key to grant."""
        if not discovered_key_arn:
            return None
        return key_policy.Target(
            discovered_key_arn,
            key_statement_sid(self.expel_role_arn, discovered_key_arn),
            self.account_id,
            self.expel_role_arn,
            self.region,
            self.partition,
            stack_id=self.stack_id,
        )

    def verify_target(self) -> verify.Target:
        return verify.Target(
            subscription_arn=self.subscription_arn,
            queue_arn=self.queue_arn,
            role_name=self.expel_role_name,
            role_arn=self.expel_role_arn,
            expel_principal_arn=self.expel_principal_arn,
            external_id=self.workbench_external_id,
            notification_key_arn=self.notification_key_arn,
            role_in_stack=self.expel_role_in_stack,
            log_root=self.built_for.log_root if self.built_for.trail_arn else verify.LOG_OBJECT,
        )


# The environment contract, declared once: each variable a step function reads, and the Settings field it
# fills. template.yaml's Globals set all of them but AWS_REGION on every function (Lambda sets that one);
# tests/template/test_environment_contract.py holds the template to this list.
VARIABLES: dict[str, str] = {
    "STACK_ID": "stack_id",
    "ACCOUNT_ID": "account_id",
    "AWS_REGION": "region",
    "PARTITION": "partition",
    "LOG_BUCKET_NAME": "log_bucket",
    "CLOUDTRAIL_KEY_ARN": "cloudtrail_key_arn",
    "KEY_POLICY_DELEGATE_ARN": "key_policy_delegate_arn",
    "FIX_OBJECT_OWNERSHIP": "fix_object_ownership",
    "NOTIFICATION_PREFIX": "notification_prefix",
    "TOPIC_ARN": "topic_arn",
    "QUEUE_ARN": "queue_arn",
    "QUEUE_URL": "queue_url",
    "SUBSCRIPTION_ARN": "subscription_arn",
    "NOTIFICATION_KEY_ARN": "notification_key_arn",
    "EXPEL_ROLE_NAME": "expel_role_name",
    "CREATE_EXPEL_ROLE": "expel_role_in_stack",
    "EXPEL_ROLE_ARN": "expel_role_arn",
    "EXPEL_PRINCIPAL_ARN": "expel_principal_arn",
    "WORKBENCH_EXTERNAL_ID": "workbench_external_id",
    "DELIVERY_MODE": "delivery_mode",
    "DELIVERY_REASON": "delivery_reason",
    "REQUESTED_DELIVERY_MODE": "requested_delivery_mode",
    "TRAIL_TOPIC_ARN": "trail_topic_arn",
    "RELAY_QUEUE_ARN": "relay_queue_arn",
    "RELAY_DEAD_LETTER_ARN": "relay_dead_letter_arn",
    "LOG_TARGET_TRAIL": "log_target_trail",
}
# Set by the Lambda service on every function, never by the template.
SET_BY_LAMBDA = frozenset({"AWS_REGION"})
# Read by Powertools, not by settings; template.yaml's Globals set them on every function.
POWERTOOLS_VARIABLES = frozenset({"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"})
# A function's own variables beyond the Globals: only the bridge knows the state machine
# (custom_resource.bridge_settings reads it; giving it to every step would make a dependency cycle).
FUNCTION_VARIABLES: dict[str, frozenset[str]] = {"BridgeFunction": frozenset({"STATE_MACHINE_ARN"})}

# What a stack update can move: the remove run for the old target names the old values.
OVERRIDABLE = {"LogBucketName": "log_bucket", "CloudTrailKeyArn": "cloudtrail_key_arn", "DeliveryMode": "delivery_mode"}


def member[E: StrEnum](kind: type[E], value: object, name: str, fix: str, after: str = "") -> E:
    """value as one of kind's members, or InvalidInput naming what was found and every member."""
    try:
        return kind(str(value))
    except ValueError as exc:
        members = ", ".join(m.value for m in kind)
        raise InvalidInput(f"{name} is {value!r}.", f"{fix} one of {members}{after}.") from exc


def delivery_mode(value: str, name: str) -> DeliveryMode:
    return member(DeliveryMode, value, name, "set it to", " (template.yaml does)")


@cache
def settings() -> Settings:
    return Settings.from_environment(os.environ)


@dataclass(frozen=True)
class StepEvent:
    """What the state machine hands a step: the run's mode and override, and the reports so far."""

    mode: Mode
    override: Mapping[str, str]
    discovered: Mapping[str, Any]
    reports: Mapping[str, Any] = field(default_factory=dict)
    phase: Phase = Phase.RUN

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> StepEvent:
        """The run's state as the state machine passes it; a preflight or undo state wraps it as
        {"Phase": ..., "Run": <the run's state>}."""
        phase = Phase.RUN
        if "Phase" in event:
            phase = member(Phase, event["Phase"], "The event's Phase", "wrap the run's state with Phase")
            event = event.get("Run") or {}
        mode = member(Mode, event.get("Mode"), "The event's Mode", "start the run with Mode")
        override = event.get("Override") or {}
        if override and mode is not Mode.REMOVE:
            # Only CloudFormation's cleanup of what an update moved away from aims a run elsewhere, and it only
            # removes: a run that writes always acts on the stack's own settings.
            raise InvalidInput(
                f"The event's Override {sorted(override)} comes with Mode {mode.value}.",
                "start apply, check and repair runs without Override; only a remove run takes one.",
            )
        reports = {name: value for name, value in event.items() if isinstance(value, dict) and "Status" in value}
        discovered = (event.get("Discover") or {}).get("Data", {})
        return cls(mode, override, discovered, reports, phase)

    @property
    def cloudtrail_key_arn(self) -> str:
        return str(self.discovered.get("CloudTrailKeyArn", ""))

    def undo_record(self, step: str) -> Mapping[str, Any]:
        """What an earlier step of this run left for its undo; empty when it wrote nothing."""
        return dict((self.reports.get(step) or {}).get("Undo") or {})

    def status_of(self, step: str) -> str:
        """The status an earlier step of this run reported, or '' when it has not run."""
        return str((self.reports.get(step) or {}).get("Status", ""))

    @property
    def settings(self) -> Settings:
        """The stack's settings, aimed at the override's target when there is one."""
        return settings().targeting(self.override)

    def leaves_alone(self, *fields: str) -> bool:
        """A cleanup run for an old target keeps what did not move: only overridden fields are removed."""
        return self.mode is Mode.REMOVE and bool(self.override) and not set(fields) & set(self.override)
