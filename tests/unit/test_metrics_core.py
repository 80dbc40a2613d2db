"""core.metrics: locating, parsing and summarizing Bedrock's metrics files, the gate and the chart.

Expected numbers are worked out by hand from the literal rows below, not by the code under test.
"""

from __future__ import annotations

import io
import itertools
import math
import sys

import pytest

from bedrock_provider.core import metrics
from bedrock_provider.core.metrics import (
    TRAINING,
    VALIDATION,
    JobNotCompletedError,
    MetricsFileError,
    MissingPlotsExtraError,
    evaluate_gate,
    read_metrics,
)

# Two epochs of three steps. By hand: final loss 0.95 (step 5), min 0.9 at step 4,
# epoch 0 mean (2.0 + 1.5 + 1.2) / 3 = 1.5666..., epoch 1 mean (1.0 + 0.9 + 0.95) / 3 = 0.95.
TRAINING_CSV = """step_number,epoch_number,training_loss,perplexity
0,0,2.0,7.389056
1,0,1.5,4.481689
2,0,1.2,3.320117
3,1,1.0,2.718282
4,1,0.9,2.459603
5,1,0.95,2.585710
"""
TRAINING_EXPECTED = {
    "final_loss": 0.95,
    "final_step": 5,
    "min_loss": 0.9,
    "min_loss_step": 4,
    "final_perplexity": 2.585710,
    "perplexity_source": "file",
    "steps": 6,
    "epochs": 2,
}
EPOCH_MEANS = {"0": 4.7 / 3, "1": 2.85 / 3}

# Evaluated twice per epoch; the best validation loss (1.05) is at step 4, not the last step.
VALIDATION_CSV = """step_number,epoch_number,validation_loss,validation_perplexity
1,0,1.6,4.953032
2,0,1.3,3.669297
4,1,1.05,2.857651
5,1,1.1,3.004166
"""


def lines(text: str) -> io.StringIO:
    return io.StringIO(text, newline="")


def parse(text: str, kind: metrics.MetricsKind = TRAINING, source: str = "s3://b/train.csv"):
    return read_metrics(lines(text), kind, source)


def assert_summary(summary: dict, expected: dict, epoch_means: dict) -> None:
    for key, value in expected.items():
        expected_value = pytest.approx(value) if isinstance(value, float) else value
        assert summary[key] == expected_value, key
    assert summary["epoch_means"] == pytest.approx(epoch_means)


# -- summaries --------------------------------------------------------------------------------------


def test_training_summary_has_the_hand_computed_numbers():
    series = parse(TRAINING_CSV)
    assert_summary(series.summary, TRAINING_EXPECTED, EPOCH_MEANS)
    assert [row.step for row in series.rows] == [0, 1, 2, 3, 4, 5]


def test_validation_summary():
    summary = parse(VALIDATION_CSV, VALIDATION).summary
    assert_summary(
        summary,
        {
            "final_loss": 1.1,
            "final_step": 5,
            "min_loss": 1.05,
            "min_loss_step": 4,
            "final_perplexity": 3.004166,
            "steps": 4,
            "epochs": 2,
        },
        {"0": (1.6 + 1.3) / 2, "1": (1.05 + 1.1) / 2},
    )


def test_reordered_and_extra_columns_give_the_same_summary():
    reordered = """learning_rate,perplexity,Training_Loss , epoch_number,step_number,note
1e-5,7.389056,2.0,0,0,warmup
1e-5,4.481689,1.5,0,1,
1e-5,3.320117,1.2,0,2,
1e-5,2.718282,1.0,1,3,
1e-5,2.459603,0.9,1,4,
1e-5,2.585710,0.95,1,5,last
"""
    assert parse(reordered).summary == parse(TRAINING_CSV).summary


def test_without_a_perplexity_column_the_final_perplexity_is_exp_of_the_final_loss():
    text = "step_number,epoch_number,training_loss\n0,1,1.25\n1,1,0.5\n"
    summary = parse(text).summary
    assert summary["final_perplexity"] == pytest.approx(1.6487212707)  # e ** 0.5
    assert summary["perplexity_source"] == "exp(final_loss)"
    assert summary["epochs"] == 1 and summary["epoch_means"] == {"1": pytest.approx(0.875)}


