"""Promotion on the real stack: two weeks of the retraining DAG swap their champions behind one stable
deployment ARN (a canary on each), and bedrock_rollback, triggered at its defaults, points it back."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bedrock_provider.core.lifecycle.promotion import LAST_GOOD_TAG
from demo.seed import DAG_SETTINGS, bedrock_client, s3_client
from tests.e2e.conftest import RUN_TIMEOUT
from tests.e2e.harness import E2EStack, HarnessApi
from tests.e2e.test_stack import RETRAINING, task_states, unused_weeks

pytestmark = pytest.mark.e2e

STABLE = DAG_SETTINGS.STABLE_DEPLOYMENT
ROLLBACK = "bedrock_rollback"


def stable_state(stack: E2EStack, name: str = STABLE) -> dict[str, Any]:
    bedrock = bedrock_client(str(stack.emulator_url), stack.region)
    found = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=name)
    tags = bedrock.list_tags_for_resource(resourceARN=found["customModelDeploymentArn"])["tags"]
    return {
        "arn": found["customModelDeploymentArn"],
        "model": found["modelArn"],
        "last_good": {tag["key"]: tag["value"] for tag in tags}.get(LAST_GOOD_TAG),
    }


def trained_models(stack: E2EStack, *names: str) -> list[str]:
    """Custom models trained straight through the Bedrock API (Nova Micro, the demo's week of data)."""
    bedrock = bedrock_client(str(stack.emulator_url), stack.region)
    data = f"s3://{stack.bucket}/{DAG_SETTINGS.RAW_PREFIX}/20250105/{DAG_SETTINGS.RAW_OBJECT_NAME}"
    jobs = [
        bedrock.create_model_customization_job(
            jobName=f"job-{name}",
            customModelName=name,
            roleArn=DAG_SETTINGS.DEMO_ROLE_ARN,
            baseModelIdentifier=DAG_SETTINGS.DEMO_BASE_MODEL,
            trainingDataConfig={"s3Uri": data},
            outputDataConfig={"s3Uri": f"s3://{stack.bucket}/customization-output/{name}/"},
            jobTags=[{"key": "emulator:duration", "value": "1"}],
        )["jobArn"]
        for name in names
    ]
    deadline = time.monotonic() + 60
    models = []
    for job in jobs:
        while (described := bedrock.get_model_customization_job(jobIdentifier=job))["status"] == "InProgress":
            assert time.monotonic() < deadline, f"{job} did not finish"
            time.sleep(0.5)  # a poll with a deadline: the emulated job lasts a second
        assert described["status"] == "Completed", described
        models.append(str(described["outputModelArn"]))
    return models


def test_two_weeks_swap_behind_one_arn_and_a_rollback_points_it_back(
    stack: E2EStack, api: HarnessApi
) -> None:
    weeks = unused_weeks(api, stack.emulator, 2)
    history = []
    for week in weeks:
        # Earlier runs crowned champions with other losses: each week here starts from no champion, so
        # that it is promoted and swapped in.
        s3_client(str(stack.emulator_url), stack.region).delete_object(
            Bucket=stack.bucket, Key=DAG_SETTINGS.CHAMPION_KEY
        )
        run_id = str(api.trigger(RETRAINING, logical_date=week)["dag_run_id"])
        api.wait_for_task_state(RETRAINING, run_id, "swap", {"deferred"}, timeout=RUN_TIMEOUT)
        run = api.wait_for_run(RETRAINING, run_id, timeout=RUN_TIMEOUT)
        assert run["state"] == "success", task_states(api, RETRAINING, run_id)
        swap = api.xcom(RETRAINING, run_id, "swap")
        assert swap["model_arn"] == api.xcom(RETRAINING, run_id, "customize")["custom_model_arn"]
        assert swap["canary"]["passed"] is True and swap["rolled_back"] is False
        history.append(stable_state(stack))
    first, second = history
    print(f"stable {STABLE}: week {weeks[0]:%Y-%m-%d} {first}; week {weeks[1]:%Y-%m-%d} {second}")
    assert second["arn"] == first["arn"], "applications keep one modelId"
    assert second["model"] != first["model"] and second["last_good"] == first["model"]

    run_id = str(api.trigger(ROLLBACK)["dag_run_id"])
    run = api.wait_for_run(ROLLBACK, run_id, timeout=RUN_TIMEOUT)
    assert run["state"] == "success", task_states(api, ROLLBACK, run_id)
    rolled = api.xcom(ROLLBACK, run_id, "rollback")
    assert rolled["previous_model_arn"] == second["model"] and rolled["model_arn"] == first["model"]
    assert stable_state(stack) == {**first, "last_good": first["model"]}
