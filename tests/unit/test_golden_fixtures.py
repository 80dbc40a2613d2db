"""AWS's published shapes (tests/fixtures, each with its source URL) read by the provider's parsers, and
the emulator's own events held to the same documented shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bedrock_provider.core.request.results import job_result
from bedrock_provider.core.waiting import states
from bedrock_provider.core.waiting.job_events import job_event
from bedrock_provider.core.waiting.push_mode import parse_state_change
from bedrock_provider.core.waiting.snapshots import Snapshot

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    assert data["_source"].startswith("https://docs.aws.amazon.com/")
    return data


@pytest.mark.parametrize(
    "name",
    [
        "model_customization_job_state_change.json",
        "get_model_customization_job.json",
        "list_model_customization_jobs.json",
    ],
)
def test_every_fixture_cites_aws(name: str) -> None:
    _fixture(name)


def test_documented_state_change_event_is_parsed() -> None:
    event = _fixture("model_customization_job_state_change.json")["event"]
    change = parse_state_change(json.dumps(event))
    assert change is not None
    assert (change.job_arn, change.job_name, change.status, change.failure_message) == (
        "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/abcdefghwxyz",
        "abcd-wxyz",
        "Failed",
        "Failure Message here.",
    )
    assert states.is_terminal(change.status)


def test_documented_get_response_is_parsed() -> None:
    description = _fixture("get_model_customization_job.json")["response"]
    result = job_result(description)
    assert result["job_id"] == "abcdefghwxyz"
    assert (result["status"], result["failure_message"]) == ("Failed", "Failure Message here.")
    assert result["validation_data_uris"] == ["s3://bucket/key"]
    assert result["hyperparameters"]["epochCount"] == "5"
    assert result["end_time"] == "2023-08-11T12:34:56Z"
    event = job_event(description["status"], description, description["jobArn"])
    assert (event["status"], event["job_name"], event["failure_message"]) == (
        "Failed",
        "abcd-wxyz",
        "Failure Message here.",
    )


def test_documented_list_response_is_parsed() -> None:
    response = _fixture("list_model_customization_jobs.json")["response"]
    summaries = response["modelCustomizationJobSummaries"]
    # Completed jobs are not running: a snapshot lists none of them.
    assert len(Snapshot.from_summaries(summaries, taken_at=0.0)) == 0
    running = [dict(summaries[0], status="InProgress")]
    snapshot = Snapshot.from_summaries(running, taken_at=0.0)
    assert snapshot.progress is not None
    assert set(snapshot.progress) == {summaries[0]["jobArn"], summaries[0]["jobName"]}


def test_emulator_events_have_the_documented_shape() -> None:
    """The emulator builds its detail from the documentation, not from the parser: same keys, same order."""
    from bedrock_provider.emulator.events import EVENT_DETAIL_TYPE, EVENT_SOURCE, state_change_detail
    from bedrock_provider.emulator.models import Job

    documented = _fixture("model_customization_job_state_change.json")["event"]
    assert (EVENT_SOURCE, EVENT_DETAIL_TYPE) == (documented["source"], documented["detail-type"])
    job = Job(
        seq=1,
        arn=documented["detail"]["jobArn"],
        job_id="abcdefghwxyz",
        name="abcd-wxyz",
        custom_model_name="dummy-output-model-name",
        role_arn="arn:aws:iam::123456789012:role/JobExecutionRole",
        client_request_token=None,
        base_model_id="amazon.titan-text-express-v1",
        base_model_arn="arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1",
        customization_type="FINE_TUNING",
        kms_key_arn=None,
        hyper_parameters={"epochCount": "5"},
        training_data_config={"s3Uri": "s3://bucket/key"},
        validation_data_config={"validators": [{"s3Uri": "s3://bucket/key"}]},
        output_data_config={"s3Uri": "s3://bucket/key"},
        vpc_config=None,
        customization_config=None,
        tags={},
        custom_model_tags={},
        created=1_691_748_672.0,
        duration=10.0,
        status="Failed",
        last_modified=1_691_757_296.0,
        end_time=1_691_757_296.0,
        failure_message="Failure Message here.",
        output_model_arn="arn:aws:bedrock:us-east-1:123456789012:custom-model/x/abcdefghijkl",
    )
    detail = state_change_detail(job)
    assert list(detail) == list(documented["detail"])
    for key in ("trainingDataConfig", "validationDataConfig", "outputDataConfig"):
        assert set(detail[key]) == set(documented["detail"][key])
    envelope = {"source": EVENT_SOURCE, "detail-type": EVENT_DETAIL_TYPE, "detail": detail}
    change = parse_state_change(json.dumps(envelope))
    assert change is not None and (change.status, change.failure_message) == (
        "Failed",
        "Failure Message here.",
    )
