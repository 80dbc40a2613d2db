"""Which custom models of a family to keep and which to delete: the whole plan, decided before anything is
deleted, and the same plan for a dry run and a real one.

A family is every custom model tagged ``airflow:model-family=<family>`` and ``airflow:namespace=<this
deployment's namespace>`` (core/request/ownership.py), whatever its name; a ``model_name_prefix`` narrows
that to the names starting with it, never widens it. A model whose name looks like the family's (starts
with the prefix, else with the family) but that lacks our tags is *foreign*: reported, never touched.

Within the family (statuses: botocore bedrock ``ModelStatus`` = Active | Creating | Failed):

- only ``Active`` models count toward ``keep_last``: the newest ``keep_last`` Active ones are kept;
- a model in any other status but ``Failed`` (``Creating``, or one Bedrock adds later) is never touched;
- a ``Failed`` model never counts toward ``keep_last`` and is deleted like an old one: it cannot be
  deployed or invoked ("Failed - The model creation process failed", CustomModelSummary.modelStatus),
  and its failure stays on the customization job that made it;
- a model carrying all of ``keep_tags`` (the champion) is kept whatever its age;
- a model a promotion's stable deployment needs (``protected``: what it serves or is being updated to,
  its ``airflow:last-good-model``, the model an unfinished promotion replaced; core/lifecycle/promotion.py)
  is kept whatever its age, and the stable deployment is never deleted;
- any other model is deleted, its provisioned throughputs and deployments first (Bedrock refuses to
  delete a model something still serves). When one of them cannot go, the model is kept with all of
  its deployments and reported in ``skipped``: a throughput whose commitment term has not ended
  ("You can't delete a Provisioned Throughput before the commitment term is over",
  DeleteProvisionedModelThroughput in botocore bedrock/2023-04-20), or any deployment when
  ``delete_deployments`` is False.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.lifecycle.resources import PROVISIONED_THROUGHPUT, ResourceKind
from bedrock_provider.core.request.ownership import check_model_family, check_namespace, is_owned

# A prefix shorter than this would make a family of almost every model in the account.
MIN_PREFIX_LENGTH = 3
PREFIX_PATTERN = re.compile(r"[0-9a-zA-Z][0-9a-zA-Z_-]*")
DEFAULT_KEEP_TAGS = {"stage": "champion"}
ACTIVE, FAILED = "Active", "Failed"

# (kind, ARN, summary) of what serves a model: a deployment or a provisioned throughput.
Serving = tuple[ResourceKind, str, Mapping[str, Any]]


@dataclass(frozen=True)
class RetentionSettings:
    model_family: str
    namespace: str
    model_name_prefix: str | None
    keep_last: int
    keep_tags: dict[str, str]
    undeploy_models: tuple[str, ...] = ()
    delete_deployments: bool = True

    @property
    def name_filter(self) -> str:
        """Names that look like the family's: a model so named without our tags is reported foreign."""
        return self.model_name_prefix or self.model_family

    @property
    def family_text(self) -> str:
        narrowed = f", model_name_prefix={self.model_name_prefix!r}" if self.model_name_prefix else ""
        return f"model_family={self.model_family!r} (namespace {self.namespace!r}{narrowed})"

    def is_member(self, name: str, tags: Mapping[str, str]) -> bool:
        """Of the family: our tags, and the prefix when one is given."""
        return is_owned(tags, self.model_family, self.namespace) and (
            self.model_name_prefix is None or name.startswith(self.model_name_prefix)
        )

    @classmethod
    def check(
        cls,
        model_family: Any,
        model_name_prefix: Any,
        keep_last: Any,
        keep_tags: Any,
        undeploy_models: Any = None,
        *,
        namespace: Any = "",
        delete_deployments: bool = True,
    ) -> RetentionSettings:
        """Every setting checked at once. A prefix without a family (deprecated) stands for the family
        of that name: only models tagged ``airflow:model-family=<prefix>`` are the family's."""
        problems: list[Problem] = []
        prefix = None if model_name_prefix in (None, "") and model_family is not None else model_name_prefix
        if prefix is not None and (
            not isinstance(prefix, str)
            or len(prefix) < MIN_PREFIX_LENGTH
            or not PREFIX_PATTERN.fullmatch(prefix)
        ):
            problems.append(
                Problem(
                    "model_name_prefix",
                    prefix,
                    f"must be at least {MIN_PREFIX_LENGTH} characters of a custom model name (letters, "
                    "digits, '-', '_'), e.g. 'support-bot-': it narrows the family to those names",
                )
            )
        given_family = prefix if model_family is None else model_family
        family = check_model_family(given_family, "model_family", problems)
        if model_family is None and prefix is None:
            problems.append(
                Problem(
                    "model_family",
                    None,
                    "is required: the family the customization operator tagged its models with "
                    "(BedrockModelCustomizationOperator(model_family=...))",
                )
            )
        count = keep_last
        if isinstance(count, str) and count.strip().isdigit():
            count = int(count.strip())
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            problems.append(Problem("keep_last", keep_last, "must be a whole number of at least 1"))
        tags = _tag_filter(keep_tags, "keep_tags", problems)
        undeploy = _models(undeploy_models, problems)
        checked_namespace = check_namespace(namespace, problems)
        if problems:
            raise InvalidInputError("Invalid retention settings", problems)
        return cls(
            str(family),
            checked_namespace,
            prefix,
            int(count),
            tags,
            undeploy,
            bool(delete_deployments),
        )


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


