from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_provider.core.names import (
    CUSTOM_MODEL_NAME_PATTERN,
    EVALUATION_JOB_NAME_PATTERN,
    JOB_NAME_PATTERN,
    MAX_NAME_LENGTH,
    NAME_RULES,
    RUN_JOB_NAME_LENGTH,
    TaskIdentity,
    attempt_name,
    attempt_of,
    custom_model_name_problem,
    evaluation_job_name_problem,
    job_name_problem,
    name_problem,
    parse_attempt,
    renders_none,
    run_job_name,
    sanitize_name,
)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "must not be empty"),
        ("-abc", "must start with a letter or digit"),
        ("abc def", "character ' ' at position 4"),
        ("abc_def", "character '_' at position 4"),
        ("abc/def", "character '/' at position 4"),
        ("ab\u00e9", "character '\u00e9' at position 3"),
        ("a" * 64, "64 characters long"),
    ],
)
def test_job_name_problems_say_which_character(name, fragment):
    problem = job_name_problem(name)
    assert problem is not None
    assert fragment in problem.message


@pytest.mark.parametrize("name", ["a", "A1", "job-2024.01+x", "a--b", "x" * 63, "a-"])
def test_valid_job_names(name):
    assert job_name_problem(name) is None
    assert JOB_NAME_PATTERN.fullmatch(name)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "must not be empty"),
        ("_abc", "must not start with character '_' at position 1"),
        ("a--b", "two separators in a row at character '-' at position 3"),
        ("a.b", "character '.' at position 2"),
        ("m" * 64, "64 characters long"),
    ],
)
def test_custom_model_name_problems(name, fragment):
    problem = custom_model_name_problem(name)
    assert problem is not None
    assert fragment in problem.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("my_dag", "my-dag"),
        ("2024-01-01T00:00:00+00:00", "2024-01-01T00-00-00-00-00"),
        ("__weird__name__", "weird-name"),
        ("a..b", "a-b"),
    ],
)
def test_sanitize_examples(value, expected):
    assert sanitize_name(value) == expected


def test_sanitize_keeps_long_inputs_apart():
    first = sanitize_name("x" * 100 + "1")
    second = sanitize_name("x" * 100 + "2")
    assert first != second
    assert len(first) == len(second) == MAX_NAME_LENGTH


@given(st.text(max_size=300))
def test_sanitized_names_are_valid_for_jobs_and_models(value):
    name = sanitize_name(value)
    assert job_name_problem(name) is None
    assert custom_model_name_problem(name) is None
    assert CUSTOM_MODEL_NAME_PATTERN.fullmatch(name)


@given(st.text(min_size=1, max_size=80), st.integers(min_value=1, max_value=999))
def test_attempt_names_stay_valid_and_parse_back(value, attempt):
    base = sanitize_name(value)
    name = attempt_name(base, attempt)
    assert job_name_problem(name) is None
    assert custom_model_name_problem(name) is None
    if attempt > 1:
        assert name.endswith(f"-r{attempt}")
        assert parse_attempt(name)[1] == attempt
        assert name != base
    assert attempt_of(name, base) == attempt, "a retry name maps back to its base and attempt"


@given(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80), st.integers(2, 999))
def test_distinct_bases_never_share_a_retry_name(first, second, attempt):
    first, second = sanitize_name(first), sanitize_name(second)
    if first != second:
        assert attempt_name(first, attempt) != attempt_name(second, attempt)


def test_attempt_one_is_the_name_itself():
    assert attempt_name("train", 1) == "train"
    assert parse_attempt("train") == ("train", 1)
    assert parse_attempt("train-r12") == ("train", 12)


def test_tokens_depend_on_the_task_instance_name_request_and_deployment_not_on_the_try():
    identity = TaskIdentity("dag", "task", "scheduled__2024-01-01", -1, namespace="prod")
    token = identity.client_request_token("job", "request")
    same = TaskIdentity("dag", "task", "scheduled__2024-01-01", -1, namespace="prod")
    assert token == same.client_request_token("job", "request")
    others = {
        identity.client_request_token("job-r2", "request"),
        identity.client_request_token("job", "edited request"),
        TaskIdentity("dag", "task", "scheduled__2024-01-01", -1, "staging").client_request_token(
            "job", "request"
        ),
        TaskIdentity("dag", "task", "scheduled__2024-01-02", -1, "prod").client_request_token(
            "job", "request"
        ),
        TaskIdentity("dag", "task", "scheduled__2024-01-01", 0, "prod").client_request_token(
            "job", "request"
        ),
        TaskIdentity("dag", "other", "scheduled__2024-01-01", -1, "prod").client_request_token(
            "job", "request"
        ),
    }
    assert token not in others and len(others) == 6
    assert len(token) <= 256


