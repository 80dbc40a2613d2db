"""The metrics gate: loss thresholds and the comparison with the champion, and the champion's summary."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

# What a failed gate does to the task: fail it, skip it (and its downstream tasks), or only record it.
ON_GATE_FAILURE_CHOICES = ("fail", "skip", "record")


@dataclass(frozen=True)
class GateOutcome:
    """Whether the model passed, why not, and every check that was made."""

    passed: bool
    reasons: list[str]
    checks: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "reasons": list(self.reasons), "checks": list(self.checks)}


# Who wins against the champion. "newest_data": a model trained on data older than the champion's
# never replaces it (a backfill of an old week must not dethrone this week's model), whatever its
# loss; on data as new or newer it must beat the champion's loss. "best_loss": the loss alone decides.
CHAMPION_POLICIES = ("newest_data", "best_loss")


def parse_data_date(value: object, field_name: str = "data_date") -> str | None:
    """The date (or datetime) of the data a model was trained on, as ISO 8601; None when not given."""
    if value is None or value == "":
        return None
    text = value.isoformat() if isinstance(value, datetime | date) else str(value)
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{field_name}={value!r}: must be an ISO 8601 date such as '2025-01-05' (e.g. '{{{{ ds }}}}')"
        ) from None
    return text


def _as_datetime(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def champion_record(result: Mapping[str, Any]) -> dict[str, Any]:
    """The few numbers of a summary that a later comparison needs."""
    validation = result.get("validation") or {}
    return {
        "job_arn": result.get("job_arn"),
        "job_name": result.get("job_name"),
        "custom_model_arn": result.get("custom_model_arn"),
        "data_date": result.get("data_date"),
        "training": {"final_loss": (result.get("training") or {}).get("final_loss")},
        "validation": {"final_loss": validation.get("final_loss")} if validation else None,
    }


class InvalidBaselineError(ValueError):
    """The champion's summary holds a loss no model could have (nan, infinite, negative): a model can
    never beat it, and its numbers cannot go to XCom (JSON has no nan)."""


def check_baseline(baseline: object, source: str) -> dict[str, Any]:
    """A champion summary must at least carry the training final loss; anything else is an error."""
    if not isinstance(baseline, dict):
        raise ValueError(f"baseline {source} is not a JSON object of a metrics summary")
    validation = baseline.get("validation")
    for part, summary in (("training", baseline.get("training")), ("validation", validation)):
        if part == "validation" and validation is None:
            continue
        final = summary.get("final_loss") if isinstance(summary, dict) else None
        if isinstance(final, bool) or not isinstance(final, int | float):
            raise ValueError(
                f"baseline {source} has no number at {part}.final_loss: it must be a summary JSON "
                "written by BedrockExportMetricsOperator (summary.json or the champion file)"
            )
        if not math.isfinite(final) or final < 0:
            raise InvalidBaselineError(
                f"baseline {source} is broken: {part}.final_loss is {final!r}, which no model can have (a "
                "loss is a finite number, at least 0), so no model could ever beat it. Fix or delete the "
                "file, or set on_invalid_baseline='ignore' to compare against no champion until one is "
                "promoted."
            )
    return baseline


def comparison_baseline(baseline: Mapping[str, Any] | None, job_arn: str) -> Mapping[str, Any] | None:
    """The summary to beat: when this very job is already the champion (a re-run after promotion), the
    champion it replaced, so a re-run reaches the same verdict instead of failing against itself."""
    if baseline is not None and job_arn and baseline.get("job_arn") == job_arn:
        previous = baseline.get("previous_champion")
        return previous if isinstance(previous, Mapping) else None
    return baseline


# One check of the gate: what was compared, and why it failed (None when it passed).
CheckResult = tuple[dict[str, Any], str | None]


def evaluate_gate(
    training: Mapping[str, Any],
    validation: Mapping[str, Any] | None,
    *,
    max_training_loss: float | None = None,
    max_validation_loss: float | None = None,
    baseline: Mapping[str, Any] | None = None,
    baseline_uri: str | None = None,
    data_date: str | None = None,
    champion_policy: str = "newest_data",
    no_baseline_note: str = "no champion yet",
) -> GateOutcome:
    """Apply the thresholds and the champion comparison to a job's summaries.

    A threshold on validation loss fails when the job has no validation metrics: the check that was
    asked for cannot be made. Against a champion the model must be strictly better on validation final
    loss when both have validation metrics, on training final loss otherwise. No champion (first run)
    is not a failure. With ``champion_policy="newest_data"`` (the default) a model whose ``data_date``
    is older than the champion's never passes (see CHAMPION_POLICIES).
    """
    results = _threshold_checks(training, validation, max_training_loss, max_validation_loss)
    if baseline_uri:
        if baseline is None:
            results.append(
                ({"check": "baseline", "uri": baseline_uri, "passed": True, "note": no_baseline_note}, None)
            )
        else:
            results.extend(
                _champion_checks(training, validation, baseline, baseline_uri, data_date, champion_policy)
            )
    reasons = [reason for _, reason in results if reason]
    return GateOutcome(passed=not reasons, reasons=reasons, checks=[check for check, _ in results])


def _threshold_checks(
    training: Mapping[str, Any],
    validation: Mapping[str, Any] | None,
    max_training_loss: float | None,
    max_validation_loss: float | None,
) -> list[CheckResult]:
    """The loss limits that were set, training first."""
    results = []
    if max_training_loss is not None:
        results.append(
            _limit_check(
                "max_training_loss", "training final loss", training["final_loss"], max_training_loss
            )
        )
    if max_validation_loss is not None:
        if validation is None:
            results.append(_no_validation_check(max_validation_loss))
        else:
            results.append(
                _limit_check(
                    "max_validation_loss",
                    "validation final loss",
                    validation["final_loss"],
                    max_validation_loss,
                )
            )
    return results


def _limit_check(name: str, label: str, value: float, limit: float) -> CheckResult:
    passed = value <= limit
    check = {"check": name, "value": value, "limit": limit, "passed": passed}
    return check, None if passed else f"{label} {value:.6g} is above {name}={limit:.6g}"


def _no_validation_check(limit: float) -> CheckResult:
    """A validation limit on a job without validation metrics: the check asked for cannot be made."""
    check = {"check": "max_validation_loss", "value": None, "limit": limit, "passed": False}
    return check, (
        f"max_validation_loss={limit:.6g} is set but the job has no validation "
        "metrics (give it validation data, or drop max_validation_loss)"
    )


def _champion_checks(
    training: Mapping[str, Any],
    validation: Mapping[str, Any] | None,
    baseline: Mapping[str, Any],
    baseline_uri: str,
    data_date: str | None,
    champion_policy: str,
) -> list[CheckResult]:
    """Against the champion: the age of the data (under "newest_data"), then the loss."""
    results = []
    champion_date = baseline.get("data_date")
    if champion_policy == "newest_data" and data_date and isinstance(champion_date, str):
        results.append(_data_date_check(data_date, champion_date, champion_policy, baseline))
    metric, value, champion = _compared_losses(training, validation, baseline)
    results.append(_beats_champion_check(metric, value, champion, baseline, baseline_uri))
    return results


def _compared_losses(
    training: Mapping[str, Any], validation: Mapping[str, Any] | None, baseline: Mapping[str, Any]
) -> tuple[str, float, float]:
    """Which final loss is compared: validation when both have validation metrics, else training."""
    champion_validation = baseline.get("validation")
    if validation is not None and champion_validation:
        return "validation", validation["final_loss"], champion_validation["final_loss"]
    return "training", training["final_loss"], baseline["training"]["final_loss"]


def _data_date_check(
    data_date: str, champion_date: str, champion_policy: str, baseline: Mapping[str, Any]
) -> CheckResult:
    newer = _as_datetime(data_date) >= _as_datetime(champion_date)
    check = {
        "check": "data_date",
        "value": data_date,
        "champion": champion_date,
        "policy": champion_policy,
        "passed": newer,
    }
    return check, (
        None
        if newer
        else f"trained on data of {data_date}, older than the champion's ({champion_date}, job "
        f"{baseline.get('job_name')}): a model trained on older data never replaces one trained "
        "on newer data (champion_policy='best_loss' compares the loss alone)"
    )


def _beats_champion_check(
    metric: str, value: float, champion: float, baseline: Mapping[str, Any], baseline_uri: str
) -> CheckResult:
    passed = value < champion
    check = {
        "check": "baseline",
        "uri": baseline_uri,
        "metric": f"{metric}.final_loss",
        "value": value,
        "champion": champion,
        "champion_job_name": baseline.get("job_name"),
        "passed": passed,
    }
    return check, (
        None
        if passed
        else f"{metric} final loss {value:.6g} does not beat the champion's {champion:.6g} "
        f"(job {baseline.get('job_name')}, {baseline_uri})"
    )
