"""The Amazon provider's BedrockCustomizeModelOperator and sensor parameters, in this provider's terms.

A DAG moved over from ``airflow.providers.amazon.aws`` keeps its arguments; these functions say what
each means here. Where the Amazon semantics are weaker, the name is kept and the meaning is the
stronger one (README, "Moving over from the Amazon provider"):

- ``ensure_unique_job_name`` renames around a job of the same name that is not this task
  instance's (the custom model gets the same suffix), and never renames a retry of the same task
  instance: the retry adopts its own job.
- ``waiter_max_attempts`` (``max_retries`` for the sensor) times the delay becomes ``max_wait``, and
  only when given: without it the wait lasts as long as the job runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.request.customization import CustomizationRequest
from bedrock_provider.core.request.fields import parse_mapping
from bedrock_provider.core.values import parse_flag
from bedrock_provider.core.waiting import states

# Amazon's defaults, kept so that a DAG that relied on them polls at the same pace.
AMAZON_WAITER_DELAY = 120
AMAZON_POKE_INTERVAL = 120

# customization_job_kwargs keys that are parameters of BedrockModelCustomizationOperator: the Amazon
# operator passes them through to the API, this provider validates each under its own name.
_API_KEY_TO_PARAMETER = {
    "customizationType": "customization_type",
    "customModelKmsKeyId": "custom_model_kms_key_id",
    "vpcConfig": "vpc_config",
    "jobTags": "job_tags",
    "customModelTags": "custom_model_tags",
}
_PARAMETER_TO_API_KEY = {
    **{parameter: key for key, parameter in _API_KEY_TO_PARAMETER.items()},
    "validation_data_uri": "validationDataConfig",
}
_PARAMETER_DEFAULTS = {"customization_type": "FINE_TUNING"}


def region_name_for(region_name: object, region: object) -> object:
    """The Region of a drop-in class given the Amazon provider's deprecated ``region`` beside
    ``region_name``.

    The Amazon provider's AWS operators and sensors take ``region`` as well as ``region_name``
    (airflow/providers/amazon/aws/operators/base_aws.py and sensors/base_aws.py, "Required for
    `.partial` signature check"). Its 8.x releases read ``region`` as ``region_name`` with a deprecation
    warning ("`region` is deprecated and will be removed in the future. Please use `region_name`
    instead."); 9.x takes it and drops it. Here it is read as ``region_name``, with that deprecation:
    dropping it would send the job to another Region than the DAG names, a silent wrong result. Given
    with a different ``region_name``, it is refused.
    """
    if region is None:
        return region_name
    warnings.warn(
        f"region={region!r} is deprecated, as in the Amazon provider: use region_name={region!r}",
        DeprecationWarning,
        stacklevel=3,
    )
    if region_name is not None and region_name != region:
        raise ValueError(
            f"region={region!r} and region_name={region_name!r} name different Regions; give region_name "
            "only (region is its deprecated name)"
        )
    return region


def if_job_exists_for(ensure_unique_job_name: object) -> str:
    """The submission policy ``ensure_unique_job_name`` stands for (a rendered template may be text).

    True: adopt this task instance's own job; submit under the next suffix when the name is someone
    else's. False: adopt this task instance's own job; refuse when the name is someone else's (the
    Amazon operator raises on the name conflict).
    """
    problems: list[Problem] = []
    flag = parse_flag(ensure_unique_job_name, "ensure_unique_job_name", problems)
    if problems:
        raise InvalidInputError("Invalid parameter", problems)
    return "reattach_or_rename" if flag else "reattach"


def check_states(value: object, field_name: str) -> tuple[str, ...]:
    """A sensor's success or failure statuses: job statuses Bedrock reports, so none silently never
    matches."""
    known = sorted(states.RUNNING_STATES | states.TERMINAL_STATES)
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset) or not items:
        raise ValueError(f"{field_name}={value!r}: must be a list of job statuses, some of {known}")
    unknown = [item for item in items if item not in known]
    if unknown:
        raise ValueError(f"{field_name}={value!r}: {unknown} are not job statuses; Bedrock reports {known}")
    return tuple(items)


def max_wait_for(delay: object, max_attempts: object, delay_name: str, attempts_name: str) -> float | None:
    """``max_attempts`` checks ``delay`` seconds apart, as a maximum wait in seconds; None without a cap."""
    if max_attempts is None:
        return None
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise ValueError(
            f"{attempts_name}={max_attempts!r}: must be a whole number of checks, at least 1, or None "
            "to wait as long as the job runs"
        )
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay <= 0:
        raise ValueError(f"{delay_name}={delay!r}: must be a number of seconds greater than 0")
    return float(max_attempts) * float(delay)


def with_api_kwargs(request: CustomizationRequest) -> CustomizationRequest:
    """The request with Amazon's ``customization_job_kwargs`` keys moved to this provider's parameters.

    validationDataConfig, customizationType, customModelKmsKeyId, vpcConfig, jobTags and
    customModelTags are validated under their own names. The rest stays in customization_job_kwargs,
    where a key the operator sets itself (jobName...) or the API does not know is refused by name; so
    is clientRequestToken, which is derived from the task instance here.
    """
    problems: list[Problem] = []
    mapping = parse_mapping(request.customization_job_kwargs, "customization_job_kwargs", problems)
    rest = dict(mapping or {})
    moved: dict[str, Any] = {}
    for key in [key for key in _API_KEY_TO_PARAMETER if key in rest]:
        moved[_API_KEY_TO_PARAMETER[key]] = rest.pop(key)
    if "validationDataConfig" in rest:
        config = rest.pop("validationDataConfig")
        uris = _validator_uris(config)
        if uris is None:
            problems.append(
                Problem(
                    "customization_job_kwargs.validationDataConfig",
                    config,
                    "must be {'validators': [{'s3Uri': 's3://bucket/validation.jsonl'}, ...]}",
                )
            )
        moved["validation_data_uri"] = uris
    if "clientRequestToken" in rest:
        problems.append(
            Problem(
                "customization_job_kwargs.clientRequestToken",
                rest.pop("clientRequestToken"),
                "is derived from the task instance here (dag_id, task_id, run_id, map_index), so that a "
                "retry finds the job an earlier try submitted; remove it",
            )
        )
    for parameter, value in moved.items():
        given = getattr(request, parameter)
        if given not in (None, _PARAMETER_DEFAULTS.get(parameter)) and given != value:
            problems.append(
                Problem(
                    f"customization_job_kwargs.{_PARAMETER_TO_API_KEY[parameter]}",
                    value,
                    f"differs from {parameter}={given!r}; give it once",
                )
            )
    if problems:
        raise InvalidInputError("Invalid Bedrock model customization request", problems)
    return replace(request, customization_job_kwargs=rest, **moved)


def _validator_uris(config: object) -> list[str] | None:
    if not isinstance(config, Mapping) or set(config) != {"validators"}:
        return None
    validators = config["validators"]
    if not isinstance(validators, list | tuple):
        return None
    uris = []
    for validator in validators:
        if not isinstance(validator, Mapping) or set(validator) != {"s3Uri"}:
            return None
        uris.append(validator["s3Uri"])
    return uris
