"""BedrockModelCustomizationOperator: submit a customization job exactly once and wait for it."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowFailException

from bedrock_provider.core.errors import InvalidInputError, MissingDataError
from bedrock_provider.core.request.amazon_compat import (
    AMAZON_WAITER_DELAY,
    if_job_exists_for,
    max_wait_for,
    region_name_for,
    with_api_kwargs,
)
from bedrock_provider.core.request.customization import CustomizationRequest, non_finite_problems
from bedrock_provider.core.request.results import job_result
from bedrock_provider.core.request.submission import check_if_job_exists
from bedrock_provider.core.waiting.failure_run import DEFAULT_MAX_FAILURE_DURATION
from bedrock_provider.core.waiting.kill import stop_actions
from bedrock_provider.core.waiting.push_mode import DEFAULT_SAFETY_POLL_INTERVAL
from bedrock_provider.core.waiting.settings import DEFAULT_PROGRESS_INTERVAL, check_wait_settings
from bedrock_provider.links import BedrockCustomizationJobLink, BedrockCustomModelLink
from bedrock_provider.operators.base import (
    DEFERRABLE_DEFAULT,
    BedrockBaseOperator,
    aws_template_fields,
    deployment_namespace,
    task_identity,
)
from bedrock_provider.operators.costs import CostEstimateMixin
from bedrock_provider.operators.customization_wait import CustomizationWaitMixin
from bedrock_provider.operators.quota import DEFAULT_MAX_QUOTA_WAIT, QuotaWaitMixin, check_max_quota_wait
from bedrock_provider.operators.stable_name import StableJobNameMixin
from bedrock_provider.operators.waiting import WAIT_SETTINGS

if TYPE_CHECKING:
    from airflow.sdk import Context

# The templated parameters of the job, kept as attributes of the same names.
JOB_FIELDS = (
    "job_name",
    "custom_model_name",
    "role_arn",
    "base_model_id",
    "training_data_uri",
    "output_data_uri",
    "hyperparameters",
    "validation_data_uri",
    "customization_type",
    "custom_model_kms_key_id",
    "vpc_config",
    "job_tags",
    "custom_model_tags",
    "customization_job_kwargs",
    "if_job_exists",
    "events_queue_url",
    "max_estimated_cost",
    "training_tokens",
    "price_overrides",
    "grader_lambda_arn",
    "invocation_logs",
    "model_family",
    "model_checks",
)


def configured_model_checks(model_checks: object = None) -> object:
    """The task's model_checks, else ``[bedrock] model_checks`` (the core checks the value)."""
    if model_checks is not None and model_checks != "":
        return model_checks
    return conf.get("bedrock", "model_checks", fallback="strict") or "strict"


