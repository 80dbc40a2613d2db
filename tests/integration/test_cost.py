"""prep -> customize with a budget, in a real DAG run (dag.test): below the estimate the job is refused
before any Create call; above it the job runs and its XCom carries the estimate."""

from __future__ import annotations

import pytest

from bedrock_provider.core.catalog.prices import PRICING_URL

pytestmark = pytest.mark.integration

CREATE = "CreateModelCustomizationJob"


def test_a_budget_below_the_estimate_fails_with_no_job(run_dag, emulator, bedrock, unique_name, capsys):
    name = unique_name("it-cost-low")
    before = emulator.request_count(CREATE)

    result = run_dag("it_dataset_prep", conf={"job_name": name, "max_estimated_cost": 0.000001})

    assert result.task_states() == {"prepare": "success", "train": "failed"}
    assert emulator.request_count(CREATE) == before
    assert bedrock.list_model_customization_jobs(nameContains=name)["modelCustomizationJobSummaries"] == []
    tokens = result.xcom("prepare")["training_tokens"]
    log = capsys.readouterr().out
    assert f"{tokens:,} tokens" in log and "1 epoch " in log and "max_estimated_cost=$0.000001" in log


def test_a_budget_above_the_estimate_trains_and_reports_it(run_dag, emulator, unique_name):
    # it_dataset_prep trains 1 epoch on the prepared split of 40 records with Titan Text Express.
    name = unique_name("it-cost-high")
    before = emulator.request_count(CREATE)

    result = run_dag("it_dataset_prep", conf={"job_name": name, "max_estimated_cost": 25})

    assert result.state == "success", result.task_states()
    assert emulator.request_count(CREATE) == before + 1
    prepared = result.xcom("prepare")
    assert prepared["training_tokens"] > 0 and prepared["validation_tokens"] > 0
    trained = result.xcom("train")
    assert trained["status"] == "Completed"
    cost = trained["estimated_cost"]
    assert cost["usd"] == pytest.approx(prepared["training_tokens"] / 1000 * 1 * 0.008) and cost["usd"] > 0
    assert (cost["tokens"], cost["epochs"], cost["price_per_1k_tokens"]) == (
        prepared["training_tokens"],
        1,
        0.008,
    )
    assert cost["price_source"] == PRICING_URL and cost["price_date"]
