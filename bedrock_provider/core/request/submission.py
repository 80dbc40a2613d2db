"""Exactly-once submission: what to do when the job name a task asks for is already taken.

Every try of one task instance derives the same owner part of the clientRequestToken (see
``TaskIdentity``), so a retry, a cleared task or a re-run backfill can tell its own earlier job from a
stranger's by the token Bedrock returns in GetModelCustomizationJob. Owning a job is not enough to
adopt it: the job must also be the one the request asks for (``request_differences``), or a DAG
edited between two runs of one task instance would silently get the old job back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

from bedrock_provider.core.errors import JobConflictError
from bedrock_provider.core.names import TaskIdentity, attempt_name
from bedrock_provider.core.waiting.states import ADOPTABLE_STATES

if TYPE_CHECKING:
    from bedrock_provider.core.request.customization import ValidatedRequest

REATTACH = "reattach"
RESUBMIT_ON_CHANGE = "resubmit_on_change"
RENAME = "rename"
FAIL = "fail"
# The drop-in operator's ensure_unique_job_name: adopt this task instance's own job wherever it is in
# the family, else submit under the next suffix.
REATTACH_OR_RENAME = "reattach_or_rename"
IF_JOB_EXISTS_CHOICES = (REATTACH, RESUBMIT_ON_CHANGE, RENAME, FAIL, REATTACH_OR_RENAME)
MAX_ATTEMPTS = 100
NAMING_HINT = "'{{ ti | bedrock_job_name }}'"

Description = dict[str, Any]


@dataclass(frozen=True)
class Difference:
    """One way an existing job differs from the request, named by the operator's parameter."""

    field: str
    job_value: object
    requested: object

    def __str__(self) -> str:
        return f"{self.field}: the job has {self.job_value!r}, this task asks for {self.requested!r}"


@dataclass(frozen=True)
class SubmissionPlan:
    """Adopt an existing job, or submit attempt ``attempt`` under ``job_name``."""

    action: Literal["adopt", "submit"]
    attempt: int
    job_name: str
    reason: str
    existing: Description | None = None


def check_if_job_exists(value: object) -> None:
    if value not in IF_JOB_EXISTS_CHOICES:
        raise ValueError(f"if_job_exists={value!r}: must be one of {', '.join(IF_JOB_EXISTS_CHOICES)}")


# ------------------------------------------------------------------------------ comparing a job


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def same_value(left: object, right: object) -> bool:
    """Equal as Bedrock would read them: "2" equals 2 and "1e-5" equals 0.00001; text is exact."""
    left_number, right_number = _number(left), _number(right)
    if left_number is not None and right_number is not None:
        return left_number == right_number
    return str(left).strip() == str(right).strip()


def _canonical(value: object) -> object:
    """A JSON-like value with numbers (and numeric text) made comparable, for deep comparison."""
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    number = _number(value) if isinstance(value, int | float | str) else None
    return number.normalize() if number is not None else value


def _model_part(identifier: str) -> str:
    """'amazon.x-v1:0:8k' from an id or a foundation-model ARN; a custom model ARN's resource otherwise."""
    if identifier.startswith("arn:"):
        return identifier.split(":", 5)[-1].removeprefix("foundation-model/")
    return identifier


def base_model_matches(job_base_arn: object, requested: str, resolved: Collection[str] = ()) -> bool:
    """Whether the job's baseModelArn is the model ``requested`` names.

    An id matches its own ARN with or without a version qualifier ('amazon.x-v1' and
    'amazon.x-v1:0:8k'); a custom model name matches through ``resolved`` (its ARN and base ARN).
    """
    if not isinstance(job_base_arn, str) or not job_base_arn:
        return False
    if job_base_arn == requested or job_base_arn in resolved:
        return True
    job_model, wanted = _model_part(job_base_arn), _model_part(requested)
    return job_model == wanted or job_model.startswith(wanted + ":") or wanted.startswith(job_model + ":")


def kms_key_matches(job_key_arn: object, requested: str | None, resolved: str | None = None) -> bool:
    """Whether the job's outputModelKmsKeyArn is the key ``requested`` names (ARN, key id or alias)."""
    if not requested or not job_key_arn:
        return not requested and not job_key_arn
    if not isinstance(job_key_arn, str):
        return False
    if job_key_arn in (requested, resolved):
        return True
    if requested.startswith("arn:"):
        return False
    return job_key_arn.endswith((":" + requested, "/" + requested))


def _vpc_sets(config: object) -> dict[str, frozenset[str]] | None:
    if not isinstance(config, Mapping) or not config:
        return None
    return {key: frozenset(map(str, config.get(key) or ())) for key in ("subnetIds", "securityGroupIds")}


