"""The key-policy delegate: the one narrow operation the management account hands the Log Archive.

A key policy can only be edited from the key's own account, and IAM cannot limit what a
kms:PutKeyPolicy writes. So the management account does not lend out that permission: it runs this
function, whose own role holds DescribeKey, GetKeyPolicy and PutKeyPolicy on the one CloudTrail key
its stack (org/management.yaml) names, and which does one thing with them: add, remove or read our
kms:Decrypt statement for the Expel role that same stack names. The edit is key_policy.converge,
the same text splice, size, key-state and orphan rules as the Log Archive step.

Every request is checked against the delegate's own configuration, never trusted: an unknown
operation or field, another key, another role, a region other than the key's, a stack outside the
Log Archive account, or a Sid other than the one our code derives from that stack is refused with
DelegateRefused, and nothing is read or written. The statement itself is never taken from a request:
the delegate builds it (key_policy.our_statement) from its own configuration and the checked Sid, so
the only statement it can write is the one the Log Archive stack's own code builds for the configured
role: kms:Decrypt through S3 in the key's region, for CloudTrail's encryption context.

Two doors, each with its own resource-based policy (org/management.yaml): the function's own ARN admits
only the Log Archive stack's KeyPolicy role, and the read-only alias (naming.DELEGATE_READER_ALIAS) only
its Verify role. Lambda tells the function which ARN it was invoked through, and a call through the
read-only door may only read (door_of): Verify cannot write, whatever it asks.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from expel_onboarding import key_policy
from expel_onboarding.errors import DelegateRefused, InvalidInput
from expel_onboarding.naming import DELEGATE_READER_ALIAS, OWNED_PREFIX, key_statement_sid
from expel_onboarding.reports import Mode, Status

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

# What a caller may ask, and the step mode each runs. "read" is the step's read-only check: it
# writes nothing and says whether our statement is there.
OPERATIONS = {"apply": Mode.APPLY, "remove": Mode.REMOVE, "read": Mode.CHECK}
# A run's preflight: every read and check of apply or remove, and no write.
PREFLIGHTS = {"plan-apply": Mode.APPLY, "plan-remove": Mode.REMOVE}
FIELDS = ("Operation", "KeyArn", "Sid", "ExpelRoleArn", "Region", "StackId")
# naming.owned_id: our prefix and 12 upper-case hex digits of the Log Archive stack's id.
OUR_SID = re.compile(rf"^{OWNED_PREFIX}[0-9A-F]{{12}}$")
# A CloudFormation stack id: arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>.
STACK_ID = re.compile(r"^arn:(?P<partition>[a-z-]+):cloudformation:[a-z0-9-]+:(?P<account>[0-9]{12}):stack/[^/]+/.+$")
FIX = "call the delegate only through the Log Archive onboarding stack, whose settings must match the org/ stack's."


@dataclass(frozen=True)
class Config:
    """What the delegate's own stack configures: nothing a caller says can change these."""

    key_arn: str
    expel_role_arn: str
    log_archive_account: str
    partition: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Config:
        def get(name: str) -> str:
            if not environ.get(name):
                raise InvalidInput(
                    f"The environment variable {name} is not set.",
                    "deploy the delegate from org/management.yaml, which sets every variable it reads.",
                )
            return environ[name]

        return cls(get("CLOUDTRAIL_KEY_ARN"), get("EXPEL_ROLE_ARN"), get("LOG_ARCHIVE_ACCOUNT_ID"), get("PARTITION"))

    @property
    def region(self) -> str:
        """The key's region: kms:ViaService names S3 there, since SSE-KMS uses a key in the bucket's region."""
        return self.key_arn.split(":")[3]


@dataclass(frozen=True)
class Door:
    """The ARN a call came in through, what it may ask, and who its resource-based policy lets through."""

    invoked_arn: str
    operations: frozenset[str]
    admits: str


def door_of(invoked_arn: str, settings: Config) -> Door:
    """The door of this call, from the ARN Lambda says it was invoked through (the context's
    invoked_function_arn: the unqualified ARN, or the ARN with the alias or version asked for)."""
    parts = invoked_arn.split(":")
    qualifier = parts[7] if len(parts) > 7 else ""
    roles = f"arn:{settings.partition}:iam::{settings.log_archive_account}:role/expel-onboarding"
    if qualifier == DELEGATE_READER_ALIAS:
        return Door(invoked_arn, frozenset({"read"}), f"{roles}/verify/*")
    if qualifier in ("", "$LATEST"):
        return Door(invoked_arn, frozenset({*OPERATIONS, *PREFLIGHTS}), f"{roles}/key-policy/*")
    raise _refuse(f"The delegate was invoked as {invoked_arn}, through neither its own ARN nor its read-only alias.")


@cache
def config() -> Config:
    return Config.from_environment(os.environ)


@dataclass(frozen=True)
class Request:
    operation: str
    mode: Mode
    target: key_policy.Target


def _refuse(found: str) -> DelegateRefused:
    return DelegateRefused(
        f"{found} This delegate only adds, removes or reads the one kms:Decrypt statement of the Expel "
        "onboarding, for the role and key its own stack configures.",
        FIX,
    )


