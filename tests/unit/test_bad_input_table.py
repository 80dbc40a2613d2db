"""Bad input across every operator, the sensor and the manual DAG's form, in one table.

Each row is refused with a message that names the field, and no AWS call is made: a guard makes any
botocore or aiobotocore request fail the test. The customization request rows are
tests/unit/test_request.py's BAD_INPUTS, run here through the operator; the others add templates that
render badly, parse-time settings, datasets, metrics files and the Params of the manual DAG.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.metrics import TRAINING, VALIDATION, check_baseline, read_metrics
from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.operators.dataset import BedrockPrepareDatasetOperator
from bedrock_provider.operators.metrics import BedrockExportMetricsOperator
from bedrock_provider.sensors.customization import BedrockModelCustomizationSensor
from tests.unit.test_request import BAD_INPUTS, GOOD

REPO = Path(__file__).resolve().parents[2]
MANUAL_DAG_FILE = REPO / "dags" / "bedrock_finetune_manual.py"
BUCKET = "s3://my-bucket"
JOB_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan-text-express-v1/abc123"
TEMPLATE_CONTEXT: dict[str, Any] = {
    "ds": "2024-01-01",
    "ts": "2024-01-01T00:00:00+00:00",
    "run_id": "manual__2024-01-01T00:00:00+00:00",
}


# Each row's attempt gets the test's tmp_path (for the rows that write a dataset file) and must raise.
Attempt = Callable[[Path], Any]


class _TaskInstance:
    dag_id = "bad_input_table"
    task_id = "task"
    run_id = "manual__bad"
    map_index = -1
    try_number = 1

    def xcom_push(self, key: str, value: Any) -> None:
        raise AssertionError(f"bad input pushed XCom {key}={value!r}")


def _context(params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**TEMPLATE_CONTEXT, "params": params or {}, "ti": _TaskInstance()}


def _execute(operator: Any, params: dict[str, Any] | None = None) -> None:
    """As the task runner does: render the templates with the run's values, then execute."""
    context = _context(params)
    operator.render_template_fields(context)
    operator.execute(context)
    # A row that reaches here is input the operator did not refuse.
    raise AssertionError(f"{type(operator).__name__} accepted the input")


# -- the customization operator -----------------------------------------------------------------------


def customize(params: dict[str, Any] | None = None, **overrides: Any) -> Attempt:
    def attempt(tmp_path: Path) -> None:
        _execute(BedrockModelCustomizationOperator(task_id="train", **{**GOOD, **overrides}), params)

    return attempt


def build_customize(**overrides: Any) -> Attempt:
    return lambda tmp_path: BedrockModelCustomizationOperator(task_id="train", **{**GOOD, **overrides})


# -- the sensor -----------------------------------------------------------------------------------------


def sense(job_identifier: Any, params: dict[str, Any] | None = None) -> Attempt:
    def attempt(tmp_path: Path) -> None:
        sensor = BedrockModelCustomizationSensor(
            task_id="wait", job_identifier=job_identifier, poke_interval=1, deferrable=True
        )
        _execute(sensor, params)

    return attempt


# -- the dataset operator ----------------------------------------------------------------------------------

GOOD_RECORD = json.dumps({"prompt": "Question?", "completion": "Answer."})


def prepare(params: dict[str, Any] | None = None, **overrides: Any) -> Attempt:
    def attempt(tmp_path: Path) -> None:
        kwargs = {
            "source_uri": f"{BUCKET}/raw/train.jsonl",
            "output_uri": f"{BUCKET}/prepared/",
            "base_model_id": "amazon.titan-text-express-v1",
            **overrides,
        }
        _execute(BedrockPrepareDatasetOperator(task_id="prepare", **kwargs), params)

    return attempt


def prepare_records(*records: str) -> Attempt:
    """A local dataset file with these lines after one good record: no S3, so no AWS at all."""

    def attempt(tmp_path: Path) -> None:
        source = tmp_path / "train.jsonl"
        source.write_text("".join(line + "\n" for line in (GOOD_RECORD, *records)))
        operator = BedrockPrepareDatasetOperator(
            task_id="prepare",
            source_uri=str(source),
            output_uri=str(tmp_path / "prepared"),
            base_model_id="amazon.titan-text-express-v1",
        )
        _execute(operator)

    return attempt


# -- the metrics operator and its files --------------------------------------------------------------------


