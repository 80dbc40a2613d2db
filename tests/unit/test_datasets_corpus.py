"""Every malformed file of the corpus produces its expected error on its expected line."""

from __future__ import annotations

import pytest

from bedrock_provider.core.datasets.prepare import validate_bytes
from tests.unit.dataset_corpus import CASES, Case


def test_the_corpus_is_large_and_unique() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_corpus_case(case: Case) -> None:
    report = validate_bytes(case.data, **case.params)

    assert not report.passed
    if case.file_level:
        assert any(case.message in error for error in report.dataset_errors), report.dataset_errors
        if case.line:
            assert any(error["line"] == case.line for error in report.errors), report.errors
        return
    matches = [
        error
        for error in report.errors
        if case.message in error["message"] and (case.path is None or error["field"] == case.path)
    ]
    assert matches, report.errors
    assert {error["line"] for error in matches} == {case.line}, matches
    # Only the broken record is invalid; its neighbours pass.
    assert report.invalid_records == 1
