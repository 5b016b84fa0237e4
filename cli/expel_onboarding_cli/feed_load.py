"""The feed's load and monthly cost for an organization: one place for the formulas `make bench` and
`expel-onboarding plan` state, each price and quota from its AWS page (prices.py).

The load: CloudTrail delivers each account's and region's events in a log file about every 5 minutes
(CloudTrail user guide, "How CloudTrail works": "CloudTrail typically delivers log files within an
average of about 5 minutes"), and publishes one notification per log file when the trail has a topic
("Configuring Amazon SNS notifications for CloudTrail"). Bursts are taken as BURST times the steady rate.

Per log file:
- bucket-notification (landing zones up to 3.x): S3 publishes one event on our topic, SNS sends it to
  Workbench's queue;
- trail-topic (4.0): CloudTrail publishes on its topic (in the Log Archive account, so against the same
  SNS quota as ours), SNS sends it to the relay queue, the relay makes one HeadObject and one PublishBatch,
  and SNS sends the event to Workbench's queue.
Then Workbench receives and deletes it, and reads the file (an S3 GET, and a KMS Decrypt of its key).

What is measured, not priced: the relay's CPU and its calls per message come from `make bench`; the
time an AWS call takes inside Lambda is an assumption (CALL_SECONDS), stated wherever it is used.
"""

from __future__ import annotations

from dataclasses import dataclass

from expel_onboarding.delivery import DeliveryMode
from expel_onboarding_cli import prices

SECONDS_PER_FILE_PER_ACCOUNT_REGION = 300
BURST = 5
MONTH_SECONDS = 30 * 24 * 3600
# The relay's settings in template.yaml (a contract test holds them to it).
RELAY_BATCH = 10
RELAY_MEMORY_GB = 0.25
RELAY_MAXIMUM_CONCURRENCY = 100
# Assumed, not measured: how long one HeadObject or PublishBatch takes from Lambda in the same region.
CALL_SECONDS = 0.02
# Measured by `make bench` on the relay handler in process (botocore included, AWS answered locally): the
# CPU one CloudTrail message of one log file costs, and its AWS calls (HeadObject, PublishBatch).
RELAY_CPU_SECONDS_PER_MESSAGE = 0.0004
RELAY_CALLS_PER_MESSAGE = 2.0
# Lambda's SQS pollers long-poll an idle queue (at least 5 pollers, 20-second polls): requests a month.
IDLE_POLLS_PER_MONTH = 5 * MONTH_SECONDS / 20
# Workbench reads its queue in batches of 10 (ReceiveMessage, then DeleteMessageBatch): an assumption.
WORKBENCH_BATCH = 10
QUOTA_SHARE_WARNED = 0.5
# What is left of a per-object KMS request with an S3 Bucket Key: "up to 99 %" fewer, taken at its word.
BUCKET_KEY_SHARE = 0.01


