"""A plain promotion for the end-to-end tests: the run's conf names the stable deployment and the model.
The browser test promotes two models with it, then rolls back from bedrock_rollback's form."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from bedrock_provider.operators.promotion import BedrockPromoteCustomModelOperator

with DAG("e2e_promote", schedule=None, start_date=datetime(2025, 1, 1), catchup=False, tags=["e2e"]):
    BedrockPromoteCustomModelOperator(
        task_id="promote",
        deployment_name="{{ dag_run.conf['deployment_name'] }}",
        model_identifier="{{ dag_run.conf['model'] }}",
        poll_interval=1,
    )
