"""A user's action on a deferred task, through a real triggerer: what happens to what it waits for.

mark-failed stops the job; clear keeps it and the task's next try adopts it; mark-succeeded leaves it
running to finish (bedrock_provider.core.waiting.kill). The customization runs are of the demo's manual DAG,
whose ``customize`` task waits deferred with the default stop_job_on_kill=True; the same rule holds
for a deployment and an evaluation job (tests/e2e/dags/reliability_kills.py, default delete_on_kill and
stop_job_on_kill), which a cleared task's next try adopts.
"""

from __future__ import annotations

from typing import Any

import pytest

from demo.processes import wait_for
from tests.e2e.conftest import MANUAL_DAG, RUN_TIMEOUT
from tests.e2e.harness import E2EStack, HarnessApi
from tests.e2e.test_kills import (
    STOP_DEADLINE,
    STOPPED,
    job_status,
    wait_for_job_status,
    wait_for_log,
    wait_until_the_trigger_runs,
)
from tests.e2e.test_stack import _client, submit_outside_airflow, task_states, trigger_logs

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CREATE = "CreateModelCustomizationJob"
STOP = "StopModelCustomizationJob"
TASK = "customize"
# Long enough to act on the task while the job runs, even when the session's first trigger starts
# slowly on a loaded machine; the runs that wait for the end still finish in a minute.
JOB_SECONDS = 60.0
DEPLOY_DAG = "task_actions_e2e_deploy"
EVALUATE_DAG = "task_actions_e2e_evaluate"


def clear_task(api: HarnessApi, dag_id: str, run_id: str, task_id: str) -> Any:
    """Clear one task instance, as the UI's Clear does (the REST API's clearTaskInstances)."""
    return api.request(
        "POST",
        f"/api/v2/dags/{dag_id}/clearTaskInstances",
        json_body={"dry_run": False, "dag_run_id": run_id, "task_ids": [task_id], "only_failed": False},
    )


def test_mark_failed_stops_the_job(stack: E2EStack, api, emulator, trigger_manual, unique_name):
    name = unique_name("e2e-act-failed")
    run_id = trigger_manual(name, duration=JOB_SECONDS)
    wait_until_the_trigger_runs(stack, api, MANUAL_DAG, run_id)

    api.set_task_state(MANUAL_DAG, run_id, TASK, "failed")

    assert wait_for_job_status(emulator, name, STOPPED, STOP_DEADLINE) < STOP_DEADLINE
    wait_for_log(stack, MANUAL_DAG, run_id, "stop requested")
    assert api.task_instance(MANUAL_DAG, run_id, TASK)["state"] == "failed"


def test_clear_keeps_the_job_and_the_rerun_adopts_it(stack, api, emulator, trigger_manual, unique_name):
    name = unique_name("e2e-act-clear")
    creates, stops = emulator.request_count(CREATE), emulator.request_count(STOP)
    run_id = trigger_manual(name, duration=JOB_SECONDS)
    wait_until_the_trigger_runs(stack, api, MANUAL_DAG, run_id)
    arn_before = next(job["jobArn"] for job in emulator.jobs() if job["jobName"] == name)

    clear_task(api, MANUAL_DAG, run_id, TASK)
    # The reason logged depends on a race the user does not see: the cleared task's next try may
    # already be deferred again when on_kill reads its state ("no user action"). Either way the job
    # is kept, which is what the assertions below prove.
    wait_for_log(stack, MANUAL_DAG, run_id, "left running")

    run = api.wait_for_run(MANUAL_DAG, run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success", task_states(api, MANUAL_DAG, run_id)
    assert api.task_instance(MANUAL_DAG, run_id, TASK)["try_number"] == 2
    xcom = api.xcom(MANUAL_DAG, run_id, TASK)
    assert (xcom["job_name"], xcom["job_arn"], xcom["status"]) == (name, arn_before, "Completed")
    assert emulator.request_count(CREATE) == creates + 1, "the re-run adopted the job"
    assert emulator.request_count(STOP) == stops


def test_mark_succeeded_leaves_the_job_running(stack, api, emulator, trigger_manual, unique_name):
    name = unique_name("e2e-act-success")
    stops = emulator.request_count(STOP)
    run_id = trigger_manual(name, duration=JOB_SECONDS)
    wait_until_the_trigger_runs(stack, api, MANUAL_DAG, run_id)

    api.set_task_state(MANUAL_DAG, run_id, TASK, "success")
    wait_for_log(stack, MANUAL_DAG, run_id, "left running: the task was marked succeeded")

    assert job_status(emulator, name) == "InProgress"
    wait_for_job_status(emulator, name, {"Completed"}, JOB_SECONDS + 60)
    assert emulator.request_count(STOP) == stops
    assert api.task_instance(MANUAL_DAG, run_id, TASK)["state"] == "success"


# -- deployments and evaluation jobs -------------------------------------------------------------------


@pytest.fixture(scope="module")
def action_dags(stack: E2EStack) -> None:
    """The task-action DAGs of tests/e2e/dags/reliability_kills.py are parsed (the stack reads
    tests/e2e/dags as a bundle of its own)."""
    wait_for(
        lambda: all(stack.api.dag(dag_id) for dag_id in (DEPLOY_DAG, EVALUATE_DAG)),
        120,
        "the task-action DAGs of tests/e2e/dags to be parsed",
        1.0,
        lambda: stack.log_tail("dag-processor"),
    )


def bedrock_client(stack: E2EStack) -> Any:
    return _client(stack, "bedrock")


def trained_model(stack: E2EStack, bedrock: Any, name: str) -> str:
    """A custom model of that name, trained outside Airflow; its ARN."""
    submit_outside_airflow(stack, name, duration=1)

    def model_arn() -> str | None:
        models = bedrock.list_custom_models(nameContains=name)["modelSummaries"]
        return next((str(m["modelArn"]) for m in models if m["modelName"] == name), None)

    return wait_for(model_arn, 60, f"custom model {name} to exist", 0.5)


def wait_for_trigger_log(stack: E2EStack, dag_id: str, run_id: str, task_id: str, text: str) -> None:
    wait_for(
        lambda: text in trigger_logs(stack, dag_id, run_id, task_id),
        60,
        f"the triggerer to log {text!r} for {dag_id}.{task_id}",
        0.5,
        lambda: trigger_logs(stack, dag_id, run_id, task_id)[-3000:] or stack.log_tail("triggerer"),
    )


def clear_the_waiting_task(stack: E2EStack, dag_id: str, run_id: str, task_id: str, waiting: str) -> Any:
    """Once the triggerer watches the resource (``waiting`` is its status), clear the task; then see its
    trigger keep the resource, and return the run as it ends."""
    api = stack.api
    api.wait_for_task_state(dag_id, run_id, task_id, {"deferred"}, timeout=90)
    # Only a running trigger gets on_kill: the log line says the triggerer has started it.
    wait_for_trigger_log(stack, dag_id, run_id, task_id, f"{waiting} after")
    clear_task(api, dag_id, run_id, task_id)
    # "cleared", or "no user action" when the next try deferred again before on_kill read the state.
    wait_for_trigger_log(stack, dag_id, run_id, task_id, "left running")
    return api.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)


