"""The example DAGs on real Airflow processes: REST-triggered runs, deferral in the triggerer, backfills,
Params refused before a run exists, and a triggerer killed mid-wait."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from demo.airflow_api import ApiError
from demo.seed import DAG_SETTINGS, DUMMY_CREDENTIALS
from tests.e2e.conftest import MANUAL_DAG, RUN_TIMEOUT, jobs_for
from tests.e2e.harness import E2E_WEEKS, E2EStack, HarnessApi

pytestmark = pytest.mark.e2e

RETRAINING = "bedrock_retraining"
CREATE = "CreateModelCustomizationJob"


def task_states(api: HarnessApi, dag_id: str, run_id: str) -> dict[str, str | None]:
    return {
        ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""): ti["state"]
        for ti in api.task_instances(dag_id, run_id)
    }


def job_named(emulator: Any, name: str) -> dict[str, Any]:
    jobs = [job for job in emulator.jobs() if job["jobName"] == name]
    assert len(jobs) == 1, f"expected one job named {name}, found {jobs}"
    return jobs[0]


def trigger_logs(stack: E2EStack, dag_id: str, run_id: str, task_id: str) -> str:
    """What the triggerer process wrote for a task's triggers (Airflow keeps it beside the task log)."""
    folder = stack.logs_dir / "airflow" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    return "".join(path.read_text(errors="replace") for path in sorted(folder.glob("*.trigger.*.log")))


def submit_outside_airflow(stack: E2EStack, name: str, duration: float) -> None:
    """Create a job straight through the Bedrock API, as the console or a notebook would."""
    import boto3

    settings = DAG_SETTINGS
    boto3.client(
        "bedrock",
        endpoint_url=stack.emulator_url,
        region_name=stack.region,
        aws_access_key_id=DUMMY_CREDENTIALS[0],
        aws_secret_access_key=DUMMY_CREDENTIALS[1],
    ).create_model_customization_job(
        jobName=name,
        customModelName=name,
        roleArn=settings.DEMO_ROLE_ARN,
        baseModelIdentifier=settings.DEMO_BASE_MODEL,
        trainingDataConfig={
            "s3Uri": f"s3://{stack.bucket}/{settings.RAW_PREFIX}/20250105/{settings.RAW_OBJECT_NAME}"
        },
        outputDataConfig={"s3Uri": f"s3://{stack.bucket}/customization-output/elsewhere/"},
        hyperParameters={"epochCount": "1"},
        jobTags=[{"key": "emulator:duration", "value": str(duration)}],
    )


