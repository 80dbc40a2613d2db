"""Trigger-form schemas from the hyperparameter tables, and the pre-flight check of a whole conf."""

from __future__ import annotations

import jsonschema
import pytest

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.forms import (
    hyperparameter_help,
    hyperparameter_ranges_markdown,
    hyperparameters_schema,
)
from bedrock_provider.core.preflight import (
    CANNOT_TELL,
    MISSING,
    PRESENT,
    check_customization_conf,
    check_data_objects,
    gate_problems,
)
from bedrock_provider.core.request import CustomizationRequest

TITAN = "amazon.titan-text-express-v1"
NOVA = "amazon.nova-micro-v1:0:128k"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0:200k"


def valid(schema: dict, value: object) -> bool:
    return jsonschema.Draft7Validator(schema).is_valid(value)


def test_the_schema_takes_each_name_in_its_widest_documented_range() -> None:
    schema = hyperparameters_schema([TITAN, NOVA])
    assert valid(schema, {"epochCount": 10, "learningRate": 0.00001})
    assert not valid(schema, {"epochCount": 500}), "no offered model documents 500 epochs"
    assert not valid(schema, {"epochCount": 0})
    assert not valid(schema, {"epochCount": 2.5}), "epochCount is an integer"
    assert not valid(schema, {"epochCount": "2"}), "numbers, not text"
    assert not valid(schema, {}), "at least one hyperparameter"
    assert not valid(schema, [1, 2])
    assert not valid(schema, {"learningRateMultiplier": 1.0}), (
        "only Claude documents it, and it is not offered"
    )
    assert valid(hyperparameters_schema([TITAN, CLAUDE]), {"learningRateMultiplier": 1.0})


def test_special_values_are_allowed_beside_the_range() -> None:
    schema = hyperparameters_schema(["amazon.titan-image-generator-v1"])
    assert valid(schema, {"stepCount": "auto"}) and valid(schema, {"stepCount": 100})
    assert not valid(schema, {"stepCount": "often"})


def test_a_model_without_a_table_cannot_be_offered() -> None:
    with pytest.raises(ValueError, match="no hyperparameter table"):
        hyperparameters_schema(["example.unknown-model-v1"])


def test_the_ranges_list_has_a_line_per_model_with_its_own_names() -> None:
    lines = hyperparameter_ranges_markdown({TITAN: "Titan Express", NOVA: "Nova Micro"}).splitlines()
    assert lines == [
        "- **Titan Express**: epochCount 1–10, batchSize 1–64, learningRate 0–1, "
        "learningRateWarmupSteps 0–250",
        "- **Nova Micro**: epochCount 1–5, learningRate 1e-06–0.0001, learningRateWarmupSteps 0–100",
    ]


def test_one_hyperparameter_is_described_with_its_range_and_default() -> None:
    assert hyperparameter_help("epochCount", TITAN) == (
        "Sent to Bedrock as epochCount: 1–10 for Amazon Titan Text G1 - Express; Bedrock's default 5."
    )
    with pytest.raises(ValueError, match="documents no hyperparameter"):
        hyperparameter_help("stepCount", TITAN)


def request(**changes: object) -> CustomizationRequest:
    fields: dict[str, object] = {
        "job_name": "support-bot-v2",
        "custom_model_name": "support-bot-v2",
        "role_arn": "arn:aws:iam::123456789012:role/BedrockModelCustomization",
        "base_model_id": NOVA,
        "training_data_uri": "s3://bedrock-demo/raw/support/20250105/tickets.jsonl",
        "output_data_uri": "s3://bedrock-demo/out/",
        "hyperparameters": {"epochCount": 2},
    }
    fields.update(changes)
    return CustomizationRequest(**fields)  # type: ignore[arg-type]


def test_the_chosen_models_own_range_is_checked() -> None:
    # 10 epochs passes the form (Titan takes it) but not Nova Micro, the chosen model.
    with pytest.raises(InvalidInputError, match="epochCount") as raised:
        check_customization_conf(request(hyperparameters={"epochCount": 10}))
    assert "nothing was sent to AWS" in str(raised.value)


