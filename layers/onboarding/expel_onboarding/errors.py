"""Every error the onboarding raises, in one place.

Step Functions' Retry and Catch match on the Lambda error type, which is the class name, so these
names are a stable interface: never rename one, and never branch on message text.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

# The error codes botocore treats as throttling: its standard retry mode's list (botocore.retries.standard,
# ThrottledRetryableChecker), which contains every throttling code of its legacy mode's configuration
# (botocore/data/_retry.json). tests/unit/test_throttling_codes.py holds this set equal to what the installed
# botocore classifies as throttling. A 429 is a throttle whatever its code (_retry.json's too_many_requests).
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
THROTTLING_STATUS = 429
# SNS names a refusal AuthorizationError; the other services say AccessDenied.
# Every message is "<what was found> To fix it: <the fix>"; a Reason cut short keeps the fix.
FIX_SEPARATOR = " To fix it: "
MIN_FINDING = 60
# What S3 answers for an object that is gone (HeadObject says only 404).
OBJECT_GONE_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)


class OnboardingError(Exception):
    """A problem the customer must act on. The message says what was found and the exact fix."""

    def __init__(self, found: str, fix: str) -> None:
        super().__init__(f"{found}{FIX_SEPARATOR}{fix}")
        self.found = found
        self.fix = fix


class InvalidInput(OnboardingError):
    """A step was started with an event or environment it cannot use."""


class BucketNotFound(OnboardingError):
    """The log bucket does not exist, or is not owned by this account."""


class BucketInWrongRegion(OnboardingError):
    """S3 notifies only topics in the bucket's own region, so the stack must be deployed there."""


class OrganizationNotFound(OnboardingError):
    """This account is not in an AWS Organization, so there is no management account for Workbench."""


class TrailNotFound(OnboardingError):
    """The organization trail that writes the logs is not visible, is ambiguous, or names another bucket."""


class NotificationPrefixCannotMatch(OnboardingError):
    """NotificationPrefix names a folder under which the organization trail writes no log file."""


class DeliveryModeUnavailable(OnboardingError):
    """The DeliveryMode asked for cannot work on this landing zone (trail-topic needs the trail's topic)."""


class KeyNotUsable(OnboardingError):
    """The CloudTrail key is missing, disabled, pending deletion or not a symmetric key."""


class KeyNotTheTrails(OnboardingError):
    """CloudTrailKeyArn names another key than the one the organization trail encrypts its log files with."""


class KeyPolicyTooLarge(OnboardingError):
    """Adding our statement would take the key policy over 32,768 bytes."""


class NotificationOverlap(OnboardingError):
    """A foreign notification entry already receives the events our entry needs."""


class DestinationValidationFailed(OnboardingError):
    """S3 re-validates every destination on a write, and one of them is broken."""


class ConcurrentModification(OnboardingError):
    """Someone else kept rewriting the same document while we tried to converge it."""


class ExplicitDeny(OnboardingError):
    """An explicit Deny (often a service control policy) forbids the write. Never retried."""


class AccessNotGranted(OnboardingError):
    """No policy allows the call: the function's role, or the role it assumes, lacks a permission."""


class PublishThrottled(Exception):
    """SNS kept throttling the relay's publishes past its backoff: the SQS record fails, and the queue delivers
    it again later (after its visibility timeout), when the load has passed."""


class NotSimulated(Exception):
    """IAM's policy simulator gave Verify no answer: why, in its words (Verify reports it, never OK)."""


class PublishFailed(Exception):
    """SNS refused some entries of a PublishBatch; the SQS record fails, so the queue redelivers it."""


class DelegateRefused(OnboardingError):
    """The management account's key-policy delegate refused a request it was not made for: another
    operation, key, role or statement than the one its own stack configures."""


class DelegateFailed(OnboardingError):
    """The key-policy delegate failed in a way that is not one of our errors (a crash or a timeout)."""


