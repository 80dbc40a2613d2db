"""Airflow DAGs for the Amazon-named drop-in classes: each waiting and naming parameter, through
dag.test(). (The word Airflow here is what lets the DagBag's safe mode read this file.)

Job names and the emulator's outcome come from the run's conf; the emulator reads its tags from
``customization_job_kwargs["jobTags"]``, the one place the Amazon operator takes them.
"""

from __future__ import annotations

from bedrock_provider.operators.base import task_identity
from bedrock_provider.operators.customization import BedrockCustomizeModelOperator
from bedrock_provider.sensors.customization import BedrockCustomizeModelCompletedSensor
from tests.integration.job_args import JOB_ARGS, manual_dag

OPERATOR = {
    **JOB_ARGS,
    "hyperparameters": {"epochCount": "1", "batchSize": "1", "learningRate": ".0005"},
    "customization_job_kwargs": {
        "jobTags": [
            {"key": "emulator:outcome", "value": "{{ dag_run.conf.get('outcome', 'Completed') }}"},
            {"key": "emulator:duration", "value": "{{ dag_run.conf.get('duration', 1) }}"},
        ]
    },
    "waiter_delay": 1,
}
SENSOR = {"job_name": "{{ dag_run.conf['job_name'] }}", "poke_interval": 1}


class CrashAfterSubmitOperator(BedrockCustomizeModelOperator):
    """Submits, then dies before waiting on its first try, like a worker killed after the Create call."""

    def execute(self, context):  # type: ignore[no-untyped-def]
        if context["ti"].try_number == 1:
            self.if_job_exists = "reattach_or_rename"
            self.hook.submit_job(self.build_request().validate(), task_identity(context), self.if_job_exists)
            raise RuntimeError("simulated worker crash right after CreateModelCustomizationJob")
        return super().execute(context)


for deferrable in (False, True):
    mode = "deferrable" if deferrable else "blocking"
    with manual_dag(f"it_amazon_{mode}"):
        BedrockCustomizeModelOperator(task_id="customize", deferrable=deferrable, **OPERATOR)
    with manual_dag(f"it_amazon_{mode}_max_attempts"):
        BedrockCustomizeModelOperator(
            task_id="customize", deferrable=deferrable, waiter_max_attempts=2, **OPERATOR
        )

with manual_dag("it_amazon_no_wait"):
    BedrockCustomizeModelOperator(
        task_id="customize", deferrable=False, wait_for_completion=False, **OPERATOR
    )

with manual_dag("it_amazon_not_unique"):
    BedrockCustomizeModelOperator(task_id="customize", ensure_unique_job_name=False, **OPERATOR)

with manual_dag("it_amazon_crash_after_submit", retries=1):
    CrashAfterSubmitOperator(task_id="customize", **OPERATOR)

for mode in ("poke", "reschedule", "deferrable"):
    with manual_dag(f"it_amazon_sensor_{mode}"):
        BedrockCustomizeModelCompletedSensor(
            task_id="wait",
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            **SENSOR,
        )
    with manual_dag(f"it_amazon_sensor_{mode}_max_retries"):
        BedrockCustomizeModelCompletedSensor(
            task_id="wait",
            mode="reschedule" if mode == "reschedule" else "poke",
            deferrable=mode == "deferrable",
            max_retries=2,
            **SENSOR,
        )

with manual_dag("it_amazon_sensor_failure_states"):
    BedrockCustomizeModelCompletedSensor(
        task_id="wait",
        deferrable=False,
        success_states=["Completed", "Stopped"],
        failure_states=["Failed"],
        **SENSOR,
    )