def parse(event: Any, settings: Config) -> Request:
    """The request, checked field by field against the delegate's own configuration."""
    if not isinstance(event, Mapping):
        raise _refuse(f"The request is {type(event).__name__}, not an object with {', '.join(FIELDS)}.")
    unknown = sorted(set(event) - set(FIELDS))
    if unknown:
        raise _refuse(f"The request names fields this delegate does not take: {', '.join(unknown)}.")
    operation = event.get("Operation")
    modes = {**OPERATIONS, **PREFLIGHTS}
    if operation not in modes:
        raise _refuse(f"The operation {operation!r} is not one of {', '.join(modes)}.")
    if event.get("KeyArn") != settings.key_arn:
        raise _refuse(
            f"The request names the key {event.get('KeyArn')!r}; this delegate may act on {settings.key_arn} only."
        )
    if event.get("ExpelRoleArn") != settings.expel_role_arn:
        raise _refuse(
            f"The request names the principal {event.get('ExpelRoleArn')!r}; this delegate grants "
            f"{settings.expel_role_arn} only."
        )
    if event.get("Region") != settings.region:
        raise _refuse(
            f"The request names the region {event.get('Region')!r}; the statement names S3 in the key's region, "
            f"{settings.region}."
        )
    sid = event.get("Sid")
    if not isinstance(sid, str) or not OUR_SID.match(sid):
        raise _refuse(f"The Sid {sid!r} is not ours ({OWNED_PREFIX} and 12 hexadecimal digits).")
    stack_id = event.get("StackId")
    stack = STACK_ID.match(stack_id) if isinstance(stack_id, str) else None
    if stack is None or (stack["partition"], stack["account"]) != (settings.partition, settings.log_archive_account):
        raise _refuse(
            f"The request names the stack {stack_id!r}; this delegate serves a stack of the Log Archive account "
            f"{settings.log_archive_account} only."
        )
    ours = key_statement_sid(settings.expel_role_arn, settings.key_arn)
    if sid != ours:
        # One Sid, from this delegate's own configuration (naming.key_statement_sid): whatever stack id a
        # caller names, the key holds at most one copy of the grant.
        raise _refuse(
            f"The Sid {sid} is not this delegate's ({ours}, derived from the Expel role "
            f"{settings.expel_role_arn} and the key it serves)."
        )
    target = key_policy.Target(
        key_arn=settings.key_arn,
        sid=sid,
        log_archive_account=settings.log_archive_account,
        expel_role_arn=settings.expel_role_arn,
        region=settings.region,
        partition=settings.partition,
        stack_id=str(stack_id),
    )
    return Request(operation, modes[operation], target)


def our_statement_as_found(kms: KMSClient, target: key_policy.Target) -> Any:
    """Our statement as the key policy holds it now, or None: only ours, never the rest of the policy."""
    policy = key_policy.parse(key_policy.read_text(kms, target), target.key_arn)
    mine = policy.ours(target.sid)
    return policy.elements[mine[0]].value if len(mine) == 1 else None


def handle(event: Any, settings: Config, kms: KMSClient, door: Door) -> dict[str, Any]:
    """Run one checked request that its door allows: the step's report, and for read our statement as found."""
    request = parse(event, settings)
    if request.operation not in door.operations:
        raise _refuse(
            f"The operation {request.operation!r} came in through {door.invoked_arn}, which may only "
            f"{' or '.join(sorted(door.operations))}."
        )
    report = key_policy.converge(kms, request.target, request.mode, preflight=request.operation in PREFLIGHTS)
    answer: dict[str, Any] = {"Operation": request.operation, "Report": report.to_dict()}
    if request.operation == "read":
        # After ACTION_REQUIRED (the key policy refuses the delegate, or cannot be edited) there is
        # nothing more to read: the report says why.
        readable = report.status in (Status.OK, Status.DRIFTED)
        answer["Statement"] = our_statement_as_found(kms, request.target) if readable else None
    return answer


@dataclass
class PolicyWitness:
    """The key policy texts one call read and wrote, as the KMS client's own events saw them: the audit record's
    before and after cost no extra call. One per process, registered once per client (botocore's unique_id)."""

    first_read: str | None = None
    sending: str = ""
    last_written: str | None = None

    def watch(self, kms: KMSClient) -> PolicyWitness:
        self.first_read, self.sending, self.last_written = None, "", None
        events = kms.meta.events
        events.register("after-call.kms.GetKeyPolicy", self._saw_read, unique_id="expel-audit-read")
        events.register("before-parameter-build.kms.PutKeyPolicy", self._saw_put, unique_id="expel-audit-put")
        events.register("after-call.kms.PutKeyPolicy", self._saw_written, unique_id="expel-audit-written")
        return self

    def _saw_read(self, parsed: dict[str, Any], **_: Any) -> None:
        if self.first_read is None and isinstance(parsed.get("Policy"), str):
            self.first_read = parsed["Policy"]

    def _saw_put(self, params: dict[str, Any], **_: Any) -> None:
        self.sending = str(params.get("Policy", ""))

    def _saw_written(self, http_response: Any, **_: Any) -> None:
        if http_response.status_code < 300:
            self.last_written = self.sending

    def digests(self) -> dict[str, str]:
        """SHA-256 of the policy first read and of the policy in force after the call ("" if never read)."""
        before = _sha256(self.first_read) if self.first_read is not None else ""
        after = _sha256(self.last_written) if self.last_written is not None else before
        return {"policy_sha256_before": before, "policy_sha256_after": after}


WITNESS = PolicyWitness()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