class NotYetPropagated(OnboardingError):
    """What this stack just created is not usable yet: IAM and resource policies take seconds to reach
    every service (IAM user guide, "Changes that I make are not always immediately visible"). The state
    machine retries it for a bounded time; then the run fails with this cause."""


class AwsThrottled(Exception):
    """AWS throttled us beyond botocore's own retries. Transient: the state machine retries it."""


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))


def is_explicit_deny(exc: ClientError) -> bool:
    # AWS states the kind of denial only in the message ("... with an explicit deny in a service
    # control policy"); there is no separate error code for it.
    return error_code(exc) in ACCESS_DENIED_CODES and "explicit deny" in error_message(exc).lower()


def is_throttled(code: str, status: int) -> bool:
    """Whether an AWS error answer is a throttle, as botocore's retries judge one."""
    return code in THROTTLING_CODES or status == THROTTLING_STATUS


def throttle_of(exc: ClientError) -> bool:
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return is_throttled(error_code(exc), status)


def translate(exc: ClientError, action: str, resource: str, alternatives: str) -> Exception:
    """The error to raise for a failed AWS call: ours when we can say more, else the original."""
    code = error_code(exc)
    if is_explicit_deny(exc):
        return ExplicitDeny(
            f"{action} on {resource} is blocked by an explicit deny ({error_message(exc)}).",
            f"retrying cannot help. {alternatives}",
        )
    if code in ACCESS_DENIED_CODES:
        return AccessNotGranted(
            f"{action} on {resource} was refused: {error_message(exc)}",
            "grant the action to the role named in the message (see template.yaml for the function roles).",
        )
    if throttle_of(exc):
        return AwsThrottled(f"{action} on {resource} was throttled: {error_message(exc)}")
    return exc


class RunFailed(Exception):
    """An onboarding execution ended without succeeding; the message carries its cause in words."""

    # CloudFormation shows at most 256 characters of a custom resource's Reason.
    REASON_LIMIT = 256

    def __init__(self, cause: str, execution_name: str = "") -> None:
        super().__init__(cause)
        self.cause = cause
        self.execution_name = execution_name

    def reason(self) -> str:
        """The cause, cut to fit CloudFormation's Reason with the execution to open for the rest.

        The fix matters more than the diagnosis in a console that shows 256 characters: when the cause
        is too long, the finding is shortened first and the fix kept whole where it fits."""
        where = f" (execution {self.execution_name})" if self.execution_name else ""
        room = self.REASON_LIMIT - len(where)
        if len(self.cause) <= room:
            return self.cause + where
        found, separator, fix = self.cause.partition(FIX_SEPARATOR)
        fix = f"{separator.strip()} {fix}" if separator else ""
        keep_found = room - len(fix) - 2
        if fix and keep_found >= MIN_FINDING:
            return f"{found[: keep_found - 1].rstrip()}… {fix}{where}"
        return self.cause[: room - 1] + "…" + where


class StackNotReady(Exception):
    """The CLI found no stack, or a stack without the onboarding state machine."""


class KeyPolicyAmbiguous(OnboardingError):
    """The key policy repeats a Sid, or a key inside one JSON object, so what it grants depends on the reader."""


class KeyPolicyNotEditable(OnboardingError):
    """The key policy text is not a shape we can edit in place: not a JSON object with a Statement, or only ours."""


class OrphanedPrincipals(OnboardingError):
    """The key policy names principals that were deleted (AROA…/AIDA… unique ids), so KMS refuses every update."""


class KeyPolicyMalformed(OnboardingError):
    """KMS refused the policy we sent as syntactically or semantically wrong (MalformedPolicyDocumentException)."""


class KeyPolicyEditMismatch(OnboardingError):
    """Our text edit of the key policy did not parse back to the intended document, so nothing was written."""


class KeyPolicyNotDelegated(OnboardingError):
    """The key policy refuses our GetKeyPolicy or PutKeyPolicy and does not delegate to its account's root,
    so no IAM policy can grant them: the key's administrators must add our statement themselves."""
