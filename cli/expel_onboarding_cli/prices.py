"""Prices and quotas the feed's commands state their cost with, each from its AWS page.

List prices change and differ by region: these are US East (N. Virginia)'s, and every figure printed with
them says so. The quotas are the defaults, which an account can ask to raise.
"""

from __future__ import annotations

# Amazon S3 pricing (https://aws.amazon.com/s3/pricing/), S3 Standard requests: LIST is priced as PUT,
# COPY, POST and LIST requests, per 1,000; GET and HEAD per 1,000.
S3_LIST_PER_1000 = 0.005
S3_GET_PER_1000 = 0.0004
# Amazon SNS pricing (https://aws.amazon.com/sns/pricing/): publishes, per million requests after the free
# tier; a PublishBatch request of up to 10 messages is billed as one request per 64 KB of payload.
SNS_PUBLISH_PER_MILLION = 0.50

# Amazon SNS endpoints and quotas (https://docs.aws.amazon.com/general/latest/gr/sns.html): Publish's default
# throughput, messages per second per account and region; PublishBatch counts each message against it.
SNS_PUBLISH_QUOTA: dict[str, int] = {"us-east-1": 30_000, "us-west-2": 9_000, "eu-west-1": 9_000}
SNS_PUBLISH_QUOTA_1500 = frozenset(
    {
        "us-east-2",
        "us-west-1",
        "ap-northeast-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "eu-central-1",
        "ap-south-1",
        "ap-northeast-2",
    }
)
SNS_PUBLISH_QUOTA_ELSEWHERE = 300


def sns_publish_quota(region: str) -> int:
    """The default SNS publish quota of a region, messages per second."""
    if region in SNS_PUBLISH_QUOTA:
        return SNS_PUBLISH_QUOTA[region]
    return 1_500 if region in SNS_PUBLISH_QUOTA_1500 else SNS_PUBLISH_QUOTA_ELSEWHERE
