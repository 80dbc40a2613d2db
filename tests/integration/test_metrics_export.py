"""Train on the emulator, then export the metrics and gate on them, through real Airflow (dag.test)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

BUCKET = "bedrock-it"
# 40 training records, batch size 1, 2 epochs: the emulator writes 40 steps per epoch, and evaluates
# the 8 validation records 4 times per epoch.
STEPS, EPOCHS, EVALUATIONS = 80, 2, 8


def png_size(data: bytes) -> tuple[int, int]:
    import matplotlib.image

    height, width = matplotlib.image.imread(io.BytesIO(data), format="png").shape[:2]
    return width, height


def s3_json(s3: Any, uri: str) -> Any:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def model_tags(bedrock: Any, model_arn: str) -> dict[str, str]:
    return {t["key"]: t["value"] for t in bedrock.list_tags_for_resource(resourceARN=model_arn)["tags"]}


def asset_event_extras(dag_id: str, run_id: str) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = (
            session.query(AssetEvent)
            .filter(AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == run_id)
            .all()
        )
        return [dict(event.extra) for event in events]


def test_train_export_and_gate_leave_the_files_where_the_summary_says(run_dag, unique_name, tmp_path):
    name = unique_name("it-metrics")
    destination = tmp_path / "exports"
    result = run_dag(
        "metrics_gate",
        conf={
            "job_name": name,
            "final_loss": 0.42,
            "final_validation_loss": 0.47,
            "destination_uri": str(destination),
            "max_training_loss": 0.5,
            "max_validation_loss": 0.5,
        },
    )
    assert result.task_states() == {"train": "success", "export": "success", "deploy": "success"}
    summary = result.xcom("export")
    assert summary["passed"] is True and summary["gate"]["reasons"] == []
    assert summary["job_arn"] == result.xcom("train")["job_arn"]
    training, validation = summary["training"], summary["validation"]
    assert training["final_loss"] == 0.42 and validation["final_loss"] == 0.47
    assert (training["steps"], training["epochs"], validation["steps"]) == (STEPS, EPOCHS, EVALUATIONS)
    assert training["final_step"] == STEPS - 1 and len(training["epoch_means"]) == EPOCHS
    assert training["min_loss"] <= training["final_loss"]

    folder = destination / name
    assert summary["artifacts"] == {
        "summary": str(folder / "summary.json"),
        "metrics": str(folder / "metrics.csv"),
        "chart": str(folder / "loss.png"),
    }
    assert json.loads(Path(summary["artifacts"]["summary"]).read_text()) == summary
    with Path(summary["artifacts"]["metrics"]).open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == STEPS and sum(1 for row in rows if row["validation_loss"]) == EVALUATIONS
    assert float(rows[-1]["training_loss"]) == 0.42 and float(rows[-1]["validation_loss"]) == 0.47
    chart = Path(summary["artifacts"]["chart"])
    assert png_size(chart.read_bytes()) == (1200, 600)
    assert result.xcom("deploy") == summary["custom_model_arn"]

    extras = asset_event_extras("metrics_gate", result.run_id)
    assert len(extras) == 1 and extras[0]["training"] == training and extras[0]["passed"] is True

    print(f"\nrendered loss chart: {chart}")
    print(
        f"run {name}: training final loss {training['final_loss']}, min {training['min_loss']:.4f} at step "
        f"{training['min_loss_step']}, final perplexity {training['final_perplexity']:.4f}, "
        f"{training['steps']} steps over {training['epochs']} epochs; validation final loss "
        f"{validation['final_loss']}, min {validation['min_loss']:.4f} at step "
        f"{validation['min_loss_step']}, "
        f"{validation['steps']} evaluations; passed={summary['passed']}"
    )


def test_a_failed_gate_fails_the_export_and_blocks_what_follows(run_dag, unique_name, s3):
    name = unique_name("it-gate-fail")
    result = run_dag(
        "metrics_gate",
        conf={
            "job_name": name,
            "final_loss": 0.9,
            "destination_uri": f"s3://{BUCKET}/metrics/",
            "max_training_loss": 0.5,
        },
    )
    assert result.task_states() == {"train": "success", "export": "failed", "deploy": "upstream_failed"}
    summary = result.xcom("export")
    assert summary["passed"] is False
    assert summary["gate"]["reasons"] == ["training final loss 0.9 is above max_training_loss=0.5"]
    # The numbers of a model that failed are exported all the same, for a person to look at.
    exported = s3_json(s3, summary["artifacts"]["summary"])
    assert exported["artifacts"]["chart"] == f"s3://{BUCKET}/metrics/{name}/loss.png"
    head = s3.head_object(Bucket=BUCKET, Key=f"metrics/{name}/loss.png")
    assert head["ContentType"] == "image/png"
    assert result.try_numbers()["export"] == 1


def test_a_failed_gate_can_skip_what_follows(run_dag, unique_name):
    result = run_dag(
        "metrics_gate",
        conf={
            "job_name": unique_name("it-gate-skip"),
            "destination_uri": f"s3://{BUCKET}/metrics/",
            "final_validation_loss": 1.3,
            "max_validation_loss": 1.0,
            "on_gate_failure": "skip",
        },
    )
    assert result.task_states() == {"train": "success", "export": "skipped", "deploy": "skipped"}
    assert result.state == "success"


def test_promotion_and_the_champion_over_consecutive_runs(run_dag, unique_name, s3, bedrock):
    champion_uri = f"s3://{BUCKET}/{unique_name('champions')}/champion.json"

    def run(final_validation_loss: float) -> Any:
        return run_dag(
            "metrics_promote",
            conf={
                "job_name": unique_name("it-promote"),
                "final_loss": 0.5,
                "final_validation_loss": final_validation_loss,
                "baseline_uri": champion_uri,
                "destination_uri": f"s3://{BUCKET}/metrics/",
                "on_gate_failure": "skip",
            },
        )

    first = run(0.6)
    assert first.task_states() == {"train": "success", "export": "success", "deploy": "success"}
    first_summary = first.xcom("export")
    assert first_summary["promoted"] is True
    assert first_summary["gate"]["checks"][0]["note"] == "no champion yet"
    assert model_tags(bedrock, first_summary["custom_model_arn"])["stage"] == "champion"
    assert s3_json(s3, champion_uri)["job_arn"] == first_summary["job_arn"]

    second = run(0.7)
    assert second.task_states() == {"train": "success", "export": "skipped", "deploy": "skipped"}
    second_summary = second.xcom("export")
    assert second_summary["promoted"] is False
    assert second_summary["gate"]["reasons"] == [
        f"validation final loss 0.7 does not beat the champion's 0.6 "
        f"(job {first_summary['job_name']}, {champion_uri})"
    ]
    assert "stage" not in model_tags(bedrock, second_summary["custom_model_arn"])
    assert s3_json(s3, champion_uri)["job_arn"] == first_summary["job_arn"]

    third = run(0.55)
    assert third.task_states() == {"train": "success", "export": "success", "deploy": "success"}
    third_summary = third.xcom("export")
    assert third_summary["promoted"] is True
    champion = s3_json(s3, champion_uri)
    assert champion["job_arn"] == third_summary["job_arn"]
    assert champion["previous_champion"]["job_arn"] == first_summary["job_arn"]
    assert model_tags(bedrock, third_summary["custom_model_arn"])["stage"] == "champion"
    assert "stage" not in model_tags(bedrock, first_summary["custom_model_arn"])
    assert asset_event_extras("metrics_promote", third.run_id)[0]["promoted"] is True


def test_prep_train_export_gate_pipeline(run_dag, unique_name, s3):
    name = unique_name("it-pipeline")
    result = run_dag(
        "metrics_pipeline",
        conf={
            "job_name": name,
            "final_loss": 0.4,
            "final_validation_loss": 0.45,
            "destination_uri": f"s3://{BUCKET}/metrics/",
            "max_validation_loss": 0.5,
        },
    )
    assert result.task_states() == {
        "prep": "success",
        "train": "success",
        "export": "success",
        "deploy": "success",
    }
    prep, summary = result.xcom("prep"), result.xcom("export")
    assert result.xcom("train")["training_data_uri"] == prep["training_data_uri"]
    assert summary["passed"] is True and summary["validation"]["final_loss"] == 0.45
    for uri in summary["artifacts"].values():
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
