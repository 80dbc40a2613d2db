"""Progress log lines lead with the job's status and its age; the job is named once, at submission."""

from __future__ import annotations

import pytest

from bedrock_provider.core.waiting.states import describe_progress, format_elapsed, progress_line


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 s"), (42.4, "42 s"), (59.6, "1 min 0 s"), (252, "4 min 12 s"), (7500, "2 h 05 min")],
)
def test_elapsed_time_reads_as_a_person_would_say_it(seconds: float, shown: str) -> None:
    assert format_elapsed(seconds) == shown


RUNNING = {
    "status": "InProgress",
    "jobName": "job",
    "statusDetails": {
        "validationDetails": {"status": "Completed"},
        "trainingDetails": {"status": "InProgress"},
    },
}


def test_a_progress_line_starts_with_the_status_then_the_time_then_the_stages() -> None:
    description = {
        **RUNNING,
        "jobArn": "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan/abc",
    }
    line = progress_line(describe_progress(description), 252)
    assert line == "InProgress after 4 min 12 s: validation Completed, training InProgress"
    assert "arn:" not in line


def test_a_status_without_stages_or_time_is_just_the_status() -> None:
    assert progress_line(describe_progress({"status": "Completed"})) == "Completed"
    assert progress_line("Stopping", 5) == "Stopping after 5 s"


def test_counts_agree_with_their_nouns() -> None:
    from bedrock_provider.core.datasets.plan import counted

    assert [counted(n, "duplicate") for n in (0, 1, 2, 1204)] == [
        "0 duplicates",
        "1 duplicate",
        "2 duplicates",
        "1,204 duplicates",
    ]


def test_a_resource_wait_logs_each_status_change_status_first_without_the_arn() -> None:
    """Deployments, provisioned throughput and evaluation jobs, as the customization job does."""
    from bedrock_provider.core.lifecycle.resources import ResourceWatch, kind_of

    arn = "arn:aws:bedrock:us-east-1:123456789012:evaluation-job/frhd0nqvmm3n"
    watch = ResourceWatch(kind_of("evaluation_job"), arn, started_at=1000.0)
    lines = []
    for status, now in (("InProgress", 1002.2), ("InProgress", 1004.0), ("Completed", 1252.0)):
        _, changed = watch.on_description({"status": status, "jobArn": arn})
        if changed is not None:
            lines.append(watch.progress(changed, now))
    assert lines == ["InProgress after 2 s", "Completed after 4 min 12 s"]


# -- a progress line every progress_interval while nothing changes ------------------------------------------


