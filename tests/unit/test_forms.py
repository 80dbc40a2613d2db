"""Trigger-form schemas from the hyperparameter tables, and the pre-flight check of a whole conf."""

from __future__ import annotations

import jsonschema
import pytest

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.request.customization import CustomizationRequest
from bedrock_provider.core.request.forms import (
    hyperparameter_help,
    hyperparameter_ranges_markdown,
    hyperparameters_schema,
)
from bedrock_provider.core.request.preflight import (
    CANNOT_TELL,
    MISSING,
    PRESENT,
    check_customization_conf,
    check_data_objects,
    gate_problems,
)

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


def test_the_ranges_list_has_a_line_per_model_with_its_own_names_and_defaults() -> None:
    lines = hyperparameter_ranges_markdown({TITAN: "Titan Express", NOVA: "Nova Micro"}).splitlines()
    assert lines == [
        "- **Titan Express**: epochCount 1–10 (default 5), batchSize 1–64 (default 1), learningRate 0–1 "
        "(default 1e-05), learningRateWarmupSteps 0–250 (default 5)",
        "- **Nova Micro**: epochCount 1–5 (default 2), learningRate 1e-06–0.0001 (default 1e-05), "
        "learningRateWarmupSteps 0–100 (default 10)",
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


# -- the manual form: models of the connection's Region, their own defaults, optional sections -----------

LLAMA = "meta.llama3-1-8b-instruct-v1:0:128k"


def test_a_form_offers_only_the_models_bedrock_customizes_in_the_region() -> None:
    from bedrock_provider.core.request.forms import models_offered_in

    known = {TITAN: "Titan", NOVA: "Nova Micro", CLAUDE: "Claude 3 Haiku", LLAMA: "Llama 3.1 8B"}
    types = ("FINE_TUNING", "CONTINUED_PRE_TRAINING")
    assert list(models_offered_in(known, "us-east-1", types)) == [TITAN, NOVA]
    assert list(models_offered_in(known, "us-west-2", types)) == [TITAN, CLAUDE, LLAMA]
    with pytest.raises(ValueError, match="eu-west-3"):
        models_offered_in({CLAUDE: "Claude 3 Haiku"}, "eu-west-3", types)


@pytest.mark.parametrize(
    ("environ", "region"),
    [
        (
            {"AIRFLOW_CONN_AWS_DEFAULT": '{"conn_type": "aws", "extra": {"region_name": "us-west-2"}}'},
            "us-west-2",
        ),
        (
            {"AIRFLOW_CONN_AWS_DEFAULT": '{"extra": "{\\"region_name\\": \\"eu-west-1\\"}"}'},
            "eu-west-1",
        ),
        ({"AIRFLOW_CONN_AWS_DEFAULT": "aws://?region_name=ap-northeast-1"}, "ap-northeast-1"),
        ({"AIRFLOW_CONN_AWS_DEFAULT": "aws://", "AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),
        ({}, "us-east-1"),
    ],
)
def test_the_forms_region_is_read_without_a_database_call(environ: dict, region: str) -> None:
    from bedrock_provider.core.request.forms import parse_time_region

    assert parse_time_region(environ, "aws_default", "us-east-1") == region


def form_conf(example_dags, **changes: object) -> dict:
    """The manual form's defaults with ``changes``, validated as Airflow validates a trigger."""
    import copy

    params = copy.deepcopy(example_dags["bedrock_finetune_manual"].params)
    params.update(changes)
    return params.validate()


def test_every_model_the_manual_form_offers_passes_check_request_at_the_form_defaults(example_dags) -> None:
    from bedrock_provider.core.request.preflight import form_request

    offered = example_dags["bedrock_finetune_manual"].params.get_param("base_model_id").schema["enum"]
    assert CLAUDE not in offered and LLAMA not in offered, "us-west-2 only: the demo's Region is us-east-1"
    for model in offered:
        conf = form_conf(example_dags, base_model_id=model)
        # Empty hyperparameters: each model trains with its own defaults, nothing is sent for them.
        assert conf["hyperparameters"] is None
        checked = check_customization_conf(
            form_request(conf, "manual__2025", "us-east-1", "strict"), None, conf
        )
        assert checked.base_model_id == model and not checked.hyperparameters


def test_check_request_checks_the_region_exactly_as_customize_does(example_dags) -> None:
    """Before, check_request built the request without the Region: Claude passed it and customize refused."""
    from bedrock_provider.core.request.preflight import form_request

    conf = {**form_conf(example_dags), "base_model_id": CLAUDE}
    with pytest.raises(InvalidInputError, match=r"offered in us-west-2, not in us-east-1"):
        check_customization_conf(form_request(conf, "manual__2025", "us-east-1", "strict"), None, conf)
    # The same request as the customize task builds it (its hook's Region) is refused the same way.
    with pytest.raises(InvalidInputError, match=r"offered in us-west-2, not in us-east-1"):
        request(base_model_id=CLAUDE, hyperparameters=None, region_name="us-east-1").validate()


def test_optional_fields_are_not_starred_and_can_be_cleared(example_dags) -> None:
    from tests.unit.test_example_dags import form_requires

    params = example_dags["bedrock_finetune_manual"].params
    sections = {name: params.get_param(name).schema.get("section") for name in params}
    evaluation = [name for name, section in sections.items() if section == "Evaluation"]
    assert evaluation and not [name for name in evaluation if form_requires(params.get_param(name).schema)]
    # Every field whose help says what "Empty" means takes an empty value.
    documented_empty = [name for name in params if "Empty:" in (params.get_param(name).description or "")]
    assert "job_tags" in documented_empty
    for name in [*documented_empty, "hyperparameters", *evaluation]:
        assert not form_requires(params.get_param(name).schema), name
        assert form_conf(example_dags, **{name: None})[name] is None


def test_evaluation_fields_are_needed_only_with_evaluation(example_dags) -> None:
    from bedrock_provider.core.request.preflight import form_request

    conf = form_conf(example_dags, evaluate=True, evaluation_task_type=None, evaluation_dataset_uri=None)
    with pytest.raises(InvalidInputError) as refused:
        check_customization_conf(form_request(conf, "manual__2025", "us-east-1", "strict"), None, conf)
    assert refused.value.fields == ["evaluation_task_type", "evaluation_dataset_uri"]
    assert "'Deploy and evaluate' is on and this is empty" in str(refused.value)
    conf["evaluate"] = False
    check_customization_conf(form_request(conf, "manual__2025", "us-east-1", "strict"), None, conf)


@pytest.mark.parametrize(
    ("field", "value", "sentence"),
    [
        ("job_name", "my retraining job", "a job name is letters, digits"),
        ("custom_model_name", "support model", "a model name is letters and digits"),
        ("training_data_uri", "https://example.com/train.jsonl", "an S3 file is s3://"),
        ("output_data_uri", "s3://My_Bucket/out/", "an S3 folder is s3://"),
        ("role_arn", "BedrockRole", "a role ARN is arn:aws:iam::"),
    ],
)
def test_a_refusal_names_the_field_then_says_what_is_wanted_before_the_expression(
    example_dags, field: str, value: str, sentence: str
) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError) as refused:
        form_conf(example_dags, **{field: value})
    first_line = str(refused.value).splitlines()[0]
    head = f"Invalid input for param {field}: {value!r} does not match "
    # jsonschema quotes the pattern with ' or, when it holds a ', with ".
    assert first_line.startswith(head) and first_line[len(head) + 1 :].startswith(f"(?#{sentence}")
    assert first_line.index(sentence) < first_line.index("^")
    assert first_line.index(sentence) < first_line.index("^")


def test_an_explained_pattern_matches_as_its_expression_does() -> None:
    import re

    from bedrock_provider.core.request.forms import explained_pattern

    pattern = explained_pattern("a name is letters", r"^$|^[a-z]+$")
    assert [bool(re.search(pattern, text)) for text in ("", "abc", "a b")] == [True, True, False]
    with pytest.raises(ValueError, match=r"first '\)'"):
        explained_pattern("letters (a to z)", r"^[a-z]+$")
