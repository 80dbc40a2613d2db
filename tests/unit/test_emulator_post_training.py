"""The emulator after training: deployments, provisioned throughput, evaluation jobs, and their refusals."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from bedrock_provider.emulator import TAG_DURATION, TAG_FAILURE_MESSAGE, TAG_OUTCOME, BedrockEmulator
from bedrock_provider.emulator.post_training import TAG_SCORE_PREFIX
from tests.unit.post_training import (
    BUCKET,
    PROMPTS,
    ROLE,
    TITAN_TEXT,
    emu,
    emulator,
    trained_model,
    until,
)

__all__ = ["emu", "emulator"]

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def _clients(emu: BedrockEmulator) -> tuple[Any, Any]:
    kwargs = {"endpoint_url": emu.endpoint_url, "region_name": "us-east-1"}
    return boto3.client("bedrock", config=NO_RETRY, **kwargs), boto3.client("s3", **kwargs)


def _deploy(bedrock: Any, model_arn: str, name: str = "dep1", **extra: Any) -> str:
    arn = bedrock.create_custom_model_deployment(modelDeploymentName=name, modelArn=model_arn, **extra)
    return str(arn["customModelDeploymentArn"])


def _provisioned(bedrock: Any, model_arn: str, name: str = "pt1") -> str:
    """An InService provisioned throughput of the model: what an evaluation job can invoke."""
    arn = str(
        bedrock.create_provisioned_model_throughput(
            provisionedModelName=name, modelId=model_arn, modelUnits=1
        )["provisionedModelArn"]
    )
    until(lambda: bedrock.get_provisioned_model_throughput(provisionedModelId=arn)["status"] == "InService")
    return arn


def _status(bedrock: Any, deployment: str) -> str:
    return str(bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=deployment)["status"])


def _evaluation(
    bedrock: Any, model: str, name: str = "ev1", tags: dict[str, str] | None = None, **kw: Any
) -> str:
    response = bedrock.create_evaluation_job(
        jobName=name,
        roleArn=ROLE,
        jobTags=[{"key": k, "value": v} for k, v in (tags or {}).items()],
        evaluationConfig={
            "automated": {
                "datasetMetricConfigs": [
                    {
                        "taskType": "QuestionAndAnswer",
                        "dataset": {
                            "name": "support-qa",
                            "datasetLocation": {"s3Uri": f"s3://{BUCKET}/eval.jsonl"},
                        },
                        "metricNames": ["Builtin.Accuracy", "Builtin.Toxicity"],
                    }
                ]
            }
        },
        inferenceConfig={"models": [{"bedrockModel": {"modelIdentifier": model}}]},
        outputDataConfig={"s3Uri": f"s3://{BUCKET}/evaluations/"},
        **kw,
    )
    return str(response["jobArn"])


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_deployment_goes_creating_to_active_and_a_token_replay_creates_none(emu: BedrockEmulator) -> None:
    bedrock, s3 = _clients(emu)
    model = trained_model(emu, "m1")
    # Two seconds: still Creating when looked at right away, however loaded the machine.
    tags = [{"key": "team", "value": "support"}, {"key": TAG_DURATION, "value": "2"}]
    arn = _deploy(bedrock, model, clientRequestToken="tok-1", tags=tags)
    assert _status(bedrock, "dep1") == "Creating"
    assert _deploy(bedrock, model, clientRequestToken="tok-1") == arn
    until(lambda: _status(bedrock, arn) == "Active")
    summaries = bedrock.list_custom_model_deployments(modelArnEquals=model)["modelDeploymentSummaries"]
    assert [s["customModelDeploymentArn"] for s in summaries] == [arn]
    assert bedrock.list_tags_for_resource(resourceARN=arn)["tags"] == tags
    assert emu.post_training_counts()["deployments"] == 1
    assert emu.request_count("CreateCustomModelDeployment") == 2


def test_deployment_refusals(emu: BedrockEmulator) -> None:
    bedrock, s3 = _clients(emu)
    model = trained_model(emu, "m1")
    missing = model[:-12] + "zzzzzzzzzzzz"
    with pytest.raises(ClientError) as error:
        _deploy(bedrock, missing)
    assert _code(error) == "ResourceNotFoundException"
    _deploy(bedrock, model)
    with pytest.raises(ClientError) as error:
        _deploy(bedrock, model)
    assert _code(error) == "ValidationException" and "already exists" in str(error.value)
    with pytest.raises(ClientError) as error:
        _deploy(bedrock, model, name="bad name!")
    assert _code(error) == "ValidationException"


def test_on_demand_deployment_is_refused_for_a_model_aws_does_not_deploy_on_demand(
    emu: BedrockEmulator,
) -> None:
    # deploy-custom-model-on-demand.html: Nova Lite, Micro and Pro (and Canvas), not Titan Text.
    bedrock, s3 = _clients(emu)
    titan = trained_model(emu, "titan1", base_model=TITAN_TEXT)
    with pytest.raises(ClientError) as error:
        _deploy(bedrock, titan)
    assert _code(error) == "ValidationException"
    assert "amazon.titan-text-express-v1" in str(error.value) and "Amazon Nova Micro" in str(error.value)
    assert emu.post_training_counts()["deployments"] == 0
    # UpdateCustomModelDeployment cannot move an on-demand deployment to such a model either.
    nova = _deploy(bedrock, trained_model(emu, "nova1"))
    until(lambda: _status(bedrock, nova) == "Active")
    with pytest.raises(ClientError) as error:
        bedrock.update_custom_model_deployment(customModelDeploymentIdentifier=nova, modelArn=titan)
    assert _code(error) == "ValidationException"
    # A provisioned throughput serves it.
    bedrock.create_provisioned_model_throughput(provisionedModelName="pt-titan", modelId=titan, modelUnits=1)


def test_on_demand_deployment_is_refused_for_a_model_customized_before_the_documented_date(
    emu: BedrockEmulator,
) -> None:
    bedrock, s3 = _clients(emu)
    model = trained_model(emu, "old1")
    emu.backend.find_custom_model(model).created = datetime(2025, 7, 15, 23, tzinfo=UTC).timestamp()  # type: ignore[union-attr]
    with pytest.raises(ClientError) as error:
        _deploy(bedrock, model)
    assert _code(error) == "ValidationException" and "2025-07-16" in str(error.value)


def test_provisioned_throughput_on_a_model_that_does_not_exist_is_refused(emu: BedrockEmulator) -> None:
    bedrock, s3 = _clients(emu)
    for model in (
        "amazon.no-such-model-v9",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.no-such-model-v9",
    ):
        with pytest.raises(ClientError) as error:
            bedrock.create_provisioned_model_throughput(
                provisionedModelName="pt1", modelId=model, modelUnits=1
            )
        assert _code(error) == "ResourceNotFoundException" and "amazon.no-such-model-v9" in str(error.value)
    assert emu.post_training_counts()["provisioned_throughputs"] == 0


def test_deployment_fails_when_its_tags_say_so(emu: BedrockEmulator) -> None:
    bedrock, s3 = _clients(emu)
    model = trained_model(emu, "m1")
    tags = [{"key": TAG_OUTCOME, "value": "Failed"}, {"key": TAG_FAILURE_MESSAGE, "value": "no capacity"}]
    arn = _deploy(bedrock, model, tags=tags)
    until(lambda: _status(bedrock, arn) == "Failed")
    assert (
        bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=arn)["failureMessage"]
        == "no capacity"
    )


def test_a_model_with_a_deployment_or_throughput_cannot_be_deleted(emu: BedrockEmulator) -> None:
    bedrock, s3 = _clients(emu)
    model = trained_model(emu, "m1")
    deployment = _deploy(bedrock, model)
    with pytest.raises(ClientError) as error:
        bedrock.delete_custom_model(modelIdentifier=model)
    assert _code(error) == "ConflictException" and "dep1" in str(error.value)
    bedrock.delete_custom_model_deployment(customModelDeploymentIdentifier=deployment)
    throughput = bedrock.create_provisioned_model_throughput(
        provisionedModelName="pt1", modelId=model, modelUnits=1
    )
    with pytest.raises(ClientError) as error:
        bedrock.delete_custom_model(modelIdentifier=model)
    assert _code(error) == "ConflictException" and "pt1" in str(error.value)
    bedrock.delete_provisioned_model_throughput(provisionedModelId=throughput["provisionedModelArn"])
    bedrock.delete_custom_model(modelIdentifier=model)
    with pytest.raises(ClientError) as error:
        bedrock.get_custom_model(modelIdentifier=model)
    assert _code(error) == "ResourceNotFoundException"


def test_provisioned_throughput_lifecycle_update_and_commitment(emu: BedrockEmulator) -> None:
    bedrock, s3 = _clients(emu)
    first = trained_model(emu, "m1")
    second = trained_model(emu, "m2")
    arn = bedrock.create_provisioned_model_throughput(
        provisionedModelName="pt1", modelId="m1", modelUnits=2, tags=[{"key": TAG_DURATION, "value": "2"}]
    )["provisionedModelArn"]

    def describe() -> dict[str, Any]:
        return dict(bedrock.get_provisioned_model_throughput(provisionedModelId=arn))

    assert describe()["status"] == "Creating" and describe()["modelArn"] == first
    until(lambda: describe()["status"] == "InService")
    bedrock.update_provisioned_model_throughput(provisionedModelId=arn, desiredModelId=second)
    assert describe()["status"] == "Updating" and describe()["desiredModelArn"] == second
    until(lambda: describe()["status"] == "InService")
    assert describe()["modelArn"] == second and describe()["modelUnits"] == 2
    committed = bedrock.create_provisioned_model_throughput(
        provisionedModelName="pt2", modelId="m1", modelUnits=1, commitmentDuration="OneMonth"
    )["provisionedModelArn"]
    with pytest.raises(ClientError) as error:
        bedrock.delete_provisioned_model_throughput(provisionedModelId=committed)
    assert _code(error) == "ConflictException"
    with pytest.raises(ClientError) as error:
        bedrock.create_provisioned_model_throughput(
            provisionedModelName="pt3", modelId="m1", modelUnits=1, commitmentDuration="OneYear"
        )
    assert _code(error) == "ValidationException"


def test_evaluation_job_writes_documented_results_with_tagged_scores(emu: BedrockEmulator) -> None:
    bedrock, s3 = _clients(emu)
    s3.put_object(Bucket=BUCKET, Key="eval.jsonl", Body=PROMPTS)
    served = _provisioned(bedrock, trained_model(emu, "m1"))
    job = _evaluation(
        bedrock, served, tags={TAG_SCORE_PREFIX + "Builtin.Accuracy": "0.82", TAG_DURATION: "2"}
    )
    assert bedrock.get_evaluation_job(jobIdentifier=job)["status"] == "InProgress"
    until(lambda: bedrock.get_evaluation_job(jobIdentifier=job)["status"] == "Completed")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="evaluations/")["Contents"]]
    job_id = job.rsplit("/", 1)[-1]
    assert len(keys) == 1
    assert keys[0].startswith(
        f"evaluations/ev1/{job_id}/models/{served.rsplit('/', 1)[-1]}/taskTypes/QuestionAndAnswer/"
        "datasets/support-qa/"
    )
    assert keys[0].endswith("_output.jsonl")
    lines = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read().decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 4
    scores = {s["metricName"]: s["result"] for s in records[0]["automatedEvaluationResult"]["scores"]}
    assert scores["Accuracy"] == 0.82 and 0 <= scores["Toxicity"] <= 0.08
    assert records[0]["inputRecord"] == {"prompt": "What is 2+2?", "referenceResponse": "4"}
    assert records[0]["modelResponses"][0]["modelIdentifier"] == served
    summary = bedrock.list_evaluation_jobs(nameContains="ev1")["jobSummaries"][0]
    assert summary["status"] == "Completed" and summary["evaluationTaskTypes"] == ["QuestionAndAnswer"]


def test_evaluation_refusals(emu: BedrockEmulator) -> None:
    bedrock, s3 = _clients(emu)
    s3.put_object(Bucket=BUCKET, Key="eval.jsonl", Body=PROMPTS)
    model = trained_model(emu, "m1")
    with pytest.raises(ClientError) as error:
        _evaluation(bedrock, model)
    # A custom model is not invocable: its ARN is outside the identifiers CreateEvaluationJob takes.
    assert _code(error) == "ValidationException" and "modelIdentifier" in str(error.value)
    creating = bedrock.create_provisioned_model_throughput(
        provisionedModelName="pt-creating",
        modelId=model,
        modelUnits=1,
        tags=[{"key": TAG_DURATION, "value": "30"}],
    )["provisionedModelArn"]
    with pytest.raises(ClientError) as error:
        _evaluation(bedrock, creating)
    assert _code(error) == "ValidationException" and "Creating" in str(error.value)
    with pytest.raises(ClientError) as error:
        _evaluation(bedrock, "amazon.titan-text-express-v1", name="Upper-Case")
    assert _code(error) == "ValidationException"
    _evaluation(bedrock, "amazon.titan-text-express-v1", name="ev2")
    with pytest.raises(ClientError) as error:
        _evaluation(bedrock, "amazon.titan-text-express-v1", name="ev2")
    assert _code(error) == "ConflictException"
    with pytest.raises(ClientError) as error:
        bedrock.get_evaluation_job(jobIdentifier="ev2")
    assert _code(error) == "ValidationException"


def test_evaluation_of_a_deployment_arn_is_refused_as_botocore_pattern_refuses_it(
    emu: BedrockEmulator,
) -> None:
    # botocore's EvaluationBedrockModelIdentifier lists no custom-model-deployment ARN.
    bedrock, s3 = _clients(emu)
    s3.put_object(Bucket=BUCKET, Key="eval.jsonl", Body=PROMPTS)
    deployment = _deploy(bedrock, trained_model(emu, "m1"))
    until(lambda: _status(bedrock, deployment) == "Active")
    with pytest.raises(ClientError) as error:
        _evaluation(bedrock, deployment)
    assert _code(error) == "ValidationException"
    assert "bedrockModel.modelIdentifier" in str(error.value) and "regular expression" in str(error.value)
    assert emu.post_training_counts()["evaluation_jobs"] == 0


def test_evaluation_of_a_model_that_does_not_exist_is_refused(emu: BedrockEmulator) -> None:
    bedrock, s3 = _clients(emu)
    s3.put_object(Bucket=BUCKET, Key="eval.jsonl", Body=PROMPTS)
    missing_throughput = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/zzzzzzzzzzzz"
    for model in ("amazon.no-such-model-v9", missing_throughput):
        with pytest.raises(ClientError) as error:
            _evaluation(bedrock, model)
        assert _code(error) == "ResourceNotFoundException" and model in str(error.value)
    assert emu.post_training_counts()["evaluation_jobs"] == 0


def test_answers_after_training_match_botocore_patterns(emu: BedrockEmulator) -> None:
    """Every string of the answers after training satisfies its shape in botocore's service model."""
    bedrock, s3 = _clients(emu)
    answers: list[tuple[str, bytes]] = []
    bedrock.meta.events.register(
        "after-call.bedrock",
        lambda http_response, model, **_: (
            answers.append((model.name, http_response.content)) if http_response.status_code < 300 else None
        ),
    )
    s3.put_object(Bucket=BUCKET, Key="eval.jsonl", Body=PROMPTS)
    jobs = [_evaluation(bedrock, "amazon.titan-text-express-v1", name="ev-foundation")]
    throughput = _provisioned(bedrock, trained_model(emu, "m1"))
    jobs.append(_evaluation(bedrock, throughput, name="ev-provisioned"))
    deployment = _deploy(bedrock, trained_model(emu, "m2"))
    until(lambda: _status(bedrock, deployment) == "Active")
    with pytest.raises(ClientError):
        _evaluation(bedrock, deployment, name="ev-deployment")
    s3.put_object(Bucket=BUCKET, Key="byoi.jsonl", Body=_byoi_record("What is 2+2?", "4"))
    jobs.append(_own_responses_job(bedrock, name="ev-own-responses"))
    assert len(bedrock.list_evaluation_jobs()["jobSummaries"]) == 3
    for job in jobs:
        until(lambda job=job: bedrock.get_evaluation_job(jobIdentifier=job)["status"] == "Completed")
    bedrock.list_custom_model_deployments()
    bedrock.list_provisioned_model_throughputs()
    bedrock.get_provisioned_model_throughput(provisionedModelId=throughput)
    answered = {name for name, _ in answers}
    assert {"ListEvaluationJobs", "GetEvaluationJob", "GetCustomModelDeployment"} <= answered
    violations = []
    for name, body in answers:
        output = bedrock.meta.service_model.operation_model(name).output_shape
        violations += [f"{name}{where}" for where in _pattern_violations(json.loads(body or b"{}"), output)]
    assert violations == []


