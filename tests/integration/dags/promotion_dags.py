"""Promotion in the integration tier: one stable deployment, the model behind it swapped (with a canary
from the run's conf), and a rollback DAG whose form defaults to the last-good model (as bedrock_rollback)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Param

from bedrock_provider.core.lifecycle.promotion import LAST_GOOD
from bedrock_provider.operators.promotion import BedrockPromoteCustomModelOperator

COMMON = {
    "schedule": None,
    "start_date": datetime(2024, 1, 1),
    "catchup": False,
    "default_args": {"retries": 0},
    "render_template_as_native_obj": True,
}

with DAG("it_promotion", **COMMON) as promotion_dag:
    BedrockPromoteCustomModelOperator(
        task_id="promote",
        deployment_name="{{ dag_run.conf['deployment'] }}",
        model_identifier="{{ dag_run.conf['model'] }}",
        # A dict of evaluation settings, or None: rendered as a native object.
        canary="{{ dag_run.conf.get('canary') }}",
        on_canary_failure="{{ dag_run.conf.get('on_canary_failure', 'fail') }}",
        poll_interval=0.5,
    )

with DAG(
    "it_rollback",
    params={
        "deployment_name": Param("support-bot-prod", type="string", title="Stable deployment"),
        "model": Param(LAST_GOOD, type="string", minLength=1, title="Model to serve"),
    },
    **COMMON,
) as rollback_dag:
    BedrockPromoteCustomModelOperator(
        task_id="rollback",
        deployment_name="{{ params.deployment_name }}",
        model_identifier="{{ params.model }}",
        keep_last_good=True,
        poll_interval=0.5,
    )
