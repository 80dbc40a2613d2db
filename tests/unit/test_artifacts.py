"""One S3 URI parser (core/s3.py) and one S3/local I/O (operators/artifacts.py) for every operator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from botocore.exceptions import ClientError

from bedrock_provider.core.s3 import is_s3_uri, split_s3_uri
from bedrock_provider.operators.artifacts import ArtifactStore


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("s3://bucket/a/b.jsonl", ("bucket", "a/b.jsonl")),
        ("s3://bucket/prefix/", ("bucket", "prefix/")),
        ("s3://bucket", ("bucket", "")),
        ("s3://", ("", "")),
    ],
)
def test_split_s3_uri(uri: str, parts: tuple[str, str]) -> None:
    assert is_s3_uri(uri)
    assert split_s3_uri(uri) == parts


def test_a_local_path_is_not_split() -> None:
    assert not is_s3_uri("/data/train.jsonl")
    with pytest.raises(ValueError, match="not an S3 URI"):
        split_s3_uri("/data/train.jsonl")


def test_local_files(tmp_path: Path) -> None:
    store = ArtifactStore(lambda: pytest.fail("no S3 for local paths"))
    target = tmp_path / "out" / "summary.json"
    store.write(str(target), b'{"a": 1}', "application/json")
    assert store.read_json(str(target)) == {"a": 1}
    assert store.read_json(f"file://{target}") == {"a": 1}
    assert store.read_json(str(tmp_path / "missing.json")) is None
    with store.open_binary(str(tmp_path / "missing.json")) as stream:
        assert stream is None
    finished = tmp_path / "done.jsonl"
    finished.write_bytes(b"\xef\xbb\xbf{}\n")
    store.publish(str(finished), str(tmp_path / "out" / "train.jsonl"))
    with store.open_text(str(tmp_path / "out" / "train.jsonl")) as stream:
        assert stream.read() == "{}\n"  # the byte-order mark is dropped
    assert not finished.exists()


def test_s3_objects(moto_aws: Any, tmp_path: Path) -> None:
    moto_aws.reset()
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="bucket")
    store = ArtifactStore(lambda: S3Hook(aws_conn_id=None))
    store.write("s3://bucket/out/summary.json", b'{"a": 1}', "application/json")
    assert s3.head_object(Bucket="bucket", Key="out/summary.json")["ContentType"] == "application/json"
    assert store.read_json("s3://bucket/out/summary.json") == {"a": 1}
    assert store.read_json("s3://bucket/out/missing.json") is None
    local = tmp_path / "train.jsonl"
    local.write_bytes(b"{}\n")
    store.publish(str(local), "s3://bucket/out/train.jsonl")
    with store.open_binary("s3://bucket/out/train.jsonl") as body:
        assert body.read() == b"{}\n"
    # Not found is an answer; any other failure is raised as the AWS error it is.
    with pytest.raises(ClientError, match="NoSuchBucket"), store.open_binary("s3://no-such-bucket/x"):
        pass
