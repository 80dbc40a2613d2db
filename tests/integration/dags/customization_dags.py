"""DAGs the integration tests run with dag.test() against the emulator.

Each test passes its own job name and outcome through the run's conf, so one DAG serves many tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from bedrock_provider.core.names import TaskIdentity
from bedrock_provider.operators.base import task_identity
from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.sensors.customization import BedrockModelCustomizationSensor
from tests.integration.job_args import JOB_ARGS

COMMON = {
    **JOB_ARGS,
    "hyperparameters": {"epochCount": 2, "batchSize": 1, "learningRate": 0.00001},
    "job_tags": {
        "emulator:outcome": "{{ dag_run.conf.get('outcome', 'Completed') }}",
        "emulator:duration": "{{ dag_run.conf.get('duration', 1) }}",
        "emulator:failure-message": "{{ dag_run.conf.get('failure_message', 'Training data is invalid') }}",
    },
    "poll_interval": 0.2,
}
DEFAULTS = {"retries": 0}


class CrashAfterSubmitOperator(BedrockModelCustomizationOperator):
    """Submits, then dies before deferring on its first try, like a worker killed after the Create call."""

    def execute(self, context):  # type: ignore[no-untyped-def]
        if context["ti"].try_number == 1:
            request = self.build_request().validate()
            identity: TaskIdentity = task_identity(context)
            self.hook.submit_job(request, identity, self.if_job_exists)
            raise RuntimeError("simulated worker crash right after CreateModelCustomizationJob")
        return super().execute(context)


def _dag(dag_id: str, **kwargs) -> DAG:  # type: ignore[no-untyped-def]
    return DAG(
        dag_id,
        schedule=None,
        start_date=datetime(2024, 1, 1),
        catchup=False,
        default_args=kwargs.pop("default_args", DEFAULTS),
        **kwargs,
    )


with _dag("it_customize_deferrable"):
    BedrockModelCustomizationOperator(task_id="train", **COMMON)

with _dag("it_customize_expiring_data"):
    BedrockModelCustomizationOperator(
        task_id="train",
        **{**COMMON, "training_data_uri": "s3://bedrock-it/{{ dag_run.conf['data_key'] }}"},
    )

with _dag("it_customize_blocking"):
    BedrockModelCustomizationOperator(task_id="train", deferrable=False, **COMMON)

with _dag("it_customize_no_wait"):
    BedrockModelCustomizationOperator(task_id="train", wait_for_completion=False, **COMMON)

with _dag("it_customize_retry", default_args={"retries": 1, "retry_delay": timedelta(seconds=0)}):
    BedrockModelCustomizationOperator(task_id="train", **COMMON)

with _dag("it_crash_after_submit", default_args={"retries": 1, "retry_delay": timedelta(seconds=0)}):
    CrashAfterSubmitOperator(task_id="train", **COMMON)

with _dag("it_customize_templated_name"):
    BedrockModelCustomizationOperator(
        task_id="train",
        **{
            **COMMON,
            "job_name": "{{ dag.dag_id | bedrock_name }}-{{ ts_nodash | bedrock_name }}",
            "custom_model_name": "{{ dag.dag_id | bedrock_name }}-{{ ts_nodash | bedrock_name }}-m",
        },
    )

with _dag("it_customize_bad_input", render_template_as_native_obj=True):
    BedrockModelCustomizationOperator(
        task_id="train",
        **{**COMMON, "hyperparameters": "{{ dag_run.conf.get('hyperparameters', {}) }}"},
    )

# The data objects come from the run's conf; a retry follows at once, so a test sees every try.
with _dag("it_customize_data_from_conf", default_args={"retries": 1, "retry_delay": timedelta(seconds=0)}):
    BedrockModelCustomizationOperator(
        task_id="train",
        **{
            **COMMON,
            "training_data_uri": "{{ dag_run.conf.get('training_data_uri') or '"
            + JOB_ARGS["training_data_uri"]
            + "' }}",
            "validation_data_uri": "{{ dag_run.conf.get('validation_data_uri') or '' }}",
        },
    )

for mode in ("poke", "reschedule", "deferrable"):
    with _dag(f"it_sensor_{mode}"):
        BedrockModelCustomizationSensor(
            task_id="wait",
            job_identifier="{{ dag_run.conf['job_identifier'] }}",
            poke_interval=0.2 if mode != "reschedule" else 1,
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            timeout=120,
        )
