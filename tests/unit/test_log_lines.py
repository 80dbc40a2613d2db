"""Progress log lines lead with the job's status and its age; the job is named once, at submission."""

from __future__ import annotations

import pytest

from bedrock_provider.core.states import describe_progress, format_elapsed, progress_line


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 s"), (42.4, "42 s"), (59.6, "1 min 0 s"), (252, "4 min 12 s"), (7500, "2 h 05 min")],
)
def test_elapsed_time_reads_as_a_person_would_say_it(seconds: float, shown: str) -> None:
    assert format_elapsed(seconds) == shown


def test_a_progress_line_starts_with_the_status_then_the_time_then_the_stages() -> None:
    description = {
        "status": "InProgress",
        "jobArn": "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan/abc",
        "statusDetails": {
            "validationDetails": {"status": "Completed"},
            "trainingDetails": {"status": "InProgress"},
        },
    }
    line = progress_line(describe_progress(description), 252)
    assert line == "InProgress after 4 min 12 s: validation Completed, training InProgress"
    assert "arn:" not in line


def test_a_status_without_stages_or_time_is_just_the_status() -> None:
    assert progress_line(describe_progress({"status": "Completed"})) == "Completed"
    assert progress_line("Stopping", 5) == "Stopping after 5 s"


def test_counts_agree_with_their_nouns() -> None:
    from bedrock_provider.core.datasets import counted

    assert [counted(n, "duplicate") for n in (0, 1, 2, 1204)] == [
        "0 duplicates",
        "1 duplicate",
        "2 duplicates",
        "1,204 duplicates",
    ]


def test_a_resource_wait_logs_each_status_change_status_first_without_the_arn() -> None:
    """Deployments, provisioned throughput and evaluation jobs, as the customization job does."""
    from bedrock_provider.core.resources import ResourceWatch, kind_of

    arn = "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/frhd0nqvmm3n"
    watch = ResourceWatch(kind_of("evaluation_job"), arn, started_at=1000.0)
    lines = []
    for status, now in (("InProgress", 1002.2), ("InProgress", 1004.0), ("Completed", 1252.0)):
        _, changed = watch.on_description({"status": status, "jobArn": arn})
        if changed is not None:
            lines.append(watch.progress(changed, now))
    assert lines == ["InProgress after 2 s", "Completed after 4 min 12 s"]
