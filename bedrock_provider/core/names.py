"""Bedrock's naming rules for the resources this provider names, the name sanitizer, and idempotency tokens.

Each rule is the pattern of one shape of botocore's service model of Bedrock
(botocore/data/bedrock/2023-04-20/service-2.json), which the API references repeat, e.g.
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelCustomizationJob.html and
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateEvaluationJob.html. Every one of
these shapes has min 1, max 63.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

MAX_NAME_LENGTH = 63
# JobName (CreateModelCustomizationJob's jobName).
JOB_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*")
# CustomModelName and ModelDeploymentName; ProvisionedModelName's is the same with "+" for "{1,63}".
CUSTOM_MODEL_NAME_PATTERN = re.compile(r"([0-9a-zA-Z][_-]?){1,63}")
# EvaluationJobName (CreateEvaluationJob's jobName): lowercase only.
EVALUATION_JOB_NAME_PATTERN = re.compile(r"[a-z0-9](-*[a-z0-9]){0,62}")

# Job names may also hold '+' and '.', custom model names '_': a name made of letters, digits and
# single '-' is valid for both, so the sanitizer produces only that.
_NOT_NAME_CHARACTERS = re.compile(r"[^a-zA-Z0-9]+")
_RETRY_SUFFIX = re.compile(r"^(?P<base>.+)-r(?P<attempt>[2-9]|[1-9][0-9]+)$")
_RETRY_DIGEST_LENGTH = 6
_SEPARATORS = "-_.+"

JOB_NAME_CHARACTERS = "letters, digits, '-', '+' and '.' (starting with a letter or digit)"
CUSTOM_MODEL_NAME_CHARACTERS = "letters, digits, and single '-' or '_' between them"
EVALUATION_JOB_NAME_CHARACTERS = (
    "lowercase letters, digits and '-' (starting and ending with a letter or digit)"
)


@dataclass(frozen=True)
class NameProblem:
    """Why a name is not valid, with the offending character's position when there is one."""

    message: str
    position: int | None = None


def _describe_character(name: str, index: int) -> str:
    return f"character {name[index]!r} at position {index + 1}"


