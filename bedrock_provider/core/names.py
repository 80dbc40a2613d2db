"""Bedrock's naming rules for jobs and custom models, the name sanitizer, and idempotency tokens.

Patterns are those of the CreateModelCustomizationJob API reference:
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelCustomizationJob.html
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MAX_NAME_LENGTH = 63
JOB_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*")
CUSTOM_MODEL_NAME_PATTERN = re.compile(r"([0-9a-zA-Z][_-]?)+")

# Job names may also hold '+' and '.', custom model names '_': a name made of letters, digits and
# single '-' is valid for both, so the sanitizer produces only that.
_NOT_NAME_CHARACTERS = re.compile(r"[^a-zA-Z0-9]+")
_RETRY_SUFFIX = re.compile(r"^(?P<base>.+)-r(?P<attempt>[2-9]|[1-9][0-9]+)$")

JOB_NAME_CHARACTERS = "letters, digits, '-', '+' and '.' (starting with a letter or digit)"
CUSTOM_MODEL_NAME_CHARACTERS = "letters, digits, and single '-' or '_' between them"


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

    The base is shortened when the suffix would make the name longer than Bedrock allows.
    """
    if attempt < 1:
        raise ValueError(f"attempt must be at least 1, got {attempt}")
    if attempt == 1:
        return base
    suffix = f"-r{attempt}"
    return base[: MAX_NAME_LENGTH - len(suffix)].rstrip("-_.+") + suffix


def parse_attempt(name: str) -> tuple[str, int]:
    """Split ``base-rN`` into (base, N); a name without a retry suffix is attempt 1."""
    match = _RETRY_SUFFIX.match(name)
    if match is None:
        return name, 1
    return match.group("base"), int(match.group("attempt"))


@dataclass(frozen=True)
class TaskIdentity:
    """What makes a task instance's job its own: the same for every try of the same task instance."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int = -1

    def client_request_token(self, attempt: int = 1) -> str:
        """Deterministic clientRequestToken of the ``attempt``-th job this task instance submits.

        try_number is deliberately not part of it: every try of one task instance must find the job
        an earlier try submitted.
        """
        key = "\x1f".join([self.dag_id, self.task_id, self.run_id, str(self.map_index), str(attempt)])
        return "airflow-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:48]