class RecordedLog:
    """A task logger that keeps the lines it is given."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str, *args: object) -> None:
        self.lines.append(message % args)

    warning = error = debug = info


def test_an_unchanged_progress_is_logged_again_once_progress_interval_passed() -> None:
    from bedrock_provider.core.waiting.watch import Watch

    watch = Watch("job", started_at=0.0, progress_interval=600)
    logged = [
        now for now in range(0, 1900, 60) if watch.on_description(dict(RUNNING), now=now)[1] is not None
    ]
    # The first line, then one at each poll that comes 600 s or more after the last line.
    assert logged == [0, 600, 1200, 1800]


def test_a_change_is_logged_at_once_and_restarts_the_interval() -> None:
    from bedrock_provider.core.waiting.watch import Watch

    watch = Watch("job", started_at=0.0, progress_interval=600)
    assert watch.note_progress("InProgress", 0) == "InProgress"
    assert watch.note_progress("InProgress (training InProgress)", 500) == "InProgress (training InProgress)"
    assert watch.note_progress("InProgress (training InProgress)", 1000) is None
    assert watch.note_progress("InProgress (training InProgress)", 1100) == "InProgress (training InProgress)"


def test_progress_interval_none_logs_only_changes() -> None:
    from bedrock_provider.core.waiting.watch import Watch

    watch = Watch("job", started_at=0.0, progress_interval=None)
    lines = [watch.on_description(dict(RUNNING), now=now)[1] for now in (0, 10_000, 20_000)]
    assert lines == [lines[0], None, None]


def test_the_shared_list_and_push_notices_repeat_the_detailed_line_when_it_is_due() -> None:
    from bedrock_provider.core.waiting.push_mode import StateChange, StateChanges
    from bedrock_provider.core.waiting.snapshots import Snapshot
    from bedrock_provider.core.waiting.watch import Watch

    arn = "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/amazon.titan-text-express-v1/abc"
    summary = {**RUNNING, "jobArn": arn}
    watch = Watch(arn, started_at=0.0, progress_interval=600)
    assert watch.on_snapshot(Snapshot.from_summaries([summary], taken_at=60))[1] is not None
    assert watch.on_snapshot(Snapshot.from_summaries([summary], taken_at=120))[1] is None
    # A push notice carries only the status: when the line is due it repeats the last detailed one.
    notice = StateChanges.of([StateChange(arn, "job", "InProgress")], 700)
    assert watch.on_state_changes(notice)[1] == "InProgress (validation Completed, training InProgress)"


def test_the_blocking_wait_logs_progress_every_interval_on_a_fake_clock(monkeypatch) -> None:
    """The worker's wait (wait_for_completion, not deferrable) on a clock that moves only when it sleeps."""
    from bedrock_provider.hooks import customization

    clock = {"now": 1000.0}

    def sleep(seconds: float) -> None:
        clock["now"] += seconds

    monkeypatch.setattr(customization.time, "time", lambda: clock["now"])
    monkeypatch.setattr(customization.time, "sleep", sleep)
    monkeypatch.setattr("bedrock_provider.core.waiting.watch.time.time", lambda: clock["now"])
    # 41 polls a minute apart while the job trains, then it completes.
    script = [dict(RUNNING)] * 41 + [{"status": "Completed", "jobName": "job"}]
    log = RecordedLog()

    class Scripted(customization.BedrockCustomizationHook):
        def describe_job(self, job_identifier):
            return script.pop(0)

    monkeypatch.setattr(Scripted, "log", log)
    Scripted(aws_conn_id=None).wait_for_job("job", poll_interval=60, started_at=1000.0, progress_interval=600)
    assert log.lines == [
        "InProgress after 0 s: validation Completed, training InProgress",
        "InProgress after 10 min 0 s: validation Completed, training InProgress",
        "InProgress after 20 min 0 s: validation Completed, training InProgress",
        "InProgress after 30 min 0 s: validation Completed, training InProgress",
        "InProgress after 40 min 0 s: validation Completed, training InProgress",
        "Completed after 41 min 0 s",
    ]


def test_the_operator_hands_progress_interval_to_the_trigger_which_serializes_it() -> None:
    from bedrock_provider.operators.base import customization_trigger

    trigger = customization_trigger(customize_task(progress_interval=120), "job", 60, None)
    _, kwargs = trigger.serialize()
    assert kwargs["progress_interval"] == 120
    assert type(trigger)(**kwargs)._watch().progress_interval == 120


def test_progress_interval_is_checked_where_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match=r"progress_interval=0: must be a number of seconds greater than 0"):
        customize_task(progress_interval=0)


def customize_task(**kwargs: object):
    from bedrock_provider.operators.customization import BedrockModelCustomizationOperator

    return BedrockModelCustomizationOperator(
        task_id="customize",
        job_name="job",
        custom_model_name="model",
        role_arn="arn:aws:iam::123456789012:role/R",
        base_model_id="amazon.titan-text-express-v1",
        training_data_uri="s3://b/train.jsonl",
        output_data_uri="s3://b/out/",
        **kwargs,
    )


# -- the cost line ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "tokens", "hyperparameters"),
    [
        ("amazon.titan-text-express-v1", 123_456_789, {"epochCount": 10}),
        ("anthropic.claude-3-haiku-20240307-v1:0:200k", 4_321, {"epochCount": 2}),
        ("meta.llama3-1-8b-instruct-v1:0:128k", None, {}),
    ],
)
def test_the_cost_line_fits_a_log_view_and_the_derivation_goes_to_debug_and_the_result(
    model: str, tokens: int | None, hyperparameters: dict
) -> None:
    from bedrock_provider.core.catalog.cost import TokenCount, estimate_training_cost
    from bedrock_provider.core.catalog.price_lookup import prices_for
    from bedrock_provider.operators.costs import log_estimate

    counted = TokenCount(tokens, "counted in s3://bucket/train.jsonl (3 records skipped)") if tokens else None
    estimate = estimate_training_cost(model, counted, hyperparameters, prices_for(model))
    log = RecordedLog()
    log_estimate(log, estimate)
    cost_lines = [line for line in log.lines if line.startswith("Estimated cost: ")]
    assert len(cost_lines) == 1 and len(cost_lines[0]) <= 160, cost_lines
    assert "Estimated cost, derived: " + estimate.describe() in log.lines
    if tokens:
        assert f"{tokens:,} tokens" in cost_lines[0]
    if estimate.usd is not None:
        assert f"${estimate.usd:,.2f} to train" in cost_lines[0]