class BedrockModelCustomizationOperator(
    StableJobNameMixin, QuotaWaitMixin, CustomizationWaitMixin, CostEstimateMixin, BedrockBaseOperator
):
    """Submit an Amazon Bedrock model customization job once per task instance and wait for it.

    The parameters it shares with the Amazon provider's BedrockCustomizeModelOperator mean the same,
    so moving a DAG over is an import change.

    :param job_name: name of the job (letters, digits, '-', '+', '.'; at most 63), the same on every
        try. ``"{{ ti | bedrock_job_name }}"`` gives one unique per DAG run, task and map index; the
        ``bedrock_name`` filter turns any text into a valid name.
    :param custom_model_name: name of the model the job creates (letters, digits, '-', '_').
    :param role_arn: IAM service role Bedrock assumes to read the data and write the output.
    :param base_model_id: the model to customize, e.g. ``amazon.titan-text-express-v1``.
    :param training_data_uri: S3 URI of the training JSONL file (None when ``invocation_logs`` is given).
    :param output_data_uri: S3 URI under which Bedrock writes metrics and artifacts.
    :param hyperparameters: name to value (int, float or str; sent as strings), checked against
        Bedrock's documented ranges for the base model's family.
    :param validation_data_uri: S3 URI (or list of up to 10) of validation data.
    :param customization_type: FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION or
        REINFORCEMENT_FINE_TUNING.
    :param custom_model_kms_key_id: KMS key ARN that encrypts the custom model.
    :param vpc_config: ``{"subnetIds": [...], "securityGroupIds": [...]}``.
    :param job_tags: tags of the job (dict, or Bedrock's list of key/value).
    :param custom_model_tags: tags of the custom model.
    :param customization_job_kwargs: other CreateModelCustomizationJob parameters
        (``customizationConfig`` for distillation).
    :param grader_lambda_arn: REINFORCEMENT_FINE_TUNING only, and required there: the ARN of the Lambda
        function that grades the model's responses (``rftConfig.graderConfig.lambdaGrader``). The job's
        ``hyperparameters`` then go to ``rftConfig.hyperParameters``, typed, checked against botocore's
        RFTHyperParameters bounds (docs/rft.md).
    :param invocation_logs: DISTILLATION and REINFORCEMENT_FINE_TUNING: train on the account's model
        invocation logs instead of ``training_data_uri``: ``{"s3_uri": "s3://logs-bucket/prefix/",
        "use_prompt_response": False, "request_metadata_filters": {"equals": {"project": "x"}}}``
        (``trainingDataConfig.invocationLogsConfig``). Before the Create call the operator checks that
        invocation logging is on and delivers to that bucket (GetModelInvocationLoggingConfiguration).
    :param model_family: tags the custom model ``airflow:model-family=<family>`` and
        ``airflow:namespace=<this deployment's namespace>`` (with ``custom_model_tags``): the tags
        BedrockCustomModelRetentionOperator(model_family=...) reads to know which models it may delete.
        A tag value (letters, digits, spaces, ._:/=+@-); None tags nothing.
    :param if_job_exists: "reattach" (adopt this task instance's own job when it was submitted for
        the same request, fail naming the differences otherwise; retry a failed one under name-r2,
        name-r3...), "resubmit_on_change" (as reattach, but a job whose request differs is replaced
        by a fresh one under the next suffix), "rename" (always submit under the next suffix),
        "fail", or "reattach_or_rename" (as "reattach", but a job of the name that is not this task
        instance's, or ours for a different request, is stepped around with the next suffix).
    :param wait_for_completion: wait for the job to end; False returns once it is submitted.
    :param deferrable: wait in the triggerer, holding no worker slot.
    :param poll_interval: seconds between status checks.
    :param max_wait: give up waiting after this many seconds (the job keeps running); None waits as
        long as the job runs.
    :param stop_job_on_kill: what a user's action on the waiting task does to the job: True (default)
        stops it when the task is marked failed; a cleared task's next try adopts the running job and
        a task marked succeeded leaves it to finish. False never stops it; a set of "mark_failed",
        "clear", "mark_success" stops it on those.
    :param max_quota_wait: when Bedrock answers ServiceQuotaExceededException (the account already runs
        as many customization jobs as its quota allows, e.g. in a sweep), wait for a slot, checking
        every ``poll_interval`` seconds (deferred when ``deferrable``, holding no worker), for at most
        this many seconds before failing the task; 0 fails at once.
    :param events_queue_url: SQS queue fed by an EventBridge rule on Bedrock's "Model Customization
        Job State Change" events (docs/push-mode.md): the trigger wakes on the event instead of
        waiting for the next poll, and polls every ``safety_poll_interval`` seconds in case an event
        is lost. Deferrable mode only.
    :param max_estimated_cost: budget in USD: a job whose estimated training cost (training tokens x
        epochs x the model's price per 1,000 tokens) is higher, or cannot be estimated, is refused
        before any Create call. None (the default): no budget; the estimate is still logged and
        returned as ``estimated_cost``.
    :param training_tokens: the training data's token count, e.g. ``prepare.output["training_tokens"]``
        from BedrockPrepareDatasetOperator; None counts them by streaming the training file.
    :param price_overrides: prices for this task's model, laid over the catalog's and the
        connection's ``bedrock_prices`` extra, e.g. ``{"training_per_1k_tokens": 0.0085}`` (prices
        differ by region and change).
    :param model_checks: "strict" refuses what the model catalog says Bedrock would refuse (a retired
        model, a type or Region it does not list, a hyperparameter outside its table); "warn" logs it
        and lets Bedrock decide. None (the default): ``[bedrock] model_checks``, else "strict".
        Models and versions the catalog does not know always pass with a warning.
    :param max_failure_duration: when every call about the job fails for this many seconds (an
        endpoint down, credentials refused), the wait ends with an error; meanwhile the connection is
        read again every few failures, so a fixed endpoint or rotated credentials are picked up.
        None: retry as long as the wait lasts.
    :param progress_interval: while the job runs without a change of progress, its progress line
        (status, time since submission, the stages Bedrock reports) is logged again once this many
        seconds passed, at the next check (default 600); None logs only changes.
    :param aws_conn_id: Airflow AWS connection; region_name, verify and botocore_config as in the
        Amazon provider.
    """

    template_fields: Sequence[str] = aws_template_fields(*JOB_FIELDS)
    template_fields_renderers = {
        "hyperparameters": "json",
        "vpc_config": "json",
        "job_tags": "json",
        "custom_model_tags": "json",
        "customization_job_kwargs": "json",
        "price_overrides": "json",
        "invocation_logs": "json",
    }
    ui_color = "#e8f4fa"
    operator_extra_links = (BedrockCustomizationJobLink(), BedrockCustomModelLink())
    # Set by self.keep_arguments in __init__ (with JOB_FIELDS); declared for the type checker.
    if_job_exists: str
    wait_for_completion: bool
    model_family: str | None
    model_checks: str | None

    def __init__(
        self,
        *,
        job_name: str,
        custom_model_name: str,
        role_arn: str,
        base_model_id: str,
        training_data_uri: str | None = None,
        output_data_uri: str,
        hyperparameters: dict[str, Any] | None = None,
        validation_data_uri: str | list[str] | None = None,
        customization_type: str = "FINE_TUNING",
        custom_model_kms_key_id: str | None = None,
        vpc_config: dict[str, list[str]] | None = None,
        job_tags: dict[str, str] | list[dict[str, str]] | None = None,
        custom_model_tags: dict[str, str] | list[dict[str, str]] | None = None,
        customization_job_kwargs: dict[str, Any] | None = None,
        if_job_exists: str = "reattach",
        wait_for_completion: bool = True,
        deferrable: bool = DEFERRABLE_DEFAULT,
        poll_interval: float = 60,
        max_wait: float | None = None,
        stop_job_on_kill: bool | Iterable[str] = True,
        max_quota_wait: float = DEFAULT_MAX_QUOTA_WAIT,
        events_queue_url: str | None = None,
        safety_poll_interval: float = DEFAULT_SAFETY_POLL_INTERVAL,
        max_estimated_cost: float | str | None = None,
        training_tokens: int | str | None = None,
        price_overrides: dict[str, Any] | None = None,
        max_failure_duration: float | None = DEFAULT_MAX_FAILURE_DURATION,
        grader_lambda_arn: str | None = None,
        invocation_logs: dict[str, Any] | None = None,
        model_family: str | None = None,
        model_checks: str | None = None,
        progress_interval: float | None = DEFAULT_PROGRESS_INTERVAL,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_wait_settings(
            poll_interval,
            max_wait,
            safety_poll_interval=safety_poll_interval,
            max_failure_duration=max_failure_duration,
            progress_interval=progress_interval,
        )
        if "{{" not in str(if_job_exists):  # a template is checked once rendered, before any AWS call
            check_if_job_exists(if_job_exists)
        stop_actions(stop_job_on_kill)  # refused here, where the DAG is parsed
        not_finite = non_finite_problems(
            {
                "hyperparameters": hyperparameters,
                "vpc_config": vpc_config,
                "job_tags": job_tags,
                "custom_model_tags": custom_model_tags,
                "customization_job_kwargs": customization_job_kwargs,
            }
        )
        if not_finite:
            raise InvalidInputError("Invalid Bedrock model customization request", not_finite)
        check_max_quota_wait(max_quota_wait)
        self.keep_arguments(locals(), *JOB_FIELDS, *WAIT_SETTINGS, "stop_job_on_kill", "max_quota_wait")
        self.keep_arguments(locals(), "safety_poll_interval", "max_failure_duration", "progress_interval")
        self.job_arn: str | None = None
        self._task_instance: Any = None

    def build_request(self) -> CustomizationRequest:
        # The Region the job would be sent to (the task's, else its connection's: read, no AWS call),
        # so that a base model Bedrock does not customize there is refused before the Create call.
        # The namespace is read only for a family: it may create the Airflow Variable that holds it.
        namespace = deployment_namespace() if self.model_family is not None else ""
        return self.request_from_attributes(
            CustomizationRequest,
            region_name=self.hook.region_name,
            namespace=namespace,
            model_checks=configured_model_checks(self.model_checks),
        )

    def execute(self, context: Context) -> Any:
        self._check_job_name_is_stable()
        request = self.build_request().validate()
        for warning in request.warnings:
            self.log.warning("%s", warning)
        # The estimate reads the training file: every parameter is checked before that first AWS call.
        check_if_job_exists(self.if_job_exists)
        logs_problem = self.hook.invocation_logs_problem(request)
        if logs_problem is not None:
            raise AirflowFailException(logs_problem)
        data_gone: MissingDataError | None = None
        try:
            estimated_cost = self.estimate_once(context, request, resuming=self.resuming_from_quota_wait)
        except MissingDataError as error:
            if self.if_job_exists != "reattach":
                raise
            # A re-run after the data expired: the job this task instance submitted with it is
            # adopted; a new one is refused with this error.
            data_gone = error

        self._task_instance = context["ti"]
        started_at = time.time()
        submitted = self.submit_when_quota_allows(
            lambda: self.hook.submit_job(request, task_identity(context), self.if_job_exists, data_gone)
        )
        if data_gone is not None:
            self.log.warning(
                "%s\nJob %s, which this task instance submitted with that data before, is adopted, not "
                "submitted again.",
                data_gone,
                submitted.job_name,
            )
            estimated_cost = self.estimate_once(context, request, resuming=False, data_gone=True)
        self.job_arn = submitted.job_arn
        BedrockCustomizationJobLink.persist(context, self, submitted.job_arn)
        self.log.info(
            "%s job %s (%s) for custom model %s",
            "Adopted" if submitted.adopted else "Submitted",
            submitted.job_name,
            submitted.job_arn,
            submitted.custom_model_name,
        )
        if not self.wait_for_completion:
            return self.result_value(
                job_result(self.hook.describe_job(submitted.job_arn), estimated_cost=estimated_cost)
            )

        return self.wait_for_job(context, submitted, started_at, estimated_cost)


class BedrockCustomizeModelOperator(BedrockModelCustomizationOperator):
    """The Amazon provider's BedrockCustomizeModelOperator, same parameters, same return value (the job
    ARN), on this provider's validation, exactly-once submission, waiting and on_kill.

    Moving a DAG over is an import change. Where the Amazon semantics are weaker, the name is kept and
    the meaning is stronger (README, "Moving over from the Amazon provider"):

    :param ensure_unique_job_name: True (the default): when a job of ``job_name`` exists that this task
        instance did not submit, submit under the next suffix (``-r2``, ``-r3``), the custom model's
        name included, which Bedrock also needs unique. A retry of the same task instance is never
        renamed: it adopts the job an earlier try submitted. False: adopt this task instance's own
        job, fail on anyone else's.
    :param waiter_delay: seconds between status checks (also the trigger's poll interval).
    :param waiter_max_attempts: when given, the wait gives up after ``waiter_max_attempts *
        waiter_delay`` seconds (the job keeps running). Not given: the wait lasts as long as the job.
    :param deferrable: wait in the triggerer; implies waiting, as in the Amazon operator. Defaults to
        the ``[operators] default_deferrable`` setting, as there.
    :param customization_job_kwargs: other CreateModelCustomizationJob parameters. Those this provider
        validates under a name of its own (validationDataConfig, customizationType, jobTags,
        customModelTags, customModelKmsKeyId, vpcConfig) are checked as such before any AWS call.
    :param region: the Amazon provider's deprecated name of ``region_name``: read as it (with a
        DeprecationWarning), refused when ``region_name`` names another Region.

    Any other parameter of BedrockModelCustomizationOperator (``job_tags``, ``stop_job_on_kill``,
    ``events_queue_url``...) is taken too. Returns (XCom) the job ARN.
    """

    template_fields: Sequence[str] = tuple(
        field for field in BedrockModelCustomizationOperator.template_fields if field != "if_job_exists"
    ) + ("ensure_unique_job_name",)

    def __init__(
        self,
        *,
        ensure_unique_job_name: bool = True,
        wait_for_completion: bool = True,
        waiter_delay: int = AMAZON_WAITER_DELAY,
        waiter_max_attempts: int | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        region: str | None = None,
        **kwargs: Any,
    ) -> None:
        # job_name, custom_model_name, role_arn, base_model_id, training_data_uri, output_data_uri,
        # hyperparameters and customization_job_kwargs have the same names and meaning as there.
        kwargs["region_name"] = region_name_for(kwargs.get("region_name"), region)
        super().__init__(
            wait_for_completion=wait_for_completion or deferrable,
            deferrable=deferrable,
            poll_interval=waiter_delay,
            max_wait=max_wait_for(waiter_delay, waiter_max_attempts, "waiter_delay", "waiter_max_attempts"),
            **kwargs,
        )
        self.ensure_unique_job_name = ensure_unique_job_name
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts

    def build_request(self) -> CustomizationRequest:
        return with_api_kwargs(super().build_request())

    def execute(self, context: Context) -> Any:
        self.if_job_exists = if_job_exists_for(self.ensure_unique_job_name)
        return super().execute(context)

    def result_value(self, result: dict[str, Any]) -> Any:
        """The job ARN, as the Amazon operator returns it."""
        return result.get("job_arn")
