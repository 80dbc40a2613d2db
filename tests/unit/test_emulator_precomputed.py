"""The emulator runs evaluation jobs on your own inference responses as Bedrock documents them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_provider.emulator import BedrockEmulator
from tests.unit.post_training import BUCKET, ROLE, clients, emu, emulator, until

__all__ = ["emu", "emulator"]

SOURCE = "custom-model-deployment-abcdef123456"
JUDGE = "amazon.nova-pro-v1:0"


def dataset(source: str = SOURCE, count: int = 3) -> bytes:
    lines = [
        {
            "prompt": f"question {i}",
            "referenceResponse": f"answer {i}",
            "modelResponses": [{"response": f"my answer {i}", "modelIdentifier": source}],
        }
        for i in range(count)
    ]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def job_request(name: str = "byoi-eval", **automated: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "datasetMetricConfigs": [
            {
                "taskType": "QuestionAndAnswer",
                "dataset": {"name": "support", "datasetLocation": {"s3Uri": f"s3://{BUCKET}/byoi.jsonl"}},
                "metricNames": ["Builtin.Correctness", "Builtin.Harmfulness"],
            }
        ],
        "evaluatorModelConfig": {"bedrockEvaluatorModels": [{"modelIdentifier": JUDGE}]},
    }
    config.update(automated)
    return {
        "jobName": name,
        "roleArn": ROLE,
        "evaluationConfig": {"automated": {k: v for k, v in config.items() if v is not None}},
        "inferenceConfig": {
            "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": SOURCE}}]
        },
        "outputDataConfig": {"s3Uri": f"s3://{BUCKET}/byoi-out/"},
    }


def finished(bedrock: Any, arn: str) -> dict[str, Any]:
    until(lambda: bedrock.get_evaluation_job(jobIdentifier=arn)["status"] != "InProgress")
    return dict(bedrock.get_evaluation_job(jobIdentifier=arn))


def test_a_byoi_job_is_judged_and_its_results_written_under_the_source(emu: BedrockEmulator) -> None:
    bedrock, s3 = clients(emu)
    s3.put_object(Bucket=BUCKET, Key="byoi.jsonl", Body=dataset())
    arn = bedrock.create_evaluation_job(**job_request())["jobArn"]
    assert finished(bedrock, arn)["status"] == "Completed"
    job_id = arn.rsplit("/", 1)[-1]
    prefix = f"byoi-out/byoi-eval/{job_id}/models/{SOURCE}/taskTypes/QuestionAndAnswer/datasets/support/"
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]]
    lines = [json.loads(line) for line in s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().splitlines()]
    assert [line["modelResponses"][0]["response"] for line in lines] == [f"my answer {i}" for i in range(3)]
    assert {s["metricName"] for s in lines[0]["automatedEvaluationResult"]["scores"]} == {
        "Correctness",
        "Harmfulness",
    }
    assert "modelResponses" not in lines[0]["inputRecord"]
    summary = bedrock.list_evaluation_jobs()["jobSummaries"][0]
    assert summary["inferenceConfigSummary"]["modelConfigSummary"][
        "precomputedInferenceSourceIdentifiers"
    ] == [SOURCE]


def test_responses_of_another_source_fail_the_job(emu: BedrockEmulator) -> None:
    bedrock, s3 = clients(emu)
    s3.put_object(Bucket=BUCKET, Key="byoi.jsonl", Body=dataset(source="someone-else"))
    arn = bedrock.create_evaluation_job(**job_request())["jobArn"]
    job = finished(bedrock, arn)
    assert job["status"] == "Failed"
    assert "inferenceSourceIdentifier is 'custom-model-deployment-abcdef123456'" in job["failureMessages"][0]


@pytest.mark.parametrize(
    ("automated", "message"),
    [
        ({"evaluatorModelConfig": None}, "evaluatorModelConfig is required"),
        (
            {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {"name": "d", "datasetLocation": {"s3Uri": f"s3://{BUCKET}/byoi.jsonl"}},
                        "metricNames": ["Builtin.Accuracy"],
                    }
                ]
            },
            "Builtin.Accuracy does not exist",
        ),
    ],
)
def test_responses_without_a_judge_or_with_programmatic_metrics_are_refused(
    emu: BedrockEmulator, automated: dict[str, Any], message: str
) -> None:
    bedrock, _ = clients(emu)
    with pytest.raises(ClientError, match=message) as raised:
        bedrock.create_evaluation_job(**job_request(**automated))
    assert raised.value.response["Error"]["Code"] == "ValidationException"
