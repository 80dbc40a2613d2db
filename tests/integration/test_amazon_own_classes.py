"""The Amazon provider's own operator and sensor, unchanged, against the emulator (dag.test)."""

from __future__ import annotations

import json

import pytest

from tests.integration.job_args import BUCKET

pytestmark = pytest.mark.integration

# The Amazon system test's one training record.
RECORD = {"prompt": "what is AWS", "completion": "it's Amazon Web Services"}


@pytest.mark.parametrize("mode", ["blocking", "deferrable"])
def test_amazon_operator_and_sensor_run_the_system_test_request(run_dag, unique_name, bedrock, s3, mode):
    s3.put_object(Bucket=BUCKET, Key="data/one-record.jsonl", Body=json.dumps(RECORD).encode())
    name = unique_name(f"it-amazon-own-{mode}")
    result = run_dag(f"it_amazon_own_{mode}", conf={"job_name": name})

    assert result.state == "success", result.task_states()
    job = bedrock.get_model_customization_job(jobIdentifier=name)
    assert result.xcom("customize_model") == job["jobArn"]
    assert job["status"] == "Completed"
    assert job["hyperParameters"]["learningRate"] == ".0005"
