"""The fields every Bedrock request shares, each checked by one function: text, S3 URIs, mappings (a
dict or a rendered template holding one), tags and IAM role ARNs.

The customization, deployment, evaluation and dataset requests use them. As in request_fields.py, every
check appends Problems naming the field instead of raising, so that a request reports every bad field at
once. Constraints follow the API reference of each Create call.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from typing import Any

from bedrock_provider.core.errors import Problem
from bedrock_provider.core.names import renders_none
from bedrock_provider.core.s3 import S3_URI_PATTERN
from bedrock_provider.core.values import depth_message, too_deep

ROLE_ARN_PATTERN = re.compile(r"arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+")
TAG_PATTERN = re.compile(r"[a-zA-Z0-9\s._:/=+@-]*")
MAX_TAGS = 200


def _parse_literal(text: str) -> object:
    """A rendered template holding a dict or list: JSON, or the Python literal Jinja renders it to."""
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(text.strip())
        except (ValueError, SyntaxError, RecursionError, MemoryError):
            continue
    return text


def parse_mapping(value: object, field_name: str, problems: list[Problem]) -> dict[str, Any] | None:
    """A dict, or a rendered template holding one (JSON, or a Python literal such as ``{{ params.x }}``
    renders to when the DAG does not render native objects)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        if not value.strip():
            return None
        if too_deep(value):
            problems.append(Problem(field_name, value, depth_message()))
            return None
        parsed = _parse_literal(value)
        if isinstance(parsed, Mapping):
            return dict(parsed)
        problems.append(
            Problem(
                field_name, value, "must be a dict (or a JSON object); the text given does not parse as one"
            )
        )
        return None
    problems.append(Problem(field_name, value, f"must be a dict, got {type(value).__name__}"))
    return None


def check_text(value: object, field_name: str, problems: list[Problem]) -> str | None:
    if renders_none(value):
        problems.append(
            Problem(
                field_name,
                value,
                "is None: a template rendered None (e.g. a missing param or XCom gives the text "
                "'None'), or no value was given; give it a value",
            )
        )
        return None
    if not isinstance(value, str):
        problems.append(Problem(field_name, value, f"must be a string, got {type(value).__name__}"))
        return None
    if not value.strip():
        problems.append(Problem(field_name, value, "must not be empty (did a template render to nothing?)"))
        return None
    if value != value.strip():
        problems.append(Problem(field_name, value, "has leading or trailing white space; remove it"))
        return None
    return value


def check_s3_uri(
    value: object, field_name: str, problems: list[Problem], *, file: bool = False
) -> str | None:
    text = check_text(value, field_name, problems)
    if text is None:
        return None
    if not text.startswith("s3://"):
        problems.append(Problem(field_name, text, "must be an S3 URI starting with 's3://'"))
        return None
    if S3_URI_PATTERN.fullmatch(text) is None:
        problems.append(
            Problem(
                field_name,
                text,
                "is not an S3 URI Bedrock accepts: a lowercase bucket name of 3-63 letters, digits, '.' "
                "and '-', then a key of letters, digits and -!_*'(). separated by '/' (no spaces)",
            )
        )
        return None
    if file and (text.endswith("/") or text.count("/") < 3):
        problems.append(
            Problem(field_name, text, "must point at a file (e.g. s3://bucket/train.jsonl), not a prefix")
        )
        return None
    return text


def parse_tags(value: object, field_name: str, problems: list[Problem]) -> list[dict[str, str]]:
    """Tags as a dict, or as Bedrock's list of {"key", "value"}; returned in Bedrock's shape."""
    if value is None or (isinstance(value, str) and value.strip().startswith(("{", "["))):
        value = _parse_literal(value) if isinstance(value, str) else value
    if value is None or value == "":
        return []
    pairs: list[tuple[object, object]] = []
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, Mapping) and set(item) == {"key", "value"}:
                pairs.append((item["key"], item["value"]))
            else:
                problems.append(
                    Problem(f"{field_name}[{index}]", item, "must be a dict with exactly 'key' and 'value'")
                )
    else:
        problems.append(
            Problem(field_name, value, f"must be a dict of tag names to values, got {type(value).__name__}")
        )
        return []
    if len(pairs) > MAX_TAGS:
        problems.append(Problem(field_name, f"{len(pairs)} tags", f"Bedrock allows at most {MAX_TAGS} tags"))
    tags = []
    for key, tag_value in pairs:
        where = f"{field_name}[{key!r}]"
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or TAG_PATTERN.fullmatch(key) is None:
            problems.append(Problem(where, key, "tag keys must be 1-128 letters, digits, spaces or ._:/=+@-"))
            continue
        if key.lower().startswith("aws:"):
            problems.append(Problem(where, key, "tag keys starting with 'aws:' are reserved by AWS"))
            continue
        if isinstance(tag_value, bool) or not isinstance(tag_value, str | int | float):
            problems.append(Problem(where, tag_value, "tag values must be strings (numbers are converted)"))
            continue
        text = str(tag_value)
        if len(text) > 256 or TAG_PATTERN.fullmatch(text) is None:
            problems.append(
                Problem(where, tag_value, "tag values must be 0-256 letters, digits, spaces or ._:/=+@-")
            )
            continue
        tags.append({"key": key, "value": text})
    return tags


def check_role_arn(value: object, problems: list[Problem]) -> str | None:
    role_arn = check_text(value, "role_arn", problems)
    if role_arn is not None and (len(role_arn) > 2048 or ROLE_ARN_PATTERN.fullmatch(role_arn) is None):
        problems.append(
            Problem(
                "role_arn",
                role_arn,
                "must be an IAM role ARN like 'arn:aws:iam::123456789012:role/BedrockCustomization'",
            )
        )
    return role_arn
