"""OpenLineage for every operator of the provider: each records what its run read and wrote."""

from __future__ import annotations

from typing import Any

from bedrock_provider.core.lineage import StepLineage


class OpenLineageMixin:
    """``get_openlineage_facets_on_complete`` from the lineage the operator recorded when it finished.

    Airflow's OpenLineage listener calls it only where apache-airflow-providers-openlineage is
    installed; the OpenLineage classes are imported then, never when a DAG is parsed or a task runs.
    """

    _lineage: StepLineage | None = None

    def record_lineage(self, step: StepLineage) -> None:
        self._lineage = step

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        from bedrock_provider.openlineage import operator_lineage

        return operator_lineage(self._lineage or StepLineage())
