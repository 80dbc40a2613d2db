"""BedrockExportMetricsOperator: a finished job's metrics, exported, summarized and gated."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowFailException

from bedrock_provider.core.lineage import metrics_lineage
from bedrock_provider.core.metrics.chart import loss_chart_png
from bedrock_provider.core.metrics.export import (
    DEFAULT_CHAMPION_TAG,
    EXPORT_PARAMETERS,
    ExportSettings,
    asset_event_extra,
    check_export_settings,
    check_on_invalid_baseline,
    job_result,
    on_gate_failure_problem,
    run_data_date,
    summary_json,
)
from bedrock_provider.core.metrics.gate import (
    InvalidBaselineError,
    champion_record,
    check_baseline,
    comparison_baseline,
    evaluate_gate,
)
from bedrock_provider.core.metrics.location import export_uris, metrics_locations, require_completed
from bedrock_provider.core.metrics.parsing import TRAINING, VALIDATION, MetricsKind
from bedrock_provider.core.metrics.summary import MetricsSeries, read_metrics, write_merged_csv
from bedrock_provider.operators.artifacts import ArtifactStore
from bedrock_provider.operators.base import BedrockBaseOperator, aws_template_fields
from bedrock_provider.operators.gate import on_gate_failure

if TYPE_CHECKING:
    from airflow.sdk import Context


class BedrockExportMetricsOperator(BedrockBaseOperator):
    """Export a completed customization job's training and validation metrics and gate on them.

    Reads step_wise_training_metrics.csv and validation_metrics.csv from the job's output location,
    summarizes them, writes ``summary.json``, ``metrics.csv`` (training and validation per step) and,
    with ``plot=True``, ``loss.png`` to ``{destination_uri}/{job name}/``, and decides whether the
    model passed the gate. When it passed and ``promote=True``, tags the custom model and makes its
    summary the champion the next run must beat.

    :param job_identifier: the job's name or ARN, typically
        ``"{{ ti.xcom_pull('train')['job_arn'] }}"``.
    :param destination_uri: ``s3://bucket/prefix`` or an absolute local directory; None exports
        nothing (the summary still goes to XCom).
    :param max_training_loss: the model fails the gate when its final training loss is above this.
    :param max_validation_loss: the same for the final validation loss; a job without validation
        metrics fails a gate that sets it.
    :param baseline_uri: a summary JSON written by this operator (the champion's); the model must have
        a lower final validation loss, or final training loss where either has no validation metrics.
        A missing file (first run) is logged and not a failure.
    :param plot: also render loss.png (needs the ``plots`` extra: matplotlib).
    :param plot_size: (width, height) of the PNG in pixels.
    :param on_gate_failure: "fail" (the task fails with the reasons, without retries), "skip" (the task
        and what depends on it are skipped) or "record" (the task succeeds with ``passed`` False).
    :param on_invalid_baseline: what a champion summary holding a loss no model can have (nan,
        infinite, negative) does: "fail" (the task fails naming the file and the value, without
        retries) or "ignore" (a warning, and the model is compared against no champion).
    :param promote: when the model passes, tag the custom model with ``champion_tag`` and write its
        summary to ``champion_uri``.
    :param champion_uri: where the champion summary JSON is written; defaults to ``baseline_uri``, so
        the next run compares against this one.
    :param champion_tag: tags set on a promoted custom model.
    :param champion_policy: "newest_data" (default): a model trained on data older than the
        champion's never replaces it, whatever its loss, so a backfill of an old week cannot dethrone a
        newer week's champion; "best_loss": the loss alone decides.
    :param data_date: the date of the data the model was trained on (ISO 8601), recorded in the summary
        and the champion file; default the run's logical date (its run date when it has none).
    :param aws_conn_id: Airflow AWS connection (used for Bedrock and S3); region_name, verify and
        botocore_config as in the Amazon provider.

    Returns ``{"training": {...}, "validation": {...} or None, "artifacts": {name: uri}, "passed": ...}``
    plus the job's identity, the metrics' source URIs, the gate's checks and reasons and ``promoted``.
    Each summary holds final_loss, final_step, min_loss, min_loss_step, final_perplexity (the file's,
    or exp(final_loss) when the file has no perplexity; ``perplexity_source`` says which), steps (rows
    of the file: one per training step, one per evaluation), epochs and epoch_means. Every Asset in the
    task's outlets gets an event whose extra holds the job's identity, both summaries, the artifacts,
    ``passed`` and ``promoted``.
    """

    template_fields: Sequence[str] = aws_template_fields(
        "job_identifier",
        "destination_uri",
        "max_training_loss",
        "max_validation_loss",
        "baseline_uri",
        "on_gate_failure",
        "champion_uri",
        "champion_tag",
        "champion_policy",
        "data_date",
    )
    template_fields_renderers = {"champion_tag": "json"}
    ui_color = "#eef6e4"
    # Set by self.keep_arguments in __init__; declared for the type checker.
    plot: bool
    promote: bool
    on_gate_failure: str
    champion_policy: str
    data_date: str | None

    def __init__(
        self,
        *,
        job_identifier: str,
        destination_uri: str | None = None,
        max_training_loss: float | str | None = None,
        max_validation_loss: float | str | None = None,
        baseline_uri: str | None = None,
        plot: bool = False,
        plot_size: tuple[int, int] = (1200, 600),
        on_gate_failure: str = "fail",
        on_invalid_baseline: str = "fail",
        promote: bool = False,
        champion_uri: str | None = None,
        champion_tag: dict[str, str] | None = None,
        champion_policy: str = "newest_data",
        data_date: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        # A literal choice is checked when the DAG is parsed; a template once it is rendered.
        problem = None if "{{" in str(on_gate_failure) else on_gate_failure_problem(on_gate_failure)
        if problem:
            raise ValueError(str(problem))
        width, height = plot_size
        if not (isinstance(width, int) and isinstance(height, int) and width >= 200 and height >= 150):
            raise ValueError(
                f"plot_size={plot_size!r}: must be (width, height) in pixels, at least (200, 150)"
            )
        # Kept under their own names, where Airflow renders the templated ones; _settings reads them.
        self.keep_arguments(locals(), *EXPORT_PARAMETERS)
        self.champion_tag = DEFAULT_CHAMPION_TAG if champion_tag is None else champion_tag
        self.plot_size = (width, height)
        self.on_invalid_baseline = check_on_invalid_baseline(on_invalid_baseline)
        self._baseline_note = "no champion yet"

    # -- input ---------------------------------------------------------------------------------------

    def _settings(self) -> ExportSettings:
        """The rendered parameters, every problem reported at once and before any AWS call."""
        return check_export_settings(**{name: getattr(self, name) for name in EXPORT_PARAMETERS})

    # -- reading -------------------------------------------------------------------------------------

    def _read(self, store: ArtifactStore, uri: str, kind: MetricsKind) -> MetricsSeries | None:
        with store.open_text(uri) as stream:
            return None if stream is None else read_metrics(stream, kind, uri)

    def _read_validation(
        self, store: ArtifactStore, candidates: Sequence[str], description: dict[str, Any]
    ) -> MetricsSeries | None:
        for uri in candidates:
            series = self._read(store, uri, VALIDATION)
            if series is not None:
                return series
        validators = (description.get("validationDataConfig") or {}).get("validators") or []
        if validators:
            self.log.warning(
                "Job %s was given validation data but wrote no validation metrics (looked at %s); "
                "continuing with training metrics only",
                description.get("jobName"),
                ", ".join(candidates),
            )
        else:
            self.log.info("Job %s had no validation data: no validation metrics", description.get("jobName"))
        return None

    def _baseline(self, store: ArtifactStore, settings: ExportSettings, job_arn: str) -> Any:
        """The champion summary this model must beat, or None when there is none (yet)."""
        if not settings.baseline_uri:
            return None
        found = store.read_json(settings.baseline_uri)
        if found is None:
            self.log.info("No champion at %s yet: nothing to compare against", settings.baseline_uri)
            return None
        found = self._checked_baseline(found, settings.baseline_uri)
        if found is None:
            return None
        to_beat = comparison_baseline(found, job_arn)
        if to_beat is not found:
            self.log.info(
                "Job %s is already the champion at %s: comparing against the champion it replaced (%s)",
                found.get("job_name"),
                settings.baseline_uri,
                (to_beat or {}).get("job_name", "none"),
            )
            if to_beat is not None:
                to_beat = self._checked_baseline(
                    dict(to_beat), f"{settings.baseline_uri} (previous_champion)"
                )
        return to_beat

    def _checked_baseline(self, baseline: object, source: str) -> dict[str, Any] | None:
        """The baseline when it can be compared with; a broken one fails the task or, by the user's
        choice (on_invalid_baseline="ignore"), is ignored: None, and the gate notes why."""
        try:
            return check_baseline(baseline, source)
        except InvalidBaselineError as error:
            if self.on_invalid_baseline != "ignore":
                raise AirflowFailException(str(error)) from error
            self.log.warning("%s Ignored (on_invalid_baseline='ignore'): no champion to beat.", error)
            self._baseline_note = f"champion ignored (on_invalid_baseline='ignore'): {error}"
            return None

    # -- the run -------------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        settings = self._settings()
        description = self.hook.describe_job(settings.job_identifier)
        require_completed(description)
        locations = metrics_locations(description)
        store = self.artifacts

        training = self._read(store, locations.training, TRAINING)
        if training is None:
            raise FileNotFoundError(
                f"No training metrics at {locations.training}: Bedrock writes them there when job "
                f"{description.get('jobName')} completes. Check the job's outputDataConfig.s3Uri and that "
                "this connection may read it."
            )
        try:
            validation = self._read_validation(store, locations.validation_candidates, description)
            try:
                return self._export(context, settings, description, store, training, validation)
            finally:
                if validation is not None:
                    validation.close()
        finally:
            training.close()

    def _export(
        self,
        context: Context,
        settings: ExportSettings,
        description: dict[str, Any],
        store: ArtifactStore,
        training: MetricsSeries,
        validation: MetricsSeries | None,
    ) -> dict[str, Any]:
        result = job_result(description, training, validation)
        job_name = result["job_name"]
        result["data_date"] = self._data_date(context)
        to_beat = self._baseline(store, settings, result["job_arn"])
        gate = evaluate_gate(
            training.summary,
            validation.summary if validation else None,
            max_training_loss=settings.max_training_loss,
            max_validation_loss=settings.max_validation_loss,
            baseline=to_beat,
            baseline_uri=settings.baseline_uri,
            data_date=result["data_date"],
            champion_policy=str(self.champion_policy),
            no_baseline_note=self._baseline_note,
        )
        result["gate"] = {**gate.as_dict(), "on_failure": self.on_gate_failure}
        result["passed"] = gate.passed

        artifacts = (
            export_uris(settings.destination_uri, job_name, self.plot) if settings.destination_uri else {}
        )
        result["artifacts"] = artifacts
        if "metrics" in artifacts:
            store.write_text(
                artifacts["metrics"], partial(write_merged_csv, training, validation), "text/csv"
            )
        if "chart" in artifacts:
            chart = loss_chart_png(training, validation, title=f"Loss of {job_name}", size=self.plot_size)
            store.write(artifacts["chart"], chart, "image/png")

        result["promoted"] = False
        result["champion_uri"] = settings.champion_uri if self.promote else None
        # The numbers and the verdict first, then what follows from them (promotion, exports).
        self._log_result(result)
        if gate.passed and self.promote:
            self._promote(store, settings, result, to_beat)
        if "summary" in artifacts:
            store.write(artifacts["summary"], summary_json(result), "application/json")
        for name, uri in artifacts.items():
            self.log.info("Exported %s: %s", name, uri)
        self.record_lineage(metrics_lineage(result))
        self._emit_asset_events(context, result)
        if not gate.passed:
            self._on_gate_failure(context, result, gate.reasons)
        return result

    def _data_date(self, context: Context) -> str | None:
        """The data_date given, or the run's logical date, or (a run without one) its run date."""
        run_after = getattr(context.get("dag_run"), "run_after", None)
        return run_data_date(self.data_date, context.get("logical_date"), run_after)

    def _promote(
        self, store: ArtifactStore, settings: ExportSettings, result: dict[str, Any], to_beat: Any
    ) -> None:
        model_arn = result.get("custom_model_arn")
        if not model_arn:
            raise ValueError(
                f"Job {result['job_name']} passed the gate but its description has no outputModelArn: "
                "there is no custom model to promote"
            )
        self.hook.tag_resource(str(model_arn), settings.champion_tag)
        self._retire(to_beat, str(model_arn), settings.champion_tag)
        result["promoted"] = True
        result["promoted_at"] = datetime.now(UTC).isoformat()
        # The model this one replaces: its deployment may now be retired.
        result["previous_champion"] = champion_record(to_beat) if to_beat else None
        champion = dict(result)
        assert settings.champion_uri is not None  # noqa: S101 - _settings requires it with promote
        store.write(settings.champion_uri, summary_json(champion), "application/json")
        self.log.info(
            "Promoted %s: tagged %s with %s; champion summary written to %s",
            result["job_name"],
            model_arn,
            settings.champion_tag,
            settings.champion_uri,
        )

    def _retire(self, champion: Any, new_model_arn: str, champion_tag: dict[str, str]) -> None:
        """Take the champion tag off the model being replaced, so only one model carries it."""
        old_model_arn = champion.get("custom_model_arn") if isinstance(champion, dict) else None
        if not old_model_arn or old_model_arn == new_model_arn:
            return
        try:
            self.hook.untag_resource(str(old_model_arn), list(champion_tag))
        except Exception as error:
            # The old model may have been deleted; the new champion stands either way.
            self.log.warning("Could not untag the previous champion %s: %s", old_model_arn, error)
        else:
            self.log.info("Removed %s from the previous champion %s", list(champion_tag), old_model_arn)

    def _log_result(self, result: dict[str, Any]) -> None:
        training, validation = result["training"], result["validation"]
        self.log.info(
            "Training: final loss %.6g at step %s (min %.6g at step %s), final perplexity %s, "
            "%s steps over %s epochs",
            training["final_loss"],
            training["final_step"],
            training["min_loss"],
            training["min_loss_step"],
            training["final_perplexity"],
            training["steps"],
            training["epochs"],
        )
        if validation:
            self.log.info(
                "Validation: final loss %.6g (min %.6g at step %s), final perplexity %s, %s evaluations",
                validation["final_loss"],
                validation["min_loss"],
                validation["min_loss_step"],
                validation["final_perplexity"],
                validation["steps"],
            )
        self.log.info(
            "Gate %s", "passed" if result["passed"] else "failed: " + "; ".join(result["gate"]["reasons"])
        )

    def _emit_asset_events(self, context: Context, result: dict[str, Any]) -> None:
        outlets = [outlet for outlet in self.outlets if isinstance(outlet, Asset)]
        if not outlets:
            return
        extra = asset_event_extra(result)
        for outlet in outlets:
            context["outlet_events"][outlet].extra = extra

    def _on_gate_failure(self, context: Context, result: dict[str, Any], reasons: list[str]) -> None:
        message = f"Job {result['job_name']} failed the gate: " + "; ".join(reasons)
        on_gate_failure(self.on_gate_failure, message, context, result, self.log)