def test_rows_out_of_order_report_the_highest_step_as_final():
    text = "step_number,epoch_number,training_loss\n2,0,0.7\n0,0,0.9\n1,0,0.8\n"
    summary = parse(text).summary
    assert (summary["final_step"], summary["final_loss"]) == (2, 0.7)


def test_first_step_reaching_the_minimum_is_reported():
    text = "step_number,epoch_number,training_loss\n0,0,0.5\n1,0,0.4\n2,0,0.4\n3,0,0.6\n"
    summary = parse(text).summary
    assert (summary["min_loss"], summary["min_loss_step"]) == (0.4, 1)


def test_bom_crlf_blank_lines_and_whole_number_floats_are_accepted():
    text = "\ufeffstep_number,epoch_number,training_loss\r\n\r\n0.0,1.0,1.5\r\n1,1,1.0\r\n\r\n"
    series = parse(text)
    assert [(row.step, row.epoch) for row in series.rows] == [(0, 1), (1, 1)]
    assert series.summary["final_loss"] == 1.0


def test_an_infinite_perplexity_is_kept_out_of_the_summary_json():
    text = "step_number,epoch_number,training_loss,perplexity\n0,0,900,inf\n"
    assert parse(text).summary["final_perplexity"] is None


def test_parsing_streams_rows_without_reading_the_whole_file():
    header = ["step_number,epoch_number,training_loss\n"]
    endless = itertools.chain(header, (f"{i},0,1.0\n" for i in itertools.count()))
    first = list(itertools.islice(metrics.parse_metrics(endless, TRAINING, "endless.csv"), 3))
    assert [row.step for row in first] == [0, 1, 2]


# -- malformed files ---------------------------------------------------------------------------------


def test_missing_required_column_names_the_file_and_the_column():
    text = "step_number,epoch_number,perplexity\n0,0,2.0\n"
    with pytest.raises(MetricsFileError) as raised:
        parse(text, source="s3://b/job/step_wise_training_metrics.csv")
    message = str(raised.value)
    assert "s3://b/job/step_wise_training_metrics.csv, line 1" in message
    assert "missing required column training_loss" in message
    assert "found step_number, epoch_number, perplexity" in message


def test_validation_file_needs_validation_loss():
    with pytest.raises(MetricsFileError, match="missing required column validation_loss"):
        parse(TRAINING_CSV, VALIDATION, "val.csv")


def test_text_in_a_number_names_the_row_and_column():
    text = TRAINING_CSV.replace("3,1,1.0,2.718282", "3,1,n/a,2.718282")
    with pytest.raises(MetricsFileError) as raised:
        parse(text, source="train.csv")
    error = raised.value
    assert (error.source, error.line, error.column) == ("train.csv", 5, "training_loss")
    assert str(error) == "train.csv, line 5, column training_loss: 'n/a' is not a number"


def test_text_in_an_optional_perplexity_is_still_an_error():
    text = "step_number,epoch_number,training_loss,perplexity\n0,0,1.0,high\n"
    with pytest.raises(MetricsFileError, match="line 2, column perplexity: 'high' is not a number"):
        parse(text)


@pytest.mark.parametrize(
    ("row", "column", "problem"),
    [
        ("0,0,", "training_loss", "empty value"),
        ("0,0", "training_loss", "empty value"),
        ("1.5,0,1.0", "step_number", "'1.5' is not a whole number"),
        ("0,0,nan", "training_loss", "'nan' is not a finite number"),
        ("0,0,inf", "training_loss", "'inf' is not a finite number"),
    ],
)
def test_bad_values(row, column, problem):
    with pytest.raises(MetricsFileError, match=f"line 2, column {column}: {problem}"):
        parse(f"step_number,epoch_number,training_loss\n{row}\n")


@pytest.mark.parametrize("text", ["", "\n\n", "   \n"])
def test_empty_file(text):
    with pytest.raises(
        MetricsFileError, match=r"^x\.csv: the file is empty; expected a header of step_number"
    ):
        parse(text, source="x.csv")


def test_header_only():
    with pytest.raises(MetricsFileError, match=r"^x\.csv: the file has a header but no rows of metrics$"):
        parse("step_number,epoch_number,training_loss,perplexity\n\n", source="x.csv")


