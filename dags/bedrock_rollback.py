"""Roll the stable deployment back: one click points it at its last-good model, or at a model you name.

rollback

Applications call the stable deployment's ARN (``support-bot-prod``), which stays the same; this DAG
only swaps the model behind it (UpdateCustomModelDeployment) and waits, deferred, until the swap is
live. Leave the form as it is and press Trigger: the deployment goes back to the model its last
promotion replaced (its ``airflow:last-good-model`` tag). Or name a custom model (ARN or name) to serve.
The log says which model served before and which serves after. Exactly once: a retry, or a cleared
task, adopts the swap it already made; a model that already serves is a no-op that says so. The
rollback never records the model it leaves as a good one to come back to.
"""

from __future__ import annotations

from _bedrock_demo_config import POLL_INTERVAL, STABLE_DEPLOYMENT, TAGS, UNSCHEDULED, default_args
from airflow.sdk import DAG, Param

from bedrock_provider.core.lifecycle.promotion import LAST_GOOD
from bedrock_provider.operators.promotion import BedrockPromoteCustomModelOperator

with DAG(
    dag_id="bedrock_rollback",
    description="Point the stable deployment back at its last-good model (or a model you choose)",
    **UNSCHEDULED,
    default_args=default_args(),
    params={
        "deployment_name": Param(
            STABLE_DEPLOYMENT,
            type="string",
            pattern=r"^([0-9a-zA-Z][_-]?){1,63}$",
            title="Stable deployment",
            section="Rollback",
            description="The on-demand deployment whose ARN applications call.",
        ),
        "model": Param(
            LAST_GOOD,
            type="string",
            minLength=1,
            title="Model to serve",
            section="Rollback",
            description=f"{LAST_GOOD!r}: the model the last promotion replaced. Or a custom model's ARN or "
            "name.",
        ),
    },
    doc_md=__doc__,
    tags=TAGS,
) as dag:
    BedrockPromoteCustomModelOperator(
        task_id="rollback",
        deployment_name="{{ params.deployment_name }}",
        model_identifier="{{ params.model }}",
        keep_last_good=True,
        poll_interval=POLL_INTERVAL,
    )
