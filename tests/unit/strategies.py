"""Hypothesis strategies for documents other teams own: notification configurations and key policies.

Drawing a document is nine tenths of a property test's time, so the properties of one kind of document
are checked together, each on the same 500 documents, in one test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

EVENTS = [
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRestore:*",
    "s3:Replication:*",
    "s3:LifecycleExpiration:*",
    "s3:ObjectTagging:*",
    "s3:IntelligentTiering",
]
DESTINATION_KEYS = {
    "TopicConfigurations": "TopicArn",
    "QueueConfigurations": "QueueArn",
    "LambdaFunctionConfigurations": "LambdaFunctionArn",
}
DESTINATION_ARNS = {
    "TopicConfigurations": "arn:aws:sns:us-east-1:111122223333:{}",
    "QueueConfigurations": "arn:aws:sqs:us-east-1:111122223333:{}",
    "LambdaFunctionConfigurations": "arn:aws:lambda:us-east-1:111122223333:function:{}",
}

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=20)
foreign_ids = names.filter(lambda value: not value.startswith("ExpelOnboarding"))
# Strategies are built once, here, not inside the draws below: hypothesis validates every strategy it
# is given, and building them per example was a third of these tests' time.
prefix_names = st.sampled_from(["Prefix", "prefix"])
suffix_names = st.sampled_from(["Suffix", "suffix"])
twelve_ids = st.lists(foreign_ids, min_size=12, max_size=12, unique=True)
entry_counts = st.integers(min_value=0, max_value=4)
event_lists = st.lists(st.sampled_from(EVENTS), min_size=1, max_size=3, unique=True)


@st.composite
def filters(draw: st.DrawFn) -> dict[str, Any] | None:
    rules = []
    if draw(st.booleans()):
        rules.append({"Name": draw(prefix_names), "Value": draw(names) + "/"})
    if draw(st.booleans()):
        rules.append({"Name": draw(suffix_names), "Value": "." + draw(names)})
    return {"Key": {"FilterRules": rules}} if rules else None


entry_filters = filters()


@st.composite
def notification_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A foreign configuration as GetBucketNotificationConfiguration returns it (no empty lists)."""
    ids = iter(draw(twelve_ids))
    config: dict[str, Any] = {}
    for list_name, key in DESTINATION_KEYS.items():
        entries = []
        for _ in range(draw(entry_counts)):
            entry: dict[str, Any] = {
                "Id": next(ids),
                key: DESTINATION_ARNS[list_name].format(draw(names)),
                "Events": draw(event_lists),
            }
            entry_filter = draw(entry_filters)
            if entry_filter is not None:
                entry["Filter"] = entry_filter
            entries.append(entry)
        if entries:
            config[list_name] = entries
    if draw(st.booleans()):
        config["EventBridgeConfiguration"] = {}
    return config


# Twelve digits, as text of those ten characters: from_regex's default alphabet has Hypothesis try each of
# the 1.1 million code points on the UTF-8 codec first, about 3 s in each worker of a fresh clone.
account_ids = st.text(alphabet="0123456789", min_size=12, max_size=12)

principals = st.one_of(
    st.just("*"),
    st.builds(lambda account: {"AWS": f"arn:aws:iam::{account}:root"}, account_ids),
    st.builds(lambda name: {"AWS": [f"arn:aws:iam::111122223333:role/{name}"]}, names),
    st.just({"Service": "cloudtrail.amazonaws.com"}),
)


effects = st.sampled_from(["Allow", "Deny"])
foreign_actions = st.sampled_from(["kms:*", "kms:Decrypt", ["kms:Encrypt", "kms:GenerateDataKey*"]])
optional_id_lists = st.lists(st.one_of(st.none(), foreign_ids), min_size=1, max_size=8)


@st.composite
def key_policies(draw: st.DrawFn) -> dict[str, Any]:
    """A foreign key policy: statements with or without Sids, in any order."""
    statements = []
    for sid in draw(optional_id_lists):
        statement: dict[str, Any] = {
            "Effect": draw(effects),
            "Principal": draw(principals),
            "Action": draw(foreign_actions),
            "Resource": "*",
        }
        if sid is not None:
            statement["Sid"] = sid
        if draw(st.booleans()):
            statement["Condition"] = {"StringEquals": {"aws:SourceAccount": draw(names)}}
        statements.append(statement)
    policy: dict[str, Any] = {"Version": "2012-10-17", "Statement": statements}
    if draw(st.booleans()):
        policy["Id"] = draw(names)
    return policy


# Key policies as KMS stores them: text, in the layouts people and tools write. KMS accepts tab, LF,
# CR and U+0020..U+00FF literally (PutKeyPolicy API reference); anything above U+00FF must arrive as
# a \u escape, so kms_text() writes it that way.
KEY_POLICY_LIMIT = 32_768
LATIN_1 = "".join(chr(code) for code in range(0xA0, 0x100))
ABOVE_LATIN_1 = re.compile("[^\x00-\xff]")
# Characters a JSON scanner must respect inside strings, and one beyond Latin-1 (written escaped).
JSON_AWKWARD = '"\\/[]{},:\n\t\u2019'
LAYOUTS: dict[str, dict[str, Any]] = {
    "compact": {"separators": (",", ":")},  # Terraform jsonencode, CDK, aws cli --policy from a script
    "spaced": {},  # Python json.dumps defaults: one line, ", " and ": "
    "indent2": {"indent": 2},
    "indent4": {"indent": 4},  # the KMS console's default key policy
    "tabs": {"indent": "\t"},
}
_ASCII_WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SID_WORDS = ["Enable IAM User Permissions", "Allow CloudTrail", "Key admins", "Équipe données", "São Paulo", "Ops"]
# A Sid: words, one Latin-1 character (KMS allows spaces in key policy Sids), and a number.
sid_texts = st.builds(
    "{}{}{}".format, st.sampled_from(SID_WORDS), st.sampled_from(LATIN_1), st.integers(0, 999)
).filter(lambda value: not value.startswith("ExpelOnboarding"))
condition_values = st.text(alphabet=st.sampled_from(_ASCII_WORD + LATIN_1 + JSON_AWKWARD), max_size=10)
accounts = st.integers(min_value=10**11, max_value=10**12 - 1).map(str)


