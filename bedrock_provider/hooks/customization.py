"""BedrockCustomizationHook: submit, describe, stop and list model customization jobs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bedrock_provider.core.names import TaskIdentity
from bedrock_provider.core.request.submission import (
    Description,
    Difference,
    plan_submission,
    request_differences,
)
from bedrock_provider.core.waiting.failure_run import DEFAULT_MAX_FAILURE_DURATION, FailureRun
from bedrock_provider.core.waiting.settings import DEFAULT_PROGRESS_INTERVAL
from bedrock_provider.core.waiting.watch import Watch
from bedrock_provider.hooks.clients import LeasedClientHook
from bedrock_provider.hooks.errors import (
    error_message,
    is_job_name_taken,
    is_not_found,
    is_retryable_failure,
    job_already_ended,
)

if TYPE_CHECKING:
    from bedrock_provider.core.request.customization import ValidatedRequest


def _strip_metadata(response: dict[str, Any]) -> Description:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


@dataclass(frozen=True)
class SubmittedJob:
    """The job a task instance submitted or adopted."""

    job_arn: str
    job_name: str
    custom_model_name: str
    attempt: int
    adopted: bool
    reason: str
    status: str = "InProgress"  # a new job's first status; an adopted job's as found


class BedrockCustomizationHook(LeasedClientHook):
    """Interact with Amazon Bedrock model customization jobs through an Airflow AWS connection.

    Takes the Amazon provider's AwsBaseHook arguments (aws_conn_id, region_name, verify,
    botocore_config), so connections are configured exactly as for its other AWS hooks.
    """

    hook_name = "Amazon Bedrock model customization"

    def __init__(self, **kwargs: Any) -> None:
        kwargs["client_type"] = "bedrock"
        super().__init__(**kwargs)

    # -- synchronous API (operators, sensors) ----------------------------------------------------

    @property
    def client(self) -> Any:
        """The boto3 bedrock client (cached by AwsBaseHook.conn)."""
        return self.conn

    def describe_job(self, job_identifier: str) -> Description:
        """GetModelCustomizationJob by name or ARN, without the response metadata."""
        return _strip_metadata(self.client.get_model_customization_job(jobIdentifier=job_identifier))

    def find_job(self, job_identifier: str) -> Description | None:
        """Like describe_job, but None when there is no such job."""
        try:
            return self.describe_job(job_identifier)
        except Exception as error:
            if is_not_found(error):
                return None
            raise

    def submit_job(
        self,
        request: ValidatedRequest,
        identity: TaskIdentity,
        if_job_exists: str = "reattach",
        create_refused: Exception | None = None,
    ) -> SubmittedJob:
        """Submit the job exactly once for this task instance, or adopt the one it submitted before.

        The Create call carries a token derived from the task instance and the attempt, so a Create
        retried after a lost response returns the same job instead of a second one. When another
        submitter takes the name between the plan and the Create, the plan is made again. With
        ``create_refused``, only an adoption goes ahead: where the plan would create, that error is
        raised instead.
        """
        last_conflict: Exception | None = None
        fingerprint = request.fingerprint()
        for _ in range(3):
            plan = plan_submission(
                request.job_name,
                identity,
                if_job_exists,
                self.find_job,
                lambda job: self.request_differences(job, request),
            )
            if plan.action == "adopt":
                existing = plan.existing or {}
                self.log.info("Adopting job %s: %s", plan.job_name, plan.reason)
                return SubmittedJob(
                    job_arn=str(existing["jobArn"]),
                    job_name=plan.job_name,
                    custom_model_name=str(
                        existing.get("outputModelName") or request.custom_model_name_for(plan.attempt)
                    ),
                    attempt=plan.attempt,
                    adopted=True,
                    reason=plan.reason,
                    status=str(existing.get("status")),
                )
            if create_refused is not None:
                raise create_refused
            job_name = request.job_name_for(plan.attempt)
            kwargs = request.create_kwargs(plan.attempt, identity.client_request_token(job_name, fingerprint))
            self.log.info("Submitting job %s (%s)", plan.job_name, plan.reason)
            try:
                response = self.client.create_model_customization_job(**kwargs)
            except Exception as error:
                if not is_job_name_taken(error):
                    raise
                last_conflict = error
                continue
            return SubmittedJob(
                job_arn=str(response["jobArn"]),
                job_name=kwargs["jobName"],
                custom_model_name=kwargs["customModelName"],
                attempt=plan.attempt,
                adopted=False,
                reason=plan.reason,
            )
        raise RuntimeError(
            f"Job name '{request.job_name}' kept being taken by another submitter while submitting: "
            f"{last_conflict}"
        )

    def request_differences(self, job: Description, request: ValidatedRequest) -> list[Difference]:
        """How an existing job differs from the request, resolving a custom model name or a KMS alias
        through the API when a plain comparison cannot tell."""
        return request_differences(job, request, self._custom_model_arns, self._kms_key_arn)

    def _custom_model_arns(self, model_identifier: str) -> tuple[str, ...]:
        """The ARN of a custom model given by name, and of the model it was built on."""
        try:
            model = self.get_custom_model(model_identifier)
        except Exception as error:
            self.log.warning("Could not resolve base model %s to compare with: %s", model_identifier, error)
            return ()
        return tuple(str(arn) for arn in (model.get("modelArn"), model.get("baseModelArn")) if arn)

    def _kms_key_arn(self, key_identifier: str) -> str | None:
        """The key ARN a KMS alias or key id stands for (kms:DescribeKey), or None if it cannot be read."""
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

        try:
            hook = AwsBaseHook(client_type="kms", aws_conn_id=self.aws_conn_id, **self._arguments)
            # The connection this hook has read already: it is not fetched (and logged) again.
            hook.conn_config = self.conn_config
            return str(hook.conn.describe_key(KeyId=key_identifier)["KeyMetadata"]["Arn"])
        except Exception as error:
            self.log.warning(
                "Could not resolve KMS key %s to compare with (grant kms:DescribeKey, or give the key "
                "ARN): %s",
                key_identifier,
                error,
            )
            return None

    def invocation_logging_config(self) -> Description:
        """The account's model invocation logging (GetModelInvocationLoggingConfiguration's loggingConfig);
        empty when logging is off."""
        return dict(self.client.get_model_invocation_logging_configuration().get("loggingConfig") or {})

    def invocation_logs_problem(self, request: ValidatedRequest) -> str | None:
        """Why Bedrock would find no invocation logs for a job trained on them (logging off, or delivered
        elsewhere); None when it would, or when the job trains on a file."""
        from bedrock_provider.core.request.invocation_logs import logging_problem

        if request.invocation_logs is None:
            return None
        return logging_problem(
            self.invocation_logging_config(), request.invocation_logs["invocationLogSource"]["s3Uri"]
        )

    def stop_job(self, job_identifier: str) -> bool:
        """Ask Bedrock to stop the job; False when it had already ended (nothing to stop)."""
        description = self.find_job(job_identifier)
        if description is None or description.get("status") != "InProgress":
            return False
        try:
            self.client.stop_model_customization_job(jobIdentifier=job_identifier)
        except Exception as error:
            if job_already_ended(error):
                return False
            raise
        return True

    def list_jobs(self, **filters: Any) -> Iterator[Description]:
        """ListModelCustomizationJobs summaries, following every page. Filters are the API's."""
        paginator = self.client.get_paginator("list_model_customization_jobs")
        for page in paginator.paginate(**filters):
            yield from page.get("modelCustomizationJobSummaries", [])

    def get_custom_model(self, model_identifier: str) -> Description:
        return _strip_metadata(self.client.get_custom_model(modelIdentifier=model_identifier))

    def tag_resource(self, resource_arn: str, tags: dict[str, str]) -> None:
        self.client.tag_resource(
            resourceARN=resource_arn, tags=[{"key": key, "value": value} for key, value in tags.items()]
        )

    def untag_resource(self, resource_arn: str, tag_keys: list[str]) -> None:
        self.client.untag_resource(resourceARN=resource_arn, tagKeys=tag_keys)

    # -- asynchronous API (triggers) ---------------------------------------------------------------

    async def list_jobs_async(self, **filters: Any) -> list[Description]:
        """ListModelCustomizationJobs summaries, following every page. Filters are the API's."""
        summaries: list[Description] = []
        async with self.async_client() as client:
            request = dict(filters)
            while True:
                page = await client.list_model_customization_jobs(**request)
                summaries.extend(page.get("modelCustomizationJobSummaries", []))
                token = page.get("nextToken")
                if not token:
                    return summaries
                request["nextToken"] = token

    async def describe_job_async(self, job_identifier: str) -> Description:
        # Every push-mode wait describes its job when it starts: thousands at once.
        async with self.client_for_call() as client:
            return _strip_metadata(await client.get_model_customization_job(jobIdentifier=job_identifier))

    async def stop_job_async(self, job_identifier: str) -> bool:
        async with self.async_client() as client:
            try:
                description = await client.get_model_customization_job(jobIdentifier=job_identifier)
                if description.get("status") != "InProgress":
                    return False
                await client.stop_model_customization_job(jobIdentifier=job_identifier)
            except Exception as error:
                if job_already_ended(error):
                    return False
                raise
            return True

    def wait_for_job(
        self,
        job_identifier: str,
        poll_interval: float,
        max_wait: float | None = None,
        started_at: float | None = None,
        max_failure_duration: float | None = DEFAULT_MAX_FAILURE_DURATION,
        progress_interval: float | None = DEFAULT_PROGRESS_INTERVAL,
    ) -> Description:
        """Block until the job ends, logging each change of progress (and the unchanged progress again
        every ``progress_interval`` seconds); failing calls back off.

        The deadline is checked on every path and no sleep runs past it. When calls keep failing, the
        connection is read again every few failures, and after ``max_failure_duration`` seconds of
        nothing but failures the wait ends. Returns the final description; raises TimeoutError when
        max_wait passes first, JobWaitError when the calls kept failing.
        """
        from bedrock_provider.core.errors import JobWaitError
        from bedrock_provider.core.waiting import states

        watch = Watch(
            job_identifier,
            started_at if started_at is not None else time.time(),
            max_wait,
            progress_interval=progress_interval,
        )
        failures = FailureRun(max_failure_duration)
        hook: BedrockCustomizationHook = self
        while True:
            try:
                description = hook.describe_job(job_identifier)
            except Exception as error:
                if not is_retryable_failure(error):
                    raise
                failures.failed(error_message(error))
                if failures.exhausted():
                    raise JobWaitError(failures.message(job_identifier)) from error
                if failures.should_reconnect():
                    self.log.warning(
                        "Reading connection %s again after %d failed calls", self.aws_conn_id, failures.count
                    )
                    hook = hook.reconnected()
                delay = watch.next_poll(poll_interval, failed=True)
                self.log.warning(
                    "Describing job %s failed (%s, attempt %d); retrying in %.1f s",
                    job_identifier,
                    error_message(error),
                    failures.count,
                    delay,
                )
                self._sleep_until_deadline(watch, delay)
                continue
            failures.succeeded()
            event, progress = watch.on_description(description)
            if progress is not None:
                self.log.info("%s", states.progress_line(progress, time.time() - watch.started_at))
            if event is not None:
                return description
            self._sleep_until_deadline(watch, watch.next_poll(poll_interval, failed=False))

    @staticmethod
    def _sleep_until_deadline(watch: Watch, seconds: float) -> None:
        """Sleep ``seconds`` (Watch.next_poll keeps them within max_wait); raise TimeoutError (with the
        last known status) once max_wait passed."""
        if watch.expired():
            raise TimeoutError(watch.timeout_event()["message"])
        time.sleep(seconds)
        if watch.expired():
            raise TimeoutError(watch.timeout_event()["message"])
