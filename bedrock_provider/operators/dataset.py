"""BedrockPrepareDatasetOperator: prove the training data is right before a customization job runs."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from bedrock_provider.core.datasets.formats import CONSERVATIVE_CHARS_PER_TOKEN
from bedrock_provider.core.datasets.plan import (
    PLAN_PARAMETERS,
    REPORT_NAME,
    TRAINING_NAME,
    VALIDATION_NAME,
    DatasetPlan,
    Location,
    check_locations,
    counted,
    is_data_file,
    missing_partition_message,
    partition_parent,
    plan_dataset,
)
from bedrock_provider.core.lineage import prepare_lineage
from bedrock_provider.operators.base import BedrockBaseOperator, aws_template_fields

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_provider.core.datasets.prepare import Opener, PreparedDataset
    from bedrock_provider.core.datasets.reader import BinaryReadable


class BedrockPrepareDatasetOperator(BedrockBaseOperator):
    """Validate, clean and split training data into the files a Bedrock customization job reads.

    Reads every source as a stream (never a whole file in memory), checks each record against the
    format Bedrock expects for the customization type and base model, drops invalid records (up to
    ``max_invalid_fraction``) and, when asked, exact duplicates, splits off a seeded validation
    set, and writes ``train.jsonl``, ``validation.jsonl`` and ``report.json`` under ``output_uri``.
    The same input always gives the same output under the same keys, so a retried or re-run task
    overwrites its own files.

    The returned dict feeds BedrockModelCustomizationOperator through XCom, e.g.
    ``training_data_uri=prepare.output["training_data_uri"]`` (each key is pushed as its own XCom
    too, ``multiple_outputs=True``) or ``"{{ ti.xcom_pull('prepare')['training_data_uri'] }}"``.
    Prefer the XComArg for ``validation_data_uri``: it stays None when there is no validation set,
    where a Jinja template would render the text "None".
    ``training_tokens`` and ``validation_tokens`` are estimated from the records' characters
    (``tokens_basis`` says how); pass ``training_tokens=prepare.output["training_tokens"]`` to the
    customization operator so its cost estimate needs no second read of the data.

    :param source_uri: an S3 object, an S3 prefix ending in '/' (every .jsonl, .jsonl.gz, .json
        file under it, in key order), a local file or a local directory; or a list of these.
        Gzip input is recognised by content.
    :param output_uri: S3 prefix (or local directory) for the outputs; template it with the run,
        e.g. ``"s3://bucket/prepared/{{ ds_nodash }}/"``. Bedrock takes only S3 URIs of letters,
        digits and -!_*'(). so a raw ``run_id`` does not fit.
    :param customization_type: FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION or
        REINFORCEMENT_FINE_TUNING (prompts with an optional reference_answer, at most 20,000).
    :param base_model_id: the model to customize (id or ARN); picks the format and the limits.
    :param validation_split: fraction of records held out for validation, 0 <= x < 0.5 (0: none,
        and ``validation_data_uri`` is None).
    :param seed: seeds the split; the same seed and records give the same split in any order.
    :param max_invalid_fraction: invalid records are dropped while their share of all records is
        at most this; above it the task fails. 0 (the default): any invalid record fails it.
    :param format: override the format chosen from customization_type and base_model_id:
        prompt-completion, bedrock-conversation-2024, claude-messages, continued-pretraining,
        distillation-prompts, openai-chat-rft or image-caption. With neither, the first record decides.
    :param remove_duplicates: drop exact duplicate records (they are always counted).
    :param max_errors_listed: errors listed in the report and the failure message (all are counted).
    :param chars_per_token: characters per token for the token estimate and its warnings; no
        tokenizer ships with Bedrock. Errors use Bedrock's documented quota of 6 per token.
    """

    template_fields: Sequence[str] = aws_template_fields("source_uri", "output_uri", *PLAN_PARAMETERS)
    ui_color = "#d5e8d4"
    # Set by self.keep_arguments in __init__; declared for the type checker.
    source_uri: str | list[str]
    output_uri: str

    def __init__(
        self,
        *,
        source_uri: str | list[str],
        output_uri: str,
        customization_type: str = "FINE_TUNING",
        base_model_id: str | None = None,
        validation_split: float | str = 0.0,
        seed: int | str = 0,
        max_invalid_fraction: float | str = 0.0,
        format: str | None = None,
        remove_duplicates: bool | str = False,
        max_errors_listed: int | str = 20,
        chars_per_token: float | str = CONSERVATIVE_CHARS_PER_TOKEN,
        **kwargs: Any,
    ) -> None:
        # Each key of the result is also its own XCom, so that prepare.output["training_data_uri"]
        # (an XComArg subscript names an XCom key) resolves to the URI.
        kwargs.setdefault("multiple_outputs", True)
        super().__init__(**kwargs)
        self.keep_arguments(locals(), "source_uri", "output_uri", *PLAN_PARAMETERS)

    def plan(self) -> tuple[DatasetPlan, list[Location], Location]:
        """The rendered parameters, checked: raises InvalidInputError before any AWS call."""
        plan = plan_dataset(**{name: getattr(self, name) for name in PLAN_PARAMETERS})
        sources, output = check_locations(self.source_uri, self.output_uri)
        return plan, sources, output

    def execute(self, context: Context) -> dict[str, Any]:
        # The validator is loaded when the task runs, not when the DAG file is parsed.
        from bedrock_provider.core.datasets.prepare import prepare_dataset

        plan, sources, output = self.plan()
        resolved = [item for source in sources for item in self._expand(source, output)]
        outputs = {
            "training_data_uri": output.child(TRAINING_NAME),
            "validation_data_uri": output.child(VALIDATION_NAME) if plan.validation_split > 0 else None,
            "report_uri": output.child(REPORT_NAME),
        }
        self.log.info(
            "Validating %d file(s) as %s (%s) into %s",
            len(resolved),
            plan.format or "the format of the first record",
            plan.format_source,
            output.uri,
        )
        if output.is_s3:
            with tempfile.TemporaryDirectory(prefix="bedrock-dataset-") as work:
                prepared = prepare_dataset(
                    plan, resolved, work, dataset_bucket=output.bucket, outputs=outputs
                )
                self._publish(prepared, output)
        else:
            os.makedirs(output.uri, exist_ok=True)
            work = tempfile.mkdtemp(prefix=".bedrock-dataset-", dir=output.uri)
            try:
                prepared = prepare_dataset(plan, resolved, work, outputs=outputs)
                self._publish(prepared, output)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        report = prepared.report
        for warning in report.warnings:
            self.log.warning("%s", warning)
        if not report.passed:
            raise AirflowFailException(report.failure_message(outputs["report_uri"]))
        counts = report.counts
        self.log.info(
            "%s: %s training, %s validation, %s invalid dropped, %s %s; report at %s",
            counted(counts["records"], "record"),
            f"{counts['training_records']:,}",
            f"{counts['validation_records']:,}",
            f"{counts['invalid']:,}",
            counted(counts["duplicates"], "duplicate"),
            "removed" if plan.remove_duplicates else "kept",
            outputs["report_uri"],
        )
        self.log.info(
            "Estimated tokens: %s training, %s validation (%s)",
            f"{report.training_tokens:,}",
            f"{report.validation_tokens:,}",
            report.tokens_basis,
        )
        result = {
            **outputs,
            "records": counts["records"],
            "invalid_records": counts["invalid"],
            "training_records": counts["training_records"],
            "validation_records": counts["validation_records"],
            "duplicates": counts["duplicates"],
            "duplicates_removed": counts["duplicates_removed"],
            "format": report.format,
            "estimated_tokens": report.estimated_tokens,
            "training_tokens": report.training_tokens,
            "validation_tokens": report.validation_tokens,
            "tokens_basis": report.tokens_basis,
        }
        self.record_lineage(prepare_lineage([source.uri for source in sources], result))
        return result

    # -- sources ------------------------------------------------------------------------------

    def _expand(self, source: Location, output: Location) -> list[tuple[str, Opener]]:
        """A source URI as the files it names: itself, or the data files under a prefix or directory,
        sorted, leaving out the output prefix (so a re-run never reads its own previous output)."""
        from bedrock_provider.core.datasets.prepare import local_files, local_opener

        if source.is_s3:
            if not source.is_prefix:
                return [(source.uri, self._s3_opener(source.uri))]
            excluded = (
                output.key.rstrip("/") + "/" if output.is_s3 and output.bucket == source.bucket else None
            )
            keys = sorted(
                key
                for key in self.s3_hook.list_keys(bucket_name=source.bucket, prefix=source.key)
                if is_data_file(key) and not (excluded and key.startswith(excluded))
            )
            if not keys:
                parent = partition_parent(source.key)
                siblings = (
                    self.s3_hook.list_prefixes(bucket_name=source.bucket, prefix=parent, delimiter="/") or []
                )
                # Missing data is not transient: a retry a minute later finds the same nothing.
                raise AirflowFailException(
                    missing_partition_message(
                        source.uri,
                        f"s3://{source.bucket}/{parent}",
                        [prefix[len(parent) :].rstrip("/") for prefix in siblings],
                    )
                )
            uris = [f"s3://{source.bucket}/{key}" for key in keys]
            return [(uri, self._s3_opener(uri)) for uri in uris]
        if os.path.isdir(source.uri):
            paths = local_files(source.uri, exclude=None if output.is_s3 else output.uri)
            if not paths:
                raise AirflowFailException(
                    f"source_uri {source.uri}: no .jsonl, .jsonl.gz or .json files in this directory"
                )
            return [(path, local_opener(path)) for path in paths]
        if not os.path.isfile(source.uri):
            parent = os.path.dirname(source.uri.rstrip(os.sep))
            siblings = sorted(os.listdir(parent)) if os.path.isdir(parent) else []
            raise AirflowFailException(
                missing_partition_message(source.uri, parent + os.sep, siblings)
                if siblings
                else f"source_uri {source.uri}: no such file or directory"
            )
        return [(source.uri, local_opener(source.uri))]

    def _s3_opener(self, uri: str) -> Opener:
        @contextmanager
        def open_object() -> Iterator[BinaryReadable]:
            from bedrock_provider.hooks.errors import error_code

            try:
                with self.artifacts.open_binary(uri) as body:
                    if body is None:
                        if self.artifacts.is_prefix_with_objects(uri):
                            raise AirflowException(
                                f"source {uri} is not an object, but a prefix with objects under it: add the "
                                f"trailing '/' (source_uri='{uri}/') to read the files under it"
                            )
                        raise AirflowException(f"source {uri} cannot be read (NoSuchKey): no such object")
                    yield body
            except AirflowException:
                raise
            except Exception as exc:
                code = error_code(exc)
                if code is None:
                    raise
                raise AirflowException(f"source {uri} cannot be read ({code}): {exc}") from exc

        return open_object

    # -- outputs -------------------------------------------------------------------------------

    @staticmethod
    def _published(prepared: PreparedDataset) -> list[tuple[str, str]]:
        """(local path, name) of the files to publish: the report always (a failed run's report is
        what the user needs), the data only when it passed. Files of an earlier run under the same
        prefix are left alone (removing them would need s3:DeleteObject); the report says which run
        they belong to.
        """
        files = [(str(prepared.report_path), REPORT_NAME)]
        if prepared.report.passed:
            files.append((str(prepared.training_path), TRAINING_NAME))
            if prepared.validation_path is not None:
                files.append((str(prepared.validation_path), VALIDATION_NAME))
        return files

    def _publish(self, prepared: PreparedDataset, output: Location) -> None:
        for path, name in self._published(prepared):
            self.artifacts.publish(path, output.child(name))
