"""BedrockPromoteCustomModelOperator against the emulator in-process: one stable deployment ARN, the model
behind it swapped, checked by a canary, and rolled back."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, TaskDeferred

from bedrock_provider.core.errors import InvalidInputError, JobConflictError
from bedrock_provider.core.lifecycle.promotion import FROM_TAG, LAST_GOOD_TAG, STABLE_TAG, STATE_TAG, TO_TAG
from bedrock_provider.emulator import TAG_DURATION, BedrockEmulator
from bedrock_provider.operators.promotion import BedrockPromoteCustomModelOperator
from tests.unit import post_training as shared
from tests.unit.post_training import emu, emulator
from tests.unit.test_deployment_operator import run_trigger
from tests.unit.test_trigger_kill_rules import tell_state

__all__ = ["emu", "emulator"]

STABLE = "support-bot-prod"
CORRECTNESS = "emulator:score:Builtin.Correctness"


def promote(model: str, **overrides: Any) -> BedrockPromoteCustomModelOperator:
    kwargs: dict[str, Any] = {
        "task_id": "promote",
        "deployment_name": STABLE,
        "model_identifier": model,
        "deferrable": False,
        "poll_interval": 0.05,
        "aws_conn_id": None,
    }
    kwargs.update(overrides)
    return BedrockPromoteCustomModelOperator(**kwargs)


def canary(score: str, **overrides: Any) -> dict[str, Any]:
    """Canary settings on the judged path of an on-demand deployment; the emulator scores ``score``."""
    settings: dict[str, Any] = {
        "role_arn": shared.ROLE,
        "task_type": "Generation",
        "dataset_uri": f"s3://{shared.BUCKET}/eval/prompts.jsonl",
        "output_uri": f"s3://{shared.BUCKET}/canary/",
        "evaluator_model_id": "amazon.nova-pro-v1:0",
        "metric_names": ["Builtin.Correctness"],
        "min_scores": {"Builtin.Correctness": 0.7},
        "job_tags": {CORRECTNESS: score},
    }
    settings.update(overrides)
    return settings


def run(run_id: str) -> dict[str, Any]:
    return shared.context(run_id=run_id, task_id="promote")


def stable(emu: BedrockEmulator) -> tuple[dict[str, Any], dict[str, str]]:
    bedrock, _ = shared.clients(emu)
    description = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=STABLE)
    arn = description["customModelDeploymentArn"]
    tags = bedrock.list_tags_for_resource(resourceARN=arn)["tags"]
    return dict(description), {tag["key"]: tag["value"] for tag in tags}


def models(emu: BedrockEmulator, *names: str) -> list[str]:
    _, s3 = shared.clients(emu)
    s3.put_object(Bucket=shared.BUCKET, Key="eval/prompts.jsonl", Body=shared.PROMPTS)
    return [shared.trained_model(emu, name) for name in names]


def hold_next_update(emu: BedrockEmulator, seconds: float) -> None:
    """The stable deployment's next update takes ``seconds`` of the emulator's clock."""
    bedrock, _ = shared.clients(emu)
    arn = stable(emu)[0]["customModelDeploymentArn"]
    bedrock.tag_resource(resourceARN=arn, tags=[{"key": TAG_DURATION, "value": str(seconds)}])


def test_promoting_b_then_c_keeps_one_deployment_arn_serving_c(emu: BedrockEmulator) -> None:
    b, c = models(emu, "bot-b", "bot-c")
    first = promote(b).execute(run("week1"))
    assert first["status"] == "created" and first["model_arn"] == b and first["previous_model_arn"] is None
    second = promote(c).execute(run("week2"))
    assert second["deployment_arn"] == first["deployment_arn"]
    assert second["model_arn"] == c and second["previous_model_arn"] == b and second["status"] == "swapped"
    assert second["rolled_back"] is False and second["canary"] is None
    description, tags = stable(emu)
    assert description["modelArn"] == c and description["updateDetails"]["updateStatus"] == "UpdateCompleted"
    assert tags[LAST_GOOD_TAG] == b and tags[STATE_TAG] == "live" and STABLE_TAG in tags
    assert emu.request_count("CreateCustomModelDeployment") == 1
    assert emu.request_count("UpdateCustomModelDeployment") == 1
    assert emu.post_training_counts()["deployments"] == 1


def test_a_model_already_served_is_a_no_op_that_says_so(emu: BedrockEmulator) -> None:
    b, c = models(emu, "bot-b", "bot-c")
    promote(b).execute(run("week1"))
    promote(c).execute(run("week2"))
    again = promote(c).execute(run("manual__again"))
    assert again["status"] == "unchanged" and again["model_arn"] == c
    assert again["last_good_model_arn"] == b and again["previous_model_arn"] is None
    assert emu.request_count("UpdateCustomModelDeployment") == 1


def test_a_retry_adopts_its_own_promotion(emu: BedrockEmulator) -> None:
    b, c = models(emu, "bot-b", "bot-c")
    promote(b).execute(run("week1"))
    done = promote(c).execute(run("week2"))
    retried = promote(c).execute(run("week2"))
    assert retried["status"] == "swapped" and retried["previous_model_arn"] == b
    assert retried["deployment_arn"] == done["deployment_arn"]
    assert emu.request_count("UpdateCustomModelDeployment") == 1


def test_a_failed_canary_swaps_the_last_good_model_back_then_fails(emu: BedrockEmulator) -> None:
    b, c = models(emu, "bot-b", "bot-c")
    promote(b).execute(run("week1"))
    context = run("week2")
    with pytest.raises(AirflowFailException, match="canary"):
        promote(c, canary=canary("0.2")).execute(context)
    result = context["ti"].xcom["return_value"]
    assert result["rolled_back"] is True and result["model_arn"] == b and result["status"] == "rolled_back"
    assert result["canary"]["passed"] is False and result["canary"]["scores"]["Builtin.Correctness"] == 0.2
    description, tags = stable(emu)
    assert description["modelArn"] == b
    assert tags[STATE_TAG] == "rolled-back" and LAST_GOOD_TAG not in tags
    assert emu.request_count("UpdateCustomModelDeployment") == 2
    # The canary evaluated the deployment by its responses, judged (the evaluation operator's path).
    assert emu.request_count("Converse") == shared.PROMPTS.count(b"\n")


def test_a_failed_canary_can_skip_or_record(emu: BedrockEmulator) -> None:
    b, c, d = models(emu, "bot-b", "bot-c", "bot-d")
    promote(b).execute(run("week1"))
    with pytest.raises(AirflowSkipException):
        promote(c, canary=canary("0.2"), on_canary_failure="skip").execute(run("week2"))
    recorded = promote(d, canary=canary("0.3"), on_canary_failure="record").execute(run("week3"))
    assert recorded["rolled_back"] is True and recorded["model_arn"] == b


def test_a_passing_canary_confirms_the_promotion(emu: BedrockEmulator) -> None:
    b, c = models(emu, "bot-b", "bot-c")
    promote(b).execute(run("week1"))
    result = promote(c, canary=canary("0.9")).execute(run("week2"))
    assert result["model_arn"] == c and result["canary"]["passed"] is True and result["rolled_back"] is False
    assert stable(emu)[1][LAST_GOOD_TAG] == b


def test_bad_canary_settings_are_refused_before_any_call(emu: BedrockEmulator) -> None:
    emu.reset_counts()
    bad = canary("0.9", role_arn="not-a-role", min_scores={"Builtin.Nope": 1})
    with pytest.raises(InvalidInputError) as error:
        promote("bot-b", canary=bad, on_canary_failure="explode").execute(run("week1"))
    assert "canary['role_arn']" in error.value.fields and "on_canary_failure" in error.value.fields
    assert "canary['min_scores']['Builtin.Nope']" in error.value.fields
    assert emu.counts() == {}


def test_a_deployment_promotions_did_not_create_is_never_updated(emu: BedrockEmulator) -> None:
    b, c = models(emu, "bot-b", "bot-c")
    bedrock, _ = shared.clients(emu)
    bedrock.create_custom_model_deployment(modelDeploymentName=STABLE, modelArn=b)
    shared.until(lambda: stable(emu)[0]["status"] == "Active")
    with pytest.raises(JobConflictError, match=STABLE_TAG):
        promote(c).execute(run("week2"))
    assert emu.request_count("UpdateCustomModelDeployment") == 0


def test_a_kill_after_the_update_call_is_finished_by_the_next_try(emu: BedrockEmulator) -> None:
    """The try dies once UpdateCustomModelDeployment is accepted (here: it defers, and its trigger is
    never run); the next try finds the update in progress, adopts it and records the replaced model."""
    b, c = models(emu, "bot-b", "bot-c")
    promote(b).execute(run("week1"))
    with pytest.raises(TaskDeferred):
        promote(c, deferrable=True).execute(run("week2"))
    assert stable(emu)[0]["updateDetails"]["updateStatus"] in ("Updating", "UpdateCompleted")
    result = promote(c).execute(run("week2"))
    assert result["model_arn"] == c and result["previous_model_arn"] == b
    assert stable(emu)[1][LAST_GOOD_TAG] == b
    assert emu.request_count("UpdateCustomModelDeployment") == 1


def test_a_crash_between_the_record_and_the_update_is_redone(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    b, c = models(emu, "bot-b", "bot-c")
    promote(b).execute(run("week1"))
    crashing = promote(c)

    def crash(**_: Any) -> None:
        raise SystemExit("worker killed")

    monkeypatch.setattr(crashing.resource_hook.client, "update_custom_model_deployment", crash)
    with pytest.raises(SystemExit):
        crashing.execute(run("week2"))
    description, tags = stable(emu)
    assert description["modelArn"] == b and tags[TO_TAG] == c and tags[FROM_TAG] == b
    result = promote(c).execute(run("week2"))
    assert result["model_arn"] == c and result["previous_model_arn"] == b


def test_a_kill_during_the_canary_resumes_it_without_a_second_job(emu: BedrockEmulator) -> None:
    b, c = models(emu, "bot-b", "bot-c")
    promote(b).execute(run("week1"))
    slow = canary("0.2", job_tags={CORRECTNESS: "0.2", TAG_DURATION: "3"})
    with pytest.raises(TaskDeferred) as deferred:
        promote(c, canary=slow, deferrable=True, max_wait=60).execute(run("week2"))
    # The first deferral waits for the update; its event resumes the task, which starts the canary.
    event = run_trigger(deferred.value.trigger)
    with pytest.raises(TaskDeferred):
        promote(c, canary=slow, deferrable=True).resume(run("week2"), event)
    assert emu.request_count("CreateEvaluationJob") == 1 and stable(emu)[1][STATE_TAG] == "canary"
    # The worker dies; the next try blocks on the same canary job, then rolls back.
    with pytest.raises(AirflowFailException):
        promote(c, canary=slow).execute(run("week2"))
    assert emu.request_count("CreateEvaluationJob") == 1
    assert stable(emu)[0]["modelArn"] == b


def test_concurrent_promotions_never_interleave(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A promotion to C is updating; one to D finds it and refuses, naming it; after C is live, D's
    retry swaps C for D: each state is one that a run asked for."""
    b, c, d = models(emu, "bot-b", "bot-c", "bot-d")
    promote(b).execute(run("week1"))
    # C's update lasts an hour of the emulator's clock, so D's attempt meets it in progress however
    # slow the machine is; the clock then jumps past its end.
    hold_next_update(emu, seconds=3600)
    with pytest.raises(TaskDeferred) as deferred:
        promote(c, deferrable=True).execute(run("run-c"))
    with pytest.raises(JobConflictError, match=c):
        promote(d).execute(run("run-d"))
    assert stable(emu)[0]["updateDetails"]["modelArn"] == c
    hold_next_update(emu, seconds=0.3)
    monkeypatch.setattr(emu.post_training, "_clock", lambda: time.time() + 3600)
    event = run_trigger(deferred.value.trigger)
    finished = promote(c, deferrable=True).resume(run("run-c"), event)
    assert finished["model_arn"] == c and finished["previous_model_arn"] == b
    retried = promote(d).execute(run("run-d"))
    assert retried["model_arn"] == d and retried["previous_model_arn"] == c
    assert stable(emu)[1][LAST_GOOD_TAG] == c


