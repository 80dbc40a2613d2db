"""Cost estimates and budgets for the operators: prices from the catalog, the connection and the task.

The arithmetic is in core/catalog/cost.py, the prices in core/catalog/prices.py and their overrides in
core/catalog/price_lookup.py; this module only reads what Airflow holds (the connection's
``bedrock_prices`` extra, the training file through the connection) and turns a refusal into a task
failure that is not retried: the same inputs give the same estimate.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_provider.core.catalog.cost import CostEstimate, TokenCount
    from bedrock_provider.core.catalog.prices import ModelPrices
    from bedrock_provider.core.request.customization import ValidatedRequest
    from bedrock_provider.operators.base import BedrockAwsMixin
    from bedrock_provider.operators.base import BedrockBaseOperator as _OperatorBase
else:
    _OperatorBase = object

# The XCom key of a customization task's estimate, besides its place in the task's result.
ESTIMATED_COST = "estimated_cost"


def connection_prices(hook: Any, aws_conn_id: str | None) -> object:
    """The ``bedrock_prices`` extra of an AWS connection (through its AwsBaseHook), or None."""
    from bedrock_provider.core.catalog.price_lookup import CONNECTION_EXTRA

    if not aws_conn_id:
        return None
    extra = hook.conn_config.extra_config or {}
    return extra.get(CONNECTION_EXTRA)


def model_prices(
    hook: Any, aws_conn_id: str | None, base_model_id: str, price_overrides: object
) -> ModelPrices | None:
    """The catalog's prices for the model, overridden by the connection's extra, then by the task's
    ``price_overrides``. Bad overrides fail the task before any AWS call."""
    from bedrock_provider.core.catalog.price_lookup import resolve_prices
    from bedrock_provider.core.errors import InvalidInputError

    try:
        extra = connection_prices(hook, aws_conn_id)
        return resolve_prices(base_model_id, extra, price_overrides, aws_conn_id)
    except InvalidInputError as error:
        raise AirflowFailException(str(error)) from error


def region_warning(operator: BedrockAwsMixin, prices: ModelPrices | None) -> str | None:
    """Prices are per region: say so when the job runs where the prices were not read."""
    if prices is None or not prices.any_known or set(prices.overridden) >= {"training_per_1k_tokens"}:
        return None
    region = operator.region_name or operator.hook.conn_region_name
    if region and region not in prices.regions:
        return (
            f"The prices of {prices.title} were read for {', '.join(prices.regions)}; this job runs in "
            f"{region}, where they may differ: set price_overrides or the connection's bedrock_prices extra"
        )
    return None


def look_at_object(operator: BedrockAwsMixin, uri: str) -> str:
    """Whether the S3 object exists, as HeadObject through the operator's connection tells it
    (core/request/preflight.py says what a 403 means)."""
    from botocore.exceptions import ClientError

    from bedrock_provider.core.request.preflight import CANNOT_TELL, MISSING, PRESENT
    from bedrock_provider.core.s3 import split_s3_uri
    from bedrock_provider.hooks.errors import error_http_status

    bucket, key = split_s3_uri(uri)
    try:
        found = operator.s3_hook.head_object(key, bucket)
    except ClientError as error:
        if error_http_status(error) == 403:
            return CANNOT_TELL
        raise
    return PRESENT if found is not None else MISSING


def refuse_missing_data(operator: BedrockAwsMixin, request: ValidatedRequest) -> list[str]:
    """A training or validation object that does not exist fails the task (MissingDataError) before
    any Create call, unless the operator adopts the job it submitted before; retries apply, for data
    that an upstream system has yet to deliver. Returns a warning for each object this connection
    cannot see."""
    from bedrock_provider.core.request.preflight import check_data_objects

    return check_data_objects(
        request.training_data_uri, request.validation_data_uris, lambda uri: look_at_object(operator, uri)
    )


def count_tokens_in_s3(
    operator: BedrockAwsMixin, request: ValidatedRequest
) -> tuple[TokenCount | None, str, tuple[str, ...]]:
    """Stream the training file through the operator's connection and count its tokens.

    Returns (count or None, why it is None, notes). A file this connection cannot read is not an error
    here (Bedrock reads it with the job's service role): the estimate is then unknown.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from bedrock_provider.core.datasets.tokens import count_training_tokens

    uri = request.training_data_uri
    if uri is None:
        return None, "the job trains on the account's invocation logs, which are not counted beforehand", ()
    try:
        with operator.artifacts.open_binary(uri) as stream:
            if stream is None:
                return None, f"{uri} does not exist, or this connection cannot see it", ()
            count, notes = count_training_tokens(
                stream, uri, request.customization_type, request.base_model_id
            )
    except (ClientError, BotoCoreError, OSError) as error:
        return None, f"the training file could not be read to count them: {error}", ()
    return count, "", notes


def estimate_job_cost(
    operator: BedrockAwsMixin,
    request: ValidatedRequest,
    training_tokens: object,
    price_overrides: object,
    data_gone: bool = False,
) -> CostEstimate:
    """The job's estimate: tokens from ``training_tokens`` (the prep operator's output) when given,
    otherwise counted in the training file. The data objects must exist, unless ``data_gone`` says
    they are gone and the job that read them is being adopted: its tokens are then unknown."""
    from bedrock_provider.core.catalog.cost import TokenCount, estimate_training_cost

    # Every parameter is checked before the training file is read.
    prices = model_prices(operator.hook, operator.aws_conn_id, request.base_model_id, price_overrides)
    given = parse_training_tokens(training_tokens)
    unseen = [] if data_gone else refuse_missing_data(operator, request)
    tokens: TokenCount | None = None
    unknown_reason = ""
    notes: tuple[str, ...] = ()
    if given is not None:
        tokens = TokenCount(given, "training_tokens parameter (from dataset preparation)")
    elif data_gone:
        unknown_reason = "the training file no longer exists, so its tokens could not be counted"
    else:
        tokens, unknown_reason, notes = count_tokens_in_s3(operator, request)
    estimate = estimate_training_cost(
        request.base_model_id,
        tokens,
        request.hyperparameters,
        prices,
        request.customization_type,
        tokens_unknown_reason=unknown_reason or "the training tokens were not counted",
    )
    warning = region_warning(operator, prices)
    extra = (*unseen, *notes, *((warning,) if warning else ()))
    if extra:
        from dataclasses import replace

        estimate = replace(estimate, warnings=(*estimate.warnings, *extra))
    return estimate


def parse_training_tokens(value: object) -> int | None:
    """``training_tokens`` as given: an int from XCom, text from a template, or None."""
    from bedrock_provider.core.values import parse_integer

    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    number = parse_integer(value, "training_tokens", [], minimum=0)
    if number is None:
        raise AirflowFailException(
            f"training_tokens={value!r}: must be a whole number of tokens of 0 or more (e.g. the "
            "training_tokens of BedrockPrepareDatasetOperator's result), or None to count them in the file"
        )
    return number


def refuse_over_budget(check: Any, *args: Any) -> None:
    """Run a budget check; its refusal fails the task without retries."""
    from bedrock_provider.core.catalog.cost import BudgetExceededError

    try:
        check(*args)
    except BudgetExceededError as error:
        raise AirflowFailException(str(error)) from error
    except ValueError as error:
        raise AirflowFailException(str(error)) from error


def log_estimate(log: Any, estimate: CostEstimate) -> None:
    """The estimate in one short line that a log view shows whole (the total and its three factors);
    the full derivation (where the tokens, the epochs and the price came from) at DEBUG and in the
    result's ``estimated_cost["derivation"]``."""
    from bedrock_provider.core.catalog.cost import summarize

    for warning in estimate.warnings:
        log.warning("%s", warning)
    log.info("Estimated cost: %s", summarize(estimate.to_xcom()))
    log.debug("Estimated cost, derived: %s", estimate.describe())


class CostEstimateMixin(_OperatorBase):
    """The customization operator's estimate and budget (``max_estimated_cost``, ``training_tokens``,
    ``price_overrides``): made once per try, before the Create call, and kept in its own XCom."""

    max_estimated_cost: float | str | None
    training_tokens: int | str | None
    price_overrides: dict[str, Any] | None

    def estimate_cost(self, request: ValidatedRequest, data_gone: bool = False) -> dict[str, Any]:
        """Estimate the job's training cost, log it, and refuse it above ``max_estimated_cost``: all
        before any Create call. Returns the ``estimated_cost`` of the XCom. With ``data_gone`` (the job
        is adopted after its data expired) nothing is refused: no Create follows, and the budget was
        checked when the job was submitted."""
        from bedrock_provider.core.catalog.cost import check_training_budget, parse_budget

        try:
            budget = parse_budget(self.max_estimated_cost, "max_estimated_cost")
        except ValueError as error:
            raise AirflowFailException(str(error)) from error
        estimate = estimate_job_cost(self, request, self.training_tokens, self.price_overrides, data_gone)
        log_estimate(self.log, estimate)
        if not data_gone:
            refuse_over_budget(check_training_budget, estimate, budget)
        return {**estimate.to_xcom(), "derivation": estimate.describe()}

    def estimate_once(
        self,
        context: Context,
        request: ValidatedRequest,
        *,
        resuming: bool,
        data_gone: bool = False,
    ) -> Any:
        """The estimate of this try: made and pushed to its own XCom, or, when the task is resuming
        (back from a quota wait), read back from there."""
        if resuming:
            return self.stored_estimate(context)
        estimated_cost = self.estimate_cost(request, data_gone)
        # Its own XCom too: it outlives a deferral (execute_complete and a return from a quota wait
        # read it back) and a sweep or a report can read it without the job's result.
        context["ti"].xcom_push(key=ESTIMATED_COST, value=estimated_cost)
        return estimated_cost

    def stored_estimate(self, context: Context) -> Any:
        ti = context["ti"]
        return ti.xcom_pull(task_ids=ti.task_id, key=ESTIMATED_COST, map_indexes=ti.map_index)


def estimate_sweep(
    base_model_id: str,
    training_tokens: object,
    hyperparameter_sets: list[dict[str, Any]],
    max_total_estimated_cost: object = None,
    aws_conn_id: str | None = "aws_default",
    price_overrides: object = None,
    log: Any = None,
) -> dict[str, Any]:
    """The estimated training cost of every job of a sweep (one per hyperparameter set) and their sum,
    logged; above ``max_total_estimated_cost`` (or unknown while it is set) the task fails, so that no
    job of the sweep is submitted. Call it in the task that builds the grid, before the mapped jobs."""
    from bedrock_provider.core.catalog.cost import (
        TokenCount,
        check_sweep_budget,
        estimate_training_cost,
        parse_budget,
        sum_estimates,
        usd,
    )
    from bedrock_provider.hooks.customization import BedrockCustomizationHook

    logger = log or logging.getLogger(__name__)
    try:
        budget = parse_budget(max_total_estimated_cost, "max_total_estimated_cost")
    except ValueError as error:
        raise AirflowFailException(str(error)) from error
    hook = BedrockCustomizationHook(aws_conn_id=aws_conn_id)
    prices = model_prices(hook, aws_conn_id, base_model_id, price_overrides)
    count = parse_training_tokens(training_tokens)
    tokens = TokenCount(count, "the prepared dataset's training_tokens") if count is not None else None
    sweep = sum_estimates(
        estimate_training_cost(base_model_id, tokens, hyperparameters, prices)
        for hyperparameters in hyperparameter_sets
    )
    for warning in dict.fromkeys(w for estimate in sweep.estimates for w in estimate.warnings):
        logger.warning("%s", warning)
    for index, estimate in enumerate(sweep.estimates):
        total = usd(estimate.usd) if estimate.usd is not None else "unknown"
        logger.info("job %d: %s (%s epochs)", index, total, estimate.epochs)
    logger.info("Sweep: %s", sweep.describe())
    refuse_over_budget(check_sweep_budget, sweep, budget)
    return {"usd": sweep.usd, "jobs": [estimate.to_xcom() for estimate in sweep.estimates]}


# -- storage and Provisioned Throughput (the retention and deploy operators) ---------------------------


def storage_prices(operator: BedrockAwsMixin, base_model_ids: list[str]) -> dict[str, ModelPrices | None]:
    """Each base model's prices, read at once, so that a bad ``bedrock_prices`` extra fails the task
    before anything is deleted."""
    return {
        base_model_id: model_prices(operator.hook, operator.aws_conn_id, base_model_id, None)
        for base_model_id in dict.fromkeys(base_model_ids)
    }


def storage_saved(
    operator: BedrockAwsMixin,
    base_model_ids: list[str],
    log: Any,
    prices: dict[str, ModelPrices | None] | None = None,
) -> dict[str, Any]:
    """The monthly storage no longer billed once custom models trained from these base models are
    deleted, logged; ``usd`` None when a price is unknown (the warning names the model). ``prices``:
    what storage_prices read earlier."""
    from bedrock_provider.core.catalog.cost import usd
    from bedrock_provider.core.catalog.recurring_cost import monthly_storage

    known = dict(prices or {})
    known.update(storage_prices(operator, [base for base in base_model_ids if base not in known]))
    saved = monthly_storage(base_model_ids, known.get)
    for warning in saved.warnings:
        log.warning("%s", warning)
    if base_model_ids:
        shown = usd(saved.usd) if saved.usd is not None else "an unknown amount"
        log.info("Storage: deleting %d custom model(s) saves %s a month", len(base_model_ids), shown)
    return saved.to_dict()


def provisioned_throughput_cost(
    operator: BedrockAwsMixin,
    base_model_id: str,
    model_units: object,
    commitment_duration: str | None,
    max_hourly_cost: object,
    price_overrides: object,
    log: Any,
) -> dict[str, Any]:
    """The hourly price of a Provisioned Throughput for a model trained from ``base_model_id``, logged,
    and refused above ``max_hourly_cost`` (USD per hour) before anything is created."""
    from bedrock_provider.core.catalog.cost import parse_budget, usd
    from bedrock_provider.core.catalog.recurring_cost import check_hourly_budget, provisioned_hourly

    try:
        budget = parse_budget(max_hourly_cost, "max_hourly_cost")
        units = int(str(model_units))
    except ValueError as error:
        raise AirflowFailException(str(error)) from error
    prices = model_prices(operator.hook, operator.aws_conn_id, base_model_id, price_overrides)
    cost = provisioned_hourly(base_model_id, prices, units, commitment_duration)
    for warning in cost.warnings:
        log.warning("%s", warning)
    if cost.usd is not None and cost.price is not None:
        log.info(
            "Provisioned Throughput: %d model unit(s) x %s an hour (%s, read %s) = %s an hour, %s a month",
            units,
            usd(cost.price.usd),
            cost.price.source,
            cost.price.date,
            usd(cost.usd),
            usd(cost.usd * 24 * 30),
        )
    refuse_over_budget(check_hourly_budget, cost, budget, "max_hourly_cost")
    return cost.to_dict()
