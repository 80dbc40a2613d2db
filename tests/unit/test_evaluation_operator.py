"""BedrockModelEvaluationOperator against the emulator in-process: scores, gate, refusals, exactly once."""

from __future__ import annotations

import asyncio
import gzip
import json
import math
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException, TaskDeferred

from bedrock_provider.core.errors import InvalidInputError, JobConflictError
from bedrock_provider.emulator import TAG_DURATION, TAG_FAILURE_MESSAGE, TAG_OUTCOME, BedrockEmulator
from bedrock_provider.operators.evaluation import BedrockModelEvaluationOperator
from tests.unit.post_training import (
    BUCKET,
    PROMPTS,
    ROLE,
    clients,
    context,
    emu,
    emulator,
    trained_model,
    until,
)
from tests.unit.test_deployment_operator import run_trigger
from tests.unit.test_trigger_kill_rules import tell_state

__all__ = ["emu", "emulator"]

ACCURACY = "emulator:score:Builtin.Accuracy"


def deployed(emu: BedrockEmulator, name: str = "support-bot-20250105") -> str:
    """A trained model deployed where CreateEvaluationJob can invoke it: an InService provisioned throughput
    (botocore's EvaluationBedrockModelIdentifier takes no custom model deployment ARN)."""
    bedrock, s3 = clients(emu)
    s3.put_object(Bucket=BUCKET, Key="eval/prompts.jsonl", Body=PROMPTS)
    model = trained_model(emu, name)
    arn = str(
        bedrock.create_provisioned_model_throughput(provisionedModelName=name, modelId=model, modelUnits=1)[
            "provisionedModelArn"
        ]
    )
    until(lambda: bedrock.get_provisioned_model_throughput(provisionedModelId=arn)["status"] == "InService")
    emu.reset_counts()
    return arn


def evaluate(model: str, **overrides: Any) -> BedrockModelEvaluationOperator:
    kwargs: dict[str, Any] = {
        "task_id": "evaluate",
        "job_name": "support-bot-20250105-eval",
        "role_arn": ROLE,
        "model_identifier": model,
        "task_type": "QuestionAndAnswer",
        "output_uri": f"s3://{BUCKET}/evaluations/",
        "dataset_uri": f"s3://{BUCKET}/eval/prompts.jsonl",
        "metric_names": ["Builtin.Accuracy", "Builtin.Toxicity"],
        "min_scores": {"Builtin.Accuracy": 0.7},
        "max_scores": {"Builtin.Toxicity": 0.1},
        "job_tags": {ACCURACY: "0.82"},
        "deferrable": False,
        "poll_interval": 0.1,
        "aws_conn_id": None,
    }
    kwargs.update(overrides)
    return BedrockModelEvaluationOperator(**kwargs)


def test_scores_from_the_documented_results_pass_the_gate(emu: BedrockEmulator) -> None:
    deployment = deployed(emu)
    result = evaluate(deployment).execute(context(task_id="evaluate"))
    assert result["status"] == "Completed" and result["passed"] is True
    assert result["scores"]["Builtin.Accuracy"] == 0.82
    assert 0 <= result["scores"]["Builtin.Toxicity"] <= 0.08
    assert result["prompts"] == 4
    job_id = result["job_arn"].rsplit("/", 1)[-1]
    assert result["results_uri"] == f"s3://{BUCKET}/evaluations/support-bot-20250105-eval/{job_id}/"
    assert [c["check"] for c in result["gate"]["checks"]] == ["min_scores", "max_scores"]
    assert emu.request_count("CreateEvaluationJob") == 1


