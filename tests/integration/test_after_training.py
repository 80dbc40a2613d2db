"""After training on real Airflow (dag.test) against the emulator: deploy, evaluate with scores set by
tags, pass and fail the gate, retire with keep_last=2 while the champion stays, and the OpenLineage
chain from the raw data to the deployment."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bedrock_provider.emulator import BedrockEmulator
from tests.conftest import OPENLINEAGE_INSTALLED
from tests.integration.conftest import DEMO_BUCKET, ROLE_ARN, TRAINING_KEY, DagRunResult

DAG_ID = "it_after_training"
PROMPTS = "".join(
    json.dumps({"prompt": f"Question {i}?", "referenceResponse": f"Answer {i}."}) + "\n" for i in range(6)
)
# Nova's fine-tuning records (bedrock-conversation-2024), as the DAG's prepare task reads them: enough
# that its 20% validation file holds Nova's minimum of 8 records too.
NOVA_TRAINING = "".join(
    json.dumps(
        {
            "schemaVersion": "bedrock-conversation-2024",
            "system": [{"text": "You answer support questions."}],
            "messages": [
                {"role": "user", "content": [{"text": f"Question {i}?"}]},
                {"role": "assistant", "content": [{"text": f"Answer {i}."}]},
            ],
        }
    )
    + "\n"
    for i in range(80)
)
CORRECTNESS = "emulator:score:Builtin.Correctness"


@pytest.fixture
def after_training(run_dag: Callable[..., DagRunResult], s3: Any) -> Callable[..., DagRunResult]:
    s3.put_object(Bucket=DEMO_BUCKET, Key="evaluation/prompts.jsonl", Body=PROMPTS.encode())
    s3.put_object(Bucket=DEMO_BUCKET, Key="data/nova-train.jsonl", Body=NOVA_TRAINING.encode())

    def run(family: str, name: str, **conf: Any) -> DagRunResult:
        return run_dag(DAG_ID, conf={"family": family, "name": name, **conf})

    return run


def family() -> str:
    return f"fam{uuid.uuid4().hex[:6]}-"


def deployments(bedrock: Any) -> dict[str, str]:
    summaries = bedrock.list_custom_model_deployments()["modelDeploymentSummaries"]
    return {summary["customModelDeploymentName"]: summary["status"] for summary in summaries}


def test_a_trained_model_is_deployed_evaluated_with_tagged_scores_and_promoted(
    after_training: Callable[..., DagRunResult], bedrock: Any, emulator: BedrockEmulator
) -> None:
    prefix = family()
    name = f"{prefix[:-1]}-pass"
    emulator.reset_counts()
    run = after_training(prefix, name, evaluation_tags={CORRECTNESS: "0.83"})
    assert run.state == "success", run.task_states()
    assert set(run.task_states().values()) == {"success"}, run.task_states()
    deployment = run.xcom("deploy")
    assert deployment["status"] == "Active" and deployment["mode"] == "on_demand"
    assert deployment["model_arn"] == run.xcom("train")["custom_model_arn"]
    evaluation = run.xcom("evaluate")
    assert evaluation["passed"] is True and evaluation["scores"]["Builtin.Correctness"] == 0.83
    assert evaluation["model_identifier"] == deployment["deployment_arn"]
    # AWS's path for a deployment: its responses, collected through bedrock-runtime, judged by the job.
    assert evaluation["evaluation_path"] == "precomputed_inference"
    assert emulator.request_count("Converse") == 6
    job = bedrock.get_evaluation_job(jobIdentifier=evaluation["job_arn"])
    source = deployment["deployment_arn"].rsplit("/", 1)[-1]
    assert job["inferenceConfig"]["models"] == [
        {"precomputedInferenceSource": {"inferenceSourceIdentifier": f"custom-model-deployment-{source}"}}
    ]
    assert run.xcom("promote")["promoted"] is True
    assert deployments(bedrock)[name] == "Active", "the champion stays deployed"


def test_a_score_below_the_gate_skips_the_promotion_and_removes_the_candidates_deployment(
    after_training: Callable[..., DagRunResult], bedrock: Any
) -> None:
    prefix = family()
    name = f"{prefix[:-1]}-fail"
    run = after_training(prefix, name, min_correctness=0.9, evaluation_tags={CORRECTNESS: "0.61"})
    states = run.task_states()
    assert run.state == "success", states
    assert (states["evaluate"], states["promote"], states["retire"]) == ("skipped", "skipped", "success")
    evaluation = run.xcom("evaluate")
    assert evaluation["passed"] is False and evaluation["scores"]["Builtin.Correctness"] == 0.61
    assert evaluation["gate"]["reasons"] == ["Builtin.Correctness 0.61 is below min_scores=0.9"]
    assert run.xcom("retire")["deleted_deployments"] == [run.xcom("deploy")["deployment_arn"]]
    assert name not in deployments(bedrock)


def untagged_model(bedrock: Any, name: str, tags: dict[str, str] | None = None) -> str:
    """A custom model trained outside the DAG (a manual run, another deployment), named like the family."""
    job = bedrock.create_model_customization_job(
        jobName=f"job-{name}",
        customModelName=name,
        roleArn=ROLE_ARN,
        baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": f"s3://{DEMO_BUCKET}/{TRAINING_KEY}"},
        outputDataConfig={"s3Uri": f"s3://{DEMO_BUCKET}/output/{name}/"},
        hyperParameters={"epochCount": "1", "batchSize": "1", "learningRate": "0.00001"},
        customModelTags=[{"key": key, "value": value} for key, value in (tags or {}).items()],
        jobTags=[{"key": "emulator:duration", "value": "0.2"}],
    )
    deadline = time.monotonic() + 30
    while bedrock.get_model_customization_job(jobIdentifier=job["jobArn"])["status"] == "InProgress":
        assert time.monotonic() < deadline, f"{name} did not finish training"
        time.sleep(0.1)
    return str(bedrock.get_custom_model(modelIdentifier=name)["modelArn"])


def test_retention_keeps_the_newest_two_and_the_champion(
    after_training: Callable[..., DagRunResult], bedrock: Any
) -> None:
    prefix = family()
    # Older than every weekly model and named like them, but not this deployment's family: never deleted.
    strangers = {
        untagged_model(bedrock, f"{prefix}manual"),
        untagged_model(
            bedrock, f"{prefix}staging", {"airflow:model-family": prefix, "airflow:namespace": "staging"}
        ),
    }
    # The first week's model is the best: it stays the champion while newer ones do not beat it.
    losses = ["0.5", "0.9", "0.8", "0.7"]
    # Every evaluation passes its gate: the emulator's unpinned scores follow the model's random ARN, and
    # a week whose mean correctness fell under the DAG's 0.7 would never be promoted.
    passing = {CORRECTNESS: "0.9"}
    runs = [
        after_training(prefix, f"{prefix}w{week}", validation_loss=loss, keep_last=2, evaluation_tags=passing)
        for week, loss in enumerate(losses, start=1)
    ]
    for run in runs:
        assert run.state == "success", run.task_states()
    models = {run.xcom("train")["custom_model_name"]: run.xcom("train")["custom_model_arn"] for run in runs}
    champion = models[f"{prefix}w1"]
    retired = runs[-1].xcom("retire")
    assert retired["kept"] == [models[f"{prefix}w4"], models[f"{prefix}w3"], champion]
    assert retired["deleted"] == [models[f"{prefix}w2"]]
    assert set(retired["foreign"]) == strangers
    remaining = {m["modelName"] for m in bedrock.list_custom_models(nameContains=prefix)["modelSummaries"]}
    assert remaining == {f"{prefix}w1", f"{prefix}w3", f"{prefix}w4", f"{prefix}manual", f"{prefix}staging"}
    tags = bedrock.list_tags_for_resource(resourceARN=models[f"{prefix}w1"])["tags"]
    assert {"key": "airflow:model-family", "value": prefix} in tags
    tags = bedrock.list_tags_for_resource(resourceARN=champion)["tags"]
    assert {"key": "stage", "value": "champion"} in tags
    # Only the champion is served: each run undeployed the candidate its gate turned down.
    assert {name for name in deployments(bedrock) if name.startswith(prefix)} == {f"{prefix}w1"}


@pytest.mark.skipif(not OPENLINEAGE_INSTALLED, reason="needs apache-airflow-providers-openlineage")
def test_openlineage_shows_the_chain_from_the_raw_data_to_the_deployment(
    after_training: Callable[..., DagRunResult],
) -> None:
    prefix = family()
    name = f"{prefix[:-1]}-lineage"
    run = after_training(prefix, name, evaluation_tags={CORRECTNESS: "0.9"})
    assert run.state == "success", run.task_states()
    events = _completed(run.run_id)
    prepare, train, deploy, evaluate = (events[task] for task in ("prepare", "train", "deploy", "evaluate"))

    raw = ("s3://" + DEMO_BUCKET, "data/nova-train.jsonl")
    prepared = ("s3://" + DEMO_BUCKET, f"prepared/{name}/train.jsonl")
    assert _names(prepare["inputs"]) == [raw]
    assert prepared in _names(prepare["outputs"])
    assert prepared in _names(train["inputs"])
    model = _arn_name(run.xcom("train")["custom_model_arn"])
    assert _names(train["outputs"]) == [model]
    facts = train["outputs"][0]["facets"]["bedrock"]["facts"]
    assert facts["jobArn"] == run.xcom("train")["job_arn"]
    assert facts["hyperParameters"] == run.xcom("train")["hyperparameters"]
    assert facts["hyperParameters"]["epochCount"] == "1"
    assert train["run"]["facets"]["bedrock"]["facts"]["jobArn"] == run.xcom("train")["job_arn"]
    assert _names(deploy["inputs"]) == [model]
    deployment = _arn_name(run.xcom("deploy")["deployment_arn"])
    assert _names(deploy["outputs"]) == [deployment]
    assert deployment in _names(evaluate["inputs"])
    assert ("s3://" + DEMO_BUCKET, "evaluation/prompts.jsonl") in _names(evaluate["inputs"])
    results = run.xcom("evaluate")["results_uri"].removeprefix(f"s3://{DEMO_BUCKET}/").strip("/")
    assert _names(evaluate["outputs"]) == [("s3://" + DEMO_BUCKET, results)]


def _completed(run_id: str) -> dict[str, dict[str, Any]]:
    """The COMPLETE event of each task of the run, by task id."""
    path = Path(os.environ["BEDROCK_PROVIDER_TEST_HOME"]) / "openlineage.jsonl"
    found: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        if event.get("eventType") != "COMPLETE":
            continue
        task = (event.get("run", {}).get("facets", {}).get("airflow") or {}).get("task") or {}
        dag_run = (event.get("run", {}).get("facets", {}).get("airflow") or {}).get("dagRun") or {}
        if dag_run.get("run_id") == run_id and task.get("task_id"):
            found[task["task_id"]] = event
    return found


def _names(datasets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(dataset["namespace"], dataset["name"]) for dataset in datasets]


def _arn_name(arn: str) -> tuple[str, str]:
    head, _, resource = arn.partition("/")
    prefix, _, kind = head.rpartition(":")
    return prefix, f"{kind}/{resource}"
