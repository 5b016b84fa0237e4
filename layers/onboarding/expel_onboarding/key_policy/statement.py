"""Our one statement in the CloudTrail key's policy: what it says, for whom, and the limits KMS sets on a policy."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from expel_onboarding.naming import owned_id

STEP = "KeyPolicy"
POLICY_NAME = "default"
# KMS's "Key policy document size" quota is 32 KB (32,768 bytes), not adjustable (AWS KMS Developer
# Guide, "Resource quotas": https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html;
# "Key policy format" in https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
# The PutKeyPolicy API reference (https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html)
# allows only tab, LF, CR and U+0020..U+00FF in the text and answers LimitExceededException beyond the
# limit (the API's own length constraint, 131,072 characters in botocore's model of it, is looser, so
# the byte quota binds). AWS names no encoding for those bytes. We count UTF-8 bytes of the exact text
# we send (not of botocore's \u-escaped wire form): JSON text is UTF-8 (RFC 8259 §8.1), and a UTF-8
# count is never below a character or Latin-1 count, so we never send what KMS would refuse for size.
# The price: each U+0080..U+00FF character counts 2, so a policy within that many bytes of the limit
# is refused by us although KMS might take it. KMS's own LimitExceededException maps to the same error.
MAX_POLICY_BYTES = 32_768
MAX_WRITES = 3
# Unique ids (AROA... roles, AIDA... users) appear where a principal was deleted after the policy
# named it. KMS then refuses every PutKeyPolicy until someone removes them.
ORPHANED_PRINCIPAL = re.compile(r"^A(RO|ID)A[A-Z0-9]{12,}$")
DENY_ALTERNATIVES = "Add the statement from the management account with the command in this step's detail."
# PutKeyPolicy raised one of these after sending: the write may have landed, so we re-read and compare.
LOST_RESPONSE = (ReadTimeoutError, EndpointConnectionError, ConnectionClosedError)

Policy = dict[str, Any]
Statement = dict[str, Any]


@dataclass(frozen=True)
class Target:
    key_arn: str
    sid: str
    log_archive_account: str
    expel_role_arn: str
    region: str
    partition: str = "aws"
    # The Log Archive stack asking. Stacks deployed before the Sid came from the role and the key
    # (naming.key_statement_sid) wrote the same statement under a Sid derived from their stack id: the
    # next apply renames that one in place (legacy_sid).
    stack_id: str = ""

    @property
    def legacy_sid(self) -> str:
        legacy = owned_id(self.stack_id) if self.stack_id else ""
        return legacy if legacy != self.sid else ""


# CloudTrail encrypts every log file with the encryption context aws:cloudtrail:arn = the trail's ARN,
# and S3 passes that stored context to KMS when it decrypts the object for a GetObject, so a reader's
# Decrypt can be held to CloudTrail's objects (AWS CloudTrail user guide, "Configure AWS KMS key
# policies for CloudTrail": its decrypt statements for readers of the log bucket test
# kms:EncryptionContext:aws:cloudtrail:arn, its encrypt statement names the trails of an account with
# StringLike arn:aws:cloudtrail:*:<account>:trail/*;
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
# An organization trail belongs to the management account, and Control Tower keeps the trail's key in
# that account (Control Tower user guide, "Optionally configure AWS KMS keys"), so the key's account is
# the owner of the trails we name.
ENCRYPTION_CONTEXT_KEY = "kms:EncryptionContext:aws:cloudtrail:arn"


def our_statement(target: Target) -> Statement:
    # kms:ViaService limits the grant to decrypting log objects as S3 serves them to the role, and the
    # encryption context to objects CloudTrail encrypted for the organization's trails: the role never
    # needs the key for anything else, so a leaked session cannot decrypt other data under the key.
    trails = f"arn:{target.partition}:cloudtrail:*:{key_account(target.key_arn)}:trail/*"
    return {
        "Sid": target.sid,
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{target.partition}:iam::{target.log_archive_account}:root"},
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {
            "ArnEquals": {"aws:PrincipalArn": target.expel_role_arn},
            "StringEquals": {"kms:ViaService": f"s3.{target.region}.amazonaws.com"},
            "StringLike": {ENCRYPTION_CONTEXT_KEY: trails},
        },
    }


# --- The document view: what the policy means. The step edits text (below) and checks every edit
# --- against these.


def statements_of(policy: Policy) -> list[Statement]:
    statement = policy.get("Statement", [])
    return [statement] if isinstance(statement, dict) else list(statement)


_ABOVE_LATIN_1 = re.compile("[^\x00-\xff]")


def kms_characters(text: str) -> str:
    """JSON text with every character KMS refuses (above U+00FF) written as its \\u escape."""
    return _ABOVE_LATIN_1.sub(lambda found: json.dumps(found.group())[1:-1], text)


def size(text: str) -> int:
    """The size KMS's limit applies to, counted as MAX_POLICY_BYTES explains: UTF-8 bytes."""
    return len(text.encode("utf-8"))


def orphaned_principals(policy: Policy) -> list[str]:
    """Deleted principals' unique ids, under Principal or NotPrincipal, in the order they appear."""
    found: list[str] = []
    statements: list[Any] = statements_of(policy)  # what KMS stored: not always objects
    for statement in statements:
        if not isinstance(statement, dict):
            continue
        for element in ("Principal", "NotPrincipal"):
            principal = statement.get(element)
            if not isinstance(principal, dict):
                continue
            values = principal.get("AWS", [])
            for value in values if isinstance(values, list) else [values]:
                if ORPHANED_PRINCIPAL.match(str(value)) and str(value) not in found:
                    found.append(str(value))
    return found


def key_account(key_arn: str) -> str:
    return key_arn.split(":")[4]
