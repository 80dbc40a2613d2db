"""The evaluation's prompt dataset on S3, before the job: checked before any Bedrock call, and, for an
on-demand deployment, answered by it through bedrock-runtime once per task instance.

BedrockModelEvaluationOperator evaluates an on-demand deployment on responses it brings to the job
("Prepare a dataset for an evaluation job using your own inference response data"): each prompt is sent
through Converse, and the dataset with the responses is written under the output URI, where a retry of
the same task instance finds it and invokes nothing.
"""

from __future__ import annotations

import io
from functools import cached_property
from typing import TYPE_CHECKING, Any

from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.lifecycle.precomputed_inference import (
    converse_request,
    prompt_records,
    record_with_response,
    response_text,
    responses_file,
    responses_uri,
)

if TYPE_CHECKING:
    from bedrock_provider.core.lifecycle.evaluation_job import ValidEvaluation
    from bedrock_provider.core.names import TaskIdentity
    from bedrock_provider.hooks.runtime import BedrockRuntimeHook
    from bedrock_provider.operators.base import BedrockBaseOperator as _OperatorBase
else:
    _OperatorBase = object


class PromptDatasetMixin(_OperatorBase):
    """For an operator on BedrockBaseOperator (the connection, ``s3_hook``) that sets ``inference_config``
    (Converse's inferenceConfig for the deployment's responses)."""

    inference_config: dict[str, Any] | None

    @cached_property
    def runtime_hook(self) -> BedrockRuntimeHook:
        from bedrock_provider.hooks.runtime import BedrockRuntimeHook

        return self._on_shared_connection(BedrockRuntimeHook(**self.aws_hook_kwargs()))

    def _check_dataset(self, request: ValidEvaluation) -> None:
        """Read the prompt dataset from S3 and refuse it, naming each bad line, before any Bedrock call."""
        # The dataset checks (msgspec, the format tables) load when a task runs, not when a DAG parses.
        from bedrock_provider.core.datasets.evaluation import check_prompt_dataset

        uri = str(request.dataset_uri)
        bucket, key = self.s3_hook.parse_s3_url(uri)
        if not self.s3_hook.check_for_key(key, bucket):
            raise InvalidInputError(
                "Invalid evaluation request",
                [Problem("dataset_uri", uri, "no object at that S3 URI; upload the prompt dataset first")],
            )
        body = self.s3_hook.get_key(key, bucket).get()["Body"]
        report = check_prompt_dataset(body, request.needs_reference)
        if not report.valid:
            raise InvalidInputError(
                "Invalid evaluation request", [Problem("dataset_uri", uri, report.summary(uri))]
            )
        self.log.info("Prompt dataset %s: %d prompts, all valid", uri, report.prompts)

    def _responses_uri(self, request: ValidEvaluation, identity: TaskIdentity) -> str:
        """Where this task instance's responses of the deployment go: the token derives from the task
        instance, the deployment and the prompt dataset's URI and ETag (an edited dataset is invoked anew)."""
        uri = str(request.dataset_uri)
        bucket, key = self.s3_hook.parse_s3_url(uri)
        etag = str((self.s3_hook.head_object(key, bucket) or {}).get("ETag", ""))
        fingerprint = "\x1f".join(("responses", request.model_identifier, uri, etag))
        return responses_uri(request.output_uri, identity.client_request_token(request.job_name, fingerprint))

    def _collect_responses(self, request: ValidEvaluation, identity: TaskIdentity) -> ValidEvaluation:
        """Invoke the deployment once per prompt and write the prompt dataset with its responses, in the
        format of "Prepare a dataset for an evaluation job using your own inference response data"; or
        reuse the file an earlier try of this task instance wrote."""
        uri = self._responses_uri(request, identity)
        bucket, key = self.s3_hook.parse_s3_url(uri)
        if self.s3_hook.check_for_key(key, bucket):
            self.log.info(
                "Reusing the responses of %s this task instance wrote: %s", request.model_identifier, uri
            )
            return request.with_responses(uri)
        source_bucket, source_key = self.s3_hook.parse_s3_url(str(request.dataset_uri))
        body = self.s3_hook.get_key(source_key, source_bucket).get()["Body"]
        records = prompt_records(io.TextIOWrapper(body, encoding="utf-8"))
        from bedrock_provider.hooks.runtime import InvocationTally

        tally = InvocationTally()
        source = str(request.inference_source)
        answered = []
        for record in records:
            call = converse_request(request.model_identifier, str(record["prompt"]), self.inference_config)
            answered.append(
                record_with_response(record, response_text(self.runtime_hook.converse(call, tally)), source)
            )
        self.s3_hook.load_bytes(responses_file(answered), key, bucket, replace=True)
        self.log.info(
            "Invoked %s %d times for %d prompts (%d retries after throttling or server errors; %d input "
            "and %d output tokens); the responses, as %s, are in %s",
            request.model_identifier,
            tally.calls,
            len(records),
            tally.retries,
            tally.input_tokens,
            tally.output_tokens,
            source,
            uri,
        )
        return request.with_responses(uri)