@pytest.mark.parametrize(
    ("mode", "raised"), [("fail", AirflowFailException), ("skip", AirflowSkipException), ("record", None)]
)
def test_a_score_below_the_minimum_fails_skips_or_records(
    emu: BedrockEmulator, mode: str, raised: type[Exception] | None
) -> None:
    deployment = deployed(emu)
    operator = evaluate(deployment, job_tags={ACCURACY: "0.55"}, on_gate_failure=mode)
    ctx = context(task_id="evaluate")
    if raised is None:
        result = operator.execute(ctx)
    else:
        with pytest.raises(raised, match="Builtin.Accuracy 0.55 is below min_scores=0.7"):
            operator.execute(ctx)
        result = ctx["ti"].xcom["return_value"]
    assert result["passed"] is False and result["scores"]["Builtin.Accuracy"] == 0.55


def replace_results(emu: BedrockEmulator, results_uri: str, accuracy: list[float | None]) -> None:
    """The job's results as lines whose Accuracy results are ``accuracy`` (None is JSON null), one
    file in place of those the emulator wrote."""
    _, s3 = clients(emu)
    prefix = results_uri.removeprefix(f"s3://{BUCKET}/")
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    lines = [
        json.dumps(
            {
                "automatedEvaluationResult": {
                    "scores": [
                        {"metricName": "Accuracy", "result": value},
                        {"metricName": "Toxicity", "result": 0},
                    ]
                }
            }
        )
        for value in accuracy
    ]
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}models/m/abc_output.jsonl", Body="\n".join(lines).encode())


def test_null_and_nan_scores_are_counted_excluded_and_too_few_valid_fail_the_gate(
    emu: BedrockEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment = deployed(emu)
    first = evaluate(deployment).execute(context(task_id="evaluate"))
    replace_results(emu, first["results_uri"], [math.nan] * 500 + [None] * 499 + [1.0])
    ctx = context(task_id="evaluate")
    with pytest.raises(AirflowFailException) as failed:
        evaluate(deployment).execute(ctx)  # adopts the Completed job and reads its results again
    assert "Builtin.Accuracy has a valid score for 1 of 1000 prompts" in str(failed.value)
    assert "min_valid_fraction=0.9" in str(failed.value)
    result = ctx["ti"].xcom["return_value"]
    assert result["passed"] is False and result["scores"]["Builtin.Accuracy"] == 1.0
    assert result["valid_scores"] == {"Builtin.Accuracy": 1, "Builtin.Toxicity": 1000}
    assert "Builtin.Accuracy: 999 of 1000 prompts have no valid score" in capsys.readouterr().out
    # The gate's own fraction decides: 1 valid score in 1000 passes a limit of one in a thousand.
    lenient = evaluate(deployment, min_valid_fraction="0.001").execute(context(task_id="evaluate"))
    assert lenient["passed"] is True and emu.request_count("CreateEvaluationJob") == 1


def test_a_rerun_adopts_its_job_and_reads_the_same_scores(emu: BedrockEmulator) -> None:
    deployment = deployed(emu)
    first = evaluate(deployment).execute(context(task_id="evaluate"))
    again = evaluate(deployment).execute(context(task_id="evaluate"))
    assert again["job_arn"] == first["job_arn"] and again["scores"] == first["scores"]
    assert emu.request_count("CreateEvaluationJob") == 1


def test_a_job_that_evaluated_another_model_is_not_adopted(emu: BedrockEmulator) -> None:
    deployment = deployed(emu)
    other = deployed(emu, "support-bot-20250112")
    evaluate(deployment).execute(context(task_id="evaluate"))
    with pytest.raises(JobConflictError, match="model_identifier"):
        evaluate(other).execute(context(task_id="evaluate"))
    assert emu.request_count("CreateEvaluationJob") == 1


def test_resubmit_when_the_earlier_job_evaluated_a_deployment_since_replaced(emu: BedrockEmulator) -> None:
    deployment = deployed(emu)
    other = deployed(emu, "support-bot-20250112")
    first = evaluate(deployment, if_job_differs="resubmit").execute(context(task_id="evaluate"))
    again = evaluate(other, if_job_differs="resubmit").execute(context(task_id="evaluate"))
    assert again["job_name"] == "support-bot-20250105-eval-r2" and again["job_arn"] != first["job_arn"]
    assert again["model_identifier"] == other
    with pytest.raises(ValueError, match="if_job_differs='adopt'"):
        evaluate(other, if_job_differs="adopt")


def test_a_failed_job_fails_the_task_and_the_retry_submits_r2(emu: BedrockEmulator) -> None:
    deployment = deployed(emu)
    failing = {ACCURACY: "0.9", TAG_OUTCOME: "Failed", TAG_FAILURE_MESSAGE: "model throttled"}
    with pytest.raises(AirflowException, match="model throttled"):
        evaluate(deployment, job_tags=failing).execute(context(task_id="evaluate"))
    result = evaluate(deployment).execute(context(task_id="evaluate"))
    assert result["job_name"] == "support-bot-20250105-eval-r2" and result["passed"] is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"job_name": "Support-Bot-Eval"}, "job_name"),
        ({"task_type": "Translation"}, "task_type"),
        ({"metric_names": ["Builtin.Toxicity", "Builtin.Fluency"]}, "metric_names"),
        ({"min_scores": {"Builtin.Robustness": 0.5}}, "min_scores['Builtin.Robustness']"),
        ({"max_scores": {"Builtin.Toxicity": "high"}}, "max_scores['Builtin.Toxicity']"),
        ({"on_gate_failure": "ignore"}, "on_gate_failure"),
        ({"min_valid_fraction": 1.5}, "min_valid_fraction"),
        ({"min_valid_fraction": "most"}, "min_valid_fraction"),
        ({"dataset_uri": None}, "dataset_uri"),
        ({"output_uri": "bucket/evaluations"}, "output_uri"),
        ({"role_arn": "admin"}, "role_arn"),
    ],
)
def test_bad_input_is_refused_before_any_call(
    emu: BedrockEmulator, overrides: dict[str, Any], field: str
) -> None:
    emu.reset_counts()
    with pytest.raises(InvalidInputError) as error:
        evaluate(
            "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdefghijkl", **overrides
        ).execute(context())
    assert field in error.value.fields
    assert emu.counts() == {}


