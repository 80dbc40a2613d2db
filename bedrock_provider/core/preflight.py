"""The whole of a run's configuration checked in seconds, before a job that takes hours is submitted.

A trigger form validates each field on its own; what only the combination shows (the chosen base
model's own hyperparameter ranges, a quality gate that needs data the run does not have) is checked
here, with every problem named at once.
"""

from __future__ import annotations

from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.request import CustomizationRequest, ValidatedRequest


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


def check_customization_conf(
    request: CustomizationRequest, max_validation_loss: object = None
) -> ValidatedRequest:
    """The request as the operator will send it, plus the gate; raises InvalidInputError listing every
    problem (nothing is sent to AWS)."""
    problems = gate_problems(max_validation_loss, request.validation_data_uri)
    try:
        validated = request.validate()
    except InvalidInputError as error:
        raise InvalidInputError("The run's configuration", [*error.problems, *problems]) from None
    if problems:
        raise InvalidInputError("The run's configuration", problems)
    return validated
