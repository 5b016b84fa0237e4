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


# Amazon SQS pricing (https://aws.amazon.com/sqs/pricing/): standard queue requests, per million after the free
# tier; every API action is a request, and each 64 KB chunk of a payload is billed as one.
SQS_REQUEST_PER_MILLION = 0.40
# AWS Lambda pricing (https://aws.amazon.com/lambda/pricing/): requests, per million, and duration on Arm
# (the template's Architectures: [arm64]), per GB-second.
LAMBDA_REQUEST_PER_MILLION = 0.20
LAMBDA_ARM_GB_SECOND = 0.0000133334
# AWS Key Management Service pricing (https://aws.amazon.com/kms/pricing/): symmetric requests, per 10,000.
KMS_REQUEST_PER_10000 = 0.03

# Amazon SQS quotas (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html):
# a standard queue holds at most about 120,000 in-flight messages (received, not yet deleted).
SQS_IN_FLIGHT_LIMIT = 120_000
# Managing Amazon SNS encryption keys and costs (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html):
# per topic, R = B / D * (2 * P) KMS requests, with SNS reusing a data key for up to 5 minutes (D).
SNS_DATA_KEY_REUSE_SECONDS = 300
# The name of the quota to raise, as Service Quotas shows it for Amazon SNS.
SNS_PUBLISH_QUOTA_NAME = "Publish (API) requests per second"