def test_a_race_between_check_and_update_is_refused_and_leaves_the_winners_record(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both promotions checked while B served; C's update lands first, D's is refused by Bedrock (an
    update is in progress): D names C, takes its own record back, and C's promotion completes."""
    b, c, d = models(emu, "bot-b", "bot-c", "bot-d")
    promote(b).execute(run("week1"))
    loser = promote(d)
    client = loser.resource_hook.client
    real_update = client.update_custom_model_deployment

    def update_after_the_winner(**kwargs: Any) -> Any:
        with pytest.raises(TaskDeferred):
            promote(c, deferrable=True).execute(run("run-c"))
        return real_update(**kwargs)

    monkeypatch.setattr(client, "update_custom_model_deployment", update_after_the_winner)
    hold_next_update(emu, seconds=3600)
    with pytest.raises(JobConflictError, match="does not interleave"):
        loser.execute(run("run-d"))
    description, tags = stable(emu)
    assert description["updateDetails"]["modelArn"] == c and tags[TO_TAG] == c
    monkeypatch.setattr(emu.post_training, "_clock", lambda: time.time() + 3600)
    finished = promote(c).execute(run("run-c"))
    assert finished["model_arn"] == c and finished["previous_model_arn"] == b


def test_a_user_marking_a_waiting_swap_failed_never_deletes_or_reverts_it(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No API cancels an update and deleting the stable deployment is never meant: whatever the user's
    action, the trigger and the worker leave the swap alone, and the next try finishes it."""
    b, c = models(emu, "bot-b", "bot-c")
    promote(b).execute(run("week1"))
    with pytest.raises(TaskDeferred) as deferred:
        promote(c, deferrable=True).execute(run("week2"))
    trigger = deferred.value.trigger
    trigger.task_instance = run("week2")["ti"]
    for action in ("failed", None, "success"):
        tell_state(monkeypatch, action)
        asyncio.run(trigger.on_kill())
    assert emu.request_count("DeleteCustomModelDeployment") == 0
    assert stable(emu)[0]["updateDetails"]["modelArn"] == c
    from airflow.sdk.execution_time import task_runner

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", None)  # out of the task again: a next try
    assert promote(c).execute(run("week2"))["model_arn"] == c
