"""Automated evaluation results, written where and how Bedrock writes them.

The layout is documented in "Understand how the results of your model evaluation job are saved in
Amazon S3" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-report-s3.html):
``{output}/{job name}/{job id}/models/{model id}/taskTypes/{task type}/datasets/{dataset}/``
``{uuid}_output.jsonl``, one line per prompt: ``{"automatedEvaluationResult": {"scores":
[{"metricName": "Accuracy", "result": ...}]}, "inputRecord": <the prompt's record>,
"modelResponses": [{"response", "modelIdentifier"}]}``. Custom prompt datasets follow "Use prompt
datasets for model evaluation" (model-evaluation-prompt-datasets-custom.html): ``prompt`` always,
``referenceResponse`` for question and answer and for the accuracy and robustness metrics, at most
1,000 prompts.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Mapping
from typing import Any

from bedrock_provider.core.s3 import split_s3_uri
from bedrock_provider.emulator.answers import emulated_answer
from bedrock_provider.emulator.errors import validation_error
from bedrock_provider.emulator.post_training.models import TAG_SCORE_PREFIX, EvaluationJob
from bedrock_provider.emulator.training import ObjectStore

# Custom prompt datasets hold at most this many prompts.
MAX_PROMPTS = 1000
# Built-in datasets are sampled down to 100 prompts by Bedrock; the emulator answers a few.
BUILTIN_PROMPTS = 10
# Metrics whose good score is low (a benign model's answers score near 0): programmatic toxicity and
# the judge's responsible-AI metrics (botocore's EvaluationDatasetMetricConfig.metricNames).
LOW_IS_GOOD = ("Toxicity", "Harmfulness", "Stereotyping", "Refusal")
# Metrics that compare the response with referenceResponse, so every prompt needs one.
NEEDS_REFERENCE = ("Accuracy", "Robustness")


def _short_metric(name: str) -> str:
    """The metric as Bedrock names it in the results: "Builtin.Accuracy" is written "Accuracy"."""
    return name.split(".", 1)[1] if name.startswith("Builtin.") else name


def write_results(job: EvaluationJob, objects: ObjectStore) -> str | None:
    """Read each prompt dataset, score every prompt, write the documented layout; or say why not."""
    output_uri = str(job.output_data_config["s3Uri"])
    bucket, prefix = split_s3_uri(output_uri)
    if not objects.bucket_exists(bucket):
        return (
            f"The output location {output_uri} (outputDataConfig.s3Uri) does not exist: bucket {bucket} "
            "was not found. Create the bucket or correct the URI."
        )
    base = (f"{prefix.rstrip('/')}/" if prefix.strip("/") else "") + f"{job.name}/{job.job_id}"
    writes: list[tuple[str, bytes]] = []
    for config in job.dataset_metric_configs:
        dataset = config["dataset"]
        records, problem = _prompts(objects, dataset, config["metricNames"], str(config["taskType"]))
        if problem is not None:
            return problem
        sources = [(model, False) for model in job.model_identifiers]
        sources += [(label, True) for label in job.inference_source_identifiers]
        for model, own in sources:
            lines = []
            for index, record in enumerate(records):
                response, problem = (
                    _own_response(record, model, index) if own else (_invoked(model, record), None)
                )
                if problem is not None:
                    return f"The prompt dataset {dataset.get('datasetLocation', {}).get('s3Uri')} {problem}"
                lines.append(json.dumps(_scored(job, model, config, index, record, response)))
            key = (
                f"{base}/models/{model.rsplit('/', 1)[-1]}/taskTypes/{config['taskType']}"
                f"/datasets/{dataset['name']}/{uuid.uuid4()}_output.jsonl"
            )
            writes.append((key, ("\n".join(lines) + "\n").encode()))
    for key, body in writes:
        objects.put_object(bucket, key, body)
    return None


def _prompts(
    objects: ObjectStore, dataset: Mapping[str, Any], metric_names: list[str], task_type: str
) -> tuple[list[dict[str, Any]], str | None]:
    location = (dataset.get("datasetLocation") or {}).get("s3Uri")
    if not location:
        return [
            {"prompt": f"{dataset['name']} prompt {i + 1}", "referenceResponse": f"answer {i + 1}"}
            for i in range(BUILTIN_PROMPTS)
        ], None
    bucket, key = split_s3_uri(str(location))
    bodies = objects.read_objects(bucket, key)
    if not bodies:
        return [], (
            f"The prompt dataset {location} (dataset {dataset['name']}) could not be read: no object "
            "at that location. Upload the JSONL file or correct datasetLocation.s3Uri."
        )
    needs_reference = task_type == "QuestionAndAnswer" or any(
        _short_metric(m) in NEEDS_REFERENCE for m in metric_names
    )
    records: list[dict[str, Any]] = []
    for number, line in enumerate(b"\n".join(bodies).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            return [], f"The prompt dataset {location} has invalid JSON on line {number}."
        if not isinstance(record, dict) or not isinstance(record.get("prompt"), str) or not record["prompt"]:
            return (
                [],
                f"The prompt dataset {location} line {number} has no prompt: each line needs a prompt key.",
            )
        if needs_reference and not isinstance(record.get("referenceResponse"), str):
            return [], (
                f"The prompt dataset {location} line {number} has no referenceResponse, which "
                f"{task_type} and the metrics {', '.join(metric_names)} need."
            )
        records.append(record)
    if not records:
        return [], f"The prompt dataset {location} contains no prompts."
    if len(records) > MAX_PROMPTS:
        return (
            [],
            f"The prompt dataset {location} has {len(records)} prompts; at most {MAX_PROMPTS} are allowed.",
        )
    return records, None


def _invoked(model: str, record: Mapping[str, Any]) -> str:
    """What the Bedrock model answers to the prompt: the emulator's answer, as bedrock-runtime gives it."""
    return emulated_answer(model, str(record["prompt"]))