def kms_text(policy: dict[str, Any], layout: str, crlf: bool = False, trailing_newline: bool = False) -> str:
    """policy written in a layout, as KMS would store that text."""
    text = json.dumps(policy, ensure_ascii=False, **LAYOUTS[layout])
    text = ABOVE_LATIN_1.sub(lambda found: json.dumps(found.group())[1:-1], text)
    if trailing_newline:
        text += "\n"
    return text.replace("\n", "\r\n") if crlf else text


foreign_principals = st.one_of(
    st.just("*"),
    accounts.map(lambda account: {"AWS": f"arn:aws:iam::{account}:root"}),
    st.integers(0, 999).map(lambda index: {"AWS": [f"arn:aws:iam::111122223333:role/team-{index}"]}),
    st.just({"Service": "cloudtrail.amazonaws.com"}),
)
member_orders = st.permutations(range(6))


@st.composite
def _statement_members(draw: st.DrawFn) -> list[tuple[str, Any]]:
    effect = draw(effects)
    members: list[tuple[str, Any]] = [
        ("Effect", effect),
        ("Principal" if effect == "Allow" or draw(st.booleans()) else "NotPrincipal", draw(foreign_principals)),
        ("Action", draw(foreign_actions)),
        ("Resource", "*"),
    ]
    if draw(st.booleans()):
        members.append(("Condition", {"StringEquals": {"aws:PrincipalTag/team": draw(condition_values)}}))
    return members


statement_members = _statement_members()


def foreign_statement(draw: st.DrawFn, sid: str | None) -> dict[str, Any]:
    """Another team's statement, its keys in any order, with Latin-1 and JSON-awkward text."""
    members = draw(statement_members)
    if sid is not None:
        members.insert(4, ("Sid", sid))
    order = [index for index in draw(member_orders) if index < len(members)]
    return dict(members[index] for index in order)


def _padding(index: int) -> dict[str, Any]:
    return {
        "Sid": f"Team{index}·pad",  # U+00B7: no drawn Sid ends this way, so Sids stay unique
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::111122223333:role/team-{index}"},
        "Action": ["kms:Decrypt", "kms:DescribeKey"],
        "Resource": "*",
    }


@dataclass(frozen=True)
class PolicyText:
    text: str
    policy: dict[str, Any]
    layout: str
    crlf: bool
    single: bool  # Statement is one object, not a list


sid_lists = st.lists(st.one_of(st.none(), sid_texts), min_size=1, max_size=5)
# Sizes spread over the whole range, up to the limit: most policies are small, the ones that matter
# most here are not.
layouts = st.sampled_from(sorted(LAYOUTS))
statement_orders = {count: st.permutations(range(count)) for count in range(1, 6)}
fill_sizes = st.tuples(st.sampled_from([0, 0, 0, 2048, 8192, 20480, KEY_POLICY_LIMIT]), st.integers(0, 4096))


@st.composite
def key_policy_texts(draw: st.DrawFn, max_bytes: int = KEY_POLICY_LIMIT) -> PolicyText:
    """A foreign key policy's text as KMS stores it: any layout, CRLF or not, up to max_bytes."""
    sids = draw(sid_lists)
    unique = list(dict.fromkeys(sid for sid in sids if sid is not None))
    statements = [foreign_statement(draw, sid) for sid in unique + [None] * sids.count(None)]
    statements = [statements[index] for index in draw(statement_orders[len(statements)])]
    layout = draw(layouts)
    crlf = "indent" in LAYOUTS[layout] and draw(st.booleans())
    trailing_newline = draw(st.booleans())
    single = len(statements) == 1 and draw(st.booleans())
    policy: dict[str, Any] = {"Version": "2012-10-17", "Statement": statements[0] if single else statements}
    if draw(st.booleans()):
        policy = {"Id": draw(sid_texts), **policy}

    def write(padding: int) -> str:
        padded = policy if single else {**policy, "Statement": [*map(_padding, range(padding)), *statements]}
        return kms_text(padded, layout, crlf, trailing_newline)

    bucket, less = draw(fill_sizes)
    fill = 0 if single else min(max(bucket - less, 0), max_bytes)
    text = write(0)
    if fill > len(text.encode()):
        each = len(write(1).encode()) - len(text.encode())
        padding = (fill - len(text.encode())) // each
        while len((text := write(padding)).encode()) > max_bytes:
            padding -= 1
        policy = json.loads(text)
    assume(len(text.encode()) <= max_bytes)
    return PolicyText(text, policy, layout, crlf, single)
