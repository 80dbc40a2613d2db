"""The naming filters wherever a template is rendered, through real Airflow (dag.test) on the emulator:
mapped tasks (.expand and .expand_kwargs), a task group and a mapped task group each submit one job
per task instance, under a valid name of its own."""

from __future__ import annotations

import pytest

from bedrock_provider.core.names import (
    custom_model_name_problem,
    evaluation_job_name_problem,
    job_name_problem,
)

pytestmark = pytest.mark.integration

CREATE = "CreateModelCustomizationJob"


def assert_one_valid_job_each(result, bedrock, task: str, count: int) -> list[dict]:
    """Every instance of ``task`` succeeded with a job of its own, valid names, and distinct names."""
    states = result.task_states()
    assert result.state == "success", states
    keys = [f"{task}[{index}]" for index in range(count)] if count > 1 else [task]
    assert [states[key] for key in keys] == ["success"] * count, states
    xcoms = [result.xcom(task, map_index=index if count > 1 else -1) for index in range(count)]
    job_names = [xcom["job_name"] for xcom in xcoms]
    model_names = [xcom["custom_model_name"] for xcom in xcoms]
    assert len(set(job_names)) == count and len(set(model_names)) == count, (job_names, model_names)
    assert [job_name_problem(name) for name in job_names] == [None] * count
    assert [custom_model_name_problem(name) for name in model_names] == [None] * count
    for xcom in xcoms:
        job = bedrock.get_model_customization_job(jobIdentifier=xcom["job_name"])
        assert (job["jobArn"], job["status"]) == (xcom["job_arn"], "Completed")
    return xcoms


def test_filters_in_a_task_mapped_with_expand(run_dag, emulator, bedrock):
    created = emulator.request_count(CREATE)
    result = run_dag("it_names_mapped_expand")
    xcoms = assert_one_valid_job_each(result, bedrock, "train", 3)
    assert emulator.request_count(CREATE) == created + 3
    assert all(xcom["job_name"].startswith("it-names-mapped-expand-manual-") for xcom in xcoms)
    assert all(xcom["custom_model_name"].startswith("model-manual-") for xcom in xcoms)


def test_filters_in_the_arguments_of_expand_kwargs(run_dag, emulator, bedrock):
    created = emulator.request_count(CREATE)
    result = run_dag("it_names_mapped_expand_kwargs")
    xcoms = assert_one_valid_job_each(result, bedrock, "train", 3)
    assert emulator.request_count(CREATE) == created + 3
    assert all(xcom["job_name"].startswith("point-manual-") for xcom in xcoms)
    assert [xcom["custom_model_name"] for xcom in xcoms] == [
        f"it-names-mapped-expand-kwargs-{index}" for index in range(3)
    ]


def test_filters_in_a_task_group(run_dag, bedrock):
    result = run_dag("it_names_task_group")
    (xcom,) = assert_one_valid_job_each(result, bedrock, "weekly.train", 1)
    assert xcom["job_name"].startswith("it-names-task-group-manual-")


def test_filters_in_a_mapped_task_group(run_dag, emulator, bedrock):
    created = emulator.request_count(CREATE)
    result = run_dag("it_names_mapped_task_group")
    assert_one_valid_job_each(result, bedrock, "point.train", 3)
    assert emulator.request_count(CREATE) == created + 3


def test_a_mapped_job_name_that_changes_per_try_is_refused_before_any_create(run_dag, emulator, capsys):
    created = emulator.request_count(CREATE)
    result = run_dag("it_names_mapped_per_try")
    assert result.task_states() == {"train[0]": "failed", "train[1]": "failed"}
    assert emulator.request_count(CREATE) == created
    assert "on the next try of this task instance" in capsys.readouterr().out


def test_bedrock_job_name_names_mapped_evaluation_jobs(run_dag, s3, bedrock):
    import json

    prompts = "".join(
        json.dumps({"prompt": f"Q{i}?", "referenceResponse": f"A{i}."}) + "\n" for i in range(4)
    )
    s3.put_object(Bucket="bedrock-it", Key="evaluation/naming-prompts.jsonl", Body=prompts.encode())
    result = run_dag("it_names_mapped_evaluation")
    states = result.task_states()
    assert result.state == "success", states
    xcoms = [result.xcom("evaluate", map_index=index) for index in (0, 1)]
    names = [xcom["job_name"] for xcom in xcoms]
    assert len(set(names)) == 2
    assert [evaluation_job_name_problem(name) for name in names] == [None, None], names
    for xcom in xcoms:
        job = bedrock.get_evaluation_job(jobIdentifier=xcom["job_arn"])
        assert (job["jobName"], job["status"]) == (xcom["job_name"], "Completed")
