"""Which custom models are ours: the ownership tags the customization operator writes and retention reads.

A custom model is ours when it carries both ``airflow:model-family=<family>`` and
``airflow:namespace=<this Airflow deployment's namespace>``. A name proves nothing (a manual run or
another team may name a model anything, and one prefix may begin another family's names); the tags are
written when the model is created, through CreateModelCustomizationJob's ``customModelTags``, the way
the job's clientRequestToken already proves which job is ours.
"""

from __future__ import annotations

from collections.abc import Mapping

from bedrock_provider.core.errors import Problem
from bedrock_provider.core.request.fields import MAX_TAGS, TAG_PATTERN, check_text

MODEL_FAMILY_TAG = "airflow:model-family"
NAMESPACE_TAG = "airflow:namespace"
# botocore's bedrock TagValue shape: 0-256 characters of [a-zA-Z0-9\s._:/=+@-].
MAX_TAG_VALUE_LENGTH = 256


def check_model_family(value: object, field_name: str, problems: list[Problem]) -> str | None:
    """A family name: text that is a valid tag value (botocore's TagValue), not empty. None stays None
    (no family); a template that rendered nothing or "None" is refused, not taken as no family."""
    if value is None:
        return None
    text = check_text(value, field_name, problems)
    if text is None:
        return None
    if len(text) > MAX_TAG_VALUE_LENGTH or TAG_PATTERN.fullmatch(text) is None:
        problems.append(
            Problem(
                field_name,
                text,
                f"is the value of the tag {MODEL_FAMILY_TAG}: at most {MAX_TAG_VALUE_LENGTH} letters, "
                "digits, spaces or ._:/=+@- (e.g. 'support-bot')",
            )
        )
        return None
    return text


def check_namespace(value: object, problems: list[Problem]) -> str:
    """This deployment's namespace as a tag value (it may be empty: no deployment to tell apart)."""
    text = "" if value is None else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH or TAG_PATTERN.fullmatch(text) is None:
        problems.append(
            Problem(
                "[bedrock] deployment_namespace",
                text,
                f"is the value of the tag {NAMESPACE_TAG}: at most {MAX_TAG_VALUE_LENGTH} letters, digits, "
                "spaces or ._:/=+@-; set another in airflow.cfg or the Variable bedrock_deployment_namespace",
            )
        )
    return text


def ownership_tags(family: str, namespace: str) -> dict[str, str]:
    return {MODEL_FAMILY_TAG: family, NAMESPACE_TAG: namespace}


def with_ownership_tags(
    tags: list[dict[str, str]], family: object, namespace: object, field_name: str, problems: list[Problem]
) -> list[dict[str, str]]:
    """The user's tags (Bedrock's list of key/value) plus ours when a family is given; a user tag that
    sets one of our keys to another value is refused, naming both values."""
    checked = check_model_family(family, "model_family", problems)
    if checked is None:
        return tags
    ours = ownership_tags(checked, check_namespace(namespace, problems))
    for tag in tags:
        key, value = tag["key"], tag["value"]
        if key in ours and value != ours[key]:
            problems.append(
                Problem(
                    f"{field_name}[{key!r}]",
                    value,
                    f"collides with the ownership tag {key}={ours[key]!r} that model_family sets; remove "
                    f"it from {field_name} (retention reads {key} to tell our models from others)",
                )
            )
    merged = [tag for tag in tags if tag["key"] not in ours]
    merged += [{"key": key, "value": value} for key, value in ours.items()]
    if len(merged) > MAX_TAGS:
        problems.append(
            Problem(
                field_name, f"{len(merged)} tags", f"Bedrock keeps at most {MAX_TAGS} tags, ours included"
            )
        )
    return merged


def is_owned(tags: Mapping[str, str], family: str, namespace: str) -> bool:
    """Whether a resource's tags prove it is of this family and this deployment."""
    return tags.get(MODEL_FAMILY_TAG) == family and tags.get(NAMESPACE_TAG) == namespace
