"""BedrockPrepareDatasetOperator against moto's S3 in-process, and on local files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.operators.dataset import BedrockPrepareDatasetOperator
from tests.unit.dataset_corpus import conversation, lines

BUCKET = "datasets-unit"
REGION = "us-east-1"


def pc(index: int) -> dict[str, str]:
    return {"prompt": f"Question {index}?", "completion": f"Answer {index}."}


GOOD = lines(*[pc(i) for i in range(40)])


@pytest.fixture
def s3(moto_aws: Any) -> Any:
    moto_aws.reset()
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


def operator(**kwargs: Any) -> BedrockPrepareDatasetOperator:
    kwargs.setdefault("task_id", "prepare")
    kwargs.setdefault("aws_conn_id", None)
    kwargs.setdefault("region_name", REGION)
    kwargs.setdefault("base_model_id", "amazon.titan-text-express-v1")
    return BedrockPrepareDatasetOperator(**kwargs)


def read(s3: Any, key: str) -> bytes:
    body: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def keys(s3: Any, prefix: str = "") -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]


def test_s3_file_to_s3_prefix(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="raw/data.jsonl", Body=GOOD)
    op = operator(source_uri=f"s3://{BUCKET}/raw/data.jsonl", output_uri=f"s3://{BUCKET}/prepared/20240101/")

    result = op.execute({})

    assert result["training_data_uri"] == f"s3://{BUCKET}/prepared/20240101/train.jsonl"
    assert result["validation_data_uri"] is None
    assert result["report_uri"] == f"s3://{BUCKET}/prepared/20240101/report.json"
    assert (result["records"], result["invalid_records"], result["training_records"]) == (40, 0, 40)
    assert result["format"] == "prompt-completion"
    assert result["estimated_tokens"] > 0
    assert read(s3, "prepared/20240101/train.jsonl") == GOOD
    report = json.loads(read(s3, "prepared/20240101/report.json"))
    assert report["passed"] and report["outputs"]["training_data_uri"] == result["training_data_uri"]
    assert sorted(keys(s3, "prepared/")) == ["prepared/20240101/report.json", "prepared/20240101/train.jsonl"]


def test_prefix_with_gzip_and_split_is_idempotent(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="raw/b.jsonl", Body=lines(*[pc(i) for i in range(100, 150)]))
    s3.put_object(Bucket=BUCKET, Key="raw/a.jsonl.gz", Body=gzip.compress(lines(*[pc(i) for i in range(50)])))
    s3.put_object(Bucket=BUCKET, Key="raw/_SUCCESS", Body=b"")
    s3.put_object(Bucket=BUCKET, Key="raw/notes.txt", Body=b"not data")
    # The output sits under the source prefix: a re-run must not read the previous run's output.
    op = operator(
        source_uri=f"s3://{BUCKET}/raw/",
        output_uri=f"s3://{BUCKET}/raw/prepared/run1",
        validation_split=0.2,
        seed=11,
    )

    first = op.execute({})
    files = {key: read(s3, key) for key in keys(s3, "raw/prepared/")}
    second = op.execute({})

    assert first == second
    assert {key: read(s3, key) for key in keys(s3, "raw/prepared/")} == files
    assert first["validation_data_uri"] == f"s3://{BUCKET}/raw/prepared/run1/validation.jsonl"
    assert first["records"] == 100
    assert first["training_records"] + first["validation_records"] == 100
    assert first["validation_records"] > 0
    report = json.loads(files["raw/prepared/run1/report.json"])
    assert [source["uri"] for source in report["sources"]] == [
        f"s3://{BUCKET}/raw/a.jsonl.gz",
        f"s3://{BUCKET}/raw/b.jsonl",
    ]
    assert report["sources"][0]["gzip"] is True


def test_local_directory_to_s3(s3: Any, tmp_path: Path) -> None:
    (tmp_path / "part-1.jsonl").write_bytes(lines(*[pc(i) for i in range(10)]))
    (tmp_path / "part-2.jsonl").write_bytes(lines(*[pc(i) for i in range(10, 20)]))
    result = operator(source_uri=str(tmp_path), output_uri=f"s3://{BUCKET}/out").execute({})
    assert result["records"] == 20
    assert read(s3, "out/train.jsonl") == lines(*[pc(i) for i in range(20)])


def test_several_sources_and_duplicates_removed(s3: Any, tmp_path: Path) -> None:
    s3.put_object(Bucket=BUCKET, Key="a.jsonl", Body=lines(pc(1), pc(2)))
    local = tmp_path / "b.jsonl"
    local.write_bytes(lines(pc(2), pc(3)))
    result = operator(
        source_uri=[f"s3://{BUCKET}/a.jsonl", str(local)],
        output_uri=f"s3://{BUCKET}/out/",
        remove_duplicates=True,
    ).execute({})
    assert (result["records"], result["duplicates"], result["duplicates_removed"]) == (4, 1, 1)
    assert read(s3, "out/train.jsonl") == lines(pc(1), pc(2), pc(3))


def test_local_to_local_needs_no_aws(tmp_path: Path) -> None:
    source = tmp_path / "data.jsonl"
    source.write_bytes(GOOD)
    out = tmp_path / "prepared"
    op = operator(source_uri=str(source), output_uri=str(out), validation_split=0.25)

    result = op.execute({})

    assert result["training_data_uri"] == str(out / "train.jsonl")
    assert sorted(path.name for path in out.iterdir()) == ["report.json", "train.jsonl", "validation.jsonl"]
    assert "s3_hook" not in op.__dict__


def test_an_invalid_dataset_fails_with_its_errors_and_leaves_the_report(s3: Any) -> None:
    broken = GOOD + lines({"prompt": "no completion"}) + b'{"prompt": "x", "completion": "y",}\n'
    s3.put_object(Bucket=BUCKET, Key="raw/data.jsonl", Body=broken)
    op = operator(source_uri=f"s3://{BUCKET}/raw/data.jsonl", output_uri=f"s3://{BUCKET}/prepared/")

    with pytest.raises(AirflowFailException) as caught:
        op.execute({})

    message = str(caught.value)
    assert "2 of 42 records are invalid" in message
    assert f"s3://{BUCKET}/raw/data.jsonl line 41, completion: required field is missing" in message
    assert "line 42: trailing comma at column 34" in message
    assert message.endswith(f"Full report: s3://{BUCKET}/prepared/report.json")
    assert keys(s3, "prepared/") == ["prepared/report.json"]
    report = json.loads(read(s3, "prepared/report.json"))
    assert report["passed"] is False and report["errors_total"] == 2


def test_a_failed_rerun_replaces_the_report_and_keeps_no_new_data(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="raw.jsonl", Body=GOOD)
    op = operator(source_uri=f"s3://{BUCKET}/raw.jsonl", output_uri=f"s3://{BUCKET}/out/")
    op.execute({})
    s3.put_object(Bucket=BUCKET, Key="raw.jsonl", Body=GOOD + b"not json\n")

    with pytest.raises(AirflowFailException):
        op.execute({})

    assert json.loads(read(s3, "out/report.json"))["passed"] is False
    assert read(s3, "out/train.jsonl") == GOOD  # the earlier run's; the failed run wrote none


def test_invalid_records_within_the_allowance_are_dropped(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="raw.jsonl", Body=GOOD + lines({"prompt": "no completion"}))
    result = operator(
        source_uri=f"s3://{BUCKET}/raw.jsonl", output_uri=f"s3://{BUCKET}/out/", max_invalid_fraction="0.05"
    ).execute({})
    assert (result["records"], result["invalid_records"], result["training_records"]) == (41, 1, 40)
    assert read(s3, "out/train.jsonl") == GOOD


def test_bad_parameters_fail_before_any_aws_call() -> None:
    op = operator(
        source_uri="s3://bucket/in.jsonl", output_uri="s3://bucket/out/{{ run_id }}", validation_split=0.7
    )
    op.output_uri = "s3://bucket/out/manual__2024-01-01T00:00:00+00:00"
    with pytest.raises(InvalidInputError) as caught:
        op.execute({})
    assert caught.value.fields == ["validation_split"]
    op.validation_split = 0.1
    with pytest.raises(InvalidInputError) as caught:
        op.execute({})
    assert caught.value.fields == ["output_uri"]
    assert "s3_hook" not in op.__dict__


def test_missing_sources_say_what_is_missing(s3: Any, tmp_path: Path) -> None:
    with pytest.raises(AirflowException, match=r"cannot be read \(NoSuchKey\)"):
        operator(source_uri=f"s3://{BUCKET}/absent.jsonl", output_uri=f"s3://{BUCKET}/out/").execute({})
    with pytest.raises(AirflowException, match="no .jsonl, .jsonl.gz or .json files there"):
        operator(source_uri=f"s3://{BUCKET}/empty/", output_uri=f"s3://{BUCKET}/out/").execute({})
    with pytest.raises(AirflowException, match="no such file or directory"):
        operator(source_uri=str(tmp_path / "nope.jsonl"), output_uri=str(tmp_path / "out")).execute({})


def test_a_missing_partition_fails_at_once_naming_the_partitions_that_exist(s3: Any, tmp_path: Path) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    for day in ("20250105", "20250112", "20250119"):
        s3.put_object(Bucket=BUCKET, Key=f"raw/support/{day}/tickets.jsonl", Body=b'{"prompt": "a"}\n')
    with pytest.raises(AirflowFailException) as caught:
        operator(source_uri=f"s3://{BUCKET}/raw/support/20261126/", output_uri=f"s3://{BUCKET}/out/").execute(
            {}
        )
    assert str(caught.value) == (
        f"source_uri s3://{BUCKET}/raw/support/20261126/: no .jsonl, .jsonl.gz or .json files there. "
        f"s3://{BUCKET}/raw/support/ holds 3 partitions: 20250105, 20250112, 20250119. Run for one of these "
        "(for a DAG: a logical date among them, or a backfill over them)."
    )
    (tmp_path / "20250105").mkdir()
    with pytest.raises(AirflowFailException, match=r"holds 1 partition: 20250105\."):
        operator(source_uri=str(tmp_path / "20261126"), output_uri=str(tmp_path / "out")).execute({})


def test_a_long_list_of_partitions_is_shortened() -> None:
    from bedrock_provider.core.datasets.plan import missing_partition_message

    message = missing_partition_message(
        "s3://b/raw/x/", "s3://b/raw/", [f"2025{week:04d}" for week in range(20)]
    )
    assert "holds 20 partitions: 20250000, 20250001, 20250002, 20250003, ..., 20250016," in message


def test_nova_media_must_be_in_the_output_bucket(s3: Any) -> None:
    record = conversation(
        ("user", [{"image": {"format": "png", "source": {"s3Location": {"uri": "s3://elsewhere/a.png"}}}}]),
        ("assistant", "a cat"),
    )
    s3.put_object(Bucket=BUCKET, Key="nova.jsonl", Body=lines(*[record] * 8))
    with pytest.raises(AirflowFailException, match="is in bucket 'elsewhere'"):
        operator(
            source_uri=f"s3://{BUCKET}/nova.jsonl",
            output_uri=f"s3://{BUCKET}/out/",
            base_model_id="amazon.nova-lite-v1:0",
        ).execute({})


def test_every_parameter_is_templated() -> None:
    from airflow.sdk import DAG

    with DAG("templated", schedule=None):
        op = operator(
            source_uri=["s3://{{ params.bucket }}/raw/{{ ds_nodash }}.jsonl"],
            output_uri="s3://{{ params.bucket }}/prepared/{{ dag.dag_id | bedrock_name }}/{{ ds_nodash }}/",
            customization_type="{{ params.kind }}",
            base_model_id="{{ params.model }}",
            validation_split="{{ params.split }}",
            seed="{{ params.seed }}",
            max_invalid_fraction="{{ params.allowance }}",
            format="{{ params.format }}",
            remove_duplicates="{{ params.dedupe }}",
        )
    params = {
        "bucket": "bkt",
        "kind": "FINE_TUNING",
        "model": "amazon.nova-lite-v1:0",
        "split": 0.1,
        "seed": 3,
        "allowance": 0.01,
        "format": "bedrock-conversation-2024",
        "dedupe": True,
    }
    op.render_template_fields({"params": params, "ds_nodash": "20240102", "dag": op.dag})

    plan, sources, output = op.plan()
    assert sources[0].uri == "s3://bkt/raw/20240102.jsonl"
    assert output.uri == "s3://bkt/prepared/templated/20240102/"
    assert (plan.validation_split, plan.seed, plan.max_invalid_fraction, plan.remove_duplicates) == (
        0.1,
        3,
        0.01,
        True,
    )
    assert plan.format == "bedrock-conversation-2024" and plan.profile is not None
    assert set(BedrockPrepareDatasetOperator.template_fields) >= {
        "aws_conn_id",
        "region_name",
        "source_uri",
        "chars_per_token",
    }


def test_an_s3_prefix_without_its_trailing_slash_is_told_to_add_it(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="raw/2025/part-1.jsonl", Body=GOOD)
    with pytest.raises(AirflowException) as caught:
        operator(source_uri=f"s3://{BUCKET}/raw/2025", output_uri=f"s3://{BUCKET}/out/").execute({})
    assert f"add the trailing '/' (source_uri='s3://{BUCKET}/raw/2025/')" in str(caught.value)
    assert keys(s3, "out/") == []


def test_a_record_nested_deeper_than_json_parsers_go_says_so(s3: Any) -> None:
    deep = b'{"prompt": ' + b'{"a": ' * 2000 + b"1" + b"}" * 2000 + b', "completion": "x"}\n'
    s3.put_object(Bucket=BUCKET, Key="raw/deep.jsonl", Body=GOOD + deep)
    with pytest.raises(AirflowFailException) as caught:
        operator(source_uri=f"s3://{BUCKET}/raw/deep.jsonl", output_uri=f"s3://{BUCKET}/deep/").execute({})
    assert "nested deeper than 1024 levels" in str(caught.value)
    assert "not valid JSON" not in str(caught.value)


def test_rft_prompts_are_validated_and_counted(s3: Any) -> None:
    prompt = {"messages": [{"role": "user", "content": "2+2?"}], "reference_answer": "4"}
    bad = {"messages": [{"role": "system", "content": "no question"}]}
    s3.put_object(Bucket=BUCKET, Key="raw/rft.jsonl", Body=lines(*([prompt] * 30), bad))
    op = operator(
        source_uri=f"s3://{BUCKET}/raw/rft.jsonl",
        output_uri=f"s3://{BUCKET}/prepared/rft/",
        customization_type="REINFORCEMENT_FINE_TUNING",
        base_model_id="amazon.nova-2-lite-v1:0:256k",
        max_invalid_fraction=0.1,
    )

    result = op.execute({})

    assert result["format"] == "openai-chat-rft"
    assert (result["records"], result["invalid_records"], result["training_records"]) == (31, 1, 30)
