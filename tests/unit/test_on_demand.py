"""The on-demand deployment rule AWS documents (core/lifecycle/on_demand.py), asked by the operator and the
emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bedrock_provider.core.lifecycle.on_demand import ON_DEMAND_URL, base_model_id, on_demand_problem

AFTER = datetime(2025, 7, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    "base_model",
    [
        "amazon.nova-micro-v1:0:128k",
        "amazon.nova-lite-v1:0:300k",
        "amazon.nova-pro-v1:0:300k",
        "amazon.nova-canvas-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k",
    ],
)
@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
def test_documented_models_regions_and_dates_pass(base_model: str, region: str) -> None:
    assert on_demand_problem(base_model, region, AFTER) is None


@pytest.mark.parametrize(
    ("base_model", "region", "customized_at", "named"),
    [
        ("amazon.titan-text-express-v1:0:8k", "us-east-1", AFTER, "amazon.titan-text-express-v1:0:8k"),
        ("amazon.nova-premier-v1:0", "us-east-1", AFTER, "not one AWS deploys on demand"),
        ("meta.llama3-1-8b-instruct-v1:0:128k", "us-west-2", AFTER, "Amazon Nova Micro"),
        ("amazon.nova-micro-v1:0:128k", "eu-west-1", AFTER, "eu-west-1"),
        ("amazon.nova-micro-v1:0:128k", "us-east-1", AFTER - timedelta(seconds=1), "2025-07-15"),
    ],
)
def test_outside_the_documented_models_regions_or_date_is_refused_with_the_source(
    base_model: str, region: str, customized_at: datetime, named: str
) -> None:
    problem = on_demand_problem(base_model, region, customized_at)
    assert problem is not None and named in problem and ON_DEMAND_URL in problem


def test_every_broken_condition_is_named_at_once() -> None:
    problem = on_demand_problem("amazon.titan-text-express-v1", "eu-west-1", datetime(2024, 1, 1))
    assert problem is not None
    assert "amazon.titan-text-express-v1" in problem and "eu-west-1" in problem and "2024-01-01" in problem


def test_the_date_is_judged_in_utc_and_an_unknown_date_or_region_is_not_judged() -> None:
    # 2025-07-16 01:00 in UTC+2 is still 2025-07-15 in UTC.
    east = datetime(2025, 7, 16, 1, tzinfo=timezone(timedelta(hours=2)))
    assert "2025-07-15" in (on_demand_problem("amazon.nova-micro-v1", "us-east-1", east) or "")
    assert on_demand_problem("amazon.nova-micro-v1", None, None) is None


def test_base_model_id_strips_arn_and_version() -> None:
    arn = "arn:aws:bedrock:us-west-2::foundation-model/Amazon.Nova-Pro-v1:0:300k"
    assert base_model_id(arn) == "amazon.nova-pro-v1"
    assert base_model_id("amazon.nova-lite-v1:0:300k") == "amazon.nova-lite-v1"
