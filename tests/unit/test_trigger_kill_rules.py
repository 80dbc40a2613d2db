"""A user's action on a waiting task means the same for every kind it waits for, on both paths.

Customization jobs, evaluation jobs, custom model deployments and provisioned throughput; the
triggerer's path (a trigger's on_kill, deferred) and the worker's (an operator's on_kill, blocking):
mark-failed stops or deletes; clear keeps (the next try adopts); mark-success leaves it running; a
trigger that moved to another triggerer, or a state that cannot be read, touches nothing. The task
instance's state comes through a stand-in for Airflow's supervisor channel (GetTaskStates).
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from bedrock_provider.core.lifecycle.resources import (
    CUSTOM_MODEL_DEPLOYMENT,
    EVALUATION_JOB,
    MODEL_CUSTOMIZATION_JOB,
    PROVISIONED_THROUGHPUT,
)
from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger
from bedrock_provider.triggers.resource import BedrockResourceTrigger

ARN = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/abcdefabcdef"
UNREADABLE = object()

# (the task instance's state right after the kill, what the user did)
STATES = [
    ("failed", "mark_failed"),
    (None, "clear"),
    ("scheduled", "clear"),
    ("restarting", "clear"),
    ("success", "mark_success"),
    ("skipped", "mark_success"),
    ("deferred", "moved"),
    (UNREADABLE, "unknown"),
]
# (the kill setting, the user actions it acts on)
SETTINGS = [
    (True, {"mark_failed"}),
    (False, set()),
    ({"clear"}, {"clear"}),
    (["mark_failed", "clear", "mark_success"], {"mark_failed", "clear", "mark_success"}),
]


class SupervisorChannel:
    """Airflow's supervisor channel as triggers (asend) and workers (send) use it: GetTaskStates."""

    def __init__(self, state: object) -> None:
        self.state = state
        self.asked: list[Any] = []

    def send(self, request: Any) -> Any:
        self.asked.append(request)
        if self.state is UNREADABLE:
            raise ConnectionError("supervisor gone")
        key = request.task_ids[0] if request.map_index < 0 else f"{request.task_ids[0]}_{request.map_index}"
        return SimpleNamespace(task_states={request.run_ids[0]: {key: self.state}})

    async def asend(self, request: Any) -> Any:
        return self.send(request)


def tell_state(monkeypatch: pytest.MonkeyPatch, state: object) -> SupervisorChannel:
    """Make the task instance's state after a kill ``state``, as the supervisor answers it."""
    from airflow.sdk.execution_time import task_runner

    channel = SupervisorChannel(state)
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", channel, raising=False)
    return channel


def task_instance(task_id: str = "wait") -> SimpleNamespace:
    return SimpleNamespace(dag_id="dag", task_id=task_id, run_id="run", map_index=-1)


class RecordingHook:
    """Records each stop or delete a kill asks for, on either path, for every kind."""

    def __init__(self) -> None:
        self.acted: list[tuple[str, str]] = []

    async def cleanup_async(self, kind: Any, identifier: str) -> bool:
        return self.cleanup(kind, identifier)

    def cleanup(self, kind: Any, identifier: str) -> bool:
        self.acted.append((kind.key, identifier))
        return True

    async def stop_job_async(self, identifier: str) -> bool:
        return self.stop_job(identifier)

    def stop_job(self, identifier: str) -> bool:
        self.acted.append((MODEL_CUSTOMIZATION_JOB.key, identifier))
        return True


# -- the triggerer's path ------------------------------------------------------------------------------


def resource_trigger(kind_key: str, setting: object) -> BedrockResourceTrigger:
    return BedrockResourceTrigger(kind_key, ARN, cleanup_on_kill=setting, aws_conn_id=None)


def customization_trigger(kind_key: str, setting: object) -> BedrockModelCustomizationTrigger:
    return BedrockModelCustomizationTrigger(job_identifier=ARN, stop_job_on_kill=setting, aws_conn_id=None)


TRIGGERS = [
    pytest.param(resource_trigger, CUSTOM_MODEL_DEPLOYMENT, id="deployment"),
    pytest.param(resource_trigger, PROVISIONED_THROUGHPUT, id="provisioned"),
    pytest.param(resource_trigger, EVALUATION_JOB, id="evaluation"),
    pytest.param(resource_trigger, MODEL_CUSTOMIZATION_JOB, id="customization-resource"),
    pytest.param(customization_trigger, MODEL_CUSTOMIZATION_JOB, id="customization"),
]


def test_the_triggers_log_names_the_resource_the_action_and_the_operators_parameter(monkeypatch, capfd):
    tell_state(monkeypatch, None)
    hook = RecordingHook()
    trigger = BedrockResourceTrigger(
        CUSTOM_MODEL_DEPLOYMENT.key, ARN, kill_parameter="delete_on_kill", aws_conn_id=None
    )
    trigger.task_instance = task_instance()
    monkeypatch.setattr(trigger, "hook", lambda: hook)
    asyncio.run(trigger.on_kill())
    assert hook.acted == []
    # Airflow's logging writes to the process's stdout here, not through the logging module.
    printed = capfd.readouterr().out
    assert (
        f"Task killed; custom model deployment {ARN} left running: the task was cleared: its next try "
        "adopts the custom model deployment"
    ) in printed
    tell_state(monkeypatch, "failed")
    asyncio.run(trigger.on_kill())
    printed = capfd.readouterr().out
    assert f"Task killed; delete requested for custom model deployment {ARN} (mark_failed is in " in printed
    assert "delete_on_kill (mark_failed))" in printed


