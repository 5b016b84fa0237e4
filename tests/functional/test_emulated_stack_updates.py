"""The local CloudFormation updates a stack as CloudFormation does (localaws.stack_updates): every
resource whose resolved properties changed is updated, in dependency order, including those that only
read a changed custom resource's attributes; a custom resource gets Update with its old properties; a
new physical id is a replacement whose old id gets Delete after the update; a failed update is rolled
back; nothing else is touched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from localaws import clients, deploy
from tests.support.local_aws import local_aws

# A custom resource's function: it records each request, then answers with a physical id and an
# attribute made from its Target property, or FAILED when the Target is "fail".
ECHO = """
import json, time, urllib.request
import boto3

def handler(event, context):
    boto3.client("s3").put_object(Bucket="requests", Key=str(time.time_ns()), Body=json.dumps(event))
    target = event["ResourceProperties"].get("Target", "")
    failed = target == "fail" and event["RequestType"] != "Delete"
    answer = {
        "Status": "FAILED" if failed else "SUCCESS",
        "Reason": "told to fail",
        "PhysicalResourceId": "echo-" + target,
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {"Value": target},
    }
    body = json.dumps(answer).encode()
    # As crhelper sends it: no content type (moto's server routes on it).
    urllib.request.urlopen(urllib.request.Request(event["ResponseURL"], body, {"Content-Type": ""}, method="PUT"))
"""
ROLE = {"Fn::GetAtt": ["EchoRole", "Arn"]}
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
TEMPLATE: dict[str, Any] = {
    "Parameters": {"Target": {"Type": "String"}},
    "Resources": {
        "EchoRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": LAMBDA_TRUST}},
        "EchoFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.13",
                "Handler": "index.handler",
                "Role": ROLE,
                "Code": {"ZipFile": ECHO},
            },
        },
        "Echo": {
            "Type": "Custom::Echo",
            "Properties": {"ServiceToken": {"Fn::GetAtt": ["EchoFunction", "Arn"]}, "Target": {"Ref": "Target"}},
        },
        "Stable": {
            "Type": "Custom::Echo",
            "Properties": {"ServiceToken": {"Fn::GetAtt": ["EchoFunction", "Arn"]}, "Target": "stable"},
        },
        # Reads only the custom resource's attribute: moto alone would never update it.
        "Reader": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.13",
                "Handler": "index.handler",
                "Role": ROLE,
                "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
                "Environment": {"Variables": {"VALUE": {"Fn::GetAtt": ["Echo", "Value"]}}},
            },
        },
    },
    "Outputs": {"Value": {"Value": {"Fn::GetAtt": ["Echo", "Value"]}}},
}


@pytest.fixture(autouse=True)
def stack() -> Iterator[None]:
    with local_aws():
        clients.s3().create_bucket(Bucket="requests")
        deploy.create_or_update("echo", TEMPLATE, {"Target": "a"}, timeout=60)
        yield


def requests() -> list[tuple[str, str, str, str]]:
    """Each request the functions got since the stack was created: type, resource, physical id, Target
    (and the old Target for an Update)."""
    s3 = clients.s3()
    found = []
    for item in s3.list_objects_v2(Bucket="requests").get("Contents", []):
        event = json.loads(s3.get_object(Bucket="requests", Key=item["Key"])["Body"].read())
        target = event["ResourceProperties"]["Target"]
        if "OldResourceProperties" in event:
            target = f"{event['OldResourceProperties']['Target']}->{target}"
        found.append((event["RequestType"], event["LogicalResourceId"], event.get("PhysicalResourceId", ""), target))
    return [request for request in found if request[0] != "Create"]


def reader_value() -> str:
    functions = clients.lambda_().list_functions()["Functions"]
    (reader,) = [f for f in functions if "-Reader-" in f["FunctionName"]]
    return str(reader["Environment"]["Variables"]["VALUE"])


def test_an_update_reaches_what_reads_the_custom_resource_and_deletes_the_replaced_id_last() -> None:
    outputs = deploy.create_or_update("echo", TEMPLATE, {"Target": "b"}, timeout=60)
    assert requests() == [("Update", "Echo", "echo-a", "a->b"), ("Delete", "Echo", "echo-a", "a")]
    assert reader_value() == "b"
    assert outputs == {"Value": "b"}


def test_custom_resources_whose_properties_resolve_as_before_get_no_request() -> None:
    reader = TEMPLATE["Resources"]["Reader"]
    changed = {**reader, "Properties": {**reader["Properties"], "Description": "only the reader changes"}}
    deploy.create_or_update(
        "echo", {**TEMPLATE, "Resources": {**TEMPLATE["Resources"], "Reader": changed}}, {"Target": "a"}, 60
    )
    assert requests() == []
    (function,) = [f for f in clients.lambda_().list_functions()["Functions"] if "-Reader-" in f["FunctionName"]]
    assert function["Description"] == "only the reader changes"
    assert reader_value() == "a"


def test_a_failed_update_is_rolled_back_with_the_properties_swapped() -> None:
    with pytest.raises(deploy.DeployFailed, match=r"UPDATE_ROLLBACK_COMPLETE: \['Echo: told to fail'\]"):
        deploy.create_or_update("echo", TEMPLATE, {"Target": "fail"}, timeout=60)
    # The failed resource may have written before failing: the rollback updates it back too.
    assert requests() == [("Update", "Echo", "echo-a", "a->fail"), ("Update", "Echo", "echo-a", "fail->a")]
    assert reader_value() == "a"
    (stack,) = clients.cloudformation().describe_stacks(StackName="echo")["Stacks"]
    assert stack["Parameters"] == [{"ParameterKey": "Target", "ParameterValue": "a"}]


def test_a_removed_custom_resource_gets_its_delete_in_the_cleanup() -> None:
    template = {**TEMPLATE, "Resources": {k: v for k, v in TEMPLATE["Resources"].items() if k != "Stable"}}
    deploy.create_or_update("echo", template, {"Target": "a"}, timeout=60)
    assert requests() == [("Delete", "Stable", "echo-stable", "stable")]
