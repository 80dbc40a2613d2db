from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_provider.core.names import (
    CUSTOM_MODEL_NAME_PATTERN,
    JOB_NAME_PATTERN,
    MAX_NAME_LENGTH,
    TaskIdentity,
    attempt_name,
    custom_model_name_problem,
    job_name_problem,
    parse_attempt,
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


def test_attempt_one_is_the_name_itself():
    assert attempt_name("train", 1) == "train"
    assert parse_attempt("train") == ("train", 1)
    assert parse_attempt("train-r12") == ("train", 12)


def test_tokens_depend_on_the_task_instance_and_attempt_not_on_the_try():
    identity = TaskIdentity("dag", "task", "scheduled__2024-01-01", -1)
    token = identity.client_request_token(1)
    assert token == TaskIdentity("dag", "task", "scheduled__2024-01-01", -1).client_request_token(1)
    others = {
        identity.client_request_token(2),
        TaskIdentity("dag", "task", "scheduled__2024-01-02", -1).client_request_token(1),
        TaskIdentity("dag", "task", "scheduled__2024-01-01", 0).client_request_token(1),
        TaskIdentity("dag", "other", "scheduled__2024-01-01", -1).client_request_token(1),
    }
    assert token not in others and len(others) == 4
    assert len(token) <= 256