def _pattern_violations(value: Any, shape: Any, path: str = "") -> list[str]:
    """Where a JSON answer breaks its botocore shape's pattern, enum or length (read from the model)."""
    found: list[str] = []
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if name in value:
                found += _pattern_violations(value[name], member, f"{path}.{name}")
    elif shape.type_name == "list":
        assert shape.metadata.get("min", 0) <= len(value) <= shape.metadata.get("max", len(value)), path
        for index, item in enumerate(value):
            found += _pattern_violations(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "string":
        pattern = shape.metadata.get("pattern")
        if pattern is not None and re.fullmatch(pattern, value) is None:
            found.append(f"{path}={value!r} breaks {pattern}")
        if shape.enum and value not in shape.enum:
            found.append(f"{path}={value!r} is not one of {shape.enum}")
    return found


JUDGE = "amazon.nova-pro-v1:0"


def _own_responses_job(bedrock: Any, name: str = "byoi1", judge: str | None = JUDGE, **kw: Any) -> str:
    """An evaluation job of your own inference responses (precomputedInferenceSource), judged by a model."""
    automated: dict[str, Any] = {
        "datasetMetricConfigs": [
            {
                "taskType": "QuestionAndAnswer",
                "dataset": {"name": "answers", "datasetLocation": {"s3Uri": f"s3://{BUCKET}/byoi.jsonl"}},
                "metricNames": ["Builtin.Correctness", "Builtin.Completeness"],
            }
        ]
    }
    if judge is not None:
        automated["evaluatorModelConfig"] = {"bedrockEvaluatorModels": [{"modelIdentifier": judge}]}
    response = bedrock.create_evaluation_job(
        jobName=name,
        roleArn=ROLE,
        evaluationConfig={"automated": automated},
        inferenceConfig={
            "models": [{"precomputedInferenceSource": {"inferenceSourceIdentifier": "support-bot"}}]
        },
        outputDataConfig={"s3Uri": f"s3://{BUCKET}/evaluations/"},
        **kw,
    )
    return str(response["jobArn"])


def _byoi_record(prompt: str, response: str, source: str = "support-bot") -> bytes:
    record = {
        "prompt": prompt,
        "referenceResponse": "4",
        "modelResponses": [{"response": response, "modelIdentifier": source}],
    }
    return json.dumps(record).encode() + b"\n"


def test_own_inference_responses_are_judged_and_written_in_the_documented_layout(
    emu: BedrockEmulator,
) -> None:
    # model-evaluation-prompt-datasets-judge.html: your own responses in modelResponses, a judge model.
    bedrock, s3 = _clients(emu)
    s3.put_object(Bucket=BUCKET, Key="byoi.jsonl", Body=_byoi_record("What is 2+2?", "4") * 3)
    job = _own_responses_job(
        bedrock, jobTags=[{"key": TAG_SCORE_PREFIX + "Builtin.Correctness", "value": "0.9"}]
    )
    until(lambda: bedrock.get_evaluation_job(jobIdentifier=job)["status"] == "Completed")
    job_dir = f"evaluations/byoi1/{job.rsplit('/', 1)[-1]}"
    prefix = f"{job_dir}/models/support-bot/taskTypes/QuestionAndAnswer/datasets/answers/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]]
    assert len(keys) == 1 and keys[0].endswith("_output.jsonl")
    records = [
        json.loads(line) for line in s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read().splitlines()
    ]
    assert [r["modelResponses"] for r in records] == [
        [{"response": "4", "modelIdentifier": "support-bot"}]
    ] * 3
    correctness = records[0]["automatedEvaluationResult"]["scores"][0]
    assert correctness["metricName"] == "Correctness" and correctness["result"] == 0.9
    assert correctness["evaluatorDetails"][0]["modelIdentifier"] == JUDGE
    summary = bedrock.list_evaluation_jobs(nameContains="byoi1")["jobSummaries"][0]
    assert summary["inferenceConfigSummary"]["modelConfigSummary"] == {
        "bedrockModelIdentifiers": [],
        "precomputedInferenceSourceIdentifiers": ["support-bot"],
    }
    assert summary["evaluatorModelIdentifiers"] == [JUDGE]


def test_own_inference_responses_refusals(emu: BedrockEmulator) -> None:
    bedrock, s3 = _clients(emu)
    with pytest.raises(ClientError) as error:
        _own_responses_job(bedrock, judge=None)
    assert _code(error) == "ValidationException" and "evaluatorModelConfig" in str(error.value)
    with pytest.raises(ClientError) as error:
        _own_responses_job(bedrock, judge="amazon.no-such-model-v9")
    assert _code(error) == "ResourceNotFoundException" and "amazon.no-such-model-v9" in str(error.value)
    assert emu.post_training_counts()["evaluation_jobs"] == 0
    # A response labelled with another source fails the job, naming the line.
    s3.put_object(Bucket=BUCKET, Key="byoi.jsonl", Body=_byoi_record("What is 2+2?", "4", source="other-bot"))
    job = _own_responses_job(bedrock, name="byoi2")
    until(lambda: bedrock.get_evaluation_job(jobIdentifier=job)["status"] != "InProgress")
    failed = bedrock.get_evaluation_job(jobIdentifier=job)
    assert failed["status"] == "Failed" and "line 1" in failed["failureMessages"][0]
    assert "other-bot" in failed["failureMessages"][0]


def test_evaluation_of_a_bad_dataset_fails_the_job(emu: BedrockEmulator) -> None:
    bedrock, s3 = _clients(emu)
    s3.put_object(Bucket=BUCKET, Key="eval.jsonl", Body=b'{"prompt": "no reference"}\n')
    job = _evaluation(bedrock, "amazon.titan-text-express-v1")
    until(lambda: bedrock.get_evaluation_job(jobIdentifier=job)["status"] != "InProgress")
    description = bedrock.get_evaluation_job(jobIdentifier=job)
    assert description["status"] == "Failed"
    assert "referenceResponse" in description["failureMessages"][0]


def test_evaluation_stop_and_faults(emu: BedrockEmulator) -> None:
    bedrock, s3 = _clients(emu)
    s3.put_object(Bucket=BUCKET, Key="eval.jsonl", Body=PROMPTS)
    job = _evaluation(bedrock, "amazon.titan-text-express-v1", tags={TAG_DURATION: "30"})
    bedrock.stop_evaluation_job(jobIdentifier=job)
    until(lambda: bedrock.get_evaluation_job(jobIdentifier=job)["status"] == "Stopped")
    emu.set_fault_rates(throttle=1.0)
    with pytest.raises(ClientError) as error:
        bedrock.get_evaluation_job(jobIdentifier=job)
    assert _code(error) == "ThrottlingException"
    assert emu.fault_count("GetEvaluationJob") == 1