def _hyperparameter_differences(
    job: Mapping[str, Any], requested: Mapping[str, str], default_of: Callable[[str], object]
) -> list[Difference]:
    differences = []
    for name in sorted(set(job) | set(requested)):
        where = f"hyperparameters.{name}"
        if name in job and name in requested:
            if not same_value(job[name], requested[name]):
                differences.append(Difference(where, job[name], requested[name]))
        elif name in requested:
            differences.append(Difference(where, None, requested[name]))
        else:
            default = default_of(name)
            # Bedrock may report a default it filled in; that is what leaving it out asks for too.
            if default is None or not same_value(job[name], default):
                differences.append(Difference(where, job[name], None))
    return differences


def request_differences(
    job: Mapping[str, Any],
    request: ValidatedRequest,
    resolve_base_model: Callable[[str], Collection[str]] | None = None,
    resolve_kms_key: Callable[[str], str | None] | None = None,
) -> list[Difference]:
    """How the job (a GetModelCustomizationJob description) differs from what ``request`` asks for.

    Compared: base model, customization type, training, validation and output URIs,
    hyperparameters (as numbers where both are numbers), customizationConfig, VPC config and KMS
    key. Names, tags and the role are not: they do not change the model the job makes. The
    resolvers are asked only when a plain comparison cannot tell (a custom model given by name, a KMS
    key given by alias).
    """
    # Here, not at the top: the evaluation operator imports this module when a DAG file is parsed, and
    # the model catalog is not needed there.
    from bedrock_provider.core.catalog import family_for, table_for

    differences: list[Difference] = []
    job_base = job.get("baseModelArn")
    if not base_model_matches(job_base, request.base_model_id) and not (
        resolve_base_model is not None
        and base_model_matches(job_base, request.base_model_id, resolve_base_model(request.base_model_id))
    ):
        differences.append(Difference("base_model_id", job_base, request.base_model_id))

    job_type = job.get("customizationType") or "FINE_TUNING"
    if job_type != request.customization_type:
        differences.append(Difference("customization_type", job_type, request.customization_type))

    job_training_config = job.get("trainingDataConfig") or {}
    job_training = job_training_config.get("s3Uri")
    if job_training != request.training_data_uri:
        differences.append(Difference("training_data_uri", job_training, request.training_data_uri))
    job_logs = job_training_config.get("invocationLogsConfig")
    if _canonical(job_logs) != _canonical(request.invocation_logs):
        differences.append(Difference("invocation_logs", job_logs, request.invocation_logs))

    validators = (job.get("validationDataConfig") or {}).get("validators") or []
    job_validation = [v.get("s3Uri") for v in validators if isinstance(v, Mapping)]
    if job_validation != list(request.validation_data_uris):
        differences.append(
            Difference(
                "validation_data_uri", job_validation or None, list(request.validation_data_uris) or None
            )
        )

    job_output = (job.get("outputDataConfig") or {}).get("s3Uri")
    if str(job_output or "").rstrip("/") != request.output_data_uri.rstrip("/"):
        differences.append(Difference("output_data_uri", job_output, request.output_data_uri))

    family = family_for(request.base_model_id)
    table = table_for(family, request.customization_type) if family is not None else {}

    def default_of(name: str) -> object:
        spec = table.get(name)
        return spec.default if spec is not None else None

    job_hyperparameters = dict(job.get("hyperParameters") or {})
    differences.extend(_hyperparameter_differences(job_hyperparameters, request.hyperparameters, default_of))

    job_config = job.get("customizationConfig") or None
    wanted_config = request.extra.get("customizationConfig") or None
    if _canonical(job_config) != _canonical(wanted_config):
        where = "customization_job_kwargs.customizationConfig"
        differences.append(Difference(where, job_config, wanted_config))

    if _vpc_sets(job.get("vpcConfig")) != _vpc_sets(request.vpc_config):
        differences.append(Difference("vpc_config", job.get("vpcConfig") or None, request.vpc_config))

    job_key = job.get("outputModelKmsKeyArn")
    wanted_key = request.custom_model_kms_key_id
    if not kms_key_matches(job_key, wanted_key) and not (
        resolve_kms_key is not None
        and wanted_key
        and kms_key_matches(job_key, wanted_key, resolve_kms_key(wanted_key))
    ):
        differences.append(Difference("custom_model_kms_key_id", job_key, wanted_key))
    return differences


# --------------------------------------------------------------------------------- the plan


def _job_label(description: Description) -> str:
    return f"'{description.get('jobName')}' ({description.get('jobArn')}, status {description.get('status')})"


def _listed(differences: list[Difference]) -> str:
    return "".join(f"\n  - {difference}" for difference in differences)