def test_clear_keeps_a_deferred_deployment_and_the_next_try_adopts_it(stack, api, action_dags, unique_name):
    bedrock = bedrock_client(stack)
    name = unique_name("e2e-act-deploy")
    model_arn = trained_model(stack, bedrock, name)
    conf = {"name": name, "model_arn": model_arn, "duration": JOB_SECONDS}
    run_id = str(api.trigger(DEPLOY_DAG, conf=conf)["dag_run_id"])

    def deployment() -> dict[str, Any]:
        return bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=name)

    api.wait_for_task_state(DEPLOY_DAG, run_id, "deploy", {"deferred"}, timeout=90)
    arn_before = deployment()["customModelDeploymentArn"]
    run = clear_the_waiting_task(stack, DEPLOY_DAG, run_id, "deploy", "Creating")

    assert run["state"] == "success", task_states(api, DEPLOY_DAG, run_id)
    assert api.task_instance(DEPLOY_DAG, run_id, "deploy")["try_number"] == 2
    xcom = api.xcom(DEPLOY_DAG, run_id, "deploy")
    assert (xcom["deployment_arn"], xcom["status"], xcom["adopted"]) == (arn_before, "Active", True)
    # The deployment the first try created is the one serving: never deleted, never created again.
    assert (deployment()["customModelDeploymentArn"], deployment()["status"]) == (arn_before, "Active")


def test_clear_keeps_a_deferred_evaluation_job_and_the_next_try_adopts_it(
    stack, api, action_dags, unique_name
):
    bedrock = bedrock_client(stack)
    name = unique_name("e2e-act-eval")
    run_id = str(api.trigger(EVALUATE_DAG, conf={"name": name, "duration": JOB_SECONDS})["dag_run_id"])

    def jobs() -> list[dict[str, Any]]:
        return bedrock.list_evaluation_jobs(nameContains=name)["jobSummaries"]

    api.wait_for_task_state(EVALUATE_DAG, run_id, "evaluate", {"deferred"}, timeout=90)
    [job_before] = jobs()
    run = clear_the_waiting_task(stack, EVALUATE_DAG, run_id, "evaluate", "InProgress")

    assert run["state"] == "success", task_states(api, EVALUATE_DAG, run_id)
    assert api.task_instance(EVALUATE_DAG, run_id, "evaluate")["try_number"] == 2
    xcom = api.xcom(EVALUATE_DAG, run_id, "evaluate")
    assert (xcom["job_name"], xcom["job_arn"], xcom["status"]) == (name, job_before["jobArn"], "Completed")
    # One job, run to the end: not stopped by the clear, not submitted again (no name-r2) by the next try.
    assert [(job["jobArn"], job["status"]) for job in jobs()] == [(job_before["jobArn"], "Completed")]


def test_mark_failed_deletes_a_deferred_deployment_not_yet_active(stack, api, action_dags, unique_name):
    bedrock = bedrock_client(stack)
    name = unique_name("e2e-act-undeploy")
    conf = {"name": name, "model_arn": trained_model(stack, bedrock, name), "duration": JOB_SECONDS}
    run_id = str(api.trigger(DEPLOY_DAG, conf=conf)["dag_run_id"])
    api.wait_for_task_state(DEPLOY_DAG, run_id, "deploy", {"deferred"}, timeout=90)
    wait_for_trigger_log(stack, DEPLOY_DAG, run_id, "deploy", "Creating after")

    api.set_task_state(DEPLOY_DAG, run_id, "deploy", "failed")

    wait_for_trigger_log(stack, DEPLOY_DAG, run_id, "deploy", "delete requested for custom model deployment")
    names = {
        summary["customModelDeploymentName"]
        for summary in bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
    }
    assert name not in names
    assert api.task_instance(DEPLOY_DAG, run_id, "deploy")["state"] == "failed"
