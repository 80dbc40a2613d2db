"""BedrockPrepareDatasetOperator in a real DAG run (dag.test) feeding the customization operator."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration

CREATE = "CreateModelCustomizationJob"
BUCKET = "bedrock-it"


def test_prepared_data_feeds_the_customization_job(run_dag, emulator, bedrock, s3, unique_name):
    name = unique_name("it-prep")
    before = emulator.request_count(CREATE)

    result = run_dag("it_dataset_prep", conf={"job_name": name})

    assert result.state == "success", result.task_states()
    prepared = result.xcom("prepare")
    prefix = f"s3://{BUCKET}/prepared/{name}"
    assert prepared["training_data_uri"] == f"{prefix}/train.jsonl"
    assert prepared["validation_data_uri"] == f"{prefix}/validation.jsonl"
    assert prepared["report_uri"] == f"{prefix}/report.json"
    assert prepared["records"] == 40 and prepared["invalid_records"] == 0
    assert prepared["training_records"] + prepared["validation_records"] == 40

    job = bedrock.get_model_customization_job(jobIdentifier=name)
    assert job["trainingDataConfig"]["s3Uri"] == prepared["training_data_uri"]
    assert [v["s3Uri"] for v in job["validationDataConfig"]["validators"]] == [
        prepared["validation_data_uri"]
    ]
    assert job["outputDataConfig"]["s3Uri"] == f"{prefix}/model/"
    assert result.xcom("train")["status"] == "Completed"
    assert emulator.request_count(CREATE) == before + 1

    training = s3.get_object(Bucket=BUCKET, Key=f"prepared/{name}/train.jsonl")["Body"].read()
    assert len(training.splitlines()) == prepared["training_records"]


def test_no_validation_split_means_no_validation_data(run_dag, bedrock, unique_name):
    name = unique_name("it-prep-nosplit")
    result = run_dag("it_dataset_prep", conf={"job_name": name, "validation_split": 0})

    assert result.state == "success", result.task_states()
    assert result.xcom("prepare")["validation_data_uri"] is None
    job = bedrock.get_model_customization_job(jobIdentifier=name)
    assert job.get("validationDataConfig", {}).get("validators", []) == []


def test_invalid_dataset_fails_before_any_job_is_submitted(run_dag, emulator, s3, unique_name, capsys):
    name = unique_name("it-prep-bad")
    good = json.dumps({"prompt": "What is AWS?", "completion": "Amazon Web Services."})
    s3.put_object(
        Bucket=BUCKET,
        Key=f"raw/{name}.jsonl",
        Body=f'{good}\n{good}\n{{"prompt": "no completion"}}\n{good}\n'.encode(),
    )
    before = emulator.request_count(CREATE)

    result = run_dag(
        "it_dataset_prep", conf={"job_name": name, "source_uri": f"s3://{BUCKET}/raw/{name}.jsonl"}
    )

    assert result.state == "failed"
    assert result.task_states() == {"prepare": "failed", "train": "upstream_failed"}
    assert emulator.request_count(CREATE) == before
    assert "line 3, completion: required field is missing" in capsys.readouterr().out
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=f"prepared/{name}/report.json")["Body"].read())
    assert report["passed"] is False
    assert report["errors"][0]["line"] == 3 and report["errors"][0]["field"] == "completion"
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"prepared/{name}/").get("Contents", [])
    assert [item["Key"] for item in listed] == [f"prepared/{name}/report.json"]
