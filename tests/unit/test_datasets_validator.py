"""The streaming reader, duplicates, the seeded split, invalid-record tolerance and the report."""

from __future__ import annotations

import gzip
import io
import json
import uuid
import zlib
from pathlib import Path

import pytest

from bedrock_provider.core.datasets.dedup import HashSet64
from bedrock_provider.core.datasets.plan import check_locations, plan_dataset
from bedrock_provider.core.datasets.prepare import local_files, local_opener, prepare_dataset, validate_bytes
from bedrock_provider.core.datasets.reader import OVERLONG, FileLevelError, StreamStats, iter_batches
from bedrock_provider.core.datasets.validator import DatasetValidator, split_key
from bedrock_provider.core.errors import InvalidInputError
from tests.unit.dataset_corpus import NOVA, TITAN, conversation, lines


def pc(index: int) -> dict[str, str]:
    return {"prompt": f"Question number {index}?", "completion": f"Answer number {index}."}


def read_lines(
    data: bytes, chunk_size: int, max_line_bytes: int = 1 << 20
) -> tuple[list[bytes], StreamStats]:
    stats = StreamStats()
    out: list[bytes] = []
    for batch in iter_batches(io.BytesIO(data), stats, chunk_size=chunk_size, max_line_bytes=max_line_bytes):
        out.extend(batch.lines if batch.kind != OVERLONG else [b"<overlong>"])
    return out, stats


class Trickle(io.RawIOBase):
    """A stream that returns at most a few bytes per read, as a network body may."""

    def __init__(self, data: bytes, step: int):
        self._data = io.BytesIO(data)
        self._step = step

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(self._step, size if size >= 0 else self._step))


# -- the reader -------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64, 1 << 20])
def test_lines_are_the_same_whatever_the_chunk_size(chunk_size: int) -> None:
    raw = [json.dumps(pc(i)).encode() + (b"\r\n" if i % 3 else b"\n") for i in range(50)]
    raw[10:10] = [b"\n"]
    raw[30:30] = [b"\r\n"]
    data = b"".join(raw) + b'{"prompt": "last", "completion": "no newline"}'

    got, stats = read_lines(data, chunk_size)

    expected = [line.replace(b"\r\n", b"\n") for line in raw] + [
        b'{"prompt": "last", "completion": "no newline"}\n'
    ]
    assert got == expected
    assert stats.crlf and stats.ends_without_newline


def test_bom_is_dropped_and_noted() -> None:
    got, stats = read_lines(b"\xef\xbb\xbf" + lines(pc(1)), 3)
    assert got == [json.dumps(pc(1)).encode() + b"\n"]
    assert stats.bom and "byte order mark" in stats.notes[0]


@pytest.mark.parametrize("chunk_size", [5, 1 << 20])
def test_gzip_is_recognised_by_content_including_several_members(chunk_size: int) -> None:
    first, second = lines(pc(1), pc(2)), lines(pc(3))
    data = gzip.compress(first) + gzip.compress(second) + b"\x00" * 8  # some writers pad with NULs

    got, stats = read_lines(data, chunk_size)

    assert b"".join(got) == first + second
    assert stats.gzip and stats.bytes_read == len(data) and stats.bytes_decoded == len(first + second)


def test_an_overlong_line_is_skipped_and_reading_goes_on() -> None:
    data = lines(pc(1)) + b"x" * 5000 + b"\n" + lines(pc(2))
    got, _ = read_lines(data, 64, max_line_bytes=1000)
    assert got == [lines(pc(1)), b"<overlong>", lines(pc(2))]


def test_utf16_fails_the_file() -> None:
    with pytest.raises(FileLevelError, match="UTF-16"):
        read_lines(b"\xff\xfe{\x00}\x00", 1 << 20)


