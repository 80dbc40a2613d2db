"""An evaluation job's scores: the means read from its result lines, and the gate over them.

Each result line of a job ("Understand how the results of your model evaluation job are saved in
Amazon S3", https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-report-s3.html) lists
``automatedEvaluationResult.scores`` as ``{"metricName", "result"}`` for one prompt. A metric's score
is the mean of its results over the prompts that have a number for it. A result that is not a finite
number (null, NaN, a string) is counted, reported and left out of the mean; a gate over a metric that
too few prompts scored fails instead of judging the model on the few (``min_valid_fraction``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from bedrock_provider.core.errors import Problem
from bedrock_provider.core.metrics.gate import GateOutcome
from bedrock_provider.core.values import parse_number

BUILTIN_PREFIX = "Builtin."
# The share of prompts that must have a valid score for a gated metric, unless the task says otherwise.
DEFAULT_MIN_VALID_FRACTION = 0.9


def parse_min_valid_fraction(value: object, problems: list[Problem]) -> float:
    """``min_valid_fraction`` as given (a number, or the text a template renders): from 0 to 1."""
    number = parse_number(value, "min_valid_fraction", problems)
    if number is not None and not 0 <= number <= 1:
        problems.append(
            Problem(
                "min_valid_fraction",
                value,
                "must be a fraction of the prompts from 0 to 1, e.g. 0.9 (at least 90% of the prompts must "
                "have a valid score for a gated metric)",
            )
        )
        return DEFAULT_MIN_VALID_FRACTION
    return DEFAULT_MIN_VALID_FRACTION if number is None else number


class ScoreTally:
    """Running means per metric over the result lines of a job's files (streamed, never held), with
    the results that were not a number counted apart."""

    def __init__(self, requested: Iterable[str]) -> None:
        # Bedrock names a built-in metric without its prefix in the results ("Accuracy").
        self._names = {name.removeprefix(BUILTIN_PREFIX): name for name in requested}
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}
        self._excluded: dict[str, int] = {}
        self.prompts = 0

    def add_line(self, line: str | bytes, source: str, number: int) -> None:
        if not line.strip():
            return
        try:
            record = json.loads(line)
            scores = record["automatedEvaluationResult"]["scores"]
        except (ValueError, KeyError, TypeError):
            raise ValueError(
                f"{source} line {number} is not an evaluation result: expected "
                '{"automatedEvaluationResult": {"scores": [{"metricName", "result"}]}, ...}'
            ) from None
        self.prompts += 1
        for score in scores if isinstance(scores, list) else []:
            metric = str(score.get("metricName"))
            value = score.get("result")
            name = self._names.get(metric, metric)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                self._excluded[name] = self._excluded.get(name, 0) + 1
                continue
            self._sums[name] = self._sums.get(name, 0.0) + float(value)
            self._counts[name] = self._counts.get(name, 0) + 1

    def scores(self) -> dict[str, float]:
        """The mean of each metric over its valid results."""
        return {name: round(self._sums[name] / self._counts[name], 6) for name in sorted(self._sums)}

    def valid_counts(self) -> dict[str, int]:
        """How many prompts have a valid score, per metric (0 for a metric whose every result was not
        a number)."""
        return {name: self._counts.get(name, 0) for name in sorted({*self._counts, *self._excluded})}

    def exclusions(self) -> list[str]:
        """One line per metric with results that were not a number, for the log."""
        return [
            f"{name}: {count} of {self.prompts} prompts have no valid score (null, NaN or not a number); "
            f"they are left out of its mean, which is over {self._counts.get(name, 0)} prompts"
            for name, count in sorted(self._excluded.items())
        ]


def evaluate_scores(
    scores: Mapping[str, float],
    min_scores: Mapping[str, float],
    max_scores: Mapping[str, float],
    valid_counts: Mapping[str, int] | None = None,
    prompts: int = 0,
    min_valid_fraction: float = DEFAULT_MIN_VALID_FRACTION,
) -> GateOutcome:
    """Every metric at or above its minimum and at or below its maximum, each over at least
    ``min_valid_fraction`` of the ``prompts``; a missing score fails."""
    checks: list[dict[str, Any]] = []
    reasons: list[str] = []
    for bound, limits in (("min", min_scores), ("max", max_scores)):
        for metric, limit in limits.items():
            value = scores.get(metric)
            valid = None if valid_counts is None else valid_counts.get(metric, 0)
            too_few = valid is not None and prompts > 0 and valid < min_valid_fraction * prompts
            within = value is not None and (value >= limit if bound == "min" else value <= limit)
            if too_few:
                reasons.append(
                    f"{metric} has a valid score for {valid} of {prompts} prompts ({prompts - (valid or 0)} "
                    f"null, NaN or missing), below min_valid_fraction={min_valid_fraction:g}: "
                    f"{bound}_scores is not checked on so few"
                )
            elif value is None:
                reasons.append(f"{metric} has no score in the results, so {bound}_scores cannot be checked")
            elif not within:
                relation = "below" if bound == "min" else "above"
                reasons.append(f"{metric} {value:.4g} is {relation} {bound}_scores={limit:.4g}")
            passed = within and not too_few
            check: dict[str, Any] = {
                "check": f"{bound}_scores",
                "metric": metric,
                "value": value,
                "limit": limit,
                "passed": passed,
            }
            if valid is not None:
                check.update(valid_scores=valid, prompts=prompts)
            checks.append(check)
    return GateOutcome(passed=not reasons, reasons=reasons, checks=checks)
