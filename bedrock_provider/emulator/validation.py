"""Request validation as Bedrock answers it, with the constraints read from botocore's model of the API.

Bedrock checks a request against its model before anything else and answers every broken constraint
at once, in one ValidationException, in the AWS style:

    1 validation error detected: Value 'bad_name!' at 'jobName' failed to satisfy constraint:
    Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9\\+\\-\\.])*

``check_input`` does the same for any operation: patterns, lengths, enums, list sizes and required
members come from the shapes in botocore's ``bedrock`` service model, so they are written nowhere
here. What the model cannot say (the emulator's lifecycle tags, list parameters) follows.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bedrock_provider.emulator.errors import validation_error
from bedrock_provider.emulator.models import (
    OUTCOMES,
    TAG_DURATION,
    TAG_FAILURE_MESSAGE,
    TAG_FINAL_LOSS,
    TAG_FINAL_VALIDATION_LOSS,
    TAG_OUTCOME,
)

MAX_TAGS = 200
# "Don't use aws:, AWS:, or any upper or lowercase combination of such as a prefix for keys: it is
# reserved for AWS use" (Tag naming limits and requirements,
# https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions).
RESERVED_TAG_PREFIX = "aws:"
# A failure message may need punctuation that AWS's TagValue pattern refuses; this prefix carries it
# base64-encoded (whose alphabet the pattern allows), so the same tag is valid on AWS.
BASE64_PREFIX = "base64:"


@functools.cache
def service_model(service: str = "bedrock") -> Any:
    """botocore's model of a service: "bedrock" (the control plane) or "bedrock-runtime"."""
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def shape_pattern(shape_name: str) -> re.Pattern[str]:
    """The compiled pattern of one of the model's string shapes (e.g. 'JobName')."""
    return _compiled(service_model().shape_for(shape_name).metadata["pattern"])


def _fail(value: object, path: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{value}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: Member must {constraint}"


def _length(value: Any, meta: Mapping[str, Any], path: str, out: list[str]) -> None:
    if "min" in meta and len(value) < meta["min"]:
        out.append(_fail(value, path, f"have length greater than or equal to {meta['min']}"))
    if "max" in meta and len(value) > meta["max"]:
        out.append(_fail(value, path, f"have length less than or equal to {meta['max']}"))


def _violations(value: Any, shape: Any, path: str, out: list[str]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            out.append(_fail(value, path, "be a string"))
            return
        _length(value, meta, path, out)
        if "pattern" in meta and _compiled(meta["pattern"]).fullmatch(value) is None:
            out.append(_fail(value, path, f"satisfy regular expression pattern: {meta['pattern']}"))
        if shape.enum and value not in shape.enum:
            out.append(_fail(value, path, f"satisfy enum value set: [{', '.join(shape.enum)}]"))
    elif kind == "structure":
        if not isinstance(value, Mapping):
            out.append(_fail(value, path, "be an object"))
            return
        for name in shape.required_members:
            if value.get(name) is None:
                out.append(_fail(None, _join(path, name), "not be null"))
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _violations(value[name], member, _join(path, name), out)
    elif kind == "list":
        if not isinstance(value, list):
            out.append(_fail(value, path, "be a list"))
            return
        _length(value, meta, path, out)
        for index, item in enumerate(value, start=1):
            _violations(item, shape.member, f"{path}.{index}.member", out)
    elif kind == "map":
        if not isinstance(value, Mapping):
            out.append(_fail(value, path, "be a map"))
            return
        for key, item in value.items():
            _violations(key, shape.key, f"{path}.key", out)
            _violations(item, shape.value, f"{path}.{key}", out)
    elif kind in ("integer", "float", "double"):
        numeric: tuple[type, ...] = (int,) if kind == "integer" else (int, float)
        if isinstance(value, bool) or not isinstance(value, numeric):
            out.append(_fail(value, path, "be an integer" if kind == "integer" else "be a number"))
            return
        if "min" in meta and value < meta["min"]:
            out.append(_fail(value, path, f"have value greater than or equal to {meta['min']}"))
        if "max" in meta and value > meta["max"]:
            out.append(_fail(value, path, f"have value less than or equal to {meta['max']}"))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def constraint_message(violations: list[str]) -> str:
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(violations)


def check_input(operation: str, params: Mapping[str, Any], service: str = "bedrock") -> None:
    """Raise Bedrock's ValidationException listing every constraint of the model the input breaks."""
    shape = service_model(service).operation_model(operation).input_shape
    violations: list[str] = []
    if shape is not None:
        _violations(params, shape, "", violations)
    if violations:
        raise validation_error(constraint_message(violations))


# --------------------------------------------------------------------- tags


def tag_dict(tags: Any, field_name: str) -> dict[str, str]:
    """Bedrock's list of {key, value} as a dict; the model's constraints were checked already."""
    if tags is None:
        return {}
    out: dict[str, str] = {}
    for tag in tags:
        if tag["key"].lower().startswith(RESERVED_TAG_PREFIX):
            raise validation_error(
                f"Invalid tag key {tag['key']!r} in {field_name}: keys starting with {RESERVED_TAG_PREFIX!r} "
                "(in any case) are reserved for AWS use. Choose a key without that prefix."
            )
        out[tag["key"]] = tag["value"]
    if len(out) > MAX_TAGS:
        raise validation_error(f"{field_name} must hold at most {MAX_TAGS} tags.")
    return out


def decode_tag_value(value: str) -> str:
    """A lifecycle tag's value; ``base64:...`` carries text the TagValue pattern would refuse."""
    if not value.startswith(BASE64_PREFIX):
        return value
    try:
        return base64.b64decode(value[len(BASE64_PREFIX) :], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise validation_error(
            f"Invalid tag value {value!r}: after '{BASE64_PREFIX}' give the text base64-encoded (UTF-8)."
        ) from None


def check_emulator_tags(tags: Mapping[str, str]) -> None:
    """The lifecycle controls must make sense; the tags themselves already passed AWS's patterns."""
    outcome = tags.get(TAG_OUTCOME)
    if outcome is not None and outcome not in OUTCOMES:
        raise validation_error(
            f"Invalid tag {TAG_OUTCOME}={outcome!r}: expected one of {', '.join(OUTCOMES)}."
        )
    for key in (TAG_DURATION, TAG_FINAL_LOSS, TAG_FINAL_VALIDATION_LOSS):
        float_tag(tags, key)
    if TAG_FAILURE_MESSAGE in tags:
        decode_tag_value(tags[TAG_FAILURE_MESSAGE])


def float_tag(tags: Mapping[str, str], key: str) -> float | None:
    raw = tags.get(key)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if math.isnan(value) or math.isinf(value) or value < 0 or (key != TAG_DURATION and value == 0):
        raise validation_error(f"Invalid tag {key}={raw!r}: expected a positive number.")
    return value


# --------------------------------------------------------------------- list parameters


def parse_time(params: Mapping[str, str], name: str) -> float | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise validation_error(f"Invalid {name} {raw!r}: expected an ISO 8601 timestamp.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def parse_bool(params: Mapping[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise validation_error(f"Invalid {name} {raw!r}: expected true or false.")