# -- locating ----------------------------------------------------------------------------------------

DESCRIPTION = {
    "jobName": "tune-1",
    "jobArn": "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan/abc123xyz",
    "status": "Completed",
    "outputDataConfig": {"s3Uri": "s3://out-bucket/runs/"},
}


def test_locations_follow_the_documented_layout():
    where = metrics.metrics_locations(DESCRIPTION)
    folder = "s3://out-bucket/runs/model-customization-job-abc123xyz"
    assert where.job_folder == folder
    assert where.training == f"{folder}/training_artifacts/step_wise_training_metrics.csv"
    assert where.validation_candidates == (
        f"{folder}/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
        f"{folder}/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv",
    )


def test_locations_without_a_trailing_slash():
    description = {**DESCRIPTION, "outputDataConfig": {"s3Uri": "s3://out-bucket"}}
    assert metrics.metrics_locations(description).job_folder == (
        "s3://out-bucket/model-customization-job-abc123xyz"
    )


def test_completed_job_is_accepted():
    metrics.require_completed(DESCRIPTION)


def test_failed_job_names_its_status_and_failure_message():
    failed = {**DESCRIPTION, "status": "Failed", "failureMessage": "Training data has 3 invalid records"}
    with pytest.raises(JobNotCompletedError) as raised:
        metrics.require_completed(failed)
    assert raised.value.status == "Failed"
    assert "Bedrock job tune-1 is Failed, not Completed (Training data has 3 invalid records)" in str(
        raised.value
    )


@pytest.mark.parametrize("status", ["InProgress", "Stopping", "Stopped"])
def test_unfinished_and_stopped_jobs_are_errors(status):
    with pytest.raises(JobNotCompletedError, match=f"tune-1 is {status}, not Completed"):
        metrics.require_completed({**DESCRIPTION, "status": status})


def test_export_uris_one_folder_per_job():
    assert metrics.export_uris("s3://b/metrics/", "tune-1", plot=True) == {
        "summary": "s3://b/metrics/tune-1/summary.json",
        "metrics": "s3://b/metrics/tune-1/metrics.csv",
        "chart": "s3://b/metrics/tune-1/loss.png",
    }
    assert metrics.export_uris("/data/out", "tune-1", plot=False) == {
        "summary": "/data/out/tune-1/summary.json",
        "metrics": "/data/out/tune-1/metrics.csv",
    }


# -- merged CSV --------------------------------------------------------------------------------------


def test_merged_csv_joins_training_and_validation_by_step():
    merged = metrics.merged_csv(parse(TRAINING_CSV), parse(VALIDATION_CSV, VALIDATION))
    rows = merged.splitlines()
    assert rows[0] == "step,epoch,training_loss,training_perplexity,validation_loss,validation_perplexity"
    assert rows[1] == "0,0,2.0,7.389056,,"
    assert rows[2] == "1,0,1.5,4.481689,1.6,4.953032"
    assert rows[6] == "5,1,0.95,2.58571,1.1,3.004166"
    assert len(rows) == 7


def test_merged_csv_without_validation_leaves_its_columns_blank():
    rows = metrics.merged_csv(parse(TRAINING_CSV), None).splitlines()
    assert rows[4] == "3,1,1.0,2.718282,,"


# -- the gate ----------------------------------------------------------------------------------------

TRAIN = {"final_loss": 0.8}
VAL = {"final_loss": 1.0}


def champion(training: float, validation: float | None, job: str = "old-job") -> dict:
    return {
        "job_arn": f"arn:aws:bedrock:us-east-1:1:model-customization-job/{job}",
        "job_name": job,
        "training": {"final_loss": training},
        "validation": None if validation is None else {"final_loss": validation},
    }


def test_gate_with_no_checks_passes():
    outcome = evaluate_gate(TRAIN, VAL)
    assert outcome.passed and outcome.reasons == [] and outcome.checks == []


def test_gate_thresholds():
    assert evaluate_gate(TRAIN, VAL, max_training_loss=0.8, max_validation_loss=1.0).passed
    outcome = evaluate_gate(TRAIN, VAL, max_training_loss=0.75, max_validation_loss=0.9)
    assert not outcome.passed
    assert outcome.reasons == [
        "training final loss 0.8 is above max_training_loss=0.75",
        "validation final loss 1 is above max_validation_loss=0.9",
    ]


