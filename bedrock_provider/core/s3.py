"""S3 URIs: the one parser every operator and the emulator use; and local paths given as file:// URIs."""

from __future__ import annotations

import re
from pathlib import Path

S3_SCHEME = "s3://"
# The S3 URI pattern of botocore's bedrock service model (shape S3Uri), which Bedrock checks on every
# Create call that takes a URI.
S3_URI_PATTERN = re.compile(
    r"s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-zA-Z0-9]+(?:/[-!_*'().a-zA-Z0-9]+)*)?/?"
)


def is_s3_uri(uri: str) -> bool:
    return uri.startswith(S3_SCHEME)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` as ("bucket", "some/key"); the key is "" for a bare bucket."""
    if not is_s3_uri(uri):
        raise ValueError(f"{uri!r} is not an S3 URI (s3://bucket/key)")
    bucket, _, key = uri[len(S3_SCHEME) :].partition("/")
    return bucket, key


def local_path(uri: str) -> Path:
    """A local file, given as a path or a file:// URI."""
    return Path(uri.removeprefix("file://"))