def test_an_undeployed_custom_model_is_refused_before_any_call(emu: BedrockEmulator) -> None:
    model = trained_model(emu)
    emu.reset_counts()
    with pytest.raises(InvalidInputError, match="must be deployed before it can be evaluated"):
        evaluate(model).execute(context())
    assert emu.counts() == {}


def test_a_bad_prompt_dataset_is_refused_naming_its_lines(emu: BedrockEmulator) -> None:
    _, s3 = clients(emu)
    s3.put_object(
        Bucket=BUCKET,
        Key="eval/bad.jsonl",
        Body=b'{"prompt": "ok", "referenceResponse": "4"}\n{"prompt": ""}\nnot json\n',
    )
    emu.reset_counts()
    with pytest.raises(InvalidInputError) as error:
        evaluate("amazon.titan-text-express-v1", dataset_uri=f"s3://{BUCKET}/eval/bad.jsonl").execute(
            context()
        )
    message = str(error.value)
    assert "line 2: prompt: must not be empty" in message
    assert "line 2: referenceResponse: required field is missing" in message
    assert "line 3: not valid JSON" in message
    assert emu.counts() == {}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (gzip.compress(PROMPTS), "the file is gzip-compressed"),
        (b"\xef\xbb\xbf" + PROMPTS, "starts with a UTF-8 byte order mark"),
        (PROMPTS + b"\n", "line 5: a blank line"),
    ],
    ids=["gzip", "byte-order-mark", "blank-line"],
)
def test_a_prompt_file_bedrock_cannot_read_is_refused_before_create(
    emu: BedrockEmulator, body: bytes, expected: str
) -> None:
    """The dataset reader tolerates these (the prepare operator rewrites them); Bedrock reads the file
    as it is, so each is refused before CreateEvaluationJob."""
    _, s3 = clients(emu)
    s3.put_object(Bucket=BUCKET, Key="eval/unreadable.jsonl", Body=body)
    emu.reset_counts()
    operator = evaluate("amazon.titan-text-express-v1", dataset_uri=f"s3://{BUCKET}/eval/unreadable.jsonl")
    with pytest.raises(InvalidInputError, match=expected) as error:
        operator.execute(context())
    assert error.value.fields == ["dataset_uri"]
    assert emu.request_count("CreateEvaluationJob") == 0


