"""Lineage of the provider's steps, named the way OpenLineage names datasets; no OpenLineage import here.

OpenLineage's dataset naming (https://openlineage.io/docs/spec/naming): an S3 object or prefix is
namespace ``s3://{bucket}``, name ``{key}`` (no leading '/'). A Bedrock resource is named by its ARN
split at the resource: namespace ``arn:aws:bedrock:{region}:{account}``, name ``custom-model/...``,
``custom-model-deployment/...``, ``provisioned-model/...``. The same resource gets the same name in
every step, so the steps join up into one chain: raw data -> prepared data -> custom model ->
deployment -> evaluation results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bedrock_provider.core.s3 import is_s3_uri, split_s3_uri


@dataclass(frozen=True)
class DatasetName:
    namespace: str
    name: str


@dataclass
class StepLineage:
    """What one task read and wrote, and facts about its run (e.g. the Bedrock job and its settings)."""

    inputs: list[DatasetName] = field(default_factory=list)
    outputs: list[DatasetName] = field(default_factory=list)
    run_facts: dict[str, Any] = field(default_factory=dict)
    # Output dataset name -> facts about it (the custom model's job ARN and hyperparameters).
    output_facts: dict[str, dict[str, Any]] = field(default_factory=dict)


def s3_dataset(uri: str) -> DatasetName:
    bucket, key = split_s3_uri(uri)
    return DatasetName(f"s3://{bucket}", key.strip("/") or "/")


def arn_dataset(arn: str) -> DatasetName:
    """``arn:aws:bedrock:REGION:ACCOUNT:custom-model/x/y`` -> (``arn:aws:bedrock:REGION:ACCOUNT``,
    ``custom-model/x/y``)."""
    head, _, resource = arn.partition("/")
    prefix, _, kind = head.rpartition(":")
    return DatasetName(prefix, f"{kind}/{resource}" if resource else kind)


def dataset(uri_or_arn: str) -> DatasetName | None:
    if is_s3_uri(uri_or_arn):
        return s3_dataset(uri_or_arn)
    if uri_or_arn.startswith("arn:"):
        return arn_dataset(uri_or_arn)
    if uri_or_arn.startswith("/") or uri_or_arn.startswith("file://"):
        return DatasetName("file", uri_or_arn.removeprefix("file://"))
    return None


def datasets(values: Iterable[object]) -> list[DatasetName]:
    found = []
    for value in values:
        if isinstance(value, str) and value:
            named = dataset(value)
            if named is not None and named not in found:
                found.append(named)
    return found


# ------------------------------------------------------------------------------------ each step


def prepare_lineage(sources: Iterable[str], result: Mapping[str, Any]) -> StepLineage:
    """Raw data (files or prefixes) -> the prepared training and validation files and the report."""
    return StepLineage(
        inputs=datasets(sources),
        outputs=datasets(
            result.get(key) for key in ("training_data_uri", "validation_data_uri", "report_uri")
        ),
        run_facts={"records": result.get("records"), "invalid_records": result.get("invalid_records")},
    )


def customization_lineage(result: Mapping[str, Any]) -> StepLineage:
    """Training and validation data -> the custom model, with the job and its hyperparameters."""
    model = result.get("custom_model_arn")
    facts = {
        "jobArn": result.get("job_arn"),
        "jobName": result.get("job_name"),
        "baseModelArn": result.get("base_model_arn"),
        "customizationType": result.get("customization_type"),
        "hyperParameters": dict(result.get("hyperparameters") or {}),
    }
    outputs = datasets([model])
    return StepLineage(
        inputs=datasets([result.get("training_data_uri"), *(result.get("validation_data_uris") or [])]),
        outputs=outputs,
        run_facts=facts,
        output_facts={named.name: facts for named in outputs},
    )


def metrics_lineage(result: Mapping[str, Any]) -> StepLineage:
    """The job's metrics files -> the exports (summary, merged CSV, chart) and the champion file."""
    sources = result.get("sources") or {}
    artifacts = dict(result.get("artifacts") or {})
    champion = result.get("champion_uri") if result.get("promoted") else None
    return StepLineage(
        inputs=datasets([sources.get("training"), sources.get("validation")]),
        outputs=datasets([*artifacts.values(), champion]),
        run_facts={"jobArn": result.get("job_arn"), "passed": result.get("passed")},
    )


def deployment_lineage(result: Mapping[str, Any]) -> StepLineage:
    """The custom model -> its deployment (or provisioned throughput)."""
    return StepLineage(
        inputs=datasets([result.get("model_arn")]),
        outputs=datasets([result.get("deployment_arn")]),
        run_facts={"mode": result.get("mode"), "status": result.get("status")},
    )


def evaluation_lineage(result: Mapping[str, Any]) -> StepLineage:
    """The deployment and the prompt dataset -> the evaluation results, with the scores."""
    outputs = datasets([result.get("results_uri")])
    facts = {
        "jobArn": result.get("job_arn"),
        "scores": dict(result.get("scores") or {}),
        "passed": result.get("passed"),
    }
    return StepLineage(
        inputs=datasets([result.get("model_identifier"), result.get("dataset_uri")]),
        outputs=outputs,
        run_facts=facts,
        output_facts={named.name: facts for named in outputs},
    )


def retention_lineage(result: Mapping[str, Any]) -> StepLineage:
    """The models and deployments a retention run deleted (OpenLineage marks them dropped)."""
    if result.get("dry_run"):
        return StepLineage(run_facts={"dryRun": True})
    gone = datasets([*result.get("deleted", []), *result.get("deleted_deployments", [])])
    return StepLineage(outputs=gone, output_facts={named.name: {"dropped": True} for named in gone})