class RetentionRefused(ValueError):
    """The plan cannot be carried out as asked; raised before anything is deleted."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        self.fields = [problem.field for problem in self.problems]
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"Retention refused; nothing was deleted.\n{lines}")


@dataclass(frozen=True)
class Removal:
    """A model whose servings go: deleted itself (``delete_model``) or only undeployed."""

    model_arn: str
    model_name: str
    servings: tuple[tuple[ResourceKind, str], ...]
    delete_model: bool
    base_model: str = ""


@dataclass
class RetentionPlan:
    """Everything a run does, decided before it does anything; ``result`` is what a dry run returns."""

    kept: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    removals: list[Removal] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def deleted(self) -> list[str]:
        return [removal.model_arn for removal in self.removals if removal.delete_model]

    def result(self, dry_run: bool) -> dict[str, Any]:
        return {
            "kept": list(self.kept),
            "deleted": self.deleted,
            "deleted_deployments": [arn for removal in self.removals for _, arn in removal.servings],
            "skipped": [dict(skip) for skip in self.skipped],
            "foreign": list(self.foreign),
            "dry_run": dry_run,
        }


def _timestamp(value: Any) -> float:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value or 0)


def blocked_reason(kind: ResourceKind, arn: str, summary: Mapping[str, Any], now: float) -> str | None:
    """Why a serving cannot be deleted yet: a provisioned throughput inside its commitment term."""
    expires = summary.get("commitmentExpirationTime")
    if kind is PROVISIONED_THROUGHPUT and expires and _timestamp(expires) > now:
        return (
            f"provisioned throughput {arn} has a {summary.get('commitmentDuration')} commitment until "
            f"{expires}; Bedrock deletes neither it nor its model before then"
        )
    return None


def plan_retention(
    summaries: Iterable[Mapping[str, Any]],
    settings: RetentionSettings,
    tags_of: Callable[[str], Mapping[str, str]],
    served_by: Callable[[str], list[Serving]],
    undeploy: Mapping[str, Mapping[str, Any] | None] | None = None,
    now: float | None = None,
    protected: Mapping[str, str] | None = None,
) -> RetentionPlan:
    """The whole plan from ListCustomModels summaries; ``tags_of(arn)`` and ``served_by(arn)`` read.

    ``undeploy`` maps each ``undeploy_models`` entry to its GetCustomModel description (None: no such
    model). An entry outside the family is refused (RetentionRefused, every entry named at once).
    ``protected`` maps the models stable deployments need to why (core/promotion.protected_models).
    """
    protected = protected or {}
    now = datetime.now(UTC).timestamp() if now is None else now
    plan = RetentionPlan()
    # ListCustomModels' nameContains also matches names that merely contain the prefix.
    prefix = settings.model_name_prefix or ""
    listed = [s for s in summaries if str(s.get("modelName", "")).startswith(prefix)]
    listed.sort(key=lambda s: (_timestamp(s.get("creationTime")), str(s.get("modelName"))), reverse=True)
    active = 0
    for summary in listed:
        arn, name = str(summary["modelArn"]), str(summary.get("modelName"))
        plan.names[arn] = name
        tags = tags_of(arn)
        if not settings.is_member(name, tags):
            if name.startswith(settings.name_filter):
                plan.foreign.append(arn)
            continue
        status = str(summary.get("modelStatus") or ACTIVE)
        if status not in (ACTIVE, FAILED):
            _keep(plan, arn, f"{status}: a model is touched only once it is Active or Failed")
        elif status == ACTIVE and active < settings.keep_last:
            active += 1
            _keep(plan, arn, f"one of the newest {settings.keep_last} Active models")
        elif carries(tags, settings.keep_tags):
            _keep(plan, arn, f"carries {settings.keep_tags}")
        elif arn in protected:
            _keep(plan, arn, protected[arn])
        else:
            servings = served_by(arn)
            why = _why_not_deleted(servings, settings, now)
            if why:
                plan.skipped.append({"arn": arn, "reason": why})
            else:
                base = str(summary.get("baseModelArn") or "")
                plan.removals.append(Removal(arn, name, _arns(servings), True, base))
                if status == FAILED:
                    plan.notes.append(f"{name} is Failed: it does not count toward keep_last and is deleted")
    _plan_undeployments(plan, settings, tags_of, served_by, undeploy or {}, now)
    return plan


def _keep(plan: RetentionPlan, arn: str, reason: str) -> None:
    plan.kept.append(arn)
    plan.reasons[arn] = reason


def _arns(servings: Iterable[Serving]) -> tuple[tuple[ResourceKind, str], ...]:
    # Throughputs first: the one that may still refuse goes before anything else of the model is gone.
    ordered = sorted(servings, key=lambda serving: serving[0] is not PROVISIONED_THROUGHPUT)
    return tuple((kind, arn) for kind, arn, _ in ordered)


def _why_not_deleted(servings: list[Serving], settings: RetentionSettings, now: float) -> str | None:
    if servings and not settings.delete_deployments:
        return f"served by {', '.join(arn for _, arn, _ in servings)} and delete_deployments=False"
    blocked = [why for kind, arn, summary in servings if (why := blocked_reason(kind, arn, summary, now))]
    if blocked:
        return "; ".join(blocked) + " (its deployments are kept with it)"
    return None


def _plan_undeployments(
    plan: RetentionPlan,
    settings: RetentionSettings,
    tags_of: Callable[[str], Mapping[str, str]],
    served_by: Callable[[str], list[Serving]],
    undeploy: Mapping[str, Mapping[str, Any] | None],
    now: float,
) -> None:
    """The deployments of ``undeploy_models`` go even though the model stays (unless it carries
    ``keep_tags``); every entry is checked before the plan is returned."""
    problems: list[Problem] = []
    chosen: list[Removal] = []
    already = {removal.model_arn for removal in plan.removals}
    for entry in settings.undeploy_models:
        found = undeploy.get(entry)
        if found is None:
            plan.notes.append(f"No custom model {entry}: nothing to undeploy")
            continue
        name, arn = str(found["modelName"]), str(found["modelArn"])
        tags = tags_of(arn)
        if not settings.is_member(name, tags):
            problems.append(
                Problem(
                    "undeploy_models",
                    entry,
                    f"{name} is not of {settings.family_text}: retention touches only the family's models",
                )
            )
            continue
        if arn in already or any(removal.model_arn == arn for removal in chosen):
            continue
        if carries(tags, settings.keep_tags):
            plan.notes.append(f"Leaving {name} deployed: it carries {settings.keep_tags}")
            continue
        servings = []
        for kind, serving_arn, summary in served_by(arn):
            why = blocked_reason(kind, serving_arn, summary, now)
            if why:
                plan.skipped.append({"arn": serving_arn, "reason": why})
            else:
                servings.append((kind, serving_arn, summary))
        if servings:
            chosen.append(Removal(arn, name, _arns(servings), False))
    if problems:
        raise RetentionRefused(problems)
    # Undeployments first, as a run carries them out: the removals are listed in the order they happen.
    plan.removals[:0] = chosen