def plan_submission(
    base_job_name: str,
    identity: TaskIdentity,
    if_job_exists: str,
    find_job: Callable[[str], Description | None],
    differences: Callable[[Description], list[Difference]] | None = None,
) -> SubmissionPlan:
    """Decide between adopting and submitting, from the jobs that exist under the name's family.

    ``find_job(name)`` returns the GetModelCustomizationJob description, or None when no job has
    that name. The family is probed in order (name, name-r2, name-r3, ...) so the next attempt is
    derived from what exists, never from try_number: a worker that died right after submitting
    attempt N has its job found, and adopted, by the next try. ``differences(job)`` says how a job
    differs from the request (see request_differences); a job that differs is never adopted.
    """
    check_if_job_exists(if_job_exists)
    compare = differences or (lambda _job: [])

    family: list[Description] = []
    attempt = 1
    while attempt <= MAX_ATTEMPTS:
        found = find_job(attempt_name(base_job_name, attempt))
        if found is None:
            break
        family.append(found)
        attempt += 1
    else:
        raise JobConflictError(
            f"Jobs '{base_job_name}' to '{attempt_name(base_job_name, MAX_ATTEMPTS)}' all exist; "
            f"choose a new job_name, e.g. {NAMING_HINT}."
        )

    if not family:
        return SubmissionPlan("submit", 1, base_job_name, "no job of this name exists")
    latest = family[-1]
    latest_attempt = attempt - 1
    next_name = attempt_name(base_job_name, attempt)

    if if_job_exists == FAIL:
        raise JobConflictError(
            f"Job {_job_label(latest)} already exists and if_job_exists='fail'; nothing was submitted. "
            "Use if_job_exists='reattach' to adopt this task's own job, 'rename' to submit under "
            f"'{next_name}', or give each run its own job_name, e.g. {NAMING_HINT} (unique per DAG run, "
            "task and map index, the same on every try)."
        )
    if if_job_exists == RENAME:
        return SubmissionPlan(
            "submit", attempt, next_name, f"if_job_exists='rename' and {_job_label(latest)} exists"
        )

    if if_job_exists == REATTACH_OR_RENAME:
        return _reattach_or_rename(base_job_name, identity, family, compare)

    latest_name = str(latest.get("jobName") or attempt_name(base_job_name, latest_attempt))
    if not identity.owns(latest_name, latest.get("clientRequestToken")):
        changed = compare(latest)
        also = f" It also differs from this request:{_listed(changed)}\n" if changed else " "
        raise JobConflictError(
            f"Job {_job_label(latest)} exists but was not submitted by this task instance "
            f"({identity.describe()}), so it is not adopted; nothing was submitted.{also}"
            "It may be another DAG's job, or another Airflow deployment's run of this DAG (same "
            f"run_id). Give each run its own job_name, e.g. {NAMING_HINT}, or set "
            f"if_job_exists='rename' to submit under '{next_name}'."
        )
    if latest.get("status") not in ADOPTABLE_STATES:
        return SubmissionPlan(
            "submit",
            attempt,
            next_name,
            f"this task instance's earlier job {_job_label(latest)} did not complete; trying again",
        )
    changed = compare(latest)
    if not changed:
        return _adopt(latest, latest_attempt)
    if if_job_exists == RESUBMIT_ON_CHANGE:
        return SubmissionPlan(
            "submit",
            attempt,
            next_name,
            f"this task instance's job {_job_label(latest)} was submitted for a different request "
            f"(if_job_exists='resubmit_on_change'):{_listed(changed)}\n",
        )
    raise JobConflictError(
        f"Job {_job_label(latest)} was submitted by this task instance for a different request, so it "
        f"is not adopted; nothing was submitted. It differs in:{_listed(changed)}\n"
        "Was the DAG edited and the task cleared? To train on this request, set "
        f"if_job_exists='resubmit_on_change' (a fresh job '{next_name}' when the request changed), "
        f"'rename' (always a fresh job), or give the task a new job_name. To keep the existing job, "
        "restore the DAG's earlier values."
    )


def _reattach_or_rename(
    base_job_name: str,
    identity: TaskIdentity,
    family: list[Description],
    compare: Callable[[Description], list[Difference]],
) -> SubmissionPlan:
    """Adopt this task instance's own job wherever it is in the family, when it asks for what the
    request asks; submit under the next suffix when the only jobs are someone else's, or ours did not
    complete or was submitted for a different request."""
    attempt = len(family) + 1
    ours = [
        (number, job)
        for number, job in enumerate(family, start=1)
        if identity.owns(
            str(job.get("jobName") or attempt_name(base_job_name, number)), job.get("clientRequestToken")
        )
    ]
    if ours:
        number, job = ours[-1]
        changed = compare(job) if job.get("status") in ADOPTABLE_STATES else []
        if job.get("status") in ADOPTABLE_STATES and not changed:
            return _adopt(job, number)
        if changed:
            label = _job_label(job)
            reason = (
                f"this task instance's job {label} was submitted for a different request:{_listed(changed)}\n"
            )
        else:
            reason = f"this task instance's earlier job {_job_label(job)} did not complete; trying again"
    else:
        reason = f"job {_job_label(family[-1])} is not this task instance's; submitting under a new suffix"
    return SubmissionPlan("submit", attempt, attempt_name(base_job_name, attempt), reason)


def _adopt(job: Description, attempt: int) -> SubmissionPlan:
    return SubmissionPlan(
        "adopt",
        attempt,
        str(job.get("jobName")),
        f"this task instance's job {_job_label(job)} is adopted instead of submitting again",
        existing=job,
    )