@pytest.mark.parametrize("compress", [False, True])
def test_a_stream_that_trickles_reads_the_same(compress: bool) -> None:
    """One byte per read: the gzip magic and the BOM are still found."""
    data = b"\xef\xbb\xbf" + lines(*[pc(i) for i in range(20)])
    validator = DatasetValidator(plan_dataset(**TITAN))
    summary = validator.feed("trickle", Trickle(gzip.compress(data) if compress else data, step=1))
    report = validator.finish()
    assert report.passed and report.records == 20
    assert summary.stats.bom and summary.stats.gzip is compress


# -- records, blanks, duplicates ----------------------------------------------------------------------


def test_blank_lines_are_skipped_and_counted() -> None:
    data = b"\n" + lines(pc(1)) + b"   \n\t\n" + lines(pc(2))
    report = validate_bytes(data, **TITAN)
    assert report.passed
    assert report.counts["blank_lines"] == 3
    assert report.counts["lines"] == 5 and report.records == 2


def test_duplicates_are_reported_and_kept_unless_asked() -> None:
    data = lines(pc(1), pc(2), pc(1), pc(3), pc(1))
    kept = validate_bytes(data, **TITAN)
    assert kept.counts["duplicates"] == 2 and kept.counts["duplicates_removed"] == 0
    assert kept.counts["training_records"] == 5
    assert [entry["line"] for entry in kept.duplicates] == [3, 5]

    removed = validate_bytes(data, remove_duplicates=True, **TITAN)
    assert removed.counts["duplicates_removed"] == 2 and removed.counts["training_records"] == 3


