"""BedrockExportMetricsOperator against moto in-process: jobs in moto's Bedrock, metrics in moto's S3."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.sdk.execution_time.context import OutletEventAccessors

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.metrics import JobNotCompletedError, MetricsFileError
from bedrock_provider.operators.metrics import BedrockExportMetricsOperator
from tests.unit.test_metrics_core import EPOCH_MEANS, TRAINING_CSV, TRAINING_EXPECTED, VALIDATION_CSV

BUCKET = "metrics-unit"
REGION = "us-east-1"
ACCOUNT = "123456789012"
VALIDATION_KEY = "validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"
DOCS_VALIDATION_KEY = "validation_artifacts/post_fine_tuning_validation/validation_metrics.csv"


def training_csv(final_loss: float) -> str:
    """Three steps ending at final_loss, for jobs that only differ in how good they are."""
    return f"step_number,epoch_number,training_loss\n0,0,2.0\n1,0,1.5\n2,0,{final_loss}\n"


def validation_csv(final_loss: float) -> str:
    return f"step_number,epoch_number,validation_loss\n1,0,1.9\n2,0,{final_loss}\n"


class FakeTaskInstance:
    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def context() -> dict[str, Any]:
    return {"ti": FakeTaskInstance(), "outlet_events": OutletEventAccessors()}


@pytest.fixture
def aws(moto_aws: Any) -> SimpleNamespace:
    moto_aws.reset()
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    return SimpleNamespace(s3=s3, bedrock=boto3.client("bedrock", region_name=REGION))


def make_job(
    aws: SimpleNamespace,
    name: str,
    training: str | None = TRAINING_CSV,
    validation: str | None = VALIDATION_CSV,
    status: str = "Completed",
    validation_key: str = VALIDATION_KEY,
) -> str:
    """A moto job in the given status with its metrics where Bedrock writes them; returns its name."""
    from moto.bedrock.models import bedrock_backends

    output = f"s3://{BUCKET}/output/{name}/"
    kwargs: dict[str, Any] = {}
    if validation is not None:
        kwargs["validationDataConfig"] = {"validators": [{"s3Uri": f"s3://{BUCKET}/data/val.jsonl"}]}
    aws.bedrock.create_model_customization_job(
        jobName=name,
        customModelName=f"{name}-model",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/Bedrock",
        baseModelIdentifier="amazon.titan-text-express-v1",
        trainingDataConfig={"s3Uri": f"s3://{BUCKET}/data/train.jsonl"},
        outputDataConfig={"s3Uri": output},
        hyperParameters={"epochCount": "2"},
        **kwargs,
    )
    backend = bedrock_backends[ACCOUNT][REGION]
    job = backend.model_customization_jobs[name]
    job.status = status
    # moto names the job's model differently from the model it creates; Bedrock's are the same.
    job.output_model_arn = backend.custom_models[f"{name}-model"].model_arn
    # moto's job ARN ends in the job name, so that is the job id naming the output folder.
    folder = f"output/{name}/model-customization-job-{name}"
    if training is not None:
        aws.s3.put_object(
            Bucket=BUCKET, Key=f"{folder}/training_artifacts/step_wise_training_metrics.csv", Body=training
        )
    if validation is not None:
        aws.s3.put_object(Bucket=BUCKET, Key=f"{folder}/{validation_key}", Body=validation)
    return name


def operator(**kwargs: Any) -> BedrockExportMetricsOperator:
    kwargs.setdefault("task_id", "export")
    kwargs.setdefault("aws_conn_id", None)
    kwargs.setdefault("region_name", REGION)
    return BedrockExportMetricsOperator(**kwargs)


def s3_bytes(aws: SimpleNamespace, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def png_size(data: bytes) -> tuple[int, int]:
    import io

    import matplotlib.image

    height, width = matplotlib.image.imread(io.BytesIO(data), format="png").shape[:2]
    return width, height


def model_tags(aws: SimpleNamespace, job: str) -> dict[str, str]:
    arn = aws.bedrock.get_model_customization_job(jobIdentifier=job)["outputModelArn"]
    return {tag["key"]: tag["value"] for tag in aws.bedrock.list_tags_for_resource(resourceARN=arn)["tags"]}


# -- export ------------------------------------------------------------------------------------------


def test_exports_summary_merged_csv_and_chart_to_s3(aws):
    job = make_job(aws, "tune-1")
    destination = f"s3://{BUCKET}/metrics/"
    result = operator(
        job_identifier=job, destination_uri=destination, plot=True, plot_size=(800, 400)
    ).execute(context())

    for key, value in TRAINING_EXPECTED.items():
        assert result["training"][key] == pytest.approx(value), key
    assert result["training"]["epoch_means"] == pytest.approx(EPOCH_MEANS)
    assert (result["validation"]["final_loss"], result["validation"]["min_loss_step"]) == (1.1, 4)
    assert result["passed"] is True and result["promoted"] is False
    assert result["job_name"] == job and result["custom_model_arn"].endswith(":custom-model/tune-1-model")
    assert result["artifacts"] == {
        "summary": f"s3://{BUCKET}/metrics/tune-1/summary.json",
        "metrics": f"s3://{BUCKET}/metrics/tune-1/metrics.csv",
        "chart": f"s3://{BUCKET}/metrics/tune-1/loss.png",
    }
    assert result["sources"]["validation"].endswith(VALIDATION_KEY)

    assert json.loads(s3_bytes(aws, result["artifacts"]["summary"])) == json.loads(json.dumps(result))
    merged = s3_bytes(aws, result["artifacts"]["metrics"]).decode().splitlines()
    assert merged[0].startswith("step,epoch,training_loss") and merged[2] == "1,0,1.5,4.481689,1.6,4.953032"
    assert png_size(s3_bytes(aws, result["artifacts"]["chart"])) == (800, 400)
    content_type = aws.s3.head_object(Bucket=BUCKET, Key="metrics/tune-1/loss.png")["ContentType"]
    assert content_type == "image/png"


def test_local_destination_and_a_rerun_overwrites(aws, tmp_path):
    job = make_job(aws, "tune-local")
    export = operator(job_identifier=job, destination_uri=str(tmp_path), plot=True)
    first = export.execute(context())
    second = export.execute(context())
    assert first["artifacts"] == second["artifacts"]
    folder = tmp_path / "tune-local"
    assert sorted(path.name for path in folder.iterdir()) == ["loss.png", "metrics.csv", "summary.json"]
    assert png_size((folder / "loss.png").read_bytes()) == (1200, 600)
    print(f"\nrendered loss chart (unit): {folder / 'loss.png'}")


def test_job_without_validation_data(aws):
    job = make_job(aws, "no-val", validation=None)
    result = operator(job_identifier=job, destination_uri=f"s3://{BUCKET}/m").execute(context())
    assert result["validation"] is None and result["sources"]["validation"] is None
    rows = s3_bytes(aws, result["artifacts"]["metrics"]).decode().splitlines()
    assert rows[-1] == "5,1,0.95,2.58571,,"


def test_validation_file_at_the_documented_path_is_found(aws):
    job = make_job(aws, "docs-layout", validation_key=DOCS_VALIDATION_KEY)
    result = operator(job_identifier=job).execute(context())
    assert result["validation"]["final_loss"] == 1.1
    assert result["sources"]["validation"].endswith(DOCS_VALIDATION_KEY)
    assert result["artifacts"] == {}


@pytest.mark.parametrize("status", ["InProgress", "Failed", "Stopped"])
def test_a_job_that_did_not_complete_is_an_error_naming_its_status(aws, status):
    job = make_job(aws, f"job-{status.lower()}", status=status)
    with pytest.raises(JobNotCompletedError, match=f"is {status}, not Completed"):
        operator(job_identifier=job, destination_uri=f"s3://{BUCKET}/m").execute(context())
    assert "Contents" not in aws.s3.list_objects_v2(Bucket=BUCKET, Prefix="m/")


def test_malformed_metrics_name_the_object_line_and_column(aws):
    job = make_job(aws, "bad-csv", training=TRAINING_CSV.replace("4,1,0.9,", "4,1,oops,"))
    with pytest.raises(MetricsFileError) as raised:
        operator(job_identifier=job).execute(context())
    assert str(raised.value).startswith(
        f"s3://{BUCKET}/output/bad-csv/model-customization-job-bad-csv/training_artifacts/"
        "step_wise_training_metrics.csv, line 6, column training_loss: 'oops' is not a number"
    )


def test_missing_training_metrics_of_a_completed_job(aws):
    job = make_job(aws, "no-metrics", training=None, validation=None)
    with pytest.raises(
        FileNotFoundError, match="No training metrics at s3://metrics-unit/output/no-metrics/"
    ):
        operator(job_identifier=job).execute(context())


# -- the gate ----------------------------------------------------------------------------------------


def test_gate_failure_fails_the_task_with_the_reasons_and_keeps_the_numbers(aws):
    job = make_job(aws, "too-high")
    ctx = context()
    export = operator(job_identifier=job, destination_uri=f"s3://{BUCKET}/m", max_training_loss=0.5)
    with pytest.raises(AirflowFailException, match="training final loss 0.95 is above max_training_loss=0.5"):
        export.execute(ctx)
    assert ctx["ti"].xcom["return_value"]["passed"] is False
    exported = json.loads(s3_bytes(aws, f"s3://{BUCKET}/m/too-high/summary.json"))
    assert exported["gate"]["reasons"] == ["training final loss 0.95 is above max_training_loss=0.5"]


def test_gate_failure_can_skip_downstream(aws):
    job = make_job(aws, "skip-me")
    with pytest.raises(AirflowSkipException, match="above max_validation_loss=1"):
        operator(job_identifier=job, max_validation_loss=1.0, on_gate_failure="skip").execute(context())


def test_gate_failure_can_only_be_recorded(aws):
    job = make_job(aws, "record-me")
    result = operator(job_identifier=job, max_training_loss="0.5", on_gate_failure="record").execute(
        context()
    )
    assert result["passed"] is False and result["gate"]["checks"][0]["limit"] == 0.5


def test_thresholds_that_pass(aws):
    job = make_job(aws, "good")
    result = operator(job_identifier=job, max_training_loss=0.95, max_validation_loss="1.2").execute(
        context()
    )
    assert result["passed"] is True and [c["passed"] for c in result["gate"]["checks"]] == [True, True]


def test_promotion_and_comparison_with_the_champion_over_several_runs(aws):
    champion_uri = f"s3://{BUCKET}/champion/summary.json"

    def export(job: str) -> dict[str, Any]:
        return operator(
            job_identifier=job, baseline_uri=champion_uri, promote=True, on_gate_failure="record"
        ).execute(context())

    first = export(make_job(aws, "run-1", training_csv(0.8), validation_csv(1.0)))
    assert first["passed"] and first["promoted"]
    assert first["gate"]["checks"] == [
        {"check": "baseline", "uri": champion_uri, "passed": True, "note": "no champion yet"}
    ]
    assert model_tags(aws, "run-1") == {"stage": "champion"}
    stored = json.loads(s3_bytes(aws, champion_uri))
    assert stored["job_name"] == "run-1" and stored["previous_champion"] is None

    worse = export(make_job(aws, "run-2", training_csv(0.5), validation_csv(1.05)))
    assert not worse["passed"] and not worse["promoted"]
    assert worse["gate"]["reasons"] == [
        f"validation final loss 1.05 does not beat the champion's 1 (job run-1, {champion_uri})"
    ]
    assert model_tags(aws, "run-2") == {}
    assert json.loads(s3_bytes(aws, champion_uri))["job_name"] == "run-1"

    better = export(make_job(aws, "run-3", training_csv(0.9), validation_csv(0.7)))
    assert better["passed"] and better["promoted"]
    assert model_tags(aws, "run-3") == {"stage": "champion"}
    stored = json.loads(s3_bytes(aws, champion_uri))
    assert stored["job_name"] == "run-3"
    assert stored["previous_champion"]["job_name"] == "run-1"

    again = export("run-3")
    assert again["passed"] and again["gate"]["checks"][0]["champion_job_name"] == "run-1"


def test_promotion_writes_to_champion_uri_with_custom_tags(aws, tmp_path):
    job = make_job(aws, "custom-tag")
    champion = tmp_path / "champions" / "current.json"
    result = operator(
        job_identifier=job, promote=True, champion_uri=f"file://{champion}", champion_tag={"stage": "prod"}
    ).execute(context())
    assert result["promoted"] and result["champion_uri"] == f"file://{champion}"
    assert json.loads(champion.read_text())["job_name"] == "custom-tag"
    assert model_tags(aws, "custom-tag") == {"stage": "prod"}


def test_a_malformed_baseline_is_an_error(aws):
    job = make_job(aws, "bad-baseline")
    aws.s3.put_object(Bucket=BUCKET, Key="champion.json", Body=b'{"training": {}}')
    with pytest.raises(ValueError, match="no number at training.final_loss"):
        operator(job_identifier=job, baseline_uri=f"s3://{BUCKET}/champion.json").execute(context())


def test_outlets_get_the_summary_as_the_asset_event_extra(aws):
    job = make_job(aws, "with-asset")
    model = Asset(name="support_bot_model", uri="s3://models/support-bot")
    ctx = context()
    result = operator(job_identifier=job, outlets=[model]).execute(ctx)
    extra = ctx["outlet_events"][model].extra
    assert extra["passed"] is True and extra["job_name"] == "with-asset"
    assert extra["training"] == result["training"] and extra["validation"] == result["validation"]
    json.dumps(extra, allow_nan=False)


# -- input -------------------------------------------------------------------------------------------


def test_bad_input_is_reported_at_once_before_any_aws_call(monkeypatch):
    export = operator(
        job_identifier=" ",
        destination_uri="relative/dir",
        baseline_uri="s3:///no-bucket",
        max_training_loss="low",
        max_validation_loss=-1,
        plot=False,
        promote=True,
        champion_tag={"stage": 1},
    )
    export.on_gate_failure = "explode"
    monkeypatch.setattr(type(export), "hook", property(lambda self: pytest.fail("AWS was called")))
    with pytest.raises(InvalidInputError) as raised:
        export.execute(context())
    assert raised.value.fields == [
        "job_identifier",
        "destination_uri",
        "baseline_uri",
        "max_training_loss",
        "max_validation_loss",
        "on_gate_failure",
        "champion_tag",
    ]
    assert "relative path would depend on the worker's working directory" in str(raised.value)


def test_plot_and_promote_need_somewhere_to_write():
    export = operator(job_identifier="j", plot=True, promote=True)
    with pytest.raises(InvalidInputError) as raised:
        export._settings()
    assert raised.value.fields == ["destination_uri", "champion_uri"]


def test_settings_are_checked_when_the_dag_is_parsed():
    with pytest.raises(ValueError, match="on_gate_failure='warn'"):
        operator(job_identifier="j", on_gate_failure="warn")
    with pytest.raises(ValueError, match="plot_size=.10, 10."):
        operator(job_identifier="j", plot_size=(10, 10))
    operator(job_identifier="j", on_gate_failure="{{ params.on_gate_failure }}")


def test_templated_fields():
    assert set(BedrockExportMetricsOperator.template_fields) >= {
        "job_identifier",
        "destination_uri",
        "max_training_loss",
        "max_validation_loss",
        "baseline_uri",
        "champion_uri",
        "champion_tag",
        "on_gate_failure",
        "aws_conn_id",
    }


def test_a_backfill_of_older_data_never_dethrones_a_newer_champion(aws):
    champion_uri = f"s3://{BUCKET}/champion/policy.json"

    def export(job: str, data_date: str, **extra: Any) -> dict[str, Any]:
        return operator(
            job_identifier=job,
            baseline_uri=champion_uri,
            promote=True,
            on_gate_failure="record",
            data_date=data_date,
            **extra,
        ).execute(context())

    newer = export(make_job(aws, "week-2", training_csv(0.8), validation_csv(1.0)), "2025-01-12")
    assert newer["promoted"] and json.loads(s3_bytes(aws, champion_uri))["data_date"] == "2025-01-12"

    backfill = export(make_job(aws, "week-1", training_csv(0.5), validation_csv(0.6)), "2025-01-05")
    assert not backfill["passed"] and not backfill["promoted"]
    assert backfill["gate"]["reasons"] == [
        "trained on data of 2025-01-05, older than the champion's (2025-01-12, job week-2): a model "
        "trained on older data never replaces one trained on newer data (champion_policy='best_loss' "
        "compares the loss alone)"
    ]
    assert json.loads(s3_bytes(aws, champion_uri))["job_name"] == "week-2"

    by_loss = export(
        make_job(aws, "week-1-again", training_csv(0.5), validation_csv(0.6)),
        "2025-01-05",
        champion_policy="best_loss",
    )
    assert by_loss["promoted"]
    stored = json.loads(s3_bytes(aws, champion_uri))
    assert stored["job_name"] == "week-1-again" and stored["previous_champion"]["data_date"] == "2025-01-12"


def test_the_data_date_defaults_to_the_logical_date_and_is_checked(aws):
    from datetime import UTC, datetime

    job = make_job(aws, "dated")
    ctx = {**context(), "logical_date": datetime(2025, 2, 9, tzinfo=UTC)}
    assert operator(job_identifier=job).execute(ctx)["data_date"] == "2025-02-09T00:00:00+00:00"
    with pytest.raises(InvalidInputError) as raised:
        operator(job_identifier=job, data_date="last week", champion_policy="newest").execute(context())
    assert raised.value.fields == ["champion_policy", "data_date"]


# -- a broken champion: the user chooses ------------------------------------------------------------


def broken_champion(aws, value: str) -> str:
    uri = f"s3://{BUCKET}/champion-{value}.json"
    body = '{"job_name": "old", "training": {"final_loss": %s}, "validation": null}' % value  # noqa: UP031
    aws.s3.put_object(Bucket=BUCKET, Key=uri.rsplit("/", 1)[-1], Body=body.encode())
    return uri


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-1.5"])
def test_a_broken_champion_fails_the_task_naming_the_file_and_value(aws, value):
    from airflow.sdk.exceptions import AirflowFailException

    job = make_job(aws, f"nan-champion-{value.lower().replace('.', '')}")
    uri = broken_champion(aws, value)
    with pytest.raises(AirflowFailException) as raised:
        operator(job_identifier=job, baseline_uri=uri).execute(context())
    assert uri in str(raised.value) and "training.final_loss" in str(raised.value)
    assert "on_invalid_baseline='ignore'" in str(raised.value)


def test_a_broken_champion_can_be_ignored_and_the_result_stays_json(aws):
    job = make_job(aws, "nan-champion-ignored")
    uri = broken_champion(aws, "NaN")
    result = operator(job_identifier=job, baseline_uri=uri, on_invalid_baseline="ignore").execute(context())
    assert result["passed"] is True
    baseline_check = next(check for check in result["gate"]["checks"] if check["check"] == "baseline")
    assert "champion ignored" in baseline_check["note"]
    json.dumps(result, allow_nan=False)  # what XCom needs: no nan anywhere


def test_on_invalid_baseline_is_checked_where_the_dag_is_parsed():
    with pytest.raises(ValueError, match="on_invalid_baseline"):
        operator(job_identifier="j", on_invalid_baseline="sometimes")