def test_a_prompt_dataset_without_the_jsonl_extension_is_refused_before_any_call(
    emu: BedrockEmulator,
) -> None:
    emu.reset_counts()
    with pytest.raises(InvalidInputError, match="must have the .jsonl file extension"):
        evaluate("amazon.titan-text-express-v1", dataset_uri=f"s3://{BUCKET}/eval/prompts.jsonl.gz").execute(
            context()
        )
    assert emu.counts() == {}


def test_deferred_wait_and_only_mark_failed_stops_the_job(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = deployed(emu)
    # Long enough to be running when the operator first looks, however loaded the machine.
    operator = evaluate(deployment, deferrable=True, job_tags={ACCURACY: "0.82", TAG_DURATION: "3"})
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context(task_id="evaluate"))
    event = run_trigger(deferred.value.trigger)
    assert event["kind"] == "evaluation_job" and event["status"] == "Completed"
    result = operator.execute_complete(context(task_id="evaluate"), event)
    assert result["passed"] is True and result["scores"]["Builtin.Accuracy"] == 0.82

    slow = evaluate(deployment, job_name="slow-eval", deferrable=True, job_tags={TAG_DURATION: "60"})
    with pytest.raises(TaskDeferred) as deferred:
        slow.execute(context(task_id="slow"))
    trigger = deferred.value.trigger
    trigger.task_instance = context(task_id="slow")["ti"]
    bedrock, _ = clients(emu)
    for cleared_or_moved in (None, "success", "deferred"):
        tell_state(monkeypatch, cleared_or_moved)
        asyncio.run(trigger.on_kill())
    assert bedrock.get_evaluation_job(jobIdentifier=slow.job_arn)["status"] == "InProgress"
    assert emu.request_count("StopEvaluationJob") == 0
    tell_state(monkeypatch, "failed")
    asyncio.run(trigger.on_kill())
    until(lambda: bedrock.get_evaluation_job(jobIdentifier=slow.job_arn)["status"] == "Stopped")


def test_throttling_is_waited_through(emu: BedrockEmulator) -> None:
    deployment = deployed(emu)
    emu.set_fault_rates(throttle=0.25, server_error=0.1)
    result = evaluate(deployment).execute(context(task_id="evaluate"))
    emu.set_fault_rates()
    assert result["passed"] is True and emu.request_count("CreateEvaluationJob") >= 1
    bedrock, _ = clients(emu)
    assert len(bedrock.list_evaluation_jobs()["jobSummaries"]) == 1


def test_the_connection_is_read_once_for_all_three_hooks(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The task checks the prompts through S3, submits through Bedrock and waits through the resource
    hook: one reading of the connection, one "credentials retrieved" line, not one per hook."""
    connection = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": emu.endpoint_url, "region_name": "us-east-1"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_BEDROCK_EVAL_TEST", json.dumps(connection))
    operator = evaluate(deployed(emu), aws_conn_id="bedrock_eval_test")
    capfd.readouterr()
    result = operator.execute(context(task_id="evaluate"))
    assert result["passed"] is True
    # Airflow's logging writes to the process's stdout here, not through the logging module.
    printed = capfd.readouterr().out
    assert printed.count("(conn_id='bedrock_eval_test', conn_type='aws') credentials retrieved") == 1, printed
    assert operator.s3_hook.conn_config is operator.resource_hook.conn_config is operator.hook.conn_config