def test_a_token_is_owned_only_under_the_name_it_was_made_for():
    me = TaskIdentity("dag", "task", "run", namespace="prod")
    token = me.client_request_token("job", "request")
    assert me.owns("job", token)
    assert me.owns("job", me.client_request_token("job", "edited request"))
    assert not me.owns("job-r2", token)
    assert not TaskIdentity("dag", "task", "run", namespace="staging").owns("job", token)
    assert not me.owns("job", None)


# -- names from a run: bedrock_job_name ------------------------------------------------------------------


@given(
    dag_id=st.text(min_size=1, max_size=250),
    task_id=st.text(min_size=1, max_size=250),
    run_id=st.text(max_size=250),
    map_index=st.integers(-1, 10**6),
    attempt=st.integers(1, 100),
)
def test_run_job_names_are_always_valid_and_leave_room_for_retries(
    dag_id, task_id, run_id, map_index, attempt
):
    name = run_job_name(dag_id, task_id, run_id, map_index)
    assert len(name) <= RUN_JOB_NAME_LENGTH
    retried = attempt_name(name, attempt)
    assert job_name_problem(retried) is None and custom_model_name_problem(retried) is None
    assert attempt == 1 or retried == f"{name}-r{attempt}", "a retry suffix fits without cutting the name"


@given(
    dag_id=st.text(min_size=1, max_size=250),
    task_id=st.text(min_size=1, max_size=250),
    run_id=st.text(max_size=250),
    map_index=st.integers(-1, 10**6),
    prefix=st.none() | st.text(max_size=80),
    attempt=st.integers(1, 100),
)
def test_run_job_names_are_valid_for_every_kind_of_resource(
    dag_id, task_id, run_id, map_index, prefix, attempt
):
    retried = attempt_name(run_job_name(dag_id, task_id, run_id, map_index, prefix), attempt)
    assert {kind: name_problem(kind, retried) for kind in NAME_RULES} == dict.fromkeys(NAME_RULES)


BOTOCORE_PATTERNS = {
    # botocore/data/bedrock/2023-04-20/service-2.json, shape by shape, as Bedrock checks the names.
    "customization_job": r"[a-zA-Z0-9](-*[a-zA-Z0-9\+\-\.])*",
    "custom_model": r"([0-9a-zA-Z][_-]?){1,63}",
    "evaluation_job": r"[a-z0-9](-*[a-z0-9]){0,62}",
    "deployment": r"([0-9a-zA-Z][_-]?){1,63}",
    "provisioned_model": r"([0-9a-zA-Z][_-]?)+",
}
LONG_ID = "a_very_long_identifier_for_the_support_bot_retraining_pipeline_of_team_x_v2"
RUN_IDS = [
    "manual__2025-01-05T00:00:00+00:00",
    "scheduled__2025-01-05T00:00:00+00:00",
    "backfill__2025-01-05T00:00:00+00:00",
    "asset_triggered__2025-01-05T00:00:00.123456+00:00",
    "manual__2025-01-05T10:00:00.123456+00:00",
    "My Run: ÜBER/2025",
    "T",
    LONG_ID * 3,
]


@pytest.mark.parametrize("run_id", RUN_IDS)
@pytest.mark.parametrize(
    ("dag_id", "task_id"), [("bedrock_retraining", "evaluate"), (LONG_ID, LONG_ID + ".x")]
)
@pytest.mark.parametrize("map_index", [-1, 0, 7, 99999])
@pytest.mark.parametrize("prefix", [None, "Support_Bot", "eval"])
def test_run_job_names_match_botocore_for_every_documented_kind(run_id, dag_id, task_id, map_index, prefix):
    import re

    name = run_job_name(dag_id, task_id, run_id, map_index, prefix)
    for kind, pattern in BOTOCORE_PATTERNS.items():
        assert re.fullmatch(pattern, name) and len(name) <= MAX_NAME_LENGTH, (kind, name)
        assert run_job_name(dag_id, task_id, run_id, map_index, prefix, kind) == name
    # The 'T' between date and time is lowered: evaluation job names take no uppercase.
    assert name == name.lower()


