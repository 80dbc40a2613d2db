"""S3 URIs: the one parser every operator and the emulator use; and local paths given as file:// URIs."""

from __future__ import annotations

from pathlib import Path

S3_SCHEME = "s3://"


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
