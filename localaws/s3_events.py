"""Gap: the S3 events the local AWS sends, in S3's full shape.

moto sends eventVersion 2.1 with the bucket's name and ARN and the object's key, size and ETag only. S3's
"Event message structure" (S3 user guide) also has userIdentity, requestParameters, responseElements,
bucket.ownerIdentity and object.sequencer, and since version 2.4 one version covers every event type (the
page shows 2.5). Consumers such as Powertools' S3Event read those fields and fail without them, so the
local bucket-notification path must send them, as the relay does on the trail-topic path.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.s3 import notifications

from localaws import replacements

EVENT_VERSION = "2.5"
# Where the local AWS's requests come from: this machine.
SOURCE_IP = "127.0.0.1"

# moto's own event builder, which every S3 notification of moto goes through (its only seam for the shape).
_ORIGINAL: Callable[..., dict[str, list[dict[str, Any]]]] = notifications._get_s3_event


def _full_shape(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, list[dict[str, Any]]]:
    event = _ORIGINAL(event_name, bucket, key, notification_id)
    records = []
    for record in event["Records"]:
        s3 = record["s3"]
        records.append(
            {
                "eventVersion": EVENT_VERSION,
                "eventSource": record["eventSource"],
                "awsRegion": record["awsRegion"],
                "eventTime": record["eventTime"],
                "eventName": record["eventName"],
                "userIdentity": {"principalId": f"AWS:{bucket.account_id}"},
                "requestParameters": {"sourceIPAddress": SOURCE_IP},
                "responseElements": {
                    "x-amz-request-id": os.urandom(8).hex().upper(),
                    "x-amz-id-2": base64.b64encode(os.urandom(48)).decode(),
                },
                "s3": {
                    **s3,
                    "bucket": {
                        "name": s3["bucket"]["name"],
                        "ownerIdentity": {"principalId": bucket.account_id},
                        "arn": s3["bucket"]["arn"],
                    },
                    "object": {
                        **s3["object"],
                        # "The object version if the bucket is versioning-enabled", absent otherwise.
                        **({"versionId": key.version_id} if bucket.is_versioned else {}),
                        "sequencer": f"{int(key.last_modified.timestamp() * 1000):016X}",
                    },
                },
            }
        )
    return {"Records": records}


@contextmanager
def full_shape() -> Iterator[None]:
    """S3's events with every documented field, for as long as the context lasts."""
    with replacements.applied("s3-full-event-shape"):
        yield