def export(params: dict[str, Any] | None = None, **overrides: Any) -> Attempt:
    def attempt(tmp_path: Path) -> None:
        kwargs = {"job_identifier": JOB_ARN, **overrides}
        _execute(BedrockExportMetricsOperator(task_id="metrics", **kwargs), params)

    return attempt


def build_export(**overrides: Any) -> Attempt:
    return lambda tmp_path: BedrockExportMetricsOperator(
        task_id="metrics", job_identifier=JOB_ARN, **overrides
    )


TRAINING_HEADER = "step_number,epoch_number,training_loss,perplexity"


def metrics_file(body: str, kind: Any = TRAINING) -> Attempt:
    return lambda tmp_path: read_metrics(body.splitlines(keepends=True), kind, f"{BUCKET}/out/metrics.csv")


# -- the manual DAG's form -------------------------------------------------------------------------------


def _manual_dag_params() -> Any:
    """The Params as the API server holds them: from the serialized DAG, as a trigger validates them."""
    from airflow.serialization.serialized_objects import DagSerialization

    dags_folder = str(MANUAL_DAG_FILE.parent)
    added = dags_folder not in sys.path
    if added:
        sys.path.insert(0, dags_folder)
    try:
        spec = importlib.util.spec_from_file_location("bedrock_finetune_manual_for_tests", MANUAL_DAG_FILE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if added:
            sys.path.remove(dags_folder)
    return DagSerialization.deserialize_dag(DagSerialization.serialize_dag(module.dag)).params


_PARAMS: list[Any] = []


def manual_run(**conf: Any) -> Attempt:
    def attempt(tmp_path: Path) -> None:
        if not _PARAMS:
            _PARAMS.append(_manual_dag_params())
        copy.deepcopy(_PARAMS[0]).deep_merge(conf).validate()
        raise AssertionError(f"the form accepted {conf}")

    return attempt


# -- the table ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    attempt: Attempt
    field: str
    fragment: str


def _request_cases() -> list[Case]:
    return [
        Case(f"customize:{field}:{fragment}", customize(**overrides), field, fragment)
        for overrides, field, fragment in BAD_INPUTS
    ]


TEMPLATE_CASES = [
    # A missing or None value renders to the text "None", which must not pass for an ARN, a URI or a key.
    Case(
        "render:role_arn-None",
        customize({"role": None}, role_arn="{{ params.role }}"),
        "role_arn",
        "a template rendered None",
    ),
    Case(
        "render:training_data_uri-None",
        customize({"data": None}, training_data_uri="{{ params.data }}"),
        "training_data_uri",
        "a template rendered None",
    ),
    Case(
        "render:custom_model_kms_key_id-None",
        customize({"kms": None}, custom_model_kms_key_id="{{ params.kms }}"),
        "custom_model_kms_key_id",
        "a template rendered None",
    ),
    Case(
        "render:customization_type-None",
        customize({"type": None}, customization_type="{{ params.type }}"),
        "customization_type",
        "must be one of",
    ),
    Case(
        "render:hyperparameters-None",
        customize({"hp": None}, hyperparameters="{{ params.hp }}"),
        "hyperparameters",
        "must be a dict",
    ),
    Case(
        "render:job_name-empty",
        customize({"name": ""}, job_name="{{ params.name }}"),
        "job_name",
        "did a template render to nothing?",
    ),
    Case(
        "render:base_model_id-empty",
        customize({}, base_model_id="{{ params.get('model', '') }}"),
        "base_model_id",
        "must not be empty",
    ),
    # A value that carries a template of its own (from a Param or the conf) is not rendered again.
    Case(
        "render:job_name-unrendered",
        customize({"name": "weekly-{{ ds }}"}, job_name="{{ params.name }}"),
        "job_name",
        "'{' at position 8",
    ),
    Case(
        "render:output_data_uri-unrendered",
        customize({"prefix": "{{ run_id }}"}, output_data_uri=BUCKET + "/{{ params.prefix }}/"),
        "output_data_uri",
        "not an S3 URI Bedrock accepts",
    ),
    # A dict or list rendered into a string field arrives as its Python repr.
    Case(
        "render:training_data_uri-dict-repr",
        customize({"data": {"s3Uri": f"{BUCKET}/t.jsonl"}}, training_data_uri="{{ params.data }}"),
        "training_data_uri",
        "starting with 's3://'",
    ),
    Case(
        "render:validation_data_uri-list-repr",
        customize({"val": [f"{BUCKET}/v.jsonl"]}, validation_data_uri="{{ params.val }}"),
        "validation_data_uri",
        "starting with 's3://'",
    ),
    Case(
        "render:hyperparameters-repr-of-objects",
        customize({"hp": {"epochCount": 2, "learningRate": object()}}, hyperparameters="{{ params.hp }}"),
        "hyperparameters",
        "does not parse",
    ),
    Case(
        "render:vpc_config-repr-with-a-string-for-a-list",
        customize(
            {"vpc": {"subnetIds": "subnet-1", "securityGroupIds": ["sg-1"]}}, vpc_config="{{ params.vpc }}"
        ),
        "vpc_config.subnetIds",
        "must be a list",
    ),
    Case(
        # Claude 3 Haiku is fine-tuned in us-west-2 only: refused for the task's Region before the Create.
        "customize:base_model_id-not-offered-in-the-region",
        customize(base_model_id="anthropic.claude-3-haiku-20240307-v1:0:200k", region_name="us-east-1"),
        "base_model_id",
        "us-west-2",
    ),
    Case(
        # A foundation-model ARN of another Region than the job's, whatever model_checks says.
        "customize:base_model_id-arn-of-another-region",
        customize(
            base_model_id="arn:aws:bedrock:us-west-2::foundation-model/amazon.titan-text-express-v1:0:8k",
            region_name="us-east-1",
            model_checks="warn",
        ),
        "base_model_id",
        "is a foundation model in us-west-2, but the job runs in us-east-1",
    ),
    Case(
        "customize:base_model_id-retired",
        customize(base_model_id="cohere.command-text-v14"),
        "base_model_id",
        "custom-model-supported.html, checked",
    ),
    Case(
        "render:job_tags-text",
        customize({"tags": "team=ml"}, job_tags="{{ params.tags }}"),
        "job_tags",
        "must be a dict of tag names",
    ),
    Case(
        "render:sensor-job_identifier-empty",
        sense("{{ params.job }}", {"job": ""}),
        "job_identifier",
        "did a template render to nothing?",
    ),
    Case(
        "render:dataset-output_uri-ts",
        prepare(output_uri=BUCKET + "/prepared/{{ ts }}/"),
        "output_uri",
        "not an S3 URI Bedrock accepts",
    ),
    Case(
        "render:dataset-validation_split-None",
        prepare({"split": None}, validation_split="{{ params.split }}"),
        "validation_split",
        "must be a number",
    ),
    Case(
        "render:metrics-max_training_loss-None",
        export({"limit": None}, max_training_loss="{{ params.limit }}"),
        "max_training_loss",
        "positive number",
    ),
    Case(
        "render:metrics-job_identifier-empty",
        export({"job": " "}, job_identifier="{{ params.job }}"),
        "job_identifier",
        "job name or ARN",
    ),
]

SETTING_CASES = [
    # Plain numbers and choices fixed in the DAG file fail when the DAG is parsed.
    Case("parse:poll_interval-zero", build_customize(poll_interval=0), "poll_interval", "greater than 0"),
    Case(
        "parse:poll_interval-text", build_customize(poll_interval="60"), "poll_interval", "number of seconds"
    ),
    Case("parse:max_wait-negative", build_customize(max_wait=-5), "max_wait", "greater than 0"),
    Case("parse:if_job_exists", build_customize(if_job_exists="overwrite"), "if_job_exists", "reattach"),
    Case(
        "run:if_job_exists-rendered",
        customize({"mode": "skip"}, if_job_exists="{{ params.mode }}"),
        "if_job_exists",
        "must be one of",
    ),
    # The cost parameters are checked before the estimate reads the training file.
    Case(
        "run:max_estimated_cost-rendered",
        customize({"budget": "lots"}, max_estimated_cost="{{ params.budget }}"),
        "max_estimated_cost",
        "amount in USD",
    ),
    Case(
        "run:max_estimated_cost-negative", customize(max_estimated_cost=-1), "max_estimated_cost", "0 or more"
    ),
    Case("run:training_tokens-text", customize(training_tokens="many"), "training_tokens", "whole number"),
    Case(
        "run:price_overrides-unknown",
        customize(price_overrides={"per_token": 0.1}),
        "price_overrides.per_token",
        "is not a price",
    ),
    Case(
        "run:price_overrides-negative",
        customize(price_overrides={"training_per_1k_tokens": -0.1}),
        "price_overrides.training_per_1k_tokens",
        "0 or more",
    ),
    Case(
        "parse:sensor-poke_interval",
        lambda tmp_path: BedrockModelCustomizationSensor(task_id="wait", job_identifier="j", poke_interval=0),
        "poke_interval",
        "greater than 0",
    ),
    Case("parse:metrics-on_gate_failure", build_export(on_gate_failure="explode"), "on_gate_failure", "fail"),
    Case("parse:metrics-plot_size", build_export(plot_size=(10, 10)), "plot_size", "at least (200, 150)"),
]

DATASET_CASES = [
    Case("dataset:validation_split", prepare(validation_split=0.7), "validation_split", "below 0.5"),
    Case("dataset:seed", prepare(seed="abc"), "seed", "must be a number"),
    Case(
        "dataset:max_invalid_fraction", prepare(max_invalid_fraction=2), "max_invalid_fraction", "between 0"
    ),
    Case(
        "dataset:customization_type", prepare(customization_type="FINETUNE"), "customization_type", "one of"
    ),
    Case("dataset:format", prepare(format="xml"), "format", "must be one of"),
    Case("dataset:source_uri-empty", prepare(source_uri=""), "source_uri", "S3 URI"),
    Case(
        "dataset:source_uri-list-item",
        prepare(source_uri=[f"{BUCKET}/a.jsonl", 3]),
        "source_uri[1]",
        "S3 URI",
    ),
    Case("dataset:output_uri-http", prepare(output_uri="https://my-bucket/out/"), "output_uri", "only s3://"),
    Case("dataset:output_uri-bucket", prepare(output_uri="s3://My_Bucket/out/"), "output_uri", "bucket name"),
    Case(
        "dataset:remove_duplicates", prepare(remove_duplicates="maybe"), "remove_duplicates", "True or False"
    ),
    Case("dataset:source_uri-missing-file", prepare(source_uri="None"), "source_uri", "no such file"),
    # Records: each names the file, the line and the field.
    Case("records:not-json", prepare_records("{not json"), "line 2", "not valid JSON"),
    Case(
        "records:missing-completion",
        prepare_records(json.dumps({"prompt": "Q?"})),
        "line 2, completion",
        "required field is missing",
    ),
    Case(
        "records:prompt-not-a-string",
        prepare_records(json.dumps({"prompt": 3, "completion": "A."})),
        "line 2, prompt",
        "expected a string",
    ),
    Case(
        "records:empty-completion",
        prepare_records(json.dumps({"prompt": "Q?", "completion": ""})),
        "line 2, completion",
        "must not be empty",
    ),
    Case(
        "records:unexpected-field",
        prepare_records(json.dumps({"prompt": "Q?", "completion": "A.", "answer": "A."})),
        "line 2, answer",
        "unexpected field",
    ),
    Case("records:a-list-not-an-object", prepare_records("[1, 2]"), "line 2", "expected a JSON object"),
]

METRICS_CASES = [
    Case("metrics:job_identifier", export(job_identifier=""), "job_identifier", "job name or ARN"),
    Case(
        "metrics:destination_uri-relative",
        export(destination_uri="out/metrics"),
        "destination_uri",
        "absolute",
    ),
    Case(
        "metrics:destination_uri-no-bucket",
        export(destination_uri="s3:///metrics"),
        "destination_uri",
        "no bucket",
    ),
    Case(
        "metrics:max_validation_loss",
        export(max_validation_loss=-1),
        "max_validation_loss",
        "positive number",
    ),
    Case("metrics:plot-without-destination", export(plot=True), "destination_uri", "plot=True needs"),
    Case("metrics:promote-without-champion", export(promote=True), "champion_uri", "promote=True needs"),
    Case("metrics:champion_tag", export(champion_tag={}), "champion_tag", "non-empty dict"),
    Case("metrics-file:empty", metrics_file(""), "metrics.csv", "the file is empty"),
    Case("metrics-file:header-only", metrics_file(TRAINING_HEADER + "\n"), "metrics.csv", "no rows"),
    Case(
        "metrics-file:missing-column",
        metrics_file("step_number,epoch_number,perplexity\n1,0,2.0\n"),
        "metrics.csv, line 1",
        "missing required column training_loss",
    ),
    Case(
        "metrics-file:not-a-number",
        metrics_file(TRAINING_HEADER + "\n1,0,abc,2.0\n"),
        "line 2, column training_loss",
        "'abc' is not a number",
    ),
    Case(
        "metrics-file:nan",
        metrics_file(TRAINING_HEADER + "\n1,0,nan,2.0\n"),
        "line 2, column training_loss",
        "not a finite number",
    ),
    Case(
        "metrics-file:fractional-step",
        metrics_file(TRAINING_HEADER + "\n1.5,0,1.0,2.0\n"),
        "line 2, column step_number",
        "not a whole number",
    ),
    Case(
        "metrics-file:validation-missing-loss",
        metrics_file("step_number,epoch_number\n1,0\n", VALIDATION),
        "metrics.csv, line 1",
        "validation_loss",
    ),
    Case(
        "metrics-file:baseline-not-an-object",
        lambda tmp_path: check_baseline(["not", "a", "summary"], f"{BUCKET}/champion.json"),
        "champion.json",
        "not a JSON object",
    ),
]

# Refused by the API server before a run (and so a job) exists.
PARAMS_CASES = [
    Case(
        "params:base_model_id",
        manual_run(base_model_id="anthropic.claude-v2"),
        "base_model_id",
        "is not one of",
    ),
    Case(
        "params:customization_type",
        manual_run(customization_type="DISTILLATION"),
        "customization_type",
        "is not one of",
    ),
    Case("params:hyperparameters-empty", manual_run(hyperparameters={}), "hyperparameters", "non-empty"),
    Case(
        "params:hyperparameters-list-value",
        manual_run(hyperparameters={"epochCount": [2]}),
        "hyperparameters",
        "is not of type",
    ),
    Case("params:job_name-underscore", manual_run(job_name="weekly_run"), "job_name", "does not match"),
    Case("params:job_name-digit-first", manual_run(job_name="2025-run"), "job_name", "does not match"),
    Case(
        "params:custom_model_name",
        manual_run(custom_model_name="model--1"),
        "custom_model_name",
        "does not match",
    ),
    Case(
        "params:validation_data_uri-prefix",
        manual_run(validation_data_uri=f"{BUCKET}/validation/"),
        "validation_data_uri",
        "does not match",
    ),
    Case("params:role_arn", manual_run(role_arn="BedrockRole"), "role_arn", "does not match"),
    Case("params:job_tags-number", manual_run(job_tags={"team": 7}), "job_tags", "is not of type 'string'"),
    Case(
        "params:max_validation_loss", manual_run(max_validation_loss=-0.5), "max_validation_loss", "minimum"
    ),
]

CASES = [
    *_request_cases(),
    *TEMPLATE_CASES,
    *SETTING_CASES,
    *DATASET_CASES,
    *METRICS_CASES,
    *PARAMS_CASES,
]


@pytest.fixture
def no_aws_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every botocore and aiobotocore request is recorded and refused."""
    import aiobotocore.endpoint
    import botocore.endpoint

    calls: list[str] = []

    def refuse(self: Any, operation_model: Any, request_dict: Any) -> Any:
        calls.append(operation_model.name)
        raise AssertionError(f"AWS call {operation_model.name} made for bad input")

    async def refuse_async(self: Any, operation_model: Any, request_dict: Any) -> Any:
        return refuse(self, operation_model, request_dict)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", refuse)
    monkeypatch.setattr(aiobotocore.endpoint.AioEndpoint, "make_request", refuse_async)
    yield calls


def _where(error: BaseException, field: str) -> str:
    """The text that must name the field: its own problem line when the error lists problems."""
    if isinstance(error, InvalidInputError):
        assert field in error.fields, f"{field!r} not among {error.fields}: {error}"
        return "\n".join(str(problem) for problem in error.problems if problem.field == field)
    return str(error)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_refused_naming_the_field_before_any_aws_call(case, no_aws_calls, tmp_path):
    from airflow.sdk.definitions.param import ParamValidationError

    with pytest.raises(
        (InvalidInputError, ValueError, AirflowException, AirflowFailException, ParamValidationError)
    ) as raised:
        case.attempt(tmp_path)
    where = _where(raised.value, case.field)
    assert case.field in where, f"{case.field!r} not named in: {where}"
    assert case.fragment in where, f"{case.fragment!r} not in: {where}"
    assert no_aws_calls == []


def test_the_table_spans_every_operator_and_has_at_least_sixty_rows():
    assert len(CASES) >= 60
    kinds = {case.id.split(":", 1)[0] for case in CASES}
    assert {
        "customize",
        "render",
        "parse",
        "dataset",
        "records",
        "metrics",
        "metrics-file",
        "params",
    } <= kinds


def test_the_guard_sees_a_call_that_reaches_for_aws(no_aws_calls):
    import boto3

    client = boto3.client("bedrock", region_name="us-east-1")
    with pytest.raises(AssertionError, match="AWS call GetModelCustomizationJob"):
        client.get_model_customization_job(jobIdentifier="any")
    assert no_aws_calls == ["GetModelCustomizationJob"]
