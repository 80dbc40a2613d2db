"""BedrockModelEvaluationOperator: an automated evaluation job on a deployed model, gated on its scores.

How each kind of model is evaluated is AWS's documented way for it (docs/evaluation.md): a model the job
can invoke goes as ``bedrockModel``; an on-demand custom model deployment is invoked here through
bedrock-runtime, and its responses go to the job as ``precomputedInferenceSource``, judged by
``evaluator_model_id``.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from bedrock_provider.core.errors import JobConflictError
from bedrock_provider.core.lifecycle.deployment import OWNER_TAG
from bedrock_provider.core.lifecycle.evaluation import EvaluationRequest
from bedrock_provider.core.lifecycle.evaluation_job import ValidEvaluation, is_results_file, results_prefix
from bedrock_provider.core.lifecycle.evaluation_scores import (
    DEFAULT_MIN_VALID_FRACTION,
    ScoreTally,
    evaluate_scores,
)
from bedrock_provider.core.lifecycle.resources import EVALUATION_JOB
from bedrock_provider.core.lineage import evaluation_lineage
from bedrock_provider.core.names import attempt_name
from bedrock_provider.core.request.submission import plan_submission
from bedrock_provider.core.waiting.kill import stop_actions
from bedrock_provider.core.waiting.settings import check_wait_settings
from bedrock_provider.operators.base import (
    DEFERRABLE_DEFAULT,
    BedrockBaseOperator,
    aws_template_fields,
    task_identity,
)
from bedrock_provider.operators.gate import on_gate_failure
from bedrock_provider.operators.prompt_dataset import PromptDatasetMixin
from bedrock_provider.operators.waiting import WAIT_SETTINGS, ResourceWaitMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

IF_JOB_DIFFERS = ("fail", "resubmit")
# The templated parameters, kept as attributes of the same names (task_type as evaluation_task_type).
EVALUATION_FIELDS = (
    "job_name",
    "role_arn",
    "model_identifier",
    "evaluation_task_type",
    "output_uri",
    "dataset_uri",
    "dataset_name",
    "metric_names",
    "min_scores",
    "max_scores",
    "on_gate_failure",
    "job_tags",
    "evaluator_model_id",
    "inference_config",
    "min_valid_fraction",
)


class BedrockModelEvaluationOperator(PromptDatasetMixin, ResourceWaitMixin, BedrockBaseOperator):
    """Evaluate a deployed model with an automated Bedrock evaluation job, and gate on its scores.

    :param job_name: evaluation job name: lowercase letters, digits and '-' (at most 63).
    :param role_arn: service role Bedrock assumes to read the dataset, invoke the model and write results.
    :param model_identifier: what to evaluate: the ``deployment_arn`` of BedrockDeployCustomModelOperator
        (a custom model must be deployed first), a provisioned throughput ARN, a foundation model or an
        inference profile. An on-demand deployment is invoked through bedrock-runtime (Converse) once per
        prompt, and the job judges those responses (``evaluator_model_id`` is then required).
    :param task_type: QuestionAndAnswer, Summarization, Classification or Generation.
    :param output_uri: S3 URI under which Bedrock writes the results.
    :param dataset_uri: S3 URI of a custom prompt dataset (JSONL; checked before the job is submitted).
    :param dataset_name: name of the dataset in the job; a built-in dataset (Builtin.*) needs no URI.
    :param metric_names: built-in metrics; default all of the task type's (Builtin.Accuracy, ...), or with
        a judge Builtin.Correctness, Builtin.Completeness and Builtin.Helpfulness.
    :param min_scores: ``{"Builtin.Accuracy": 0.7}``: each score must be at least its minimum.
    :param max_scores: ``{"Builtin.Toxicity": 0.1}``: each score must be at most its maximum.
    :param on_gate_failure: "fail", "skip" (downstream skipped) or "record" (passed=False only).
    :param min_valid_fraction: a score that is null or NaN in the results is counted, logged and left out
        of its metric's mean; a gate over a metric that fewer than this fraction of the prompts scored
        fails (0.9: at least 90%), naming the count.
    :param job_tags: tags of the job.
    :param evaluator_model_id: the judge model (e.g. ``amazon.nova-pro-v1:0``): makes the job a
        model-as-a-judge job, with the judge's metrics (Builtin.Correctness, ...). Required for an
        on-demand deployment.
    :param inference_config: Converse's inferenceConfig for the deployment's responses, e.g.
        ``{"maxTokens": 512, "temperature": 0}``.
    :param stop_job_on_kill: on which user actions on the waiting task the running job is stopped: True
        on mark-failed only (a cleared task's next try adopts it; mark-succeeded leaves it to finish),
        False never, or a set of "mark_failed", "clear", "mark_success" (bedrock_provider.core.waiting.kill).
    :param if_job_differs: what a retry does when this task instance's earlier job evaluated something
        else (another model, dataset, metrics or output: the deployment was re-created since):
        "fail" (default) names each difference; "resubmit" submits a fresh job under the next suffix.

    Exactly once, as the customization operator: the job carries the task instance's token (as its
    clientRequestToken and as a tag, since GetEvaluationJob does not return the token), a retry adopts
    its own InProgress or Completed job when it evaluates the same model, dataset, metrics and output,
    and submits ``name-r2`` when its job Failed or was Stopped. Returns ``{"job_arn", "job_name",
    "status", "scores": {metric: mean score}, "valid_scores": {metric: prompts with a valid score},
    "passed", "gate", "results_uri", "model_identifier", "evaluation_path", "responses_uri"}``. A
    deployment's responses are written once per task instance
    (``{output_uri}/inference-responses/<token>.jsonl``): a retry reuses them and invokes nothing.
    """

    template_fields: Sequence[str] = aws_template_fields(*EVALUATION_FIELDS)
    template_fields_renderers = {
        "min_scores": "json",
        "max_scores": "json",
        "job_tags": "json",
        "inference_config": "json",
    }
    ui_color = "#f4ece4"
    # Set by self.keep_arguments in __init__; declared for the type checker.
    evaluation_task_type: str
    wait_for_completion: bool
    stop_job_on_kill: bool | Iterable[str]
    inference_config: dict[str, Any] | None

    def __init__(
        self,
        *,
        job_name: str,
        role_arn: str,
        model_identifier: str,
        task_type: str,
        output_uri: str,
        dataset_uri: str | None = None,
        dataset_name: str | None = None,
        metric_names: list[str] | None = None,
        min_scores: dict[str, float] | None = None,
        max_scores: dict[str, float] | None = None,
        on_gate_failure: str = "fail",
        job_tags: dict[str, str] | list[dict[str, str]] | None = None,
        evaluator_model_id: str | None = None,
        inference_config: dict[str, Any] | None = None,
        min_valid_fraction: float | str = DEFAULT_MIN_VALID_FRACTION,
        wait_for_completion: bool = True,
        deferrable: bool = DEFERRABLE_DEFAULT,
        poll_interval: float = 60,
        max_wait: float | None = None,
        stop_job_on_kill: bool | Iterable[str] = True,
        if_job_differs: str = "fail",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_wait_settings(poll_interval, max_wait)
        stop_actions(stop_job_on_kill, "stop_job_on_kill")  # refused here, where the DAG is parsed
        # BaseOperator.task_type is the operator's class name: the parameter is kept under another name.
        self.keep_arguments(
            locals(),
            *EVALUATION_FIELDS,
            *WAIT_SETTINGS,
            "stop_job_on_kill",
            evaluation_task_type="task_type",
        )
        if if_job_differs not in IF_JOB_DIFFERS:
            raise ValueError(f"if_job_differs={if_job_differs!r}: must be one of {', '.join(IF_JOB_DIFFERS)}")
        self.if_job_differs = if_job_differs
        self.job_arn: str | None = None
        self._task_instance: Any = None

    def build_request(self) -> EvaluationRequest:
        return self.request_from_attributes(EvaluationRequest, task_type=self.evaluation_task_type)

    def execute(self, context: Context) -> dict[str, Any]:
        started_at = time.time()
        request, description = self.submit_job(context)
        if not self.wait_for_completion:
            return {
                "job_arn": self.job_arn,
                "job_name": description["jobName"],
                "status": description["status"],
            }
        final = self.wait_for_resource(
            EVALUATION_JOB, str(self.job_arn), started_at, kill_parameter="stop_job_on_kill"
        )
        return self._finish(context, request, final)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        _, description = self.resource_from_event(event)
        return self.job_result(context, description)

    def submit_job(self, context: Context) -> tuple[ValidEvaluation, dict[str, Any]]:
        """Everything before the wait: check the request and the prompt dataset, collect an on-demand
        deployment's responses, submit (or adopt) this task instance's job. Also the canary of
        BedrockPromoteCustomModelOperator, which waits for the job itself."""
        request = self.build_request().validate()
        self._task_instance = context["ti"]
        if request.dataset_uri:
            self._check_dataset(request)
        if request.precomputed:
            request = self._collect_responses(request, task_identity(context))
        description = self._submit_or_adopt(request, context)
        self.job_arn = str(description["jobArn"])
        return request, description

    def job_result(self, context: Context, description: dict[str, Any]) -> dict[str, Any]:
        """The result (scores, gate) of the job ``description`` describes, once it ended."""
        request = self.build_request().validate()
        if request.precomputed:
            request = request.with_responses(self._responses_uri(request, task_identity(context)))
        return self._finish(context, request, description)

    def _submit_or_adopt(self, request: ValidEvaluation, context: Context) -> dict[str, Any]:
        identity = task_identity(context)
        hook = self.resource_hook

        def find(name: str) -> dict[str, Any] | None:
            found = hook.find_evaluation_job(name)
            if found is not None:
                # GetEvaluationJob has no clientRequestToken: the job's tag carries it.
                found["clientRequestToken"] = hook.list_tags(str(found["jobArn"])).get(OWNER_TAG)
            return found

        plan = plan_submission(request.job_name, identity, "reattach", find)
        attempt, job_name = plan.attempt, plan.job_name
        if plan.action == "adopt":
            existing = plan.existing or {}
            differences = request.differences(existing)
            if not differences:
                self.log.info("Adopting evaluation job %s: %s", plan.job_name, plan.reason)
                return existing
            listed = "\n".join(f"  - {problem}" for problem in differences)
            if self.if_job_differs != "resubmit":
                raise JobConflictError(
                    f"This task instance's evaluation job {plan.job_name} ({existing.get('jobArn')}) differs "
                    f"from the request, so it is not adopted:\n{listed}\nGive the task a new job_name, or "
                    "set if_job_differs='resubmit'."
                )
            attempt += 1
            job_name = attempt_name(request.job_name, attempt)
            self.log.warning(
                "Evaluation job %s evaluated something else; submitting %s:\n%s",
                plan.job_name,
                job_name,
                listed,
            )
        token = identity.client_request_token(job_name, "evaluation")
        self.log.info("Submitting evaluation job %s (%s)", job_name, plan.reason)
        response = hook.client.create_evaluation_job(**request.create_kwargs(job_name, token))
        return hook.describe(EVALUATION_JOB, str(response["jobArn"]))

    # -- after the job ------------------------------------------------------------------------------

    def _finish(
        self, context: Context, request: ValidEvaluation, description: dict[str, Any]
    ) -> dict[str, Any]:
        status = str(description.get("status"))
        job_name = str(description.get("jobName"))
        if status != "Completed":
            message = EVALUATION_JOB.failure_message(description) or "Bedrock gave no failure message"
            raise AirflowException(f"Evaluation job {job_name} is {status}: {message}")
        job_arn = str(description["jobArn"])
        prefix = results_prefix(request.output_uri, job_name, job_arn)
        tally = self._read_scores(prefix, request)
        scores, prompts, valid_counts = tally.scores(), tally.prompts, tally.valid_counts()
        for exclusion in tally.exclusions():
            self.log.warning("Evaluation job %s: %s", job_name, exclusion)
        gate = evaluate_scores(
            scores,
            request.min_scores,
            request.max_scores,
            valid_counts,
            prompts,
            request.min_valid_fraction,
        )
        result = {
            "job_arn": job_arn,
            "job_name": job_name,
            "status": status,
            "model_identifier": request.model_identifier,
            "dataset_uri": request.dataset_uri,
            "evaluation_path": request.evaluation_path,
            "responses_uri": request.responses_uri,
            "task_type": request.task_type,
            "results_uri": prefix,
            "prompts": prompts,
            "scores": scores,
            "valid_scores": valid_counts,
            "passed": gate.passed,
            "gate": {**gate.as_dict(), "on_failure": request.on_gate_failure},
        }
        self.log.info(
            "Evaluation job %s: %s over %d prompts",
            job_name,
            ", ".join(f"{metric} {value:.4f}" for metric, value in scores.items()),
            prompts,
        )
        self.record_lineage(evaluation_lineage(result))
        if not gate.passed:
            message = f"Evaluation job {job_name} failed the gate: " + "; ".join(gate.reasons)
            on_gate_failure(request.on_gate_failure, message, context, result, self.log)
        return result

    def _read_scores(self, prefix: str, request: ValidEvaluation) -> ScoreTally:
        bucket, key_prefix = self.s3_hook.parse_s3_url(prefix)
        keys = [
            key for key in self.s3_hook.list_keys(bucket, prefix=key_prefix) or [] if is_results_file(key)
        ]
        if not keys:
            raise AirflowException(
                f"No results under {prefix}: Bedrock writes {'{uuid}'}_output.jsonl files there when the job "
                "completes. Check output_uri and that this connection may read it."
            )
        tally = ScoreTally(request.metric_names)
        for key in sorted(keys):
            body = self.s3_hook.get_key(key, bucket).get()["Body"]
            for number, line in enumerate(io.TextIOWrapper(body, encoding="utf-8"), start=1):
                tally.add_line(line, f"s3://{bucket}/{key}", number)
        return tally

    def on_kill(self) -> None:
        """The worker's blocking wait killed: stop the running job on the user actions in
        stop_job_on_kill only (see bedrock_provider.core.waiting.kill)."""
        self.kill_resource(EVALUATION_JOB, self.job_arn, "stop_job_on_kill")