# -- a failure is told once ---------------------------------------------------------------------------------


class RecordedTi:
    def __init__(self) -> None:
        self.pushed: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.pushed[key] = value


def test_a_failed_jobs_message_is_told_once_by_the_exception_airflow_logs(monkeypatch) -> None:
    from airflow.sdk.exceptions import AirflowException

    operator = customize_task()
    log = RecordedLog()
    monkeypatch.setattr(type(operator), "log", log)
    ti = RecordedTi()
    result = {"job_name": "job", "job_arn": "arn:job", "status": "Failed", "failure_message": "bad record 12"}
    with pytest.raises(AirflowException, match="Bedrock job job Failed: bad record 12"):
        operator._finish({"ti": ti}, result)
    assert not [line for line in log.lines if "bad record 12" in line]
    assert ti.pushed["return_value"]["failure_message"] == "bad record 12"


# -- no tracebacks in the demo's api-server log ---------------------------------------------------------


def test_the_celery_stacks_api_server_reads_its_components_logs_from_the_shared_folder(monkeypatch) -> None:
    """Airflow asks the log server of a running task's host; the Celery stack's host names resolve nowhere
    and serve nothing, and each such request logged a traceback. Its own hosts are not asked; others are."""
    from types import SimpleNamespace

    from airflow.utils.log import file_task_handler

    from demo.hostname import hostname_of
    from demo.log_reader import LOGGING_CONFIG, SharedFolderTaskLogReader

    asked: list[str] = []

    def fetch(url: str, relative_path: str) -> object:
        asked.append(url)
        return SimpleNamespace(status_code=404)

    monkeypatch.setattr(file_task_handler, "_fetch_logs_from_service", fetch)
    reader = SharedFolderTaskLogReader(base_log_folder="/nonexistent")
    worker = SimpleNamespace(hostname=hostname_of("celery-worker-2"), triggerer_job=None, task=None)
    deferred = SimpleNamespace(
        hostname=hostname_of("celery-worker-1"),
        triggerer_job=SimpleNamespace(hostname=hostname_of("triggerer-2"), id=7),
        task=None,
    )
    for ti in (worker, deferred):
        assert reader._read_from_logs_server(ti, "dag_id=d/run_id=r/task_id=t/attempt=1.log") == ([], [])
    assert asked == []
    # The plain handler asks them (the request that could not resolve): the cause, shown.
    file_task_handler.FileTaskHandler(base_log_folder="/nonexistent")._read_from_logs_server(worker, "a.log")
    assert asked and asked[0].startswith(f"http://{hostname_of('celery-worker-2')}:")
    # A host that is not the stack's is asked as Airflow asks it.
    reader._read_from_logs_server(
        SimpleNamespace(hostname="elsewhere", triggerer_job=None, task=None), "a.log"
    )
    assert asked[-1].startswith("http://elsewhere:")
    assert LOGGING_CONFIG["handlers"]["task"]["class"] == "demo.log_reader.SharedFolderTaskLogReader"


def test_a_poking_sensor_logs_progress_on_change_and_every_progress_interval(monkeypatch) -> None:
    from datetime import UTC, datetime

    from bedrock_provider.sensors import customization as sensors

    clock = {"now": 1_000_000.0}
    monkeypatch.setattr(sensors.time, "time", lambda: clock["now"])
    sensor = sensors.BedrockModelCustomizationSensor(
        task_id="wait", job_identifier="job", poke_interval=60, progress_interval=600
    )
    log = RecordedLog()
    monkeypatch.setattr(type(sensor), "log", log)
    # The job was created four minutes before the first poke: its age counts from then.
    running = {**RUNNING, "creationTime": datetime.fromtimestamp(clock["now"] - 240, tz=UTC)}
    for _ in range(21):
        sensor._log_progress(running)
        clock["now"] += 60
    assert log.lines == [
        "InProgress after 4 min 0 s: validation Completed, training InProgress",
        "InProgress after 14 min 0 s: validation Completed, training InProgress",
        "InProgress after 24 min 0 s: validation Completed, training InProgress",
    ]
