"""The whole of a run's configuration checked in seconds, before a job that takes hours is submitted.

A trigger form validates each field on its own; what only the combination shows (the chosen base
model's own hyperparameter ranges, a quality gate that needs data the run does not have) is checked
here, with every problem named at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bedrock_provider.core.errors import InvalidInputError, MissingDataError, Problem
from bedrock_provider.core.names import sanitize_name
from bedrock_provider.core.request.customization import CustomizationRequest, ValidatedRequest


def gate_problems(max_validation_loss: object, validation_data_uri: object) -> list[Problem]:
    """A validation-loss gate on a job with no validation data can never pass: the job would train to
    completion and only then fail on metrics it never had."""
    if max_validation_loss is None or max_validation_loss == "":
        return []
    if validation_data_uri:
        return []
    return [
        Problem(
            "max_validation_loss",
            max_validation_loss,
            "a validation-loss limit needs validation data, and validation_data_uri is empty: the job would "
            "train to completion and then fail this gate. Give validation_data_uri, or leave "
            "max_validation_loss empty.",
        )
    ]


def evaluation_problems(conf: Mapping[str, Any]) -> list[Problem]:
    """With evaluation asked for, the fields the form leaves optional (when it is not) must be given."""
    if not conf.get("evaluate"):
        return []
    needed = {
        "evaluation_task_type": "pick the task the evaluation prompts ask for",
        "evaluation_dataset_uri": "give the S3 URI of the evaluation prompts",
    }
    return [
        Problem(field, conf.get(field), f"'Deploy and evaluate' is on and this is empty: {fix}, or untick it")
        for field, fix in needed.items()
        if not conf.get(field)
    ]


def form_request(
    conf: Mapping[str, Any], run_id: str, region_name: str | None, model_checks: object
) -> CustomizationRequest:
    """The request a customization form's conf makes, as the customize task will send it: the job and
    model named after the run when the form leaves them empty, empty hyperparameters and tags as none
    (the model's own defaults), and the Region the job will run in (the connection's), so that the
    catalog checks the model there exactly as the customize task does."""
    job_name = conf.get("job_name") or sanitize_name(run_id)
    return CustomizationRequest(
        job_name=job_name,
        custom_model_name=conf.get("custom_model_name") or sanitize_name(job_name),
        role_arn=conf.get("role_arn"),
        base_model_id=conf.get("base_model_id"),
        customization_type=conf.get("customization_type", "FINE_TUNING"),
        training_data_uri=conf.get("training_data_uri"),
        validation_data_uri=conf.get("validation_data_uri") or None,
        output_data_uri=conf.get("output_data_uri"),
        hyperparameters=conf.get("hyperparameters") or None,
        job_tags=conf.get("job_tags") or None,
        region_name=region_name,
        model_checks=model_checks,
    )


def check_customization_conf(
    request: CustomizationRequest, max_validation_loss: object = None, conf: Mapping[str, Any] | None = None
) -> ValidatedRequest:
    """The request as the operator will send it, plus the gate (and, given the form's ``conf``, its
    evaluation fields); raises InvalidInputError listing every problem (nothing is sent to AWS)."""
    problems = gate_problems(max_validation_loss, request.validation_data_uri)
    problems += evaluation_problems(conf or {})
    try:
        validated = request.validate()
    except InvalidInputError as error:
        raise InvalidInputError("The run's configuration", [*error.problems, *problems]) from None
    if problems:
        raise InvalidInputError("The run's configuration", problems)
    return validated


# What a look at an S3 object can tell: it is there, it is not, or this connection cannot tell. S3
# answers HeadObject on a missing key with 404 when the caller may list the bucket and with 403 when it
# may not (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html): only a 404 proves the
# object is missing. A 403 is left to Bedrock, which reads the data with the job's service role.
PRESENT = "present"
MISSING = "missing"
CANNOT_TELL = "cannot_tell"


def check_data_objects(
    training_data_uri: str | None, validation_data_uris: tuple[str, ...], look: Callable[[str], str]
) -> list[str]:
    """Raise MissingDataError naming every data object of the job that does not exist (Bedrock would
    fail the job in its validation stage, after it was submitted and paid for); return a warning for
    each one this connection cannot see. ``look(uri)`` gives PRESENT, MISSING or CANNOT_TELL."""
    problems: list[Problem] = []
    warnings: list[str] = []
    # No training file when the job trains on invocation logs (core/request/invocation_logs.py).
    named = [("training_data_uri", training_data_uri)] if training_data_uri is not None else []
    many = len(validation_data_uris) > 1
    named += [
        (f"validation_data_uri[{index}]" if many else "validation_data_uri", uri)
        for index, uri in enumerate(validation_data_uris)
    ]
    for field, uri in named:
        found = look(uri)
        if found == MISSING:
            problems.append(
                Problem(
                    field,
                    uri,
                    "no object exists at that S3 URI (S3 answered 404), so Bedrock would fail the job: "
                    "upload the file first, or fix the URI (a template that rendered another date?)",
                )
            )
        elif found == CANNOT_TELL:
            warnings.append(
                f"{field}={uri!r}: this connection may not read it (S3 answered 403), so whether it "
                "exists is left to Bedrock, which reads it with the job's service role"
            )
    if problems:
        raise MissingDataError("The job's data", problems)
    return warnings