def test_run_with_conf_defers_in_the_triggerer_then_succeeds(
    stack: E2EStack, trigger_manual: Callable[..., str], unique_name: Callable[[str], str]
) -> None:
    api, emulator, name = stack.api, stack.emulator, unique_name("e2e-conf")
    run_id = trigger_manual(name, hyperparameters={"epochCount": 1, "learningRate": 0.00002})

    deferred = api.wait_for_task_state(MANUAL_DAG, run_id, "customize", {"deferred"}, timeout=90)
    assert deferred["trigger"] is not None, deferred
    assert job_named(emulator, name)["status"] == "InProgress"

    run = api.wait_for_run(MANUAL_DAG, run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success", task_states(api, MANUAL_DAG, run_id)
    assert run["conf"]["job_name"] == name
    assert task_states(api, MANUAL_DAG, run_id) == {
        "check_request": "success",
        "service_role": "success",
        "customize": "success",
        "export_metrics": "success",
        # "Deploy and evaluate" is off by default: the run ends after the metrics.
        "wants_evaluation": "success",
        "deploy": "skipped",
        "evaluate": "skipped",
    }
    customize = api.task_instance(MANUAL_DAG, run_id, "customize")
    assert customize["try_number"] == 1, "the task resumed after its trigger fired, without a retry"
    assert "Trigger fired event" in trigger_logs(stack, MANUAL_DAG, run_id, "customize")

    result = api.xcom(MANUAL_DAG, run_id, "customize")
    assert (result["job_name"], result["status"]) == (name, "Completed")
    assert job_named(emulator, name)["status"] == "Completed"
    assert len(jobs_for(emulator, name)) == 1
    metrics = api.xcom(MANUAL_DAG, run_id, "export_metrics")
    assert metrics["passed"] is True
    assert metrics["training"]["epochs"] == 1


@pytest.mark.parametrize(
    ("conf", "named"),
    [
        ({"base_model_id": "amazon.titan-text-express-v9"}, "base_model_id"),
        ({"customization_type": "fine_tuning"}, "customization_type"),
        ({"hyperparameters": "epochCount=2"}, "hyperparameters"),
        ({"hyperparameters": {"epochCount": [2]}}, "hyperparameters"),
        ({"job_name": "weekly_run:2025-01-05"}, "job_name"),
        ({"job_name": "a" * 64}, "job_name"),
        ({"custom_model_name": "model--1"}, "custom_model_name"),
        ({"training_data_uri": "s3://Bucket/train.jsonl"}, "training_data_uri"),
        ({"output_data_uri": "/tmp/output"}, "output_data_uri"),
        ({"role_arn": "arn:aws:iam::12345:role/x"}, "role_arn"),
        ({"max_validation_loss": 0}, "max_validation_loss"),
        ({"job_tags": {"team": 7}}, "job_tags"),
    ],
)
def test_invalid_params_are_refused_before_a_run_exists(
    api: HarnessApi, emulator: Any, conf: dict[str, Any], named: str
) -> None:
    runs = len(api.dag_runs(MANUAL_DAG))
    creates = emulator.request_count(CREATE)
    with pytest.raises(ApiError) as refused:
        api.trigger(MANUAL_DAG, conf=conf)
    assert refused.value.status in (400, 422), refused.value
    assert named in str(refused.value.body), refused.value.body
    assert len(api.dag_runs(MANUAL_DAG)) == runs, "no run may be created for invalid Params"
    assert emulator.request_count(CREATE) == creates


def unused_weeks(api: HarnessApi, emulator: Any, count: int) -> list[datetime]:
    """``count`` consecutive weeks of the e2e tests' own data that no run of the retraining DAG and no
    job has used yet (the demo's weeks are left to the tests and UI checks that name them)."""
    weeks = list(E2E_WEEKS)
    used = {run["logical_date"][:10] for run in api.dag_runs(RETRAINING) if run.get("logical_date")}
    for first in range(len(weeks) - count + 1):
        window = weeks[first : first + count]
        if not any(
            f"{week:%Y-%m-%d}" in used or jobs_for(emulator, f"bedrock-retraining-{week:%Y%m%d}")
            for week in window
        ):
            return window
    pytest.fail(
        f"no {count} consecutive weeks of E2E_WEEKS are left untrained; runs exist for {sorted(used)}"
    )


def test_backfill_trains_each_week_once_and_a_rerun_adopts_the_jobs(api: HarnessApi, emulator: Any) -> None:
    weeks = unused_weeks(api, emulator, 3)
    names = [f"bedrock-retraining-{week:%Y%m%d}" for week in weeks]

    def backfill(reprocess_behavior: str) -> list[dict[str, Any]]:
        started = api.create_backfill(RETRAINING, weeks[0], weeks[-1], reprocess_behavior, max_active_runs=3)
        api.wait_for_backfill(started["id"], timeout=300)
        runs = api.dag_runs(
            RETRAINING, logical_date_gte=weeks[0].isoformat(), logical_date_lte=weeks[-1].isoformat()
        )
        assert sorted(run["logical_date"][:10] for run in runs) == [f"{week:%Y-%m-%d}" for week in weeks]
        for run in runs:
            assert run["run_type"] == "backfill"
            assert run["state"] == "success", task_states(api, RETRAINING, run["dag_run_id"])
        return runs

    runs = backfill("none")
    assert [len(jobs_for(emulator, name)) for name in names] == [1, 1, 1], "one job per week"
    arns = {api.xcom(RETRAINING, run["dag_run_id"], "customize")["job_arn"] for run in runs}
    assert arns == {jobs_for(emulator, name)[0]["jobArn"] for name in names}

    rerun = backfill("completed")
    assert {run["dag_run_id"] for run in rerun} == {run["dag_run_id"] for run in runs}
    for run in rerun:
        assert api.task_instance(RETRAINING, run["dag_run_id"], "customize")["try_number"] == 2
    assert {api.xcom(RETRAINING, run["dag_run_id"], "customize")["job_arn"] for run in rerun} == arns
    assert [len(jobs_for(emulator, name)) for name in names] == [1, 1, 1], (
        "a re-run backfill must adopt its jobs, not submit new ones"
    )


# A Sunday no seed uploads data for (the demo's weeks, E2E_WEEKS, and the two Sundays around today).
WEEK_WITHOUT_DATA = datetime(2025, 6, 1, tzinfo=UTC)


def test_a_week_without_data_fails_the_run_and_retire_still_runs(api: HarnessApi, emulator: Any) -> None:
    """retire cleans up whatever happened, as a teardown: it runs, and the run still ends failed, so
    that failure alerts fire (as a plain all_done leaf it turned such a run green)."""
    week = WEEK_WITHOUT_DATA
    run_id = str(api.trigger(RETRAINING, logical_date=week)["dag_run_id"])
    run = api.wait_for_run(RETRAINING, run_id, timeout=RUN_TIMEOUT)
    states = task_states(api, RETRAINING, run_id)
    assert run["state"] == "failed", states
    assert states == {
        "service_role": "success",
        "prepare_dataset": "failed",
        "customize": "upstream_failed",
        "export_metrics": "upstream_failed",
        "deploy_candidate": "upstream_failed",
        "evaluate": "upstream_failed",
        "promote": "upstream_failed",
        "swap": "upstream_failed",
        "retire": "success",
    }
    assert api.task_instance(RETRAINING, run_id, "prepare_dataset")["try_number"] == 1, (
        "missing data is not retried"
    )
    retired = api.xcom(RETRAINING, run_id, "retire")
    assert retired["deleted_deployments"] == [], "nothing of this run was deployed"
    assert jobs_for(emulator, f"bedrock-retraining-{week:%Y%m%d}") == []


def test_watch_job_sensor_waits_deferred_for_a_job_submitted_elsewhere(
    stack: E2EStack, api: HarnessApi, emulator: Any, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("e2e-watched")
    submit_outside_airflow(stack, name, duration=10)
    run_id = api.trigger("bedrock_watch_job", conf={"job_identifier": name})["dag_run_id"]
    api.wait_for_task_state("bedrock_watch_job", run_id, "wait_for_job", {"deferred"}, timeout=90)
    run = api.wait_for_run("bedrock_watch_job", run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success", task_states(api, "bedrock_watch_job", run_id)
    assert api.task_instance("bedrock_watch_job", run_id, "wait_for_job")["try_number"] == 1
    assert api.xcom("bedrock_watch_job", run_id, "wait_for_job")["jobName"] == name
    assert api.xcom("bedrock_watch_job", run_id, "export_metrics")["job_name"] == name
    assert job_named(emulator, name)["status"] == "Completed"


def test_sweep_maps_one_deferred_job_per_point_and_keeps_the_best(api: HarnessApi, emulator: Any) -> None:
    sweep = "bedrock_hyperparameter_sweep"
    conf = {"partition": "20250202", "learning_rates": [0.00001, 0.00003], "epoch_counts": [1]}
    run_id = api.trigger(sweep, conf=conf)["dag_run_id"]
    run = api.wait_for_run(sweep, run_id, timeout=RUN_TIMEOUT)
    states = task_states(api, sweep, run_id)
    assert run["state"] == "success", states
    assert {task: state for task, state in states.items() if task.startswith("customize")} == {
        "customize[0]": "success",
        "customize[1]": "success",
    }
    jobs = [api.xcom(sweep, run_id, "customize", map_index=index) for index in (0, 1)]
    assert len({job["job_arn"] for job in jobs}) == 2
    # Named by the bedrock_job_name filter, rendered in each mapped instance: one name per point.
    assert all(job["job_name"].startswith("sweep-manual-") for job in jobs), jobs
    assert len({job["job_name"] for job in jobs}) == 2
    assert [len(jobs_for(emulator, job["job_name"])) for job in jobs] == [1, 1]
    summaries = [api.xcom(sweep, run_id, "export_metrics", map_index=index) for index in (0, 1)]
    best = api.xcom(sweep, run_id, "pick_best")
    assert best["loss"] == min(summary["validation"]["final_loss"] for summary in summaries)
    assert best["hyperparameters"]["learningRate"] in conf["learning_rates"]


def test_sweep_over_its_budget_submits_no_job(api: HarnessApi, emulator: Any) -> None:
    sweep = "bedrock_hyperparameter_sweep"
    creates = emulator.request_count(CREATE)
    conf = {
        "partition": "20250202",
        "learning_rates": [0.00001, 0.00003],
        "epoch_counts": [1, 2],
        "max_total_estimated_cost": 0.000001,
    }
    run_id = api.trigger(sweep, conf=conf)["dag_run_id"]
    run = api.wait_for_run(sweep, run_id, timeout=RUN_TIMEOUT)
    states = task_states(api, sweep, run_id)
    assert run["state"] == "failed", states
    assert states["prepare_dataset"] == "success" and states["hyperparameter_grid"] == "failed", states
    assert emulator.request_count(CREATE) == creates


def test_triggerer_killed_while_a_task_is_deferred_then_restarted(
    stack: E2EStack,
    api: HarnessApi,
    emulator: Any,
    trigger_manual: Callable[..., str],
    unique_name: Callable[[str], str],
) -> None:
    name = unique_name("e2e-triggerer-kill")
    run_id = trigger_manual(name, duration=15)
    before = api.wait_for_task_state(MANUAL_DAG, run_id, "customize", {"deferred"}, timeout=90)
    assert before["triggerer_job"] is not None or before["trigger"] is not None

    stack.kill_component("triggerer")
    assert job_named(emulator, name)["status"] == "InProgress", "the job must outlive the triggerer"
    assert api.task_instance(MANUAL_DAG, run_id, "customize")["state"] == "deferred"
    stack.restart_component("triggerer")

    run = api.wait_for_run(MANUAL_DAG, run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success", task_states(api, MANUAL_DAG, run_id)
    customize = api.task_instance(MANUAL_DAG, run_id, "customize")
    assert customize["try_number"] == 1, "the restarted triggerer took the trigger over; no retry was needed"
    assert len(jobs_for(emulator, name)) == 1
    assert job_named(emulator, name)["status"] == "Completed"


def _client(stack: E2EStack, service: str) -> Any:
    import boto3

    access_key, secret_key = DUMMY_CREDENTIALS
    return boto3.client(
        service,
        endpoint_url=stack.emulator_url,
        region_name=stack.region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
    )


def _deployments(stack: E2EStack) -> dict[str, dict[str, Any]]:
    summaries = _client(stack, "bedrock").list_custom_model_deployments()["modelDeploymentSummaries"]
    return {summary["customModelDeploymentName"]: summary for summary in summaries}


def test_retraining_deploys_evaluates_promotes_and_undeploys_what_a_gate_turned_down(
    stack: E2EStack, api: HarnessApi
) -> None:
    """The whole weekly chain through the triggerer. A week whose scores miss the gate is not promoted
    and its deployment is gone; the next week is deployed, scored by an evaluation job and promoted,
    and stays deployed."""
    # Earlier tests crowned champions with random losses: start these weeks from no champion.
    _client(stack, "s3").delete_object(Bucket=stack.bucket, Key=DAG_SETTINGS.CHAMPION_KEY)

    turned_down, week = unused_weeks(api, stack.emulator, 2)
    run_id = str(
        api.trigger(RETRAINING, logical_date=turned_down, conf={"min_correctness": 0.99})["dag_run_id"]
    )
    run = api.wait_for_run(RETRAINING, run_id, timeout=RUN_TIMEOUT)
    states = task_states(api, RETRAINING, run_id)
    assert run["state"] == "success", states
    assert (states["deploy_candidate"], states["evaluate"]) == ("success", "skipped"), states
    assert (states["promote"], states["retire"]) == ("skipped", "success"), states
    assert api.xcom(RETRAINING, run_id, "evaluate")["passed"] is False
    assert api.xcom(RETRAINING, run_id, "retire")["deleted_deployments"] == [
        api.xcom(RETRAINING, run_id, "deploy_candidate")["deployment_arn"]
    ]
    assert f"support-bot-{turned_down:%Y%m%d}" not in _deployments(stack)

    run_id = str(api.trigger(RETRAINING, logical_date=week)["dag_run_id"])
    api.wait_for_task_state(RETRAINING, run_id, "deploy_candidate", {"deferred"}, timeout=RUN_TIMEOUT)
    run = api.wait_for_run(RETRAINING, run_id, timeout=RUN_TIMEOUT)
    states = task_states(api, RETRAINING, run_id)
    assert run["state"] == "success", states
    assert set(states.values()) == {"success"}, states
    evaluation = api.xcom(RETRAINING, run_id, "evaluate")
    assert evaluation["passed"] is True and 0.55 <= evaluation["scores"]["Builtin.Correctness"] <= 0.95
    assert (
        evaluation["model_identifier"] == api.xcom(RETRAINING, run_id, "deploy_candidate")["deployment_arn"]
    )
    # The deployment's own responses, judged: AWS's path for an on-demand deployment.
    assert evaluation["evaluation_path"] == "precomputed_inference" and evaluation["responses_uri"]
    assert api.xcom(RETRAINING, run_id, "promote")["promoted"] is True
    assert _deployments(stack)[f"support-bot-{week:%Y%m%d}"]["status"] == "Active", (
        "the champion stays deployed"
    )