def test_a_validation_loss_limit_without_validation_data_is_refused() -> None:
    with pytest.raises(InvalidInputError) as raised:
        check_customization_conf(request(), max_validation_loss=5)
    assert raised.value.fields == ["max_validation_loss"]
    assert "validation_data_uri is empty" in str(raised.value)
    assert "leave max_validation_loss empty" in str(raised.value)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(InvalidInputError) as raised:
        check_customization_conf(request(hyperparameters={"epochCount": 99}), max_validation_loss=1.0)
    assert raised.value.fields == ["hyperparameters.epochCount", "max_validation_loss"]
    assert "from 1 to 5 for Amazon Nova Micro (got 99" in str(raised.value)


@pytest.mark.parametrize("limit", [None, ""])
def test_no_limit_needs_no_validation_data(limit: object) -> None:
    assert gate_problems(limit, None) == []


def test_a_limit_with_validation_data_passes() -> None:
    checked = check_customization_conf(
        request(validation_data_uri="s3://bedrock-demo/raw/support/20250112/tickets.jsonl"),
        max_validation_loss=1.5,
    )
    assert checked.hyperparameters == {"epochCount": "2"}


def test_data_objects_missing_are_problems_and_unseen_ones_warnings() -> None:
    answers = {"s3://b/train.jsonl": PRESENT, "s3://b/v1.jsonl": CANNOT_TELL, "s3://b/v2.jsonl": MISSING}
    with pytest.raises(InvalidInputError) as caught:
        check_data_objects("s3://b/train.jsonl", ("s3://b/v1.jsonl", "s3://b/v2.jsonl"), answers.__getitem__)
    assert caught.value.fields == ["validation_data_uri[1]"]
    warnings = check_data_objects("s3://b/train.jsonl", ("s3://b/v1.jsonl",), answers.__getitem__)
    assert len(warnings) == 1 and "validation_data_uri='s3://b/v1.jsonl'" in warnings[0]
    assert "403" in warnings[0]


# -- the example DAGs' forms ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_dags() -> dict:
    from airflow.dag_processing.dagbag import BundleDagBag

    from tests.unit.test_example_dags import DAGS_FOLDER

    return BundleDagBag(dag_folder=str(DAGS_FOLDER), bundle_path=DAGS_FOLDER).dags


def test_the_retraining_forms_default_week_has_data_and_the_hint_sits_on_that_field(example_dags) -> None:
    from datetime import datetime

    from tests.unit.test_example_dags import DAG_SETTINGS

    dag = example_dags["bedrock_retraining"]
    week = dag.params.get_param("week")
    seeded = {f"{partition:%Y-%m-%d}" for partition in DAG_SETTINGS.DEMO_PARTITIONS}
    assert week.value in seeded, "the form's default week is one the demo data holds"
    assert DAG_SETTINGS.DEMO_DATES in week.description
    assert "null" in week.schema["type"], "the field can be cleared (the Logical Date then decides)"
    others = [dag.params.get_param(name).description for name in dag.params if name != "week"]
    assert not [text for text in others if DAG_SETTINGS.DEMO_DATES in text], "the date hint is on one field"
    # The form's logical date is the present moment, whose week has no data; the week field decides.
    assert datetime.now().strftime("%Y%m%d") not in render_model_name(dag, "manual", {"week": week.value})


def render_model_name(dag, run_type: str, conf: dict, logical_date=None) -> str:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    template = dag.get_task("customize").custom_model_name
    run = SimpleNamespace(run_type=run_type, conf=conf)
    when = logical_date or datetime.now(UTC)
    return dag.get_template_env().from_string(template).render(dag_run=run, logical_date=when)


@pytest.mark.parametrize(
    ("run_type", "conf", "trained"),
    [
        ("manual", {"week": "2025-01-19"}, "support-bot-20250119"),
        # An API or CLI trigger that gives no week trains its logical date, as before the field existed.
        ("manual", {}, "support-bot-20250202"),
        ("manual", {"week": None}, "support-bot-20250202"),
        # Scheduled runs and backfills always train their own week.
        ("scheduled", {"week": "2025-01-19"}, "support-bot-20250202"),
        ("backfill", {"week": "2025-01-19"}, "support-bot-20250202"),
    ],
)
def test_the_week_trained_is_the_forms_for_a_run_by_hand_else_the_logical_date(
    example_dags, run_type: str, conf: dict, trained: str
) -> None:
    from datetime import UTC, datetime

    dag = example_dags["bedrock_retraining"]
    assert render_model_name(dag, run_type, conf, datetime(2025, 2, 2, tzinfo=UTC)) == trained
