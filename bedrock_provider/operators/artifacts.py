"""Reading and writing the files operators consume and produce: s3:// URIs through the task's AWS
connection (the Amazon provider's S3Hook), and absolute local paths."""

from __future__ import annotations

import codecs
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from bedrock_provider.core.metrics.series import SPOOL_MEMORY_BYTES
from bedrock_provider.core.s3 import is_s3_uri, local_path, split_s3_uri
from bedrock_provider.core.values import depth_message, too_deep

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook


class ArtifactStore:
    """One place for S3 and local I/O; the S3 client is made on first use."""

    def __init__(self, s3_hook: Callable[[], S3Hook]):
        self._s3_hook = s3_hook

    @cached_property
    def _s3(self) -> Any:
        return self._s3_hook().get_conn()

    @contextmanager
    def open_binary(self, uri: str) -> Iterator[Any]:
        """The object as a binary stream (read as it is consumed), or None when there is none.

        Any other failure (access denied, no such bucket) is raised as the AWS error it is.
        """
        if not is_s3_uri(uri):
            path = local_path(uri)
            if not path.is_file():
                yield None
                return
            # Unbuffered: readers ask for megabytes at a time, a buffer would only add a copy.
            with path.open("rb", buffering=0) as stream:
                yield stream
            return
        from bedrock_provider.hooks.errors import is_not_found

        bucket, key = split_s3_uri(uri)
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"]
        except Exception as error:
            if is_not_found(error):
                yield None
                return
            raise
        try:
            yield body
        finally:
            body.close()

    @contextmanager
    def open_text(self, uri: str) -> Iterator[Any]:
        """The object as a stream of UTF-8 text (a byte-order mark dropped), or None when there is none."""
        with self.open_binary(uri) as stream:
            yield None if stream is None else codecs.getreader("utf-8-sig")(stream)

    def read_json(self, uri: str) -> Any | None:
        with self.open_text(uri) as stream:
            if stream is None:
                return None
            text = stream.read()
        if too_deep(text):
            raise ValueError(f"{uri} {depth_message()}: not a JSON file this provider wrote")
        try:
            return json.loads(text)
        except ValueError as error:
            raise ValueError(f"{uri} is not valid JSON: {error}") from error

    def is_prefix_with_objects(self, uri: str) -> bool:
        """Whether ``uri`` + '/' is an S3 prefix with at least one object under it."""
        if not is_s3_uri(uri) or uri.endswith("/"):
            return False
        bucket, key = split_s3_uri(uri)
        listed = self._s3.list_objects_v2(Bucket=bucket, Prefix=key + "/", MaxKeys=1)
        return bool(listed.get("KeyCount") or listed.get("Contents"))

    def write(self, uri: str, data: bytes | IO[bytes], content_type: str) -> None:
        """Write bytes, or a binary file read from its start (streamed, never held whole)."""
        if is_s3_uri(uri):
            bucket, key = split_s3_uri(uri)
            if isinstance(data, bytes):
                self._s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
            else:
                self._s3.upload_fileobj(data, bucket, key, ExtraArgs={"ContentType": content_type})
            return
        path = local_path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename: a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(handle, "wb") as out:
                if isinstance(data, bytes):
                    out.write(data)
                else:
                    shutil.copyfileobj(data, out)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def write_text(self, uri: str, write: Callable[[IO[str]], None], content_type: str) -> None:
        """Write the UTF-8 text ``write`` produces, spooled (memory, then disk), never held whole."""
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as spooled:
            text = io.TextIOWrapper(spooled, encoding="utf-8", newline="")
            write(text)
            text.flush()
            text.detach()  # the wrapper must not close the file it wraps
            spooled.seek(0)
            self.write(uri, spooled, content_type)

    def publish(self, path: str, uri: str) -> None:
        """Put a finished local file at ``uri``: uploaded (replacing), or moved into place."""
        if is_s3_uri(uri):
            bucket, key = split_s3_uri(uri)
            self._s3_hook().load_file(filename=path, key=key, bucket_name=bucket, replace=True)
            return
        os.replace(path, local_path(uri))
