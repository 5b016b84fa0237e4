"""Clients with botocore's Stubber, for what moto does not validate. No network, no retries."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

NO_RETRIES = Config(retries={"total_max_attempts": 1})


def stubbable_client(service: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="stub",
        aws_secret_access_key="stub",  # noqa: S106 - not a secret: the Stubber answers every call
        config=NO_RETRIES,
    )


def explicit_deny(action: str, resource: str) -> dict[str, Any]:
    """The shape of an SCP denial: AccessDenied, and the reason only in the message."""
    return {
        "service_error_code": "AccessDenied",
        "service_message": (
            f"User: arn:aws:sts::222233334444:assumed-role/onboarding/fn is not authorized to perform: "
            f"{action} on resource: {resource} with an explicit deny in a service control policy"
        ),
        "http_status_code": 403,
    }