def test_the_name_rules_are_botocores_and_cover_every_documented_kind():
    assert set(NAME_RULES) == set(BOTOCORE_PATTERNS)
    assert EVALUATION_JOB_NAME_PATTERN.pattern == BOTOCORE_PATTERNS["evaluation_job"]
    assert CUSTOM_MODEL_NAME_PATTERN.pattern == BOTOCORE_PATTERNS["custom_model"]
    assert {kind: rule.shape for kind, rule in NAME_RULES.items()} == {
        "customization_job": "JobName",
        "custom_model": "CustomModelName",
        "evaluation_job": "EvaluationJobName",
        "deployment": "ModelDeploymentName",
        "provisioned_model": "ProvisionedModelName",
    }


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "must not be empty"),
        ("a" * 64, "at most 63"),
        ("Eval-1", "character 'E' at position 1; allowed are lowercase letters, digits and '-'"),
        ("eval.1", "character '.' at position 5"),
        ("-eval", "must start and end with a letter or digit"),
        ("eval-", "must start and end with a letter or digit"),
        ("run-2025-01-05T00", "(try 'run-2025-01-05t00')"),
    ],
)
def test_invalid_evaluation_job_names_are_explained(name, fragment):
    problem = evaluation_job_name_problem(name)
    assert problem is not None and fragment in problem.message, problem
    assert not EVALUATION_JOB_NAME_PATTERN.fullmatch(name)


@pytest.mark.parametrize("name", ["a", "eval-1", "a--b", "0" * 63])
def test_valid_evaluation_job_names_pass(name):
    assert evaluation_job_name_problem(name) is None
    assert EVALUATION_JOB_NAME_PATTERN.fullmatch(name)


def test_an_unknown_kind_is_refused_naming_the_kinds():
    with pytest.raises(ValueError, match=r"kind='evaluation'.*evaluation_job"):
        run_job_name("dag", "task", "manual__1", kind="evaluation")


def test_run_job_names_are_unique_per_run_task_and_map_index_and_stable():
    long_dag = "a_very_long_dag_identifier_for_the_support_bot_retraining_pipeline_v2"
    run = "scheduled__2025-01-01T00:00:00+00:00"
    name = run_job_name(long_dag, "train", run)
    assert name == run_job_name(long_dag, "train", run)
    others = {
        run_job_name(long_dag, "train", "scheduled__2025-01-02T00:00:00+00:00"),
        run_job_name(long_dag, "train", run, 0),
        run_job_name(long_dag, "train", run, 1),
        run_job_name(long_dag, "evaluate", run),
        run_job_name(long_dag + "x", "train", run),
    }
    assert name not in others and len(others) == 5
    # Runs without a logical date (Airflow 3 manual and asset-triggered runs) have a run_id all the same.
    assert run_job_name("dag", "train", "manual__2025-01-01T10:00:00.123456+00:00")


def test_bedrock_job_name_filter_renders_from_the_task_instance_in_any_operator_template():
    from types import SimpleNamespace

    from bedrock_provider.operators.base import bedrock_job_name, with_bedrock_filters

    ti = SimpleNamespace(dag_id="dag", task_id="train", run_id="manual__1", map_index=-1)
    import jinja2

    env = with_bedrock_filters(jinja2.Environment(autoescape=False))  # noqa: S701 - names, not HTML
    assert env.from_string("{{ ti | bedrock_job_name }}").render(ti=ti) == run_job_name(
        "dag", "train", "manual__1"
    )
    assert env.from_string("{{ ti | bedrock_job_name('bot') }}").render(ti=ti).startswith("bot-manual-1-")
    evaluation = env.from_string("{{ ti | bedrock_job_name(kind='evaluation_job') }}").render(ti=ti)
    assert evaluation == run_job_name("dag", "train", "manual__1")
    with pytest.raises(ValueError, match="kind='eval'"):
        env.from_string("{{ ti | bedrock_job_name('bot', 'eval') }}").render(ti=ti)
    with pytest.raises(ValueError, match="takes the task instance"):
        bedrock_job_name("2025-01-01")


@pytest.mark.parametrize("value", [None, "None", " None "])
def test_none_renders_are_recognized(value):
    assert renders_none(value)


@pytest.mark.parametrize("value", ["", "none-job", "Nonesuch", "NONE"])
def test_other_text_is_not_a_none_render(value):
    assert not renders_none(value)