def test_duplicates_are_found_across_sources_and_line_ends(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(lines(pc(1), pc(2)))
    (tmp_path / "b.jsonl").write_bytes(lines(pc(2)).replace(b"\n", b"\r\n") + json.dumps(pc(1)).encode())
    plan = plan_dataset(remove_duplicates=True, **TITAN)
    out = tmp_path / "out"
    out.mkdir()
    sources = [(str(path), local_opener(path)) for path in sorted(tmp_path.glob("*.jsonl"))]

    prepared = prepare_dataset(plan, sources, out)

    assert prepared.report.counts["duplicates"] == 2
    assert prepared.training_path.read_bytes() == lines(pc(1), pc(2))


# -- the split ---------------------------------------------------------------------------------------


def _split(
    records: list[dict[str, str]], tmp_path: Path, seed: int = 0, fraction: float = 0.2
) -> tuple[set[bytes], set[bytes]]:
    run = tmp_path / uuid.uuid4().hex
    run.mkdir()
    source = run / "in.jsonl"
    source.write_bytes(lines(*records))
    out = run / "out"
    out.mkdir()
    plan = plan_dataset(validation_split=fraction, seed=seed, **TITAN)
    prepared = prepare_dataset(plan, [(str(source), local_opener(source))], out)
    assert prepared.validation_path is not None
    return set(prepared.training_path.read_bytes().splitlines()), set(
        prepared.validation_path.read_bytes().splitlines()
    )


def test_split_is_deterministic_and_independent_of_order(tmp_path: Path) -> None:
    records = [pc(i) for i in range(2000)]
    training, validation = _split(records, tmp_path)
    shuffled = sorted(records, key=lambda record: zlib.crc32(record["prompt"].encode()))
    assert shuffled != records

    assert _split(shuffled, tmp_path) == (training, validation)
    assert not training & validation
    assert len(training) + len(validation) == 2000
    assert 320 < len(validation) < 480  # 20 % of 2,000, within about 4 standard deviations


def test_the_seed_changes_the_split(tmp_path: Path) -> None:
    records = [pc(i) for i in range(1000)]
    _, first = _split(records, tmp_path, seed=0)
    _, second = _split(records, tmp_path, seed=1)
    overlap = len(first & second) / len(first)
    assert overlap < 0.5  # independent 20 % splits share about a fifth


def test_membership_follows_the_split_key(tmp_path: Path) -> None:
    records = [pc(i) for i in range(500)]
    _, validation = _split(records, tmp_path, seed=3, fraction=0.3)
    threshold = int(0.3 * (1 << 64))
    expected = {line for line in lines(*records).splitlines() if split_key(line + b"\n", 3) < threshold}
    assert validation == expected


def test_neither_side_of_the_split_is_left_empty(tmp_path: Path) -> None:
    # With 0.01 of 3 records, the hash would put all three in training; one is moved over.
    training, validation = _split([pc(1), pc(2), pc(3)], tmp_path, fraction=0.01)
    assert len(training) == 2 and len(validation) == 1
    # With 0.49 of 2 records both might land in validation; one always stays in training.
    for seed in range(20):
        training, validation = _split([pc(1), pc(2)], tmp_path, seed=seed, fraction=0.49)
        assert len(training) >= 1 and len(validation) >= 1


def test_duplicates_land_on_the_same_side(tmp_path: Path) -> None:
    records = [pc(i % 50) for i in range(400)]
    source = tmp_path / "dups.jsonl"
    source.write_bytes(lines(*records))
    out = tmp_path / "out"
    out.mkdir()
    prepared = prepare_dataset(
        plan_dataset(validation_split=0.3, **TITAN), [(str(source), local_opener(source))], out
    )
    assert prepared.validation_path is not None
    training = prepared.training_path.read_bytes().splitlines()
    validation = prepared.validation_path.read_bytes().splitlines()
    assert not set(training) & set(validation)
    assert len(training) + len(validation) == 400


# -- invalid records and the verdict --------------------------------------------------------------------


def _with_invalid(total: int, invalid_every: int) -> bytes:
    return lines(*[{"prompt": "broken"} if i % invalid_every == 0 else pc(i) for i in range(1, total + 1)])


def test_any_invalid_record_fails_by_default() -> None:
    report = validate_bytes(_with_invalid(100, 50), **TITAN)
    assert not report.passed
    assert "2 of 100 records are invalid (2.00%; max_invalid_fraction=0)" in report.failure_message()


def test_invalid_records_within_the_fraction_are_dropped(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(_with_invalid(100, 50))
    prepared = prepare_dataset(
        plan_dataset(max_invalid_fraction=0.02, **TITAN), [(str(source), local_opener(source))], tmp_path
    )
    assert prepared.report.passed
    written = prepared.training_path.read_bytes().splitlines()
    assert len(written) == 98 and b'{"prompt": "broken"}' not in written
    assert not validate_bytes(_with_invalid(100, 50), max_invalid_fraction=0.019, **TITAN).passed


def test_errors_are_listed_up_to_the_limit_and_all_counted() -> None:
    report = validate_bytes(_with_invalid(100, 2), max_errors_listed=5, **TITAN)
    assert len(report.errors) == 5
    assert report.errors_total == 50 and report.error_counts == {"missing-field": 50}
    assert [error["line"] for error in report.errors] == [2, 4, 6, 8, 10]
    message = report.failure_message("s3://bucket/prep/report.json")
    assert "First 5 of 50 errors:" in message
    assert "<bytes> line 2, completion: required field is missing" in message
    assert message.endswith("Full report: s3://bucket/prep/report.json")


def test_the_report_is_json_with_what_was_found(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(
        b"\xef\xbb\xbf" + lines(*[conversation(("user", f"q{i}"), ("assistant", "a")) for i in range(10)])
    )
    prepared = prepare_dataset(
        plan_dataset(validation_split=0.2, seed=4, **NOVA), [(str(source), local_opener(source))], tmp_path
    )
    report = json.loads(prepared.report_path.read_text())

    assert report["passed"] is True
    assert report["format"] == "bedrock-conversation-2024"
    assert report["counts"]["records"] == 10
    assert report["counts"]["training_records"] + report["counts"]["validation_records"] == 10
    assert report["bytes"]["read"] == source.stat().st_size
    assert report["estimated_tokens"] == -(-report["characters"] // 3)
    assert report["sources"][0]["notes"] == ["a UTF-8 byte order mark at the start was dropped"]
    assert {row["limit"] for row in report["limits"]} >= {"min_records", "max_total_records"}
    assert all(row["source"].startswith("https://docs.aws.amazon.com/") for row in report["limits"])
    assert report["split"] == {"validation_split": 0.2, "seed": 4, "method": report["split"]["method"]}


# -- bounded duplicate memory ---------------------------------------------------------------------------


def test_hash_set_compacts_and_then_saturates_without_losing_what_it_holds() -> None:
    # An odd multiplier is a bijection mod 2**64: 40,000 distinct, well spread signed values.
    values = [(i * 0x9E3779B97F4A7C15) % (1 << 64) - (1 << 63) for i in range(1, 40_001)]
    seen = HashSet64(compact_after=1_000, max_bytes=8 * (1 << 15))
    assert all(seen.add(value) for value in values)
    assert seen.compact and seen.saturated
    assert seen.stored_when_saturated == len(seen) == 24_576  # 3/4 of 32K slots
    assert not any(seen.add(value) for value in values[:24_576])
    assert seen.memory_bytes == 8 * (1 << 15)
    assert seen.add(12345)  # full: new values are not stored, so they stay "new"
    table = HashSet64(compact_after=0)
    assert table.add(5) and table.compact
    assert table.add(0) and not table.add(0)  # 0 marks empty slots; it is stored as 1


def test_the_report_says_when_duplicate_detection_was_bounded() -> None:
    validator = DatasetValidator(plan_dataset(**TITAN))
    validator.seen = HashSet64(compact_after=10, max_bytes=8 * (1 << 15))
    # The set is compacted between 4 MB batches; these three sources are one batch each.
    for part in range(3):
        validator.feed(f"part-{part}", io.BytesIO(lines(*[pc(part * 10_000 + i) for i in range(10_000)])))
    report = validator.finish()
    assert report.passed
    assert any(
        "duplicate detection is exact over the first 24,576 distinct records" in w for w in report.warnings
    )


# -- locations ---------------------------------------------------------------------------------------------


def test_local_files_are_sorted_filtered_and_skip_the_output(tmp_path: Path) -> None:
    for name in [
        "b.jsonl",
        "a.json",
        "c.jsonl.gz",
        "notes.txt",
        "_SUCCESS",
        "sub/d.jsonl",
        "out/train.jsonl",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = local_files(str(tmp_path), exclude=str(tmp_path / "out"))
    assert [Path(path).relative_to(tmp_path).as_posix() for path in found] == [
        "a.json",
        "b.jsonl",
        "c.jsonl.gz",
        "sub/d.jsonl",
    ]


def test_sources_may_hold_keys_bedrock_would_not_take() -> None:
    sources, output = check_locations(["s3://bucket/dt=2024-01-01/part 1.jsonl"], "s3://bucket/out/")
    assert (sources[0].bucket, sources[0].key) == ("bucket", "dt=2024-01-01/part 1.jsonl")
    assert output.child("train.jsonl") == "s3://bucket/out/train.jsonl"


@pytest.mark.parametrize(
    ("source", "output", "field", "message"),
    [
        (
            "s3://bucket/in.jsonl",
            "s3://bucket/out/manual__2024-01-01T00:00:00+00:00/",
            "output_uri",
            "ds_nodash",
        ),
        ("gs://bucket/in.jsonl", "s3://bucket/out/", "source_uri", "only s3:// URIs and local paths"),
        ([], "s3://bucket/out/", "source_uri", "non-empty list"),
        (["s3://bucket/a.jsonl", " s3://bucket/b.jsonl"], "s3://bucket/out/", "source_uri[1]", "white space"),
        ("s3://Bucket/in.jsonl", "s3://bucket/out/", "source_uri", "3-63 lowercase letters"),
        ("s3://bucket/in.jsonl", "s3://bucket/out dir/", "output_uri", "not an S3 URI Bedrock accepts"),
        ("s3://bucket/in.jsonl", "", "output_uri", r"an S3 URI \(s3://bucket/key\) or a local path"),
    ],
)
def test_bad_locations_are_rejected(source: object, output: object, field: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        check_locations(source, output)
    assert caught.value.fields == [field]
