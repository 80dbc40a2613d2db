"""Promotion on real Airflow (dag.test) against the emulator: first promotion, a swap on the same ARN, a
retry that adopts, a failed canary rolled back, a promotion refused while another updates the
deployment, and a rollback from the form (its defaults: the last-good model)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bedrock_provider.core.lifecycle.promotion import LAST_GOOD_TAG
from bedrock_provider.emulator import BedrockEmulator
from tests.integration.conftest import DEMO_BUCKET, ROLE_ARN, DagRunResult

NOVA = "amazon.nova-micro-v1:0:128k"
RECORD = {
    "schemaVersion": "bedrock-conversation-2024",
    "messages": [
        {"role": "user", "content": [{"text": "Question?"}]},
        {"role": "assistant", "content": [{"text": "Answer."}]},
    ],
}
PROMPTS = "".join(json.dumps({"prompt": f"Question {i}?"}) + "\n" for i in range(4))
CORRECTNESS = "emulator:score:Builtin.Correctness"


@pytest.fixture
def trained(bedrock: Any, s3: Any) -> Callable[[str], str]:
    s3.put_object(
        Bucket=DEMO_BUCKET, Key="promotion/train.jsonl", Body=(json.dumps(RECORD) + "\n").encode() * 8
    )
    s3.put_object(Bucket=DEMO_BUCKET, Key="promotion/canary.jsonl", Body=PROMPTS.encode())

    def train(name: str) -> str:
        job = bedrock.create_model_customization_job(
            jobName=f"job-{name}",
            customModelName=name,
            roleArn=ROLE_ARN,
            baseModelIdentifier=NOVA,
            trainingDataConfig={"s3Uri": f"s3://{DEMO_BUCKET}/promotion/train.jsonl"},
            outputDataConfig={"s3Uri": f"s3://{DEMO_BUCKET}/promotion/out/"},
        )["jobArn"]
        deadline = time.monotonic() + 30
        while bedrock.get_model_customization_job(jobIdentifier=job)["status"] == "InProgress":
            assert time.monotonic() < deadline, f"{name} did not finish training"
            time.sleep(0.2)  # a poll with a deadline: the emulated job takes about a second
        return str(bedrock.get_model_customization_job(jobIdentifier=job)["outputModelArn"])

    return train


def canary(score: str) -> dict[str, Any]:
    return {
        "role_arn": ROLE_ARN,
        "task_type": "Generation",
        "dataset_uri": f"s3://{DEMO_BUCKET}/promotion/canary.jsonl",
        "output_uri": f"s3://{DEMO_BUCKET}/promotion/canary/",
        "evaluator_model_id": "amazon.nova-pro-v1:0",
        "metric_names": ["Builtin.Correctness"],
        "min_scores": {"Builtin.Correctness": 0.7},
        "job_tags": {CORRECTNESS: score},
    }


def stable(bedrock: Any, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    description = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=name)
    tags = bedrock.list_tags_for_resource(resourceARN=description["customModelDeploymentArn"])["tags"]
    return description, {tag["key"]: tag["value"] for tag in tags}


def test_promotions_swap_behind_one_arn_and_a_failed_canary_is_rolled_back(
    run_dag: Callable[..., DagRunResult],
    trained: Callable[[str], str],
    bedrock: Any,
    emulator: BedrockEmulator,
) -> None:
    suffix = uuid.uuid4().hex[:6]
    deployment = f"prod-{suffix}"
    b, c, d = (trained(f"{week}-{suffix}") for week in ("b", "c", "d"))
    first = run_dag("it_promotion", conf={"deployment": deployment, "model": b})
    assert first.state == "success", first.task_states()
    created = first.xcom("promote")
    assert created["status"] == "created" and created["model_arn"] == b
    when = datetime.now(UTC)
    emulator.reset_counts()
    swapped = run_dag(
        "it_promotion",
        conf={"deployment": deployment, "model": c, "canary": canary("0.9")},
        logical_date=when,
    )
    assert swapped.state == "success", swapped.task_states()
    result = swapped.xcom("promote")
    assert result["deployment_arn"] == created["deployment_arn"] and result["model_arn"] == c
    assert result["previous_model_arn"] == b and result["canary"]["passed"] is True
    # The same run again (a cleared task): it adopts its promotion, and updates nothing.
    again = run_dag(
        "it_promotion",
        conf={"deployment": deployment, "model": c, "canary": canary("0.9")},
        logical_date=when,
    )
    assert again.state == "success" and again.xcom("promote")["status"] == "swapped"
    assert emulator.request_count("UpdateCustomModelDeployment") == 1
    assert emulator.request_count("CreateEvaluationJob") == 1
    failed = run_dag("it_promotion", conf={"deployment": deployment, "model": d, "canary": canary("0.2")})
    assert failed.task_states() == {"promote": "failed"}
    rolled = failed.xcom("promote")
    assert rolled["rolled_back"] is True and rolled["model_arn"] == c
    description, tags = stable(bedrock, deployment)
    assert description["modelArn"] == c and tags[LAST_GOOD_TAG] == b


def test_a_promotion_does_not_interleave_with_an_update_in_progress(
    run_dag: Callable[..., DagRunResult], trained: Callable[[str], str], bedrock: Any
) -> None:
    suffix = uuid.uuid4().hex[:6]
    deployment = f"prod-{suffix}"
    b, c, d = (trained(f"{week}-{suffix}") for week in ("b", "c", "d"))
    assert run_dag("it_promotion", conf={"deployment": deployment, "model": b}).state == "success"
    arn = stable(bedrock, deployment)[0]["customModelDeploymentArn"]
    bedrock.tag_resource(resourceARN=arn, tags=[{"key": "emulator:duration", "value": "5"}])
    bedrock.update_custom_model_deployment(customModelDeploymentIdentifier=arn, modelArn=c)
    blocked = run_dag("it_promotion", conf={"deployment": deployment, "model": d})
    assert blocked.task_states() == {"promote": "failed"}
    assert stable(bedrock, deployment)[0]["updateDetails"]["modelArn"] == c


def test_a_rollback_from_the_form_goes_back_to_the_last_good_model(
    run_dag: Callable[..., DagRunResult], trained: Callable[[str], str], bedrock: Any
) -> None:
    suffix = uuid.uuid4().hex[:6]
    deployment = f"prod-{suffix}"
    b, c = (trained(f"{week}-{suffix}") for week in ("b", "c"))
    for model in (b, c):
        assert run_dag("it_promotion", conf={"deployment": deployment, "model": model}).state == "success"
    # The form's defaults, but for the deployment's name: the model is the last-good one.
    rollback = run_dag("it_rollback", conf={"deployment_name": deployment})
    assert rollback.state == "success", rollback.task_states()
    result = rollback.xcom("rollback")
    assert result["model_arn"] == b and result["previous_model_arn"] == c and result["status"] == "swapped"
    description, tags = stable(bedrock, deployment)
    assert description["modelArn"] == b and tags[LAST_GOOD_TAG] == b
    # A second click: the last-good model serves already, nothing changes.
    again = run_dag("it_rollback", conf={"deployment_name": deployment})
    assert again.state == "success" and again.xcom("rollback")["status"] == "unchanged"
