"""localaws.speedups changes what the emulator spends, never what it answers."""

from __future__ import annotations

import json

import pytest
from moto.cloudformation.models import Stack
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

from localaws import clients

PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


def test_a_definition_is_parsed_once_and_a_broken_one_is_refused_every_time() -> None:
    text = json.dumps(PASS)
    assert AmazonStateLanguageParser.parse(text)[0] is AmazonStateLanguageParser.parse(text)[0]
    other = json.dumps({**PASS, "Comment": "another text"})
    assert AmazonStateLanguageParser.parse(other)[0] is not AmazonStateLanguageParser.parse(text)[0]
    for _ in range(2):
        with pytest.raises(ASLParserException):
            AmazonStateLanguageParser.parse('{"StartAt": "Done", "States": ')


def test_template_bodies_read_the_same_as_json_and_as_yaml() -> None:
    as_json = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}}}})
    as_yaml = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: t\n"
    assert Stack.parse_template(as_json) == Stack.parse_template(as_yaml) == json.loads(as_json)
    assert Stack.parse_template("Value: !Ref Topic") == {"Value": {"Ref": "Topic"}}


def test_symmetric_keys_encrypt_and_asymmetric_keys_still_sign_with_their_own_key() -> None:
    kms = clients.kms()
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=symmetric, Plaintext=b"log")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"log"
    signing = [kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]["KeyId"] for _ in range(2)]
    public_keys = {kms.get_public_key(KeyId=key)["PublicKey"] for key in signing}
    assert len(public_keys) == 2
    signature = kms.sign(KeyId=signing[0], Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    verified = kms.verify(KeyId=signing[0], Message=b"m", Signature=signature, SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert verified["SignatureValid"]
