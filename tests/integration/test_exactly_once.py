"""Exactly once, and never the wrong job: real Airflow (dag.test) against the emulator.

Cases that must not create a job prove it with the emulator's count of CreateModelCustomizationJob.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.integration

CREATE = "CreateModelCustomizationJob"


@pytest.fixture
def once(run_dag, emulator):
    """Run it_once_from_conf twice on one run_id (a cleared task), the second time with ``edits``."""

    def run_twice(name, first=None, second=None, when=datetime(2024, 5, 1, tzinfo=UTC)):
        first_run = run_dag("it_once_from_conf", conf={"job_name": name, **(first or {})}, logical_date=when)
        assert first_run.state == "success", first_run.task_states()
        first_xcom = first_run.xcom("train")
        created = emulator.request_count(CREATE)
        second_run = run_dag(
            "it_once_from_conf", conf={"job_name": name, **(second or {})}, logical_date=when
        )
        assert second_run.run_id == first_run.run_id
        return first_xcom, second_run, emulator.request_count(CREATE) - created

    return run_twice


def test_edited_dag_then_cleared_task_is_refused_naming_the_fields(once, unique_name, capsys):
    edits = {"training_key": "data/validation.jsonl", "learning_rate": "0.0002"}
    _, second, created = once(unique_name("it-edited"), second=edits)

    assert second.task_states() == {"train": "failed"}
    assert created == 0, "no Create for a refused adoption"
    out = capsys.readouterr().out
    assert "training_data_uri: the job has 's3://bedrock-it/data/train.jsonl', this task asks for" in out
    assert "'s3://bedrock-it/data/validation.jsonl'" in out
    assert "hyperparameters.learningRate: the job has '1e-05', this task asks for '0.0002'" in out
    assert "if_job_exists='resubmit_on_change'" in out


def test_edited_dag_with_resubmit_on_change_trains_a_fresh_job_on_the_new_request(once, unique_name):
    name = unique_name("it-resubmit")
    edits = {"training_key": "data/validation.jsonl", "if_job_exists": "resubmit_on_change"}
    first, second, created = once(name, second=edits)

    assert second.state == "success", second.task_states()
    assert created == 1
    xcom = second.xcom("train")
    assert xcom["job_name"] == f"{name}-r2" and xcom["job_arn"] != first["job_arn"]
    assert xcom["training_data_uri"] == "s3://bedrock-it/data/validation.jsonl"


def test_unchanged_request_is_still_adopted_with_numbers_written_differently(once, unique_name):
    _, second, created = once(
        unique_name("it-same"), first={"learning_rate": "1e-5"}, second={"learning_rate": "0.00001"}
    )
    assert second.state == "success" and created == 0


def test_another_deployment_on_the_same_account_never_adopts_the_job(
    run_dag, emulator, unique_name, monkeypatch, capsys
):
    # Staging and prod (separate metadata DBs) run the same DAG: same dag_id, same scheduled run_id.
    name = unique_name("it-deploy")
    when = datetime(2024, 6, 1, tzinfo=UTC)
    monkeypatch.setenv("AIRFLOW__BEDROCK__DEPLOYMENT_NAMESPACE", "staging")
    staging = run_dag("it_once_from_conf", conf={"job_name": name}, logical_date=when)
    assert staging.state == "success", staging.task_states()
    created = emulator.request_count(CREATE)

    monkeypatch.setenv("AIRFLOW__BEDROCK__DEPLOYMENT_NAMESPACE", "prod")
    prod_conf = {"job_name": name, "training_key": "data/validation.jsonl"}
    prod = run_dag("it_once_from_conf", conf=prod_conf, logical_date=when)

    assert prod.run_id == staging.run_id
    assert prod.task_states() == {"train": "failed"}
    assert emulator.request_count(CREATE) == created, "prod never adopts, nor re-creates, staging's job"
    out = capsys.readouterr().out
    assert "not submitted by this task instance" in out and "namespace=prod" in out
    assert "training_data_uri: the job has 's3://bedrock-it/data/train.jsonl'" in out

    # The user's choice: a fresh job of prod's own.
    renamed = run_dag("it_once_from_conf", conf={**prod_conf, "if_job_exists": "rename"}, logical_date=when)
    assert renamed.state == "success", renamed.task_states()
    assert renamed.xcom("train")["job_name"] == f"{name}-r2"
    assert renamed.xcom("train")["training_data_uri"] == "s3://bedrock-it/data/validation.jsonl"
    assert emulator.request_count(CREATE) == created + 1


def test_a_deployment_without_a_namespace_setting_gets_one_of_its_own(run_dag, unique_name):
    from airflow.models.variable import Variable

    result = run_dag("it_once_from_conf", conf={"job_name": unique_name("it-ns")})
    assert result.state == "success", result.task_states()
    stored = Variable.get("bedrock_deployment_namespace")
    assert len(stored) == 32
    again = run_dag("it_once_from_conf", conf={"job_name": unique_name("it-ns")})
    assert again.state == "success" and Variable.get("bedrock_deployment_namespace") == stored


@pytest.mark.parametrize("conf", [{"job_name": None}, {}], ids=["None", "missing"])
def test_a_job_name_that_renders_none_is_refused_before_any_create(run_dag, emulator, conf, capsys):
    created = emulator.request_count(CREATE)
    result = run_dag("it_once_name_from_param", conf=conf)
    assert result.task_states() == {"train": "failed"}
    assert emulator.request_count(CREATE) == created
    assert "job_name='None': is None: a template rendered None" in capsys.readouterr().out


def test_sensor_refuses_an_xcom_or_param_that_renders_none(run_dag, emulator, capsys):
    described = emulator.request_count("GetModelCustomizationJob")
    result = run_dag("it_once_sensor_none", conf={"job_identifier": None})
    assert result.task_states() == {"wait": "failed"}
    assert emulator.request_count("GetModelCustomizationJob") == described
    assert "a template rendered None" in capsys.readouterr().out


def test_a_job_name_that_changes_per_try_is_refused_before_any_create(run_dag, emulator, unique_name, capsys):
    created = emulator.request_count(CREATE)
    result = run_dag("it_once_name_per_try", conf={"job_name": unique_name("it-try")})
    assert result.task_states() == {"train": "failed"}
    assert emulator.request_count(CREATE) == created, "no try ever ran a job, let alone three"
    out = capsys.readouterr().out
    assert "on the next try of this task instance" in out and "bedrock_job_name" in out


def test_bedrock_job_name_is_valid_for_long_dag_ids_and_runs_without_a_logical_date(emulator, bedrock):
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import INTEGRATION_DAGS

    dag_id = "it_once_job_name_macro_from_a_dag_id_well_over_forty_seven_characters_long"
    dag = DagBag(dag_folder=str(INTEGRATION_DAGS)).get_dag(dag_id)
    run = dag.test(run_after=datetime.now(UTC), logical_date=None, run_conf={"job_name": "unused"})
    assert str(run.state) == "success"
    assert run.logical_date is None
    from tests.integration.conftest import DagRunResult

    xcom = DagRunResult(run).xcom("train")
    assert len(xcom["job_name"]) <= 55
    assert xcom["custom_model_name"] == xcom["job_name"] + "-m"
    assert bedrock.get_model_customization_job(jobIdentifier=xcom["job_name"])["status"] == "Completed"