@dataclass(frozen=True)
class Load:
    accounts: int
    regions: int
    region: str
    mode: DeliveryMode
    cpu_seconds_per_message: float = RELAY_CPU_SECONDS_PER_MESSAGE
    calls_per_message: float = RELAY_CALLS_PER_MESSAGE
    # The log bucket's S3 Bucket Key: S3 then asks KMS for a bucket-level key now and then instead of a data
    # key per object (Amazon S3 user guide, "Reducing the cost of SSE-KMS with Amazon S3 Bucket Keys": up to
    # 99 % fewer requests), so Workbench's reads cost KMS next to nothing.
    bucket_key: bool = False
    # The account's own publish quota in the region, when it was raised (--sns-publish-quota).
    quota_override: int | None = None

    @property
    def files_per_second(self) -> float:
        return self.accounts * self.regions / SECONDS_PER_FILE_PER_ACCOUNT_REGION

    @property
    def peak_files_per_second(self) -> float:
        return self.files_per_second * BURST

    @property
    def files_per_month(self) -> float:
        return self.files_per_second * MONTH_SECONDS

    @property
    def relayed(self) -> bool:
        return self.mode is DeliveryMode.TRAIL_TOPIC

    @property
    def publishes_per_file(self) -> int:
        """SNS publishes per log file against the Log Archive account's quota in the home region."""
        return 2 if self.relayed else 1

    @property
    def peak_publishes_per_second(self) -> float:
        return self.peak_files_per_second * self.publishes_per_file

    @property
    def quota(self) -> int:
        return self.quota_override or prices.sns_publish_quota(self.region)

    @property
    def quota_share(self) -> float:
        return self.peak_publishes_per_second / self.quota

    @property
    def seconds_per_message(self) -> float:
        """A relay message's time in Lambda: its CPU and its calls' waits (CALL_SECONDS, assumed)."""
        return self.cpu_seconds_per_message + self.calls_per_message * CALL_SECONDS

    @property
    def peak_concurrency(self) -> float:
        """Lambda executions the relay needs at the burst (Little's law: rate times time in the system)."""
        return self.peak_files_per_second * self.seconds_per_message if self.relayed else 0.0

    @property
    def peak_in_flight(self) -> float:
        """Relay-queue messages received and not yet deleted, at the burst: each execution holds a batch."""
        return min(self.peak_concurrency, RELAY_MAXIMUM_CONCURRENCY) * RELAY_BATCH if self.relayed else 0.0

    def warnings(self) -> list[str]:
        said = []
        if self.quota_share > QUOTA_SHARE_WARNED:
            said.append(
                f"At a {BURST}x burst the feed publishes {self.peak_publishes_per_second:,.0f} SNS messages a second "
                f"in {self.region}, {self.quota_share:.0%} of its {'' if self.quota_override else 'default '}quota of "
                f"{self.quota:,}: SNS throttles "
                f'above it. Raise the Amazon SNS quota "{prices.SNS_PUBLISH_QUOTA_NAME}" for the Log Archive '
                f"account in {self.region} (Service Quotas console) before the deploy."
            )
        if self.peak_concurrency > RELAY_MAXIMUM_CONCURRENCY:
            said.append(
                f"The relay needs about {self.peak_concurrency:,.0f} concurrent executions at the burst, above its "
                f"cap of {RELAY_MAXIMUM_CONCURRENCY}: the relay queue absorbs the backlog and drains after it."
            )
        return said

    def monthly_cost(self) -> dict[str, float]:
        """US East (N. Virginia) list prices, dollars a month, by line (free tiers left out)."""
        files = self.files_per_month
        publishes = files  # one publish on our topic per file: S3's, or the relay's PublishBatch per message
        # SNS's deliveries to SQS queues are not charged (Amazon SNS pricing: https://aws.amazon.com/sns/pricing/).
        sqs = files * (1 + 2 / WORKBENCH_BATCH)  # SNS's SendMessage, Workbench's receive and delete
        cost = {
            "SNS publishes (our topic)": publishes / 1e6 * prices.SNS_PUBLISH_PER_MILLION,
            "SQS requests (Workbench's queue)": sqs / 1e6 * prices.SQS_REQUEST_PER_MILLION,
            "S3 GET (Workbench reads each file)": files / 1000 * prices.S3_GET_PER_1000,
            "KMS (Workbench decrypts each file; topic and queue keys)": (
                files * (BUCKET_KEY_SHARE if self.bucket_key else 1) + self._data_key_requests()
            )
            / 10_000
            * prices.KMS_REQUEST_PER_10000,
        }
        if self.relayed:
            invocations = files / RELAY_BATCH
            relay_sqs = files * (1 + 2 / RELAY_BATCH) + IDLE_POLLS_PER_MONTH
            gb_seconds = files * self.seconds_per_message * RELAY_MEMORY_GB
            cost["SQS requests (relay queue)"] = relay_sqs / 1e6 * prices.SQS_REQUEST_PER_MILLION
            cost["Lambda (the relay)"] = (
                invocations / 1e6 * prices.LAMBDA_REQUEST_PER_MILLION + gb_seconds * prices.LAMBDA_ARM_GB_SECOND
            )
            cost["S3 HEAD (the relay checks each file)"] = files / 1000 * prices.S3_GET_PER_1000
        cost["total"] = sum(cost.values())
        return cost

    def _data_key_requests(self) -> float:
        """The topic's and queues' KMS requests (SNS's formula, two principals each: who sends, who reads)."""
        keys_in_use = 3 if self.relayed else 2
        return MONTH_SECONDS / prices.SNS_DATA_KEY_REUSE_SECONDS * 2 * 2 * keys_in_use
