"""Bedrock's "Model Customization Job State Change" events, published through moto's EventBridge.

The emulator's store calls ``EventPublisher`` on every job change; on a change of status it puts the
event Bedrock would publish on moto's default event bus, in process. Rules on that bus route it to
their targets exactly as moto routes any event, so an SQS queue behind a rule receives it: push mode
is exercised end to end. ``create_events_queue`` sets that up the way docs/push-mode.md tells users
to on AWS (queue, queue policy, rule, target).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

# The rule users are told to write (docs/push-mode.md) is the consumer's business, so it comes from there.
from bedrock_provider.core.waiting.push_mode import EVENT_PATTERN
from bedrock_provider.emulator.models import Job, iso

# The event's envelope and detail, as "How EventBridge for Amazon Bedrock works" shows them:
# https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-eventbridge-how-it-works.html
# (the same sample is tests/fixtures/model_customization_job_state_change.json). Written here on their
# own, from the documentation, and not taken from the provider's parser, so that a shape error in
# either one shows up in the push-mode tests.
EVENT_SOURCE = "aws.bedrock"
EVENT_DETAIL_TYPE = "Model Customization Job State Change"


def state_change_detail(job: Job) -> dict[str, Any]:
    """The ``detail`` Bedrock publishes for a job, in the order and with the fields of AWS's sample."""
    detail: dict[str, Any] = {
        "version": "0.0",
        "jobName": job.name,
        "jobArn": job.arn,
        "outputModelName": job.custom_model_name,
    }
    if job.output_model_arn is not None:
        detail["outputModelArn"] = job.output_model_arn
    detail["roleArn"] = job.role_arn
    detail["jobStatus"] = job.status
    if job.failure_message is not None:
        detail["failureMessage"] = job.failure_message
    detail["creationTime"] = iso(job.created)
    detail["lastModifiedTime"] = iso(job.last_modified)
    if job.end_time is not None:
        detail["endTime"] = iso(job.end_time)
    detail["baseModelArn"] = job.base_model_arn
    detail["hyperParameters"] = dict(job.hyper_parameters)
    if job.training_data_config.get("s3Uri"):
        detail["trainingDataConfig"] = {"s3Uri": job.training_data_config["s3Uri"]}
    if job.validators:
        # The sample shows one location here, not the API's list of validators.
        detail["validationDataConfig"] = {"s3Uri": job.validators[0]["s3Uri"]}
    detail["outputDataConfig"] = {"s3Uri": job.output_data_config["s3Uri"]}
    return detail


log = logging.getLogger(__name__)


class EventPublisher:
    """Store listener publishing one event per job status change (creation included), as Bedrock does.

    Stage changes (validation, training...) change the job but not its status, and Bedrock sends no
    event for them, so neither does this.
    """

    def __init__(self, account_id: str, region: str) -> None:
        from moto.events.models import events_backends

        self.account_id = account_id
        self.region = region
        # Loaded here, not on the first event: the store calls listeners under its lock, and
        # importing moto's EventBridge takes half a second, long enough to outlast a short job.
        # The bus is still looked up per event, since resetting moto replaces its backends.
        self._backends = events_backends
        self._backends[account_id][region]
        self._lock = threading.Lock()
        self._last_status: dict[str, str] = {}
        self._published = 0

    def __call__(self, job: Job) -> None:
        arn, status = job.arn, job.status
        with self._lock:
            if self._last_status.get(arn) == status:
                return
            self._last_status[arn] = status
        entry = {
            "Source": EVENT_SOURCE,
            "DetailType": EVENT_DETAIL_TYPE,
            "Detail": json.dumps(state_change_detail(job)),
            "Resources": [arn],
            # moto renders an epoch number as the event's "time".
            "Time": time.time(),
        }
        results = self._backends[self.account_id][self.region].put_events([entry])
        failed = [r for r in results if "ErrorCode" in r]
        if failed:
            log.warning("publishing the state change of %s failed: %s", arn, failed)
            return
        with self._lock:
            self._published += 1

    def published(self) -> int:
        with self._lock:
            return self._published


def queue_policy(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """The SQS queue policy that lets the EventBridge rule (and only it) send to the queue."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BedrockJobEventsFromEventBridge",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }


def create_events_queue(
    endpoint_url: str | None,
    queue_name: str = "bedrock-job-events",
    rule_name: str = "bedrock-model-customization-job-state-change",
    region: str = "us-east-1",
    event_pattern: Mapping[str, Any] = EVENT_PATTERN,
) -> str:
    """Create the queue, its policy, the rule on the default bus and the target; return the queue URL.

    The same calls work against AWS (endpoint_url=None) with the caller's credentials. The default
    pattern is the recommended one (job ends and Stopping); ALL_STATE_CHANGES_PATTERN takes every change.
    """
    import boto3

    sqs = boto3.client("sqs", endpoint_url=endpoint_url, region_name=region)
    events = boto3.client("events", endpoint_url=endpoint_url, region_name=region)
    queue_url: str = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule_arn = events.put_rule(Name=rule_name, EventPattern=json.dumps(event_pattern), State="ENABLED")[
        "RuleArn"
    ]
    sqs.set_queue_attributes(
        QueueUrl=queue_url, Attributes={"Policy": json.dumps(queue_policy(queue_arn, rule_arn))}
    )
    events.put_targets(Rule=rule_name, Targets=[{"Id": "bedrock-job-events-queue", "Arn": queue_arn}])
    return queue_url
