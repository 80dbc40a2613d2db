"""demo.seed: the demo's weeks, and the two weeks the weekly schedule reaches from today, in the bucket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest

from bedrock_provider.emulator import BedrockEmulator
from demo.seed import DAG_SETTINGS, demo_weeks, seed


@pytest.fixture(scope="module")
def emulator() -> Iterator[BedrockEmulator]:
    with BedrockEmulator() as emu:
        yield emu


def objects(endpoint_url: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=DAG_SETTINGS.DEMO_REGION)
    listed = s3.list_objects_v2(Bucket=DAG_SETTINGS.DEMO_BUCKET, Prefix=DAG_SETTINGS.RAW_PREFIX + "/")
    return {
        entry["Key"]: s3.get_object(Bucket=DAG_SETTINGS.DEMO_BUCKET, Key=entry["Key"])["Body"].read()
        for entry in listed.get("Contents", [])
    }


def test_seed_uploads_the_demo_weeks_and_the_scheduled_ones(emulator: BedrockEmulator) -> None:
    uris = seed(emulator.endpoint_url, now=datetime(2026, 11, 26, 15, 0, tzinfo=UTC))
    weeks = demo_weeks()
    stored = objects(emulator.endpoint_url)
    expected = [DAG_SETTINGS.partition_key(week) for week in weeks] + [
        f"raw/support/{day}/tickets.jsonl" for day in ("20261122", "20261129")
    ]
    assert uris == [f"s3://{DAG_SETTINGS.DEMO_BUCKET}/{key}" for key in expected]
    assert sorted(stored) == sorted(expected)
    for week, data_file in weeks.items():
        assert stored[DAG_SETTINGS.partition_key(week)] == data_file.read_bytes()
    # The scheduled weeks hold the newest demo week's conversations.
    newest = list(weeks.values())[-1].read_bytes()
    assert stored[expected[-2]] == stored[expected[-1]] == newest


def test_seed_keeps_a_demo_week_that_the_schedule_also_reaches(emulator: BedrockEmulator) -> None:
    """Seeded as if on the demo data's first Sunday: the two weeks the schedule reaches are demo weeks,
    and they keep their own data rather than copies of the newest week."""
    weeks = demo_weeks()
    first, second = list(weeks)[:2]
    assert DAG_SETTINGS.scheduled_weeks(first) == (first, second)
    seed(emulator.endpoint_url, now=first)
    stored = objects(emulator.endpoint_url)
    for week in (first, second):
        key = DAG_SETTINGS.partition_key(week)
        assert stored[key] == weeks[week].read_bytes() != list(weeks.values())[-1].read_bytes()