# -- the worker's path ---------------------------------------------------------------------------------


# Each waiting operator: its class, the arguments it needs, and its kill setting's parameter.
OPERATOR_CLASSES: dict[str, tuple[str, dict[str, Any], str]] = {
    "deployment": (
        "bedrock_provider.operators.deployment.BedrockDeployCustomModelOperator",
        {"model_identifier": "m", "deployment_name": "d"},
        "delete_on_kill",
    ),
    "evaluation": (
        "bedrock_provider.operators.evaluation.BedrockModelEvaluationOperator",
        {"job_name": "e", "role_arn": "r", "model_identifier": "m", "task_type": "QuestionAndAnswer"}
        | {"output_uri": "s3://b/o/"},
        "stop_job_on_kill",
    ),
    "customization": (
        "bedrock_provider.operators.customization.BedrockModelCustomizationOperator",
        {"job_name": "j", "custom_model_name": "m", "role_arn": "r", "base_model_id": "b"}
        | {"training_data_uri": "s3://b/t.jsonl", "output_data_uri": "s3://b/o/"},
        "stop_job_on_kill",
    ),
}


def waiting_operator(name: str, kind: Any, setting: object) -> Any:
    """The operator, as it is after making the resource it waits for (ARN) in the worker."""
    import importlib

    path, arguments, parameter = OPERATOR_CLASSES[name]
    module, _, class_name = path.rpartition(".")
    operator_class = getattr(importlib.import_module(module), class_name)
    operator = operator_class(task_id="wait", aws_conn_id=None, **arguments, **{parameter: setting})
    operator.job_arn = operator.deployment_arn = ARN
    operator._kind = kind
    return operator


OPERATORS = [
    pytest.param("deployment", CUSTOM_MODEL_DEPLOYMENT, id="deployment"),
    pytest.param("deployment", PROVISIONED_THROUGHPUT, id="provisioned"),
    pytest.param("evaluation", EVALUATION_JOB, id="evaluation"),
    pytest.param("customization", MODEL_CUSTOMIZATION_JOB, id="customization"),
]


def kill(
    monkeypatch: pytest.MonkeyPatch, path: str, make: Any, kind: Any, setting: object, hook: Any
) -> None:
    """Kill the wait on ``path``: a deferred task's trigger, or the worker's operator."""
    if path == "triggerer":
        trigger = make(kind.key, setting)
        trigger.task_instance = task_instance()
        monkeypatch.setattr(trigger, "hook", lambda: hook)
        asyncio.run(trigger.on_kill())
        return
    operator = waiting_operator(make, kind, setting)
    operator._task_instance = task_instance()
    # The hooks are cached properties: an instance attribute of the same name is what caching sets.
    operator.__dict__["resource_hook"] = operator.__dict__["hook"] = hook
    operator.on_kill()


WAITS = [pytest.param("triggerer", *param.values, id=f"trigger-{param.id}") for param in TRIGGERS] + [
    pytest.param("worker", *param.values, id=f"operator-{param.id}") for param in OPERATORS
]


@pytest.mark.parametrize(("path", "make", "kind"), WAITS)
@pytest.mark.parametrize(("state", "action"), STATES)
@pytest.mark.parametrize(("setting", "acts_on"), SETTINGS)
def test_on_kill_acts_only_on_the_users_actions_asked_for_every_kind_on_both_paths(
    monkeypatch, path, make, kind, state, action, setting, acts_on
):
    channel = tell_state(monkeypatch, state)
    hook = RecordingHook()
    kill(monkeypatch, path, make, kind, setting, hook)
    assert hook.acted == ([(kind.key, ARN)] if action in acts_on else [])
    # The state is asked for, of this task instance, only when some action would act on the resource.
    assert [(m.dag_id, m.task_ids, m.run_ids) for m in channel.asked] == (
        [("dag", ["wait"], ["run"])] if acts_on else []
    )


@pytest.mark.parametrize(("name", "kind"), OPERATORS)
def test_an_operator_killed_before_it_made_anything_touches_nothing(monkeypatch, name, kind):
    channel = tell_state(monkeypatch, "failed")
    hook = RecordingHook()
    operator = waiting_operator(name, kind, True)
    operator.job_arn = operator.deployment_arn = None
    operator._task_instance = task_instance()
    operator.__dict__["resource_hook"] = operator.__dict__["hook"] = hook
    operator.on_kill()
    assert hook.acted == [] and channel.asked == []


@pytest.mark.parametrize("name", OPERATOR_CLASSES)
@pytest.mark.parametrize("value", [{"mark_faild"}, "sometimes", 3])
def test_an_unknown_kill_setting_is_refused_where_the_dag_is_parsed(name, value):
    parameter = OPERATOR_CLASSES[name][2]
    with pytest.raises(ValueError, match=rf"{parameter}=.*(unknown actions|must be True, False)"):
        waiting_operator(name, CUSTOM_MODEL_DEPLOYMENT, value)