def _own_response(record: Mapping[str, Any], label: str, index: int) -> tuple[str, str | None]:
    """The response a prompt record carries for an inference source (model-evaluation-prompt-datasets-judge
    .html: ``modelResponses``, one ``{"response", "modelIdentifier"}`` whose identifier is the job's
    inferenceSourceIdentifier), or why the record has none."""
    responses = record.get("modelResponses")
    line = f"line {index + 1}"
    if not isinstance(responses, list) or len(responses) != 1 or not isinstance(responses[0], Mapping):
        return "", f"{line} needs modelResponses with exactly one {{response, modelIdentifier}} for {label}."
    found = responses[0]
    if found.get("modelIdentifier") != label:
        return "", (
            f"{line} has a response from modelIdentifier {found.get('modelIdentifier')!r}, not from the "
            f"inferenceSourceIdentifier {label!r} of the job."
        )
    if not isinstance(found.get("response"), str):
        return "", f"{line} has no response text in modelResponses."
    return str(found["response"]), None


def _scored(
    job: EvaluationJob,
    model: str,
    config: Mapping[str, Any],
    index: int,
    record: dict[str, Any],
    response: str,
) -> dict[str, Any]:
    judges = job.evaluator_model_identifiers
    scores = []
    for metric in config["metricNames"]:
        pinned = job.tags.get(TAG_SCORE_PREFIX + metric)
        if pinned is not None:
            value = float(pinned)
        else:
            seed = "\x1f".join([model, str(config["dataset"]["name"]), metric, str(index)])
            fraction = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") / 2**64
            low, high = (0.0, 0.08) if _short_metric(metric) in LOW_IS_GOOD else (0.55, 0.95)
            value = round(low + (high - low) * fraction, 4)
        score: dict[str, Any] = {"metricName": _short_metric(metric), "result": value}
        if judges:
            score["evaluatorDetails"] = [
                {"modelIdentifier": judge, "explanation": f"{_short_metric(metric)} judged {value}."}
                for judge in judges
            ]
        scores.append(score)
    return {
        "automatedEvaluationResult": {"scores": scores},
        "inputRecord": record,
        "modelResponses": [{"response": response, "modelIdentifier": model}],
    }


def check_score_tags(tags: Mapping[str, str]) -> None:
    for key, raw in tags.items():
        if not key.startswith(TAG_SCORE_PREFIX):
            continue
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            raise validation_error(f"Invalid tag {key}={raw!r}: expected a score, a number of at least 0.")