def test_validation_threshold_without_validation_metrics_fails():
    outcome = evaluate_gate(TRAIN, None, max_validation_loss=2.0)
    assert not outcome.passed
    assert "no validation metrics" in outcome.reasons[0]


def test_gate_against_a_champion_uses_validation_loss():
    beaten = evaluate_gate(TRAIN, VAL, baseline=champion(0.5, 1.2), baseline_uri="s3://b/champion.json")
    assert beaten.passed
    assert beaten.checks[0]["metric"] == "validation.final_loss" and beaten.checks[0]["champion"] == 1.2
    lost = evaluate_gate(TRAIN, VAL, baseline=champion(0.9, 0.95), baseline_uri="s3://b/champion.json")
    assert lost.reasons == [
        "validation final loss 1 does not beat the champion's 0.95 (job old-job, s3://b/champion.json)"
    ]


def test_a_tie_does_not_beat_the_champion():
    assert not evaluate_gate(TRAIN, VAL, baseline=champion(0.1, 1.0), baseline_uri="u").passed


@pytest.mark.parametrize(("validation", "champion_validation"), [(None, 0.1), (VAL, None)])
def test_gate_falls_back_to_training_loss_when_either_lacks_validation(validation, champion_validation):
    outcome = evaluate_gate(TRAIN, validation, baseline=champion(0.85, champion_validation), baseline_uri="u")
    assert outcome.passed and outcome.checks[0]["metric"] == "training.final_loss"


def test_no_champion_yet_passes_and_is_recorded():
    outcome = evaluate_gate(TRAIN, VAL, baseline=None, baseline_uri="s3://b/champion.json")
    assert outcome.passed and outcome.checks[0]["note"] == "no champion yet"


def test_a_rerun_of_the_champion_compares_against_the_one_it_replaced():
    me = "arn:aws:bedrock:us-east-1:1:model-customization-job/new-job"
    previous = champion(0.9, 1.1)
    current = {**champion(0.8, 1.0, "new-job"), "previous_champion": previous}
    assert metrics.comparison_baseline(current, me) is previous
    assert metrics.comparison_baseline(champion(0.8, 1.0, "new-job"), me) is None
    other = champion(0.8, 1.0)
    assert metrics.comparison_baseline(other, me) is other


@pytest.mark.parametrize(
    "baseline",
    [
        [1, 2],
        {"training": {}},
        {"training": {"final_loss": "0.5"}},
        {"training": {"final_loss": True}},
        {"training": {"final_loss": 0.5}, "validation": {"loss": 1}},
    ],
)
def test_malformed_baseline_is_an_error(baseline):
    with pytest.raises(ValueError, match="baseline s3://b/c.json"):
        metrics.check_baseline(baseline, "s3://b/c.json")


def test_champion_record_keeps_what_a_comparison_needs():
    result = {**champion(0.8, 1.0), "custom_model_arn": "arn:model", "artifacts": {"x": "y"}}
    record = metrics.champion_record(result)
    assert record == {**champion(0.8, 1.0), "custom_model_arn": "arn:model", "data_date": None}
    assert metrics.check_baseline(record, "r") is record


# -- the chart ---------------------------------------------------------------------------------------


def test_epoch_boundaries_sit_between_epochs():
    assert parse(TRAINING_CSV).epoch_boundaries == [2.5]


def test_chart_is_a_png_of_the_requested_size():
    import matplotlib.image

    out = io.BytesIO()
    metrics.render_loss_chart(
        parse(TRAINING_CSV), parse(VALIDATION_CSV, VALIDATION), out, title="t", width_px=640, height_px=360
    )
    out.seek(0)
    pixels = matplotlib.image.imread(out, format="png")
    assert pixels.shape[:2] == (360, 640)


def test_chart_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(MissingPlotsExtraError, match=r"pip install 'airflow-provider-bedrock\[plots\]'"):
        metrics.render_loss_chart(parse(TRAINING_CSV), None, io.BytesIO(), title="t")


def test_perplexity_of_a_huge_loss_is_infinite():
    assert metrics.perplexity_of(1e6) == math.inf
