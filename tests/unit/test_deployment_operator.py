"""BedrockDeployCustomModelOperator and the resource trigger against the emulator in-process."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, TaskDeferred

from bedrock_provider.core.errors import InvalidInputError, JobConflictError
from bedrock_provider.emulator import TAG_DURATION, TAG_FAILURE_MESSAGE, TAG_OUTCOME, BedrockEmulator
from bedrock_provider.operators.deployment import BedrockDeployCustomModelOperator
from bedrock_provider.triggers.resource import BedrockResourceTrigger
from tests.unit.post_training import clients, context, emu, emulator, trained_model, until
from tests.unit.test_trigger_kill_rules import tell_state

__all__ = ["emu", "emulator"]


def deploy(**overrides: Any) -> BedrockDeployCustomModelOperator:
    kwargs: dict[str, Any] = {
        "task_id": "deploy",
        "model_identifier": "support-bot-20250105",
        "deployment_name": "support-bot-20250105",
        "deferrable": False,
        "poll_interval": 0.1,
        "aws_conn_id": None,
    }
    kwargs.update(overrides)
    return BedrockDeployCustomModelOperator(**kwargs)


def run_trigger(trigger: BedrockResourceTrigger) -> dict[str, Any]:
    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(first_event())


def test_on_demand_deployment_waits_until_active(emu: BedrockEmulator) -> None:
    model_arn = trained_model(emu)
    result = deploy().execute(context(task_id="deploy"))
    assert result["status"] == "Active" and result["mode"] == "on_demand"
    assert result["model_arn"] == model_arn and result["adopted"] is False
    assert ":custom-model-deployment/" in result["deployment_arn"]
    assert emu.request_count("CreateCustomModelDeployment") == 1


def test_a_rerun_adopts_its_own_deployment_and_creates_none(emu: BedrockEmulator) -> None:
    trained_model(emu)
    first = deploy().execute(context(task_id="deploy"))
    again = deploy().execute(context(task_id="deploy"))
    assert again["deployment_arn"] == first["deployment_arn"] and again["adopted"] is True
    assert emu.request_count("CreateCustomModelDeployment") == 1
    assert emu.post_training_counts()["deployments"] == 1


def test_a_deployment_of_another_model_is_not_adopted(emu: BedrockEmulator) -> None:
    trained_model(emu)
    other = trained_model(emu, "support-bot-20250112")
    deploy().execute(context(task_id="deploy"))
    with pytest.raises(JobConflictError, match="model_identifier") as error:
        deploy(model_identifier=other).execute(context(task_id="deploy"))
    assert other in str(error.value)
    assert emu.request_count("CreateCustomModelDeployment") == 1


def test_another_runs_deployment_of_that_name_is_refused(emu: BedrockEmulator) -> None:
    trained_model(emu)
    deploy().execute(context(run_id="scheduled__2025-01-05", task_id="deploy"))
    with pytest.raises(JobConflictError, match="not created by this task instance"):
        deploy().execute(context(run_id="manual__other", task_id="deploy"))
    assert emu.request_count("CreateCustomModelDeployment") == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mode": "serverless"}, "mode"),
        ({"deployment_name": "bad name!"}, "deployment_name"),
        ({"model_identifier": "not a model!"}, "model_identifier"),
        ({"mode": "provisioned", "model_units": 0}, "model_units"),
        ({"mode": "provisioned", "commitment_duration": "OneYear"}, "commitment_duration"),
        ({"commitment_duration": "OneMonth"}, "commitment_duration"),
        ({"tags": {"airflow:task-token": "x"}}, "tags"),
        ({"mode": "provisioned", "description": "support bot"}, "description"),
        ({"description": "x" * 2049}, "description"),
    ],
)
def test_bad_input_is_refused_before_any_call(
    emu: BedrockEmulator, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputError) as error:
        deploy(**overrides).execute(context())
    assert field in error.value.fields
    assert emu.counts() == {}


def test_an_unknown_model_is_named(emu: BedrockEmulator) -> None:
    with pytest.raises(InvalidInputError, match="no such custom model"):
        deploy(model_identifier="missing-model").execute(context())
    assert emu.request_count("CreateCustomModelDeployment") == 0


def test_provisioned_throughput_and_its_adoption_rules(emu: BedrockEmulator) -> None:
    trained_model(emu)
    result = deploy(mode="provisioned", model_units=2).execute(context(task_id="deploy"))
    assert result["status"] == "InService" and result["mode"] == "provisioned"
    assert ":provisioned-model/" in result["deployment_arn"]
    bedrock, _ = clients(emu)
    assert (
        bedrock.get_provisioned_model_throughput(provisionedModelId=result["deployment_arn"])["modelUnits"]
        == 2
    )
    with pytest.raises(JobConflictError, match="model_units"):
        deploy(mode="provisioned", model_units=3).execute(context(task_id="deploy"))
    assert emu.request_count("CreateProvisionedModelThroughput") == 1


def test_a_failed_deployment_fails_the_task_and_a_retry_replaces_it(emu: BedrockEmulator) -> None:
    trained_model(emu)
    failing = {TAG_OUTCOME: "Failed", TAG_FAILURE_MESSAGE: "no capacity in us-east-1"}
    with pytest.raises(AirflowException, match="no capacity in us-east-1"):
        deploy(tags=failing).execute(context(task_id="deploy"))
    result = deploy().execute(context(task_id="deploy"))
    assert result["status"] == "Active"
    assert emu.request_count("CreateCustomModelDeployment") == 2
    assert emu.post_training_counts()["deployments"] == 1


def test_deferred_wait_through_the_resource_trigger(emu: BedrockEmulator) -> None:
    trained_model(emu)
    # Long enough to be Creating when the operator first looks, however loaded the machine.
    operator = deploy(deferrable=True, tags={TAG_DURATION: "3"})
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context(task_id="deploy"))
    trigger = deferred.value.trigger
    assert isinstance(trigger, BedrockResourceTrigger)
    classpath, kwargs = trigger.serialize()
    restored = BedrockResourceTrigger(**kwargs)
    assert restored.serialize() == (classpath, kwargs)
    event = run_trigger(restored)
    assert event["status"] == "Active" and event["ready"] is True
    result = operator.execute_complete(context(task_id="deploy"), event)
    assert result["status"] == "Active" and result["deployment_arn"] == event["arn"]


def test_trigger_times_out_and_only_mark_failed_deletes_a_deployment_not_yet_active(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained_model(emu)
    operator = deploy(deferrable=True, tags={TAG_DURATION: "60"}, max_wait=0.5)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context(task_id="deploy"))
    trigger = deferred.value.trigger
    event = run_trigger(trigger)
    assert event["status"] == "timeout" and "Creating" in event["message"]
    with pytest.raises(AirflowException, match="still Creating"):
        operator.execute_complete(context(task_id="deploy"), event)
    trigger.task_instance = context(task_id="deploy")["ti"]
    for cleared_or_moved in (None, "scheduled", "success", "deferred"):
        tell_state(monkeypatch, cleared_or_moved)
        asyncio.run(trigger.on_kill())
    assert emu.post_training_counts()["deployments"] == 1
    assert emu.request_count("DeleteCustomModelDeployment") == 0
    tell_state(monkeypatch, "failed")
    asyncio.run(trigger.on_kill())
    assert emu.post_training_counts()["deployments"] == 0


@pytest.mark.parametrize("mode", ["on_demand", "provisioned"])
def test_worker_kill_deletes_the_deployment_it_made_only_when_marked_failed(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    trained_model(emu)
    counted = "provisioned_throughputs" if mode == "provisioned" else "deployments"
    operator = deploy(mode=mode, tags={TAG_DURATION: "60"}, wait_for_completion=False)
    result = operator.execute(context(task_id="deploy"))
    assert result["status"] == "Creating"
    for cleared_or_done in (None, "restarting", "success"):
        tell_state(monkeypatch, cleared_or_done)
        operator.on_kill()
    assert emu.post_training_counts()[counted] == 1
    tell_state(monkeypatch, "failed")
    operator.on_kill()
    assert emu.post_training_counts()[counted] == 0


def test_throttling_and_server_errors_are_waited_through(emu: BedrockEmulator) -> None:
    trained_model(emu)
    emu.set_fault_rates(throttle=0.25, server_error=0.1)
    result = deploy().execute(context(task_id="deploy"))
    emu.set_fault_rates()
    assert result["status"] == "Active"
    assert sum(emu.fault_counts().values()) > 0
    until(lambda: emu.post_training_counts()["deployments"] == 1)


def test_provisioned_throughput_price_is_logged_and_its_budget_refuses_before_any_create(
    emu: BedrockEmulator,
) -> None:
    trained_model(emu)
    create = "CreateProvisionedModelThroughput"
    # Titan Text Express's hourly price is not in the catalog: with a budget, that is a refusal.
    with pytest.raises(AirflowException, match=r"hourly price is unknown.*provisioned_per_hour"):
        deploy(mode="provisioned", max_hourly_cost=100).execute(context(task_id="deploy"))
    priced = {"provisioned_per_hour": 20.5}
    with pytest.raises(
        AirflowException, match=r"2 model unit\(s\) x \$20.50 an hour.*max_hourly_cost=\$30.00"
    ):
        deploy(mode="provisioned", model_units=2, max_hourly_cost=30, price_overrides=priced).execute(
            context(task_id="deploy")
        )
    assert emu.request_count(create) == 0
    ctx = context(task_id="deploy")
    result = deploy(mode="provisioned", model_units=2, max_hourly_cost="50", price_overrides=priced).execute(
        ctx
    )
    assert result["status"] == "InService" and emu.request_count(create) == 1
    assert ctx["ti"].xcom["estimated_hourly_cost"]["usd"] == 41.0


def test_a_deferred_deploy_returns_whether_it_adopted(emu: BedrockEmulator) -> None:
    """The deferring try knows whether it created or adopted; the resumed try returns that, never None."""
    trained_model(emu)
    tries = []
    for _ in range(2):  # the second try (a clear, a retry) adopts the deployment still Creating
        operator = deploy(deferrable=True, tags={TAG_DURATION: "5"})
        with pytest.raises(TaskDeferred) as deferred:
            operator.execute(context(task_id="deploy"))
        tries.append((operator, deferred.value))
    event = run_trigger(tries[-1][1].trigger)
    results = [
        operator.execute_complete(context(task_id="deploy"), event, **deferral.kwargs)
        for operator, deferral in tries
    ]
    assert [result["adopted"] for result in results] == [False, True]
    assert emu.request_count("CreateCustomModelDeployment") == 1
    # A task deferred before the operator passed it along resumes with a bool as well.
    assert deploy().execute_complete(context(task_id="deploy"), event)["adopted"] is False


def test_edited_tags_are_applied_to_our_adopted_deployment_and_others_tags_are_kept(
    emu: BedrockEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    trained_model(emu)
    first = deploy(tags={"team": "search", "cost-center": "42"}).execute(context(task_id="deploy"))
    arn = first["deployment_arn"]
    bedrock, _ = clients(emu)
    bedrock.tag_resource(resourceARN=arn, tags=[{"key": "finops", "value": "by-hand"}])
    capfd.readouterr()
    again = deploy(tags={"team": "support", "stage": "canary", "cost-center": "42"}).execute(
        context(task_id="deploy")
    )
    assert again["adopted"] is True and again["deployment_arn"] == arn
    tags = {tag["key"]: tag["value"] for tag in bedrock.list_tags_for_resource(resourceARN=arn)["tags"]}
    assert {key: tags.get(key) for key in ("team", "stage", "cost-center", "finops")} == {
        "team": "support",
        "stage": "canary",
        "cost-center": "42",
        "finops": "by-hand",
    }
    assert tags["airflow:task-token"].startswith("airflow-")
    assert emu.request_count("TagResource") == 2  # ours above, and one for both changes
    printed = capfd.readouterr().out
    assert "team: 'search' -> 'support'" in printed and "stage: None -> 'canary'" in printed
    assert "finops='by-hand'" in printed and "untag-resource" in printed
    # Another run's deployment of that name is refused, and its tags are never touched.
    with pytest.raises(JobConflictError, match="not created by this task instance"):
        deploy(tags={"team": "other"}).execute(context(run_id="manual__other", task_id="deploy"))
    assert emu.request_count("TagResource") == 2


def test_an_edited_description_of_an_adopted_deployment_is_refused_naming_both(emu: BedrockEmulator) -> None:
    trained_model(emu)
    deploy(description="support bot, January").execute(context(task_id="deploy"))
    with pytest.raises(JobConflictError) as error:
        deploy(description="support bot, February").execute(context(task_id="deploy"))
    message = str(error.value)
    assert "description='support bot, February'" in message
    assert "'support bot, January'" in message and "cannot change a deployment's description" in message
    assert "set description back" in message
    assert emu.request_count("CreateCustomModelDeployment") == 1
    assert deploy(description="support bot, January").execute(context(task_id="deploy"))["adopted"] is True


def test_an_empty_description_is_no_description(emu: BedrockEmulator) -> None:
    trained_model(emu)
    result = deploy(description="").execute(context(task_id="deploy"))
    bedrock, _ = clients(emu)
    described = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=result["deployment_arn"])
    assert result["status"] == "Active" and "description" not in described
    # ...so the task with no description at all is the same request, and adopts it.
    assert deploy().execute(context(task_id="deploy"))["adopted"] is True
