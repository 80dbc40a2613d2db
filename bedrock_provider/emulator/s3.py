"""Reach moto's S3 in-process, the same state clients see through the endpoint.

In-process rather than over HTTP so that a job's side effects can run under the store's lock
without the server calling itself. Only this module knows moto's S3 internals.
"""

from __future__ import annotations

from typing import Any

from moto.s3.exceptions import MissingBucket
from moto.s3.models import FakeKey, s3_backends

# moto's S3 keeps plain dicts; a write from a request thread while we iterate raises this.
_CONCURRENT_CHANGE_RETRIES = 5


class MotoObjectStore:
    """``ObjectStore`` over moto's S3 backend of one account."""

    def __init__(self, account_id: str, partition: str = "aws") -> None:
        self.account_id = account_id
        self.partition = partition

    def _backend(self) -> Any:
        return s3_backends[self.account_id][self.partition]

    def create_bucket(self, bucket: str, region: str) -> None:
        if not self.bucket_exists(bucket):
            self._backend().create_bucket(bucket, region)

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self._backend().get_bucket(bucket)
        except MissingBucket:
            return False
        return True

    def read_objects(self, bucket: str, key_or_prefix: str) -> list[bytes] | None:
        backend = self._backend()
        try:
            fake_bucket = backend.get_bucket(bucket)
        except MissingBucket:
            return None
        if key_or_prefix and not key_or_prefix.endswith("/"):
            key = backend.get_object(bucket, key_or_prefix)
            return [bytes(key.value)] if isinstance(key, FakeKey) else []
        for attempt in range(_CONCURRENT_CHANGE_RETRIES):
            try:
                keys, _, _, _ = backend.list_objects(fake_bucket, key_or_prefix or None, None, None, None)
                return [bytes(k.value) for k in keys if isinstance(k, FakeKey)]
            except RuntimeError:
                if attempt == _CONCURRENT_CHANGE_RETRIES - 1:
                    raise
        return []

    def put_object(self, bucket: str, key: str, body: bytes) -> None:
        self._backend().put_object(bucket, key, body)