def _length_problem(name: object) -> NameProblem | None:
    if not isinstance(name, str):
        return NameProblem(f"must be a string, got {type(name).__name__}")
    if not name:
        return NameProblem("must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        return NameProblem(f"is {len(name)} characters long; Bedrock allows at most {MAX_NAME_LENGTH}")
    return None


def job_name_problem(name: object) -> NameProblem | None:
    """Return why ``name`` is not a valid Bedrock job name, or None if it is."""
    if (problem := _length_problem(name)) is not None or not isinstance(name, str):
        return problem
    if not name[0].isascii() or not name[0].isalnum():
        return NameProblem(f"must start with a letter or digit, not {name[0]!r}", 0)
    for index, char in enumerate(name):
        if not (char.isascii() and (char.isalnum() or char in "+-.")):
            return NameProblem(
                f"has {_describe_character(name, index)}; allowed are {JOB_NAME_CHARACTERS}", index
            )
    return None


def custom_model_name_problem(name: object) -> NameProblem | None:
    """Return why ``name`` is not a valid Bedrock custom model name, or None if it is."""
    if (problem := _length_problem(name)) is not None or not isinstance(name, str):
        return problem
    previous_was_separator = True
    for index, char in enumerate(name):
        if char.isascii() and char.isalnum():
            previous_was_separator = False
            continue
        if char in "-_":
            if previous_was_separator:
                where = "start with" if index == 0 else "have two separators in a row at"
                return NameProblem(
                    f"must not {where} {_describe_character(name, index)}; allowed are "
                    f"{CUSTOM_MODEL_NAME_CHARACTERS}",
                    index,
                )
            previous_was_separator = True
            continue
        return NameProblem(
            f"has {_describe_character(name, index)}; allowed are {CUSTOM_MODEL_NAME_CHARACTERS}", index
        )
    return None


def evaluation_job_name_problem(name: object) -> NameProblem | None:
    """Return why ``name`` is not a valid Bedrock evaluation job name, or None if it is."""
    if (problem := _length_problem(name)) is not None or not isinstance(name, str):
        return problem
    for index, char in enumerate(name):
        if not (char.isascii() and (char.isdigit() or char.islower() or char == "-")):
            hint = f" (try {name.lower()!r})" if name != name.lower() else ""
            return NameProblem(
                f"has {_describe_character(name, index)}; allowed are {EVALUATION_JOB_NAME_CHARACTERS}{hint}",
                index,
            )
    for index in (0, len(name) - 1):
        if name[index] == "-":
            return NameProblem(
                f"must start and end with a letter or digit, not '-' at position {index + 1}", index
            )
    return None


@dataclass(frozen=True)
class NameRule:
    """The naming rule of one kind of Bedrock resource: botocore's shape, and its checker."""

    shape: str
    problem: Callable[[object], NameProblem | None]


# The kinds of resource this provider names, by the name a filter or an error message uses.
NAME_RULES: Mapping[str, NameRule] = MappingProxyType(
    {
        "customization_job": NameRule("JobName", job_name_problem),
        "custom_model": NameRule("CustomModelName", custom_model_name_problem),
        "evaluation_job": NameRule("EvaluationJobName", evaluation_job_name_problem),
        "deployment": NameRule("ModelDeploymentName", custom_model_name_problem),
        "provisioned_model": NameRule("ProvisionedModelName", custom_model_name_problem),
    }
)


def name_problem(kind: str, name: object) -> NameProblem | None:
    """Why ``name`` is not a valid name for a resource of ``kind`` (a key of NAME_RULES), or None."""
    return name_rule(kind).problem(name)


def name_rule(kind: object) -> NameRule:
    rule = NAME_RULES.get(kind) if isinstance(kind, str) else None
    if rule is None:
        raise ValueError(
            f"kind={kind!r} is not a kind of resource Bedrock names; use one of {', '.join(NAME_RULES)}"
        )
    return rule


def _short_digest(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def sanitize_name(value: object, max_length: int = MAX_NAME_LENGTH) -> str:
    """Turn any text (a DAG id, a logical date, a run id) into a name valid for jobs and custom models.

    Runs of other characters become one '-'; a name cut to ``max_length`` keeps a short digest of the
    full text, so that two long inputs differing only at the end still give different names.
    """
    if max_length < 8:
        raise ValueError(f"max_length must be at least 8 to leave room for a digest, got {max_length}")
    text = str(value)
    name = _NOT_NAME_CHARACTERS.sub("-", text).strip("-")
    if not name:
        return "x-" + _short_digest(text)
    if len(name) > max_length:
        digest = _short_digest(text)
        name = name[: max_length - len(digest) - 1].rstrip("-") + "-" + digest
    return name


def attempt_name(base: str, attempt: int) -> str:
    """Name of the ``attempt``-th job of a family: ``base``, ``base-r2``, ``base-r3``...

    When ``base-rN`` would be longer than Bedrock allows, the base is cut and a digest of the whole
    base goes before the suffix (``<cut base>-<digest>-rN``): two long bases that differ only at the
    end keep distinct retry names, a base that itself ends in ``-r2`` never names its own retry, and
    ``attempt_of`` maps any retry name back to its base and attempt.
    """
    if attempt < 1:
        raise ValueError(f"attempt must be at least 1, got {attempt}")
    if attempt == 1:
        return base
    suffix = f"-r{attempt}"
    # A base ending in a separator ('-', '_', '.', '+') would make two in a row, which custom model
    # names may not have: such a base takes the digest form too.
    if len(base) + len(suffix) <= MAX_NAME_LENGTH and not base.endswith(tuple(_SEPARATORS)):
        return base + suffix
    digest = "-" + _short_digest(base, _RETRY_DIGEST_LENGTH)
    return base[: MAX_NAME_LENGTH - len(digest) - len(suffix)].rstrip(_SEPARATORS) + digest + suffix


def attempt_of(name: str, base: str) -> int | None:
    """The attempt ``name`` is of ``base``'s family (1 for the base itself), or None if it is not one."""
    if name == base:
        return 1
    _, attempt = parse_attempt(name)
    return attempt if attempt > 1 and attempt_name(base, attempt) == name else None


def parse_attempt(name: str) -> tuple[str, int]:
    """Split ``base-rN`` into (base, N); a name without a retry suffix is attempt 1.

    For a retry name whose base was cut to fit (see attempt_name), the base returned is the cut one;
    ``attempt_of`` checks a name against a known base exactly.
    """
    match = _RETRY_SUFFIX.match(name)
    if match is None:
        return name, 1
    return match.group("base"), int(match.group("attempt"))


# Names made by bedrock_job_name stay this short, so that every retry suffix fits without a cut.
RUN_JOB_NAME_LENGTH = 55
_RUN_DIGEST_LENGTH = 10


def run_job_name(
    dag_id: str,
    task_id: str,
    run_id: str,
    map_index: int | None = -1,
    prefix: str | None = None,
    kind: str | None = None,
) -> str:
    """A name for one task instance of one DAG run: valid, unique and stable.

    Readable parts (``prefix`` or the DAG id, then the run id) are followed by a digest of the whole
    run identity (dag_id, task_id, run_id, map_index), so two runs, two tasks or two mapped instances
    never share a name, every try of one task instance renders the same name, and no logical date is
    needed (runs of Airflow 3 may have none). At most RUN_JOB_NAME_LENGTH characters, so a retry's
    ``-rN`` fits without cutting anything.

    Only lowercase letters, digits and single '-': valid for every kind of NAME_RULES, evaluation jobs
    included (EvaluationJobName takes no uppercase, so the 'T' of a run id is lowered). ``kind``, when
    given, names the resource the name is for and is checked against NAME_RULES.
    """
    rule = None if kind is None else name_rule(kind)
    identity = "\x1f".join([dag_id, task_id, run_id, str(-1 if map_index is None else map_index)])
    digest = _short_digest(identity, _RUN_DIGEST_LENGTH)
    head = sanitize_name(prefix if prefix else dag_id, 63).lower()
    run = _NOT_NAME_CHARACTERS.sub("-", run_id).strip("-").lower()
    room = RUN_JOB_NAME_LENGTH - len(digest) - 1
    head = head[: min(len(head), max(room // 2, room - len(run) - 1))].rstrip("-")
    readable = f"{head}-{run}"[:room].rstrip("-") if run else head
    name = f"{readable}-{digest}"
    if rule is not None and (problem := rule.problem(name)) is not None:
        raise AssertionError(f"run_job_name made {name!r}, which as a {rule.shape} {problem.message}")
    return name


NONE_TEXT = "None"


def renders_none(value: object) -> bool:
    """A field that is None, or the text a template renders for a None value ("None")."""
    return value is None or (isinstance(value, str) and value.strip() == NONE_TEXT)


@dataclass(frozen=True)
class TaskIdentity:
    """What makes a task instance's job its own: the same for every try of the same task instance.

    ``namespace`` tells Airflow deployments apart (see deployment_namespace in the operators): two
    deployments sharing an AWS account and region compute the same run_id for the same schedule, and
    must still never take each other's jobs for their own.
    """

    dag_id: str
    task_id: str
    run_id: str
    map_index: int = -1
    namespace: str = ""

    def owner_digest(self) -> str:
        key = "\x1f".join([self.namespace, self.dag_id, self.task_id, self.run_id, str(self.map_index)])
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:_OWNER_LENGTH]

    def client_request_token(self, job_name: str, request_fingerprint: str) -> str:
        """Deterministic clientRequestToken of the job named ``job_name`` that this task instance submits.

        ``airflow-<owner>-<name>-<request>``: the owner part (deployment and task instance, not the
        try) lets every try find the job an earlier try submitted; the name part means a token is
        never sent again under another job name (Bedrock would answer such a Create with the earlier
        job, whatever its name); the request part means an edited request never gets the earlier
        request's job back from a Create either.
        """
        name_part = _short_digest(job_name, _NAME_PART_LENGTH)
        request_part = hashlib.sha256(request_fingerprint.encode("utf-8")).hexdigest()[:_REQUEST_PART_LENGTH]
        return f"{TOKEN_PREFIX}{self.owner_digest()}-{name_part}-{request_part}"

    def owns(self, job_name: str, token: object) -> bool:
        """Whether a job of this name carrying ``token`` was submitted by this task instance."""
        if not isinstance(token, str):
            return False
        name_part = _short_digest(job_name, _NAME_PART_LENGTH)
        return token.startswith(f"{TOKEN_PREFIX}{self.owner_digest()}-{name_part}-")

    def describe(self) -> str:
        where = f", namespace={self.namespace}" if self.namespace else ""
        return (
            f"dag_id={self.dag_id}, task_id={self.task_id}, run_id={self.run_id}, "
            f"map_index={self.map_index}{where}"
        )


TOKEN_PREFIX = "airflow-"  # noqa: S105 - an idempotency token, not a secret
_OWNER_LENGTH = 32
_NAME_PART_LENGTH = 12
_REQUEST_PART_LENGTH = 16


def job_id_from_arn(job_arn: str) -> str:
    """Bedrock's job id: the last segment of the job ARN (it names the job's output folder)."""
    return job_arn.rsplit("/", 1)[-1]
