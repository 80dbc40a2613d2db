"""The example DAGs in dags/: each parses without errors, fast, with nothing heavy imported, and
documents itself; their Params reject bad input before a run exists."""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from demo.seed import DAG_SETTINGS, DAGS_FOLDER

EXAMPLES = {
    "bedrock_retraining.py": "bedrock_retraining",
    "bedrock_finetune_manual.py": "bedrock_finetune_manual",
    "bedrock_watch_job.py": "bedrock_watch_job",
    "bedrock_hyperparameter_sweep.py": "bedrock_hyperparameter_sweep",
    "bedrock_rollback.py": "bedrock_rollback",
    "bedrock_rft_manual.py": "bedrock_rft_manual",
}
HEAVY_MODULES = ("boto3", "botocore", "aiobotocore", "moto", "matplotlib", "pandas", "numpy")
# "Well under a second" of CPU, measured in a fresh interpreter where the first file also pays for
# importing the provider's operator modules. CPU time, not wall time: what a file costs the
# dag-processor, whatever else the machine is doing.
MAX_PARSE_CPU_SECONDS = 0.8

PARSE_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import airflow.sdk  # Airflow itself is the baseline: what the DAG files add is measured
    from airflow.dag_processing.dagbag import BundleDagBag, DagBag

    cpu_seconds = {}
    process_file = DagBag.process_file

    def timed_process_file(self, filepath, *args, **kwargs):
        started = time.process_time()
        try:
            return process_file(self, filepath, *args, **kwargs)
        finally:
            cpu_seconds[Path(filepath).name] = time.process_time() - started

    DagBag.process_file = timed_process_file
    folder = Path(sys.argv[1])
    bag = BundleDagBag(dag_folder=str(folder), bundle_path=folder)
    print(json.dumps({
        "errors": {Path(path).name: error for path, error in bag.import_errors.items()},
        "cpu_seconds": cpu_seconds,
        "dags": {Path(stat.file).name: json.loads(stat.dags.replace("'", '"')) for stat in bag.dagbag_stats},
        "heavy": sorted(name for name in sys.modules if name.split(".")[0] in sys.argv[2].split(",")),
    }))
    """
)


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Parse dags/ the way the dag-processor does (a bundle), in a fresh interpreter."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", PARSE_SCRIPT, str(DAGS_FOLDER), ",".join(HEAVY_MODULES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


@pytest.fixture(scope="module")
def dagbag() -> Any:
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=str(DAGS_FOLDER), bundle_path=DAGS_FOLDER)


def test_every_example_parses_without_import_errors(parsed: dict[str, Any]) -> None:
    assert parsed["errors"] == {}
    assert {name: dags for name, dags in parsed["dags"].items()} == {
        name: [dag_id] for name, dag_id in EXAMPLES.items()
    }


@pytest.mark.parametrize("file_name", sorted(EXAMPLES))
def test_each_file_parses_well_under_a_second(parsed: dict[str, Any], file_name: str) -> None:
    assert parsed["cpu_seconds"][file_name] < MAX_PARSE_CPU_SECONDS, parsed["cpu_seconds"]


def test_parsing_imports_nothing_heavy(parsed: dict[str, Any]) -> None:
    assert parsed["heavy"] == [], "DAG files must not import these at parse time (the dag-processor pays)"


@pytest.mark.parametrize("file_name", sorted(EXAMPLES))
def test_each_file_says_what_it_shows(file_name: str) -> None:
    tree = ast.parse((DAGS_FOLDER / file_name).read_text())
    docstring = ast.get_docstring(tree) or ""
    assert len(docstring.split()) >= 20, f"{file_name} needs a docstring that says what it shows"
    top_level_imports = {
        (alias.name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not top_level_imports & set(HEAVY_MODULES), top_level_imports


def test_the_shared_settings_module_is_not_parsed_as_dags() -> None:
    ignore = (DAGS_FOLDER / ".airflowignore").read_text().split()
    assert "_bedrock_demo_config.py" in ignore


def test_each_dag_documents_itself_in_the_ui(dagbag: Any) -> None:
    for dag_id in EXAMPLES.values():
        dag = dagbag.dags[dag_id]
        assert dag.doc_md and dag.description, dag_id
        assert {"bedrock", "example"} <= set(dag.tags), dag_id


@pytest.mark.parametrize(
    "dag_id",
    ["bedrock_retraining", "bedrock_hyperparameter_sweep", "bedrock_finetune_manual", "bedrock_rft_manual"],
)
def test_examples_that_submit_jobs_make_sure_of_their_role_first(dagbag: Any, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    role = dag.get_task("service_role")
    # Only the manual DAG's form check (no AWS call) runs before it: a refused form creates no role.
    assert role.upstream_task_ids <= {"check_request"}
    assert "customize" in {task.task_id for task in role.get_flat_relatives(upstream=False)}


def test_retraining_is_weekly_without_catchup_and_names_from_the_logical_date(dagbag: Any) -> None:
    dag = dagbag.dags["bedrock_retraining"]
    # Every week costs a job: the scheduler trains the latest week only; past weeks are backfilled.
    assert dag.catchup is False
    # Sundays 00:00 UTC, the logical date the Sunday itself, even where cron schedules get data
    # intervals (as in Airflow's unit-test mode, which this process runs in).
    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("0 0 * * 0", "UTC")
    assert type(dag.timetable).__name__ == "CronTriggerTimetable"
    assert dag.start_date == DAG_SETTINGS.FIRST_PARTITION
    assert [task.task_id for task in dag.topological_sort()] == [
        # The job's role is made sure of (created through IAM if missing) before anything runs.
        "service_role",
        "prepare_dataset",
        "customize",
        "export_metrics",
        "deploy_candidate",
        "evaluate",
        "promote",
        "swap",
        "retire",
    ]
    customize = dag.get_task("customize")
    assert "training_week" in customize.job_name and "training_week" in customize.custom_model_name
    assert customize.deferrable is True
    # Only a model that passed both gates is promoted; retire runs whatever happened, so that a
    # candidate that failed a gate does not stay deployed, as the teardown of the run's setup, so
    # that it does not decide the run's state.
    assert dag.get_task("export_metrics").on_gate_failure == "skip"
    assert dag.get_task("evaluate").on_gate_failure == "skip"
    retire = dag.get_task("retire")
    assert retire.is_teardown and not retire.on_failure_fail_dagrun
    assert retire.trigger_rule == "all_done_setup_success"
    assert dag.get_task("service_role").is_setup and "service_role" in retire.upstream_task_ids
    assert len(retire.undeploy_models) == 2
    # The champion goes behind the stable deployment, checked by the same judged evaluation.
    swap = dag.get_task("swap")
    assert swap.deployment_name == DAG_SETTINGS.STABLE_DEPLOYMENT and swap.canary["evaluator_model_id"]


def test_rollback_is_one_click_to_the_last_good_model(dagbag: Any) -> None:
    dag = dagbag.dags["bedrock_rollback"]
    params = dag.params
    assert params["deployment_name"] == DAG_SETTINGS.STABLE_DEPLOYMENT and params["model"] == "@last-good"
    rollback = dag.get_task("rollback")
    assert rollback.keep_last_good is True and rollback.deferrable is True


# Trigger rules under which a task runs, and may succeed, after a task upstream of it failed.
# https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/dags.html#trigger-rules
RULES_THAT_RUN_AFTER_A_FAILURE = {
    "all_done",
    "all_failed",
    "all_done_min_one_success",
    "all_done_setup_success",
    "one_failed",
    "one_done",
    "one_success",
    "none_skipped",
    "always",
}


def run_state_leaves(dag: Any) -> list[Any]:
    """The tasks whose states decide the run's, as Airflow picks them (DagRun._tis_for_dagrun_state):
    teardowns do not count, unless on_failure_fail_dagrun says they do."""

    def counts(task: Any) -> bool:
        return not task.is_teardown or task.on_failure_fail_dagrun

    return [
        task
        for task in dag.tasks
        if counts(task) and not any(counts(dag.get_task(down)) for down in task.downstream_task_ids)
    ]


@pytest.mark.parametrize("dag_id", sorted(EXAMPLES.values()))
def test_no_task_that_decides_the_run_state_hides_a_failure(dagbag: Any, dag_id: str) -> None:
    """A cleanup that runs whatever happened must be a teardown: as a leaf that counts, its success
    would turn a failed run green, and failure alerts would never fire."""
    from airflow.sdk import TriggerRule

    dag = dagbag.dags[dag_id]
    rules = {task.task_id: TriggerRule(task.trigger_rule).value for task in run_state_leaves(dag)}
    hiding = {task_id: rule for task_id, rule in rules.items() if rule in RULES_THAT_RUN_AFTER_A_FAILURE}
    assert hiding == {}, f"{dag_id}: make these teardowns (.as_teardown(setups=...)): {hiding}"


def test_sweep_maps_the_customization_over_the_grid(dagbag: Any) -> None:
    dag = dagbag.dags["bedrock_hyperparameter_sweep"]
    customize = dag.get_task("customize")
    assert type(customize).__name__ == "MappedOperator"
    # Each mapped instance names its own job, by the naming filter rendered in the mapped task.
    assert "ti | bedrock_job_name" in customize.partial_kwargs["job_name"]
    assert "ti | bedrock_job_name" in customize.partial_kwargs["custom_model_name"]
    assert dag.get_task("pick_best")


def test_watch_job_waits_in_the_triggerer(dagbag: Any) -> None:
    sensor = dagbag.dags["bedrock_watch_job"].get_task("wait_for_job")
    assert sensor.deferrable is True


def test_defaults_point_at_the_demo_bucket(dagbag: Any) -> None:
    params = dagbag.dags["bedrock_finetune_manual"].params
    assert params["training_data_uri"].startswith(f"s3://{DAG_SETTINGS.DEMO_BUCKET}/")
    assert params["output_data_uri"].startswith(f"s3://{DAG_SETTINGS.DEMO_BUCKET}/")
    assert params["base_model_id"] == DAG_SETTINGS.DEMO_BASE_MODEL
    retraining = dagbag.dags["bedrock_retraining"].get_task("prepare_dataset")
    assert "bedrock_bucket" in retraining.source_uri and DAG_SETTINGS.DEMO_BUCKET in retraining.source_uri


def test_the_manual_form_has_titles_descriptions_and_choices(dagbag: Any) -> None:
    params = dagbag.dags["bedrock_finetune_manual"].params
    schemas = {name: params.get_param(name).schema for name in params}
    for name, schema in schemas.items():
        assert schema.get("title"), f"{name} has no title"
    assert "amazon.titan-text-express-v1" in schemas["base_model_id"]["enum"]
    assert set(schemas["customization_type"]["enum"]) == {"FINE_TUNING", "CONTINUED_PRE_TRAINING"}
    assert schemas["hyperparameters"]["type"] == ["null", "object"]
    undescribed = [
        name
        for name in params
        if not (params.get_param(name).description or schemas[name].get("description_md"))
    ]
    assert undescribed == []
    assert (
        "- **Amazon Nova Micro (128k)**: epochCount 1–5 (default 2), "
        "learningRate 1e-06–0.0001 (default 1e-05)" in schemas["hyperparameters"]["description_md"]
    )


GOOD_CONF: dict[str, Any] = {
    "base_model_id": "amazon.nova-micro-v1:0:128k",
    "hyperparameters": {"epochCount": 3, "learningRate": 0.00005},
    "job_name": "support-bot.v2",
    "custom_model_name": "support_bot-v2",
    "validation_data_uri": "s3://bedrock-demo/raw/support/20250112/tickets.jsonl",
    "max_validation_loss": 1.2,
    "job_tags": {"team": "support"},
}
BAD_CONFS = [
    {"base_model_id": "amazon.titan-text-express-v9"},
    {"customization_type": "DISTILLATION"},
    {"hyperparameters": {}},
    {"hyperparameters": {"epochCount": True}},
    {"hyperparameters": {"epochCount": 500}},
    {"hyperparameters": [1, 2]},
    {"hyperparameters": {"epochs": 2}},
    {"job_name": "my retraining job"},
    {"training_data_uri": "s3://bedrock-demo/raw/support/20250105/"},
    {"output_data_uri": "s3://My_Bucket/out/"},
    {"role_arn": "BedrockRole"},
    {"job_tags": {"team": 5}},
    {"max_validation_loss": 0},
    {"hyperparameters": "{'epochCount': 2}"},
    {"job_name": "2025-01-05"},
    {"job_name": "run_1"},
    {"job_name": "a" * 64},
    {"custom_model_name": "model--1"},
    {"training_data_uri": "s3://bedrock-demo/raw/"},
    {"training_data_uri": "https://example.com/train.jsonl"},
    {"validation_data_uri": "s3://bedrock-demo/a b.jsonl"},
    {"output_data_uri": "s3://Bedrock-Demo/output/"},
    {"role_arn": "arn:aws:iam::123456789012:user/alice"},
    {"job_tags": {"team": 1}},
    {"max_validation_loss": -1},
]


def with_conf(dagbag: Any, conf: dict[str, Any]) -> dict[str, Any]:
    """The manual DAG's Params with a run's conf applied and validated, as when a run is triggered."""
    params = copy.deepcopy(dagbag.dags["bedrock_finetune_manual"].params)
    params.update(conf)
    resolved: dict[str, Any] = params.validate()
    return resolved


def test_good_params_pass(dagbag: Any) -> None:
    assert with_conf(dagbag, GOOD_CONF)["job_name"] == "support-bot.v2"


@pytest.mark.parametrize("conf", BAD_CONFS, ids=lambda conf: next(iter(conf)))
def test_bad_params_are_refused(dagbag: Any, conf: dict[str, Any]) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError, match=next(iter(conf))):
        with_conf(dagbag, conf)


def test_the_settings_module_defaults_to_the_emulator() -> None:
    assert DAG_SETTINGS.POLL_INTERVAL > 0
    assert Path(DAGS_FOLDER / "_bedrock_demo_config.py").is_file()
    assert DAG_SETTINGS.BUCKET == "{{ var.value.get('bedrock_bucket', '" + DAG_SETTINGS.DEMO_BUCKET + "') }}"


def form_requires(schema: dict[str, Any]) -> bool:
    """Airflow's trigger form marks a field required (and keeps Trigger disabled while it is empty)
    when its schema has a type that does not include "null" (ui/src/components/FlexibleForm)."""
    kind = schema.get("type")
    return bool(kind) and (not isinstance(kind, list) or "null" not in kind)


# bedrock_watch_job has nothing to watch without a job: its one field is required on purpose.
@pytest.mark.parametrize("dag_id", sorted(set(EXAMPLES.values()) - {"bedrock_watch_job"}))
def test_the_trigger_form_can_be_submitted_at_its_defaults(dagbag: Any, dag_id: str) -> None:
    params = dagbag.dags[dag_id].params
    blocked = [
        name
        for name in params
        if form_requires(params.get_param(name).schema) and params.get_param(name).value in (None, "")
    ]
    assert blocked == [], f"{dag_id}: the form would require {blocked} while their defaults are empty"
    params.validate()


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 26, 15, 0, tzinfo=UTC),  # a Thursday
        datetime(2026, 11, 22, 0, 0, tzinfo=UTC),  # a Sunday at midnight: that Sunday is the latest
        datetime(2026, 11, 28, 23, 59, 59, tzinfo=UTC),  # the last second before the next Sunday
        datetime(2026, 11, 29, 3, 0, tzinfo=timezone(timedelta(hours=5))),  # Saturday 22:00 in UTC
    ],
)
def test_the_demo_seeds_the_weeks_its_scheduler_runs(dagbag: Any, now: datetime, monkeypatch: Any) -> None:
    """The first run a scheduler started at ``now`` creates, and the "Next Run" after it, are the two
    weeks demo.seed adds: each scheduled run of the demo stack finds its week's data."""
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables import trigger
    from airflow.timetables.base import TimeRestriction

    monkeypatch.setattr(trigger, "utcnow", lambda: now.astimezone(UTC))
    dag = dagbag.dags["bedrock_retraining"]
    timetable = coerce_to_core_timetable(dag.timetable)
    restriction = TimeRestriction(earliest=dag.start_date, latest=dag.end_date, catchup=dag.catchup)
    first = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    assert first is not None and first.run_after <= now, "the first scheduled run starts at once"
    following = timetable.next_dagrun_info(
        last_automated_data_interval=first.data_interval, restriction=restriction
    )
    assert following is not None and following.run_after > now
    assert (first.logical_date, following.logical_date) == DAG_SETTINGS.scheduled_weeks(now)


def test_the_rft_form_checks_hyperparameters_against_botocores_bounds(dagbag: Any) -> None:
    from airflow.sdk.definitions.param import ParamValidationError

    params = copy.deepcopy(dagbag.dags["bedrock_rft_manual"].params)
    params.validate()
    with pytest.raises(ParamValidationError):
        params["hyperparameters"] = {"batchSize": 8}
    with pytest.raises(ParamValidationError):
        params["grader_lambda_arn"] = "arn:aws:lambda:us-east-1:1234:function:g"


def test_the_rft_example_submits_reinforcement_fine_tuning_with_its_grader(dagbag: Any) -> None:
    customize = dagbag.dags["bedrock_rft_manual"].get_task("customize")
    assert customize.customization_type == "REINFORCEMENT_FINE_TUNING"
    assert customize.grader_lambda_arn == "{{ params.grader_lambda_arn }}"
