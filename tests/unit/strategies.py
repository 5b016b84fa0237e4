"""Hypothesis strategies for documents other teams own: notification configurations and key policies."""

from __future__ import annotations

from typing import Any

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


@st.composite
def filters(draw: st.DrawFn) -> dict[str, Any] | None:
    rules = []
    if draw(st.booleans()):
        rules.append({"Name": draw(st.sampled_from(["Prefix", "prefix"])), "Value": draw(names) + "/"})
    if draw(st.booleans()):
        rules.append({"Name": draw(st.sampled_from(["Suffix", "suffix"])), "Value": "." + draw(names)})
    return {"Key": {"FilterRules": rules}} if rules else None


@st.composite
def notification_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A foreign configuration as GetBucketNotificationConfiguration returns it (no empty lists)."""
    ids = iter(draw(st.lists(foreign_ids, min_size=12, max_size=12, unique=True)))
    config: dict[str, Any] = {}
    for list_name, key in DESTINATION_KEYS.items():
        entries = []
        for _ in range(draw(st.integers(min_value=0, max_value=4))):
            entry: dict[str, Any] = {
                "Id": next(ids),
                key: DESTINATION_ARNS[list_name].format(draw(names)),
                "Events": draw(st.lists(st.sampled_from(EVENTS), min_size=1, max_size=3, unique=True)),
            }
            entry_filter = draw(filters())
            if entry_filter is not None:
                entry["Filter"] = entry_filter
            entries.append(entry)
        if entries:
            config[list_name] = entries
    if draw(st.booleans()):
        config["EventBridgeConfiguration"] = {}
    return config


principals = st.one_of(
    st.just("*"),
    st.builds(lambda account: {"AWS": f"arn:aws:iam::{account}:root"}, st.from_regex(r"[0-9]{12}", fullmatch=True)),
    st.builds(lambda name: {"AWS": [f"arn:aws:iam::111122223333:role/{name}"]}, names),
    st.just({"Service": "cloudtrail.amazonaws.com"}),
)


@st.composite
def key_policies(draw: st.DrawFn) -> dict[str, Any]:
    """A foreign key policy: statements with or without Sids, in any order."""
    statements = []
    for sid in draw(st.lists(st.one_of(st.none(), foreign_ids), min_size=1, max_size=8)):
        statement: dict[str, Any] = {
            "Effect": draw(st.sampled_from(["Allow", "Deny"])),
            "Principal": draw(principals),
            "Action": draw(st.sampled_from(["kms:*", "kms:Decrypt", ["kms:Encrypt", "kms:GenerateDataKey*"]])),
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
