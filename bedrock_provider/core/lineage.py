"""Lineage of the provider's steps, named the way OpenLineage names datasets; no OpenLineage import here.

OpenLineage's dataset naming (https://openlineage.io/docs/spec/naming): an S3 object or prefix is
namespace ``s3://{bucket}``, name ``{key}`` (no leading '/'). A Bedrock resource is named by its ARN
split at the resource: namespace ``arn:aws:bedrock:{region}:{account}``, name ``custom-model/...``,
``custom-model-deployment/...``, ``provisioned-model/...``. The same resource gets the same name in
every step, so the steps join up into one chain: raw data -> prepared data -> custom model ->
deployment -> evaluation results.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


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
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return DatasetName(f"s3://{bucket}", key.strip("/") or "/")


def arn_dataset(arn: str) -> DatasetName:
    """``arn:aws:bedrock:REGION:ACCOUNT:custom-model/x/y`` -> (``arn:aws:bedrock:REGION:ACCOUNT``,
    ``custom-model/x/y``)."""
    head, _, resource = arn.partition("/")
    prefix, _, kind = head.rpartition(":")
    return DatasetName(prefix, f"{kind}/{resource}" if resource else kind)


def dataset(uri_or_arn: str) -> DatasetName | None:
    if uri_or_arn.startswith("s3://"):
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
