"""TagResource, UntagResource and ListTagsForResource on the tags of any resource the emulator keeps."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bedrock_provider.emulator.errors import BedrockError
from bedrock_provider.emulator.validation import MAX_TAGS


def add_tags(
    target: dict[str, str],
    arn: str,
    new_tags: Mapping[str, str],
    check: Callable[[Mapping[str, str]], None] | None = None,
) -> None:
    """Merge ``new_tags`` into a resource's tags, refusing more than Bedrock keeps; ``check`` the result."""
    merged = {**target, **new_tags}
    if len(merged) > MAX_TAGS:
        raise BedrockError(
            "TooManyTagsException", f"Resource {arn} would have more than {MAX_TAGS} tags.", 400
        )
    if check is not None:
        check(merged)
    target.update(new_tags)


def remove_tags(target: dict[str, str], keys: Iterable[str]) -> None:
    """UntagResource: a key the resource does not have is no error."""
    for key in keys:
        target.pop(key, None)


def tag_list(tags: Mapping[str, str]) -> dict[str, Any]:
    """ListTagsForResource's answer."""
    return {"tags": [{"key": key, "value": value} for key, value in tags.items()]}
