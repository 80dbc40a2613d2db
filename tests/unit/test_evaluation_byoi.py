"""An on-demand deployment evaluated by AWS's documented path, against the emulator in-process: the
operator invokes it through bedrock-runtime per prompt, and the job judges those responses."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
from airflow.sdk.exceptions import TaskDeferred

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.emulator import BedrockEmulator
from bedrock_provider.operators.evaluation import BedrockModelEvaluationOperator
from tests.unit import post_training as shared
from tests.unit.post_training import emu, emulator
from tests.unit.test_deployment_operator import run_trigger
from tests.unit.test_evaluation_operator import evaluate as evaluation_operator

__all__ = ["emu", "emulator"]

CORRECTNESS = "emulator:score:Builtin.Correctness"
JUDGE = "amazon.nova-pro-v1:0"
PROMPT_COUNT = shared.PROMPTS.count(b"\n")


def on_demand(emu: BedrockEmulator, name: str = "support-bot-20250105") -> str:
    """A Nova Micro custom model deployed on demand (Active), and the prompts uploaded."""
    bedrock, s3 = shared.clients(emu)
    s3.put_object(Bucket=shared.BUCKET, Key="eval/prompts.jsonl", Body=shared.PROMPTS)
    model = shared.trained_model(emu, name)
    arn = str(
        bedrock.create_custom_model_deployment(modelDeploymentName=name, modelArn=model)[
            "customModelDeploymentArn"
        ]
    )
    shared.until(
        lambda: bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)["status"] == "Active"
    )
    emu.reset_counts()
    return arn


def evaluate(model: str, **overrides: Any) -> BedrockModelEvaluationOperator:
    """The operator test's evaluation, with a judge and the judge's metrics."""
    judged: dict[str, Any] = {
        "evaluator_model_id": JUDGE,
        "metric_names": ["Builtin.Correctness", "Builtin.Harmfulness"],
        "min_scores": {"Builtin.Correctness": 0.7},
        "max_scores": {"Builtin.Harmfulness": 0.1},
        "job_tags": {CORRECTNESS: "0.82"},
        "inference_config": {"maxTokens": 128},
        # A prefix of its own: the in-process emulator's S3 is shared by the test modules.
        "output_uri": f"s3://{shared.BUCKET}/byoi-evaluations/",
    }
    return evaluation_operator(model, **{**judged, **overrides})


def read_lines(emu: BedrockEmulator, uri: str) -> list[dict[str, Any]]:
    _, s3 = shared.clients(emu)
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return [json.loads(line) for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()]


def test_a_deployment_is_invoked_per_prompt_and_its_responses_judged(
    emu: BedrockEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    deployment = on_demand(emu)
    result = evaluate(deployment).execute(shared.context(task_id="evaluate"))
    assert result["status"] == "Completed" and result["passed"] is True
    assert result["evaluation_path"] == "precomputed_inference"
    assert result["scores"]["Builtin.Correctness"] == 0.82
    assert 0 <= result["scores"]["Builtin.Harmfulness"] <= 0.1
    assert result["prompts"] == PROMPT_COUNT and result["model_identifier"] == deployment
    assert emu.request_count("Converse") == PROMPT_COUNT
    # Airflow's logging writes to the process's stdout here, not through the logging module.
    assert f"{PROMPT_COUNT} times for {PROMPT_COUNT} prompts" in capfd.readouterr().out

    source = "custom-model-deployment-" + deployment.rsplit("/", 1)[-1]
    lines = read_lines(emu, result["responses_uri"])
    assert len(lines) == PROMPT_COUNT
    runtime = boto3.client("bedrock-runtime", endpoint_url=emu.endpoint_url, region_name="us-east-1")
    answer = runtime.converse(
        modelId=deployment,
        messages=[{"role": "user", "content": [{"text": "What is 2+2?"}]}],
        inferenceConfig={"maxTokens": 128},
    )["output"]["message"]["content"][0]["text"]
    assert lines[0] == {
        "prompt": "What is 2+2?",
        "referenceResponse": "4",
        "modelResponses": [{"response": answer, "modelIdentifier": source}],
    }
    bedrock, _ = shared.clients(emu)
    job = bedrock.get_evaluation_job(jobIdentifier=result["job_arn"])
    assert job["inferenceConfig"]["models"] == [
        {"precomputedInferenceSource": {"inferenceSourceIdentifier": source}}
    ]
    config = job["evaluationConfig"]["automated"]
    assert config["datasetMetricConfigs"][0]["dataset"]["datasetLocation"]["s3Uri"] == result["responses_uri"]
    assert config["evaluatorModelConfig"]["bedrockEvaluatorModels"] == [{"modelIdentifier": JUDGE}]


def test_a_retry_reuses_its_responses_and_adopts_its_job(emu: BedrockEmulator) -> None:
    deployment = on_demand(emu)
    first = evaluate(deployment).execute(shared.context(task_id="evaluate"))
    again = evaluate(deployment).execute(shared.context(task_id="evaluate"))
    assert again["job_arn"] == first["job_arn"] and again["responses_uri"] == first["responses_uri"]
    assert emu.request_count("Converse") == PROMPT_COUNT
    assert emu.request_count("CreateEvaluationJob") == 1


def test_an_edited_prompt_file_is_invoked_again(emu: BedrockEmulator) -> None:
    deployment = on_demand(emu)
    first = evaluate(deployment).execute(shared.context(task_id="evaluate"))
    _, s3 = shared.clients(emu)
    s3.put_object(Bucket=shared.BUCKET, Key="eval/prompts.jsonl", Body=shared.PROMPTS + shared.PROMPTS)
    again = evaluate(deployment, if_job_differs="resubmit").execute(shared.context(task_id="evaluate"))
    assert again["responses_uri"] != first["responses_uri"]
    assert again["prompts"] == 2 * PROMPT_COUNT
    assert emu.request_count("Converse") == 3 * PROMPT_COUNT


def test_throttled_invocations_back_off_and_are_counted(
    emu: BedrockEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    deployment = on_demand(emu)
    emu.set_fault_rates(throttle=0.5)
    result = evaluate(deployment).execute(shared.context(task_id="evaluate"))
    emu.set_fault_rates()
    assert result["passed"] is True
    assert len(read_lines(emu, result["responses_uri"])) == PROMPT_COUNT
    match = re.search(r"Invoked \S+ (\d+) times for (\d+) prompts \((\d+) retries", capfd.readouterr().out)
    assert match is not None
    calls, prompts, retries = (int(group) for group in match.groups())
    assert prompts == PROMPT_COUNT and calls == PROMPT_COUNT + retries
    # Every throttled call the emulator answered was retried, and each prompt answered once.
    assert emu.request_count("Converse") == PROMPT_COUNT
    assert retries == emu.fault_counts().get("Converse", 0)


def test_the_deferred_half_reads_the_same_responses(emu: BedrockEmulator) -> None:
    deployment = on_demand(emu)
    operator = evaluate(deployment, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(shared.context(task_id="evaluate"))
    event = run_trigger(deferred.value.trigger)
    result = operator.execute_complete(shared.context(task_id="evaluate"), event)
    assert result["passed"] is True and result["evaluation_path"] == "precomputed_inference"
    assert len(read_lines(emu, result["responses_uri"])) == PROMPT_COUNT
    assert emu.request_count("Converse") == PROMPT_COUNT


def test_a_deployment_without_a_judge_is_refused_before_any_call(emu: BedrockEmulator) -> None:
    deployment = on_demand(emu)
    with pytest.raises(InvalidInputError) as raised:
        evaluate(deployment, evaluator_model_id=None).execute(shared.context(task_id="evaluate"))
    assert "evaluator_model_id" in raised.value.fields
    assert emu.counts() == {}


def test_a_bad_inference_config_is_refused_before_any_call(emu: BedrockEmulator) -> None:
    deployment = on_demand(emu)
    with pytest.raises(InvalidInputError, match="temperature=3 is outside"):
        evaluate(deployment, inference_config={"temperature": 3}).execute(shared.context(task_id="evaluate"))
    assert emu.counts() == {}
