"""The triggers' shared base (triggers/base.py) and the pure pieces their loops moved into core/."""

from __future__ import annotations

import json

import pytest

from bedrock_provider.core.waiting.failure_run import FailureRun
from bedrock_provider.core.waiting.kill import KillRule
from bedrock_provider.core.waiting.push_mode import EVENT_DETAIL_TYPE, EVENT_SOURCE, Watchers, sort_messages
from bedrock_provider.triggers.base import BedrockAwsTrigger
from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger
from bedrock_provider.triggers.resource import BedrockResourceTrigger

CONNECTION = {
    "aws_conn_id": "c",
    "region_name": "eu-west-1",
    "verify": "/ca.pem",
    "botocore_config": {"retries": {"mode": "standard"}},
}


def test_a_customization_trigger_serializes_as_the_triggerers_database_holds_it():
    """A trigger serialized before the base existed must still be rebuilt: same class path, same
    kwargs, in the same order."""
    trigger = BedrockModelCustomizationTrigger("job", poll_interval=5, started_at=1.0, **CONNECTION)
    classpath, kwargs = trigger.serialize()
    assert classpath == "bedrock_provider.triggers.customization.BedrockModelCustomizationTrigger"
    assert list(kwargs) == [
        *("job_identifier", "poll_interval", "max_wait", "stop_job_on_kill"),
        *("aws_conn_id", "region_name", "verify", "botocore_config"),
        *("started_at", "events_queue_url", "safety_poll_interval", "max_failure_duration"),
        "progress_interval",
    ]
    assert {key: kwargs[key] for key in CONNECTION} == CONNECTION
    assert BedrockModelCustomizationTrigger(**kwargs).serialize() == (classpath, kwargs)
    # A trigger serialized before progress_interval existed is rebuilt with its default.
    older = {key: value for key, value in kwargs.items() if key != "progress_interval"}
    assert BedrockModelCustomizationTrigger(**older).progress_interval == 600


def test_a_resource_trigger_serializes_as_the_triggerers_database_holds_it():
    trigger = BedrockResourceTrigger("provisioned_throughput", "arn:x", started_at=1.0, **CONNECTION)
    classpath, kwargs = trigger.serialize()
    assert classpath == "bedrock_provider.triggers.resource.BedrockResourceTrigger"
    assert list(kwargs) == [
        *("kind", "identifier", "poll_interval", "max_wait", "cleanup_on_kill"),
        *("aws_conn_id", "region_name", "verify", "botocore_config"),
        *("started_at", "kill_parameter"),
    ]
    assert BedrockResourceTrigger(**kwargs).serialize() == (classpath, kwargs)


@pytest.mark.parametrize(
    ("cleanup_on_kill", "kept"),
    [(True, True), (False, False), ({"clear", "mark_failed"}, ["clear", "mark_failed"]), ([], [])],
)
def test_a_resource_triggers_kill_actions_round_trip_as_json(cleanup_on_kill, kept):
    import json

    trigger = BedrockResourceTrigger(
        "custom_model_deployment", "arn:x", cleanup_on_kill=cleanup_on_kill, kill_parameter="delete_on_kill"
    )
    classpath, kwargs = trigger.serialize()
    assert kwargs["cleanup_on_kill"] == kept and kwargs["kill_parameter"] == "delete_on_kill"
    restored = BedrockResourceTrigger(**json.loads(json.dumps(kwargs)))
    assert restored.serialize() == (classpath, kwargs)
    assert restored.kill_rule().actions == trigger.kill_rule().actions


@pytest.mark.parametrize("value", [{"mark_faild"}, "sometimes", 3])
def test_a_resource_triggers_unknown_kill_actions_are_refused_naming_the_parameter(value):
    with pytest.raises(ValueError, match="delete_on_kill"):
        BedrockResourceTrigger(
            "custom_model_deployment", "arn:x", cleanup_on_kill=value, kill_parameter="delete_on_kill"
        )


def test_a_constructor_parameter_the_trigger_does_not_keep_fails_serialization_loudly():
    class Forgetful(BedrockAwsTrigger):
        aws_hook_class = "bedrock_provider.hooks.resources.BedrockResourceHook"

        def __init__(self, identifier: str, aws_conn_id: str | None = "aws_default") -> None:
            super().__init__(aws_conn_id=aws_conn_id)

        async def run(self):  # pragma: no cover - never run
            yield None

        def kill_rule(self):  # pragma: no cover - never killed
            return KillRule.of("cleanup_on_kill", False, "resource", "x", "delete")

        async def act_on_kill(self):  # pragma: no cover - never killed
            return False

    with pytest.raises(AttributeError, match="identifier"):
        Forgetful("x").serialize()


def test_the_hook_is_made_from_the_connection_parameters():
    trigger = BedrockResourceTrigger("evaluation_job", "arn:x", **CONNECTION)
    hook = trigger.hook()
    assert type(hook).__name__ == "BedrockResourceHook"
    assert (hook.aws_conn_id, hook.region_name, hook.verify) == ("c", "eu-west-1", "/ca.pem")
    assert hook.config.retries == {"mode": "standard"}
    assert type(BedrockModelCustomizationTrigger("job").hook()).__name__ == "BedrockCustomizationHook"


def test_connection_keys_are_equal_exactly_when_the_connections_are():
    def key(**overrides):
        trigger = BedrockResourceTrigger("evaluation_job", "arn:x", **{**CONNECTION, **overrides})
        return trigger.connection_key()

    assert key() == key(botocore_config={"retries": {"mode": "standard"}})
    assert key() != key(region_name="us-east-1")
    assert key() != key(verify=False) != key(verify=None)
    hash(key())


def message(handle: str, job: str | None, status: str = "Completed", receives: int = 1) -> dict:
    body = (
        json.dumps(
            {
                "source": EVENT_SOURCE,
                "detail-type": EVENT_DETAIL_TYPE,
                "detail": {"jobName": job, "jobStatus": status},
            }
        )
        if job
        else "{not json"
    )
    return {"ReceiptHandle": handle, "Body": body, "Attributes": {"ApproximateReceiveCount": str(receives)}}


def test_a_receive_is_sorted_into_changes_to_hand_over_and_messages_to_delete():
    watchers = Watchers()
    watchers.add("mine")
    delivered, done = sort_messages(
        [
            message("a", "mine"),
            message("b", "stranger"),
            message("c", "stranger", receives=99),
            message("d", None),
            message("e", "stranger", status="InProgress"),
        ],
        watchers,
    )
    assert [(change.job_name, change.status) for change in delivered] == [("mine", "Completed")]
    # b is left for another triggerer process; the rest are delivered or of no use to anyone.
    assert done == ["a", "c", "d", "e"]


def test_a_shared_lists_failures_end_a_wait_only_once_they_outlast_its_max_failure_duration():
    failures = FailureRun(max_duration=60)
    assert not failures.outlasted_by(since=100.0, count=3, last_error="refused", now=159.0)
    assert failures.count == 0
    assert failures.outlasted_by(since=100.0, count=9, last_error="refused", now=160.0)
    assert (failures.count, failures.since, failures.last_error) == (9, 100.0, "refused")
    assert "failed for 60 s (9 in a row" in failures.message("job", now=160.0)
    assert not FailureRun(max_duration=None).outlasted_by(since=0.0, count=99, last_error="x", now=1e9)
