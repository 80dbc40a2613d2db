"""Which custom models of a family to keep and which to delete: pure decisions, tested on their own.

A family is every custom model whose name starts with ``model_name_prefix``. The newest ``keep_last``
(by creation time) are kept, and so is every model that carries all of ``keep_tags`` (the
champion), whatever its age. The others are deleted, their deployments first (Bedrock refuses to
delete a model that a deployment or provisioned throughput still serves).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bedrock_provider.core.errors import InvalidInputError, Problem

# A prefix shorter than this would make a family of almost every model in the account.
MIN_PREFIX_LENGTH = 3
PREFIX_PATTERN = re.compile(r"[0-9a-zA-Z][0-9a-zA-Z_-]*")
DEFAULT_KEEP_TAGS = {"stage": "champion"}


@dataclass(frozen=True)
class RetentionSettings:
    model_name_prefix: str
    keep_last: int
    keep_tags: dict[str, str]
    undeploy_models: tuple[str, ...] = ()

    @classmethod
    def check(
        cls, model_name_prefix: Any, keep_last: Any, keep_tags: Any, undeploy_models: Any = None
    ) -> RetentionSettings:
        problems: list[Problem] = []
        prefix = model_name_prefix
        if (
            not isinstance(prefix, str)
            or len(prefix) < MIN_PREFIX_LENGTH
            or not PREFIX_PATTERN.fullmatch(prefix)
        ):
            problems.append(
                Problem(
                    "model_name_prefix",
                    prefix,
                    f"must be at least {MIN_PREFIX_LENGTH} characters of a custom model name (letters, "
                    "digits, '-', '_'), e.g. 'support-bot-': it decides which models may be deleted",
                )
            )
        count = keep_last
        if isinstance(count, str) and count.strip().isdigit():
            count = int(count.strip())
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            problems.append(Problem("keep_last", keep_last, "must be a whole number of at least 1"))
        tags = _tag_filter(keep_tags, "keep_tags", problems)
        undeploy = _models(undeploy_models, problems)
        if problems:
            raise InvalidInputError("Invalid retention settings", problems)
        return cls(str(prefix), int(count), tags, undeploy)


def _models(value: Any, problems: list[Problem]) -> tuple[str, ...]:
    """Custom model ARNs or names; empty strings (a template that found nothing) are dropped."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        problems.append(Problem("undeploy_models", value, "must be a list of custom model ARNs or names"))
        return ()
    return tuple(item for item in value if item.strip() and item.strip() != "None")


def _tag_filter(value: Any, field_name: str, problems: list[Problem]) -> dict[str, str]:
    if not isinstance(value, Mapping):
        problems.append(
            Problem(field_name, value, 'must be a dict of tag key to value, e.g. {"stage": "champion"}')
        )
        return {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        problems.append(Problem(field_name, value, "keys and values must be strings"))
        return {}
    return dict(value)


def carries(tags: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return bool(wanted) and all(tags.get(key) == value for key, value in wanted.items())


@dataclass
class RetentionPlan:
    """The models to keep and to delete (ARNs, newest first), with why each is kept."""

    kept: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def _created(summary: Mapping[str, Any]) -> float:
    value = summary.get("creationTime")
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value or 0)


def plan_retention(
    summaries: Iterable[Mapping[str, Any]],
    settings: RetentionSettings,
    tags_of: Callable[[str], Mapping[str, str]],
) -> RetentionPlan:
    """Decide from ListCustomModels summaries; ``tags_of(arn)`` reads a model's tags.

    A summary whose name does not start with the prefix is never in the plan: ListCustomModels'
    nameContains also matches names that merely contain the prefix.
    """
    family = [s for s in summaries if str(s.get("modelName", "")).startswith(settings.model_name_prefix)]
    family.sort(key=lambda s: (_created(s), str(s.get("modelName"))), reverse=True)
    plan = RetentionPlan()
    for index, summary in enumerate(family):
        arn = str(summary["modelArn"])
        plan.names[arn] = str(summary.get("modelName"))
        if index < settings.keep_last:
            plan.kept.append(arn)
            plan.reasons[arn] = f"one of the newest {settings.keep_last}"
        elif carries(tags_of(arn), settings.keep_tags):
            plan.kept.append(arn)
            plan.reasons[arn] = f"carries {settings.keep_tags}"
        else:
            plan.deleted.append(arn)
    return plan
