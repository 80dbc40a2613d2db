"""OpenLineage for this provider's operators: a step's lineage (core/lineage.py) as OperatorLineage.

Imported only from ``get_openlineage_facets_on_complete``, which Airflow calls only when
apache-airflow-providers-openlineage is installed and enabled: without it nothing here is imported.

Bedrock's facts travel as two custom facets, ``bedrock`` on the run (the job ARN, hyperparameters,
scores...) and ``bedrock`` on an output dataset (the custom model's job and hyperparameters); a
deleted model or deployment carries OpenLineage's lifecycleStateChange DROP.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attr
from airflow.providers.common.compat.openlineage.facet import (
    DatasetFacet,
    InputDataset,
    LifecycleStateChange,
    LifecycleStateChangeDatasetFacet,
    OutputDataset,
    RunFacet,
)
from airflow.providers.openlineage.extractors import OperatorLineage

from bedrock_provider import __version__
from bedrock_provider.core.lineage import StepLineage

PRODUCER = f"https://pypi.org/project/airflow-provider-bedrock/{__version__}"
# The facets are described in docs/openlineage.md; the provider publishes no JSON schema for them.
SCHEMA = "urn:airflow-provider-bedrock:openlineage"


class _BedrockFacetSchema:
    """The schema URL of this provider's facets, named after the facet."""

    __slots__ = ()
    _schema_name: ClassVar[str]

    @classmethod
    def _get_schema(cls) -> str:
        return f"{SCHEMA}:{cls._schema_name}"


@attr.define
class BedrockRunFacet(_BedrockFacetSchema, RunFacet):
    """What Bedrock did in this run: the job or resource ARN and its settings or results."""

    _schema_name = "BedrockRunFacet"
    facts: dict[str, Any] = attr.field(factory=dict)


@attr.define
class BedrockDatasetFacet(_BedrockFacetSchema, DatasetFacet):
    """What made a Bedrock resource: e.g. a custom model's job ARN and hyperparameters."""

    _schema_name = "BedrockDatasetFacet"
    facts: dict[str, Any] = attr.field(factory=dict)


def operator_lineage(step: StepLineage) -> OperatorLineage:
    outputs = []
    for named in step.outputs:
        facts = step.output_facts.get(named.name)
        facets: dict[str, Any] = {}
        if facts and facts.get("dropped"):
            facets["lifecycleStateChange"] = LifecycleStateChangeDatasetFacet(
                lifecycleStateChange=LifecycleStateChange.DROP, producer=PRODUCER
            )
        elif facts:
            facets["bedrock"] = BedrockDatasetFacet(facts=_clean(facts), producer=PRODUCER)
        outputs.append(OutputDataset(namespace=named.namespace, name=named.name, facets=facets))
    run_facets: dict[str, Any] = {}
    if step.run_facts:
        run_facets["bedrock"] = BedrockRunFacet(facts=_clean(step.run_facts), producer=PRODUCER)
    return OperatorLineage(
        inputs=[InputDataset(namespace=named.namespace, name=named.name) for named in step.inputs],
        outputs=outputs,
        run_facets=run_facets,
    )


def _clean(facts: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in facts.items() if value is not None}
