"""The model catalog: every row is well formed and cites AWS, and for every row, id form and
customization type the request validator and the dataset planner give the same answer."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_provider.core.catalog import (
    API_CUSTOMIZATION_TYPES,
    CHECKED,
    DISTILLATION,
    FAMILIES,
    FORMATS,
    JOB_CUSTOMIZATION_TYPES,
    REINFORCEMENT_FINE_TUNING,
    RFT_HYPERPARAMETERS,
    RFT_PROMPTS,
    SUPPORTED_URL,
    ModelFamily,
    catalog_check,
    check_base_model,
    id_forms,
    resolve,
    rft_hyperparameters,
    teacher_problem,
)
from bedrock_provider.core.datasets.plan import SUPPORTED_TYPES, plan_dataset
from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.request.customization import CustomizationRequest

ROWS = [(family, form) for family in FAMILIES for form in id_forms(family)]
BASE_REQUEST: dict[str, Any] = {
    "job_name": "job",
    "custom_model_name": "model",
    "role_arn": "arn:aws:iam::123456789012:role/r",
    "base_model_id": "amazon.titan-text-express-v1",
    "training_data_uri": "s3://bucket/train.jsonl",
    "output_data_uri": "s3://bucket/out/",
}


def _request(**overrides: Any) -> CustomizationRequest:
    return CustomizationRequest(**{**BASE_REQUEST, **overrides})


def _request_fields(base_model_id: str, customization_type: str) -> set[str]:
    """The fields the request validator blames (for the model and type only)."""
    extra: dict[str, Any] = {}
    if customization_type == DISTILLATION:
        extra = {
            "customizationConfig": {
                "distillationConfig": {
                    "teacherModelConfig": {"teacherModelIdentifier": "amazon.nova-pro-v1:0"}
                }
            }
        }
    request = _request(
        base_model_id=base_model_id, customization_type=customization_type, customization_job_kwargs=extra
    )
    try:
        request.validate()
    except InvalidInputError as error:
        return {field for field in error.fields if field in ("base_model_id", "customization_type")}
    return set()


def _planner_fields(base_model_id: str, customization_type: str) -> set[str]:
    try:
        plan_dataset(customization_type=customization_type, base_model_id=base_model_id)
    except InvalidInputError as error:
        return {field for field in error.fields if field in ("base_model_id", "customization_type")}
    return set()


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.key)
def test_row_is_well_formed(family: ModelFamily) -> None:
    assert family.doc_url.startswith("https://docs.aws.amazon.com/")
    assert family.model_ids and all(model_id == model_id.lower() for model_id in family.model_ids)
    assert family.customizations or family.teacher, "a row is customizable, a teacher, or both"
    assert family.pricing is None or isinstance(family.pricing, object)
    for kind, customization in family.customizations.items():
        assert kind in JOB_CUSTOMIZATION_TYPES
        assert customization.regions, f"{family.key} {kind} is offered nowhere"
        assert customization.dataset_format in (*FORMATS, RFT_PROMPTS)
        assert customization.limits.doc_url.startswith("https://docs.aws.amazon.com/")
        for name, spec in customization.hyperparameters.items():
            assert spec.name == name
            assert spec.minimum is None or spec.maximum is None or spec.minimum <= spec.maximum
    for teacher in family.teachers:
        ref = resolve(teacher)
        assert ref is not None and ref.family.teacher, f"{family.key}: teacher {teacher} is not a teacher row"


def test_types_are_the_api_enum() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("bedrock")
    assert tuple(model.shape_for("CustomizationType").enum) == API_CUSTOMIZATION_TYPES


@pytest.mark.parametrize(("family", "form"), ROWS, ids=[form for _, form in ROWS])
@pytest.mark.parametrize("customization_type", SUPPORTED_TYPES)
def test_validator_and_planner_agree(family: ModelFamily, form: str, customization_type: str) -> None:
    ref = resolve(form)
    assert ref is not None and ref.family is family
    validator = _request_fields(form, customization_type)
    planner = _planner_fields(form, customization_type)
    assert validator == planner, (form, customization_type, validator, planner)
    _, problem = check_base_model(form, customization_type)
    assert bool(validator) == (problem is not None)
    if problem is None:
        assert customization_type in family.customizations
        assert ref.geo_prefix is None


@pytest.mark.parametrize(
    ("identifier", "customization_type", "field"),
    [
        ("us.amazon.nova-lite-v1:0", "FINE_TUNING", "base_model_id"),
        ("amazon.titan-text-lite-v1:0:4k", "FINE_TUNING", "base_model_id"),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "FINE_TUNING", "customization_type"),
        ("amazon.nova-lite-v1:0:300k", "CONTINUED_PRE_TRAINING", "customization_type"),
    ],
)
def test_refusals_name_the_field(identifier: str, customization_type: str, field: str) -> None:
    _, problem = check_base_model(identifier, customization_type)
    assert problem is not None and problem.field == field
    assert (
        _request_fields(identifier, customization_type)
        == {field}
        == _planner_fields(identifier, customization_type)
    )


def test_regions_come_from_the_row() -> None:
    _, problem = check_base_model("anthropic.claude-3-haiku-20240307-v1:0:200k", "FINE_TUNING", "us-east-1")
    assert problem is not None and "us-west-2" in problem.message
    assert (
        check_base_model("anthropic.claude-3-haiku-20240307-v1:0:200k", "FINE_TUNING", "us-west-2")[1] is None
    )
    arn = "arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-text-express-v1"
    problem = check_base_model(arn, "FINE_TUNING")[1]
    assert problem is not None and "eu-west-1" in problem.message


def test_teachers_follow_the_rows() -> None:
    nova_micro = resolve("amazon.nova-micro-v1:0:128k")
    assert nova_micro is not None
    assert teacher_problem("us.amazon.nova-premier-v1:0", nova_micro.family) is None
    assert teacher_problem("amazon.nova-pro-v1:0", nova_micro.family) is None
    assert teacher_problem("meta.llama3-1-405b-instruct-v1:0", nova_micro.family) is not None
    assert teacher_problem("amazon.titan-text-express-v1", nova_micro.family) is not None


def test_unknown_models_pass_through() -> None:
    assert check_base_model("acme.brand-new-model-v1:0", "FINE_TUNING") == (None, None)
    assert _request_fields("acme.brand-new-model-v1:0", "FINE_TUNING") == set()
    assert _planner_fields("acme.brand-new-model-v1:0", "FINE_TUNING") == set()


# --------------------------------------------------------------------- dated, sourced rows


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.key)
def test_every_row_names_its_source_and_the_date_it_was_checked(family: ModelFamily) -> None:
    import datetime

    assert family.source_url.startswith("https://docs.aws.amazon.com/")
    checked = datetime.date.fromisoformat(family.checked)
    assert datetime.date(2024, 1, 1) <= checked <= datetime.date.today()
    for customization in family.customizations.values():
        assert customization.source_url is None or customization.source_url.startswith(
            "https://docs.aws.amazon.com/"
        )


RETIRED = [
    "amazon.titan-text-lite-v1",
    "amazon.titan-text-premier-v1:0",
    "cohere.command-text-v14:7:4k",
    "cohere.command-light-text-v14",
    "meta.llama2-13b-v1:0:4k",
    "meta.llama2-70b-v1",
]


@pytest.mark.parametrize("model_id", RETIRED)
def test_a_retired_model_is_refused_citing_its_source(model_id: str) -> None:
    family, problem = check_base_model(model_id, "FINE_TUNING", "us-east-1")
    assert family is not None and family.retired
    assert problem is not None and problem.field == "base_model_id"
    assert "retired" in problem.message
    assert f"{SUPPORTED_URL}, checked {CHECKED}" in problem.message
    # Under model_checks="warn" the same sentence is logged and Bedrock decides.
    warned = catalog_check(model_id, "FINE_TUNING", "us-east-1", model_checks="warn")
    assert warned.problems == ()
    assert any("retired" in warning and SUPPORTED_URL in warning for warning in warned.warnings)


def test_only_the_retired_rows_are_retired() -> None:
    retired = {family.key for family in FAMILIES if family.retired}
    assert retired == {
        "amazon.titan-text-lite",
        "amazon.titan-text-premier",
        "cohere.command",
        "cohere.command-light",
        "meta.llama2",
    }
    # The model the tests and examples use is still in AWS's table.
    express = resolve("amazon.titan-text-express-v1")
    assert express is not None and not express.family.retired


def test_titan_image_generator_v1_is_fine_tuned_in_us_east_1_only() -> None:
    assert check_base_model("amazon.titan-image-generator-v1:0", "FINE_TUNING", "us-east-1")[1] is None
    problem = check_base_model("amazon.titan-image-generator-v1:0", "FINE_TUNING", "us-west-2")[1]
    assert problem is not None and "us-east-1" in problem.message
    assert check_base_model("amazon.titan-image-generator-v2:0", "FINE_TUNING", "us-west-2")[1] is None


# --------------------------------------------------------------------- Nova 2 Lite and RFT


def test_rft_on_nova_2_lite_passes_the_catalog_in_us_east_1() -> None:
    check = catalog_check("amazon.nova-2-lite-v1:0:256k", REINFORCEMENT_FINE_TUNING, "us-east-1")
    assert check.problems == () and check.warnings == ()
    assert check.family is not None and check.family.key == "amazon.nova-2-lite"
    elsewhere = catalog_check("amazon.nova-2-lite-v1:0:256k", REINFORCEMENT_FINE_TUNING, "us-west-2")
    assert [problem.field for problem in elsewhere.problems] == ["base_model_id"]
    assert "us-east-1" in elsewhere.problems[0].message


def test_the_rft_table_is_botocores_rft_hyperparameters() -> None:
    import botocore.session

    shape = botocore.session.get_session().get_service_model("bedrock").shape_for("RFTHyperParameters")
    assert set(RFT_HYPERPARAMETERS) == set(shape.members)
    for name, member in shape.members.items():
        spec = RFT_HYPERPARAMETERS[name]
        kind = {"integer": int, "float": float, "string": str}[member.type_name]
        assert spec.kind is kind, name
        assert (spec.minimum, spec.maximum) == (member.metadata.get("min"), member.metadata.get("max")), name
        assert spec.choices == tuple(getattr(member, "enum", None) or ()), name
        assert not spec.required  # RFTHyperParameters has no required member
    assert rft_hyperparameters("amazon.nova-2-lite-v1:0:256k") is RFT_HYPERPARAMETERS
    assert rft_hyperparameters("amazon.nova-micro-v1:0:128k") is None
    assert rft_hyperparameters("acme.brand-new-model-v1") is None


@pytest.mark.parametrize("model_id", ["openai.gpt-oss-20b", "openai.gpt-oss-20b-1:0", "qwen.qwen3-32b-v1:0"])
def test_open_weight_rft_names_the_openai_compatible_api(model_id: str) -> None:
    family, problem = check_base_model(model_id, REINFORCEMENT_FINE_TUNING, "us-west-2")
    assert family is not None and rft_hyperparameters(model_id) is RFT_HYPERPARAMETERS
    assert problem is not None and problem.field == "base_model_id"
    assert "OpenAI-compatible fine-tuning API" in problem.message
    assert "Bedrock API key" in problem.message
    assert "fine-tuning-openai-apis.html" in problem.message


def test_nova_2_lite_distillation_passes_and_says_no_teacher_is_documented() -> None:
    teacher = {"teacherModelConfig": {"teacherModelIdentifier": "us.amazon.nova-premier-v1:0"}}
    validated = _request(
        base_model_id="amazon.nova-2-lite-v1:0:256k",
        customization_type=DISTILLATION,
        region_name="us-east-1",
        customization_job_kwargs={"customizationConfig": {"distillationConfig": teacher}},
    ).validate()
    assert validated.customization_type == DISTILLATION
    assert any("AWS documents no teachers for Amazon Nova 2 Lite" in w for w in validated.warnings)


def test_a_refused_teacher_lists_the_students_teachers() -> None:
    nova_micro = resolve("amazon.nova-micro-v1:0:128k")
    assert nova_micro is not None
    why = teacher_problem("meta.llama3-1-405b-instruct-v1:0", nova_micro.family)
    assert why is not None
    assert "its teachers are amazon.nova-premier-v1:0, amazon.nova-pro-v1:0" in why
    assert "its teachers are  (" not in why and "are  " not in why


# --------------------------------------------------------------------- never a blocker


UNLISTED_VERSION = "amazon.nova-micro-v1:0:999k"


@pytest.mark.parametrize("model_checks", [None, "strict", "warn"])
def test_an_unlisted_version_passes_with_a_warning(model_checks: str | None) -> None:
    validated = _request(
        base_model_id=UNLISTED_VERSION,
        hyperparameters={"epochCount": 2},
        region_name="us-east-1",
        model_checks=model_checks,
    ).validate()
    assert validated.base_model_id == UNLISTED_VERSION
    assert validated.hyperparameters == {"epochCount": "2"}
    assert [w for w in validated.warnings if "version of Amazon Nova Micro" in w and ":0:128k" in w]


@pytest.mark.parametrize("hyperparameters", [None, {"epochCount": 3, "loraRank": 8}])
@pytest.mark.parametrize("model_checks", ["strict", "warn"])
def test_an_unknown_model_passes_with_a_warning_with_or_without_hyperparameters(
    hyperparameters: dict[str, Any] | None, model_checks: str
) -> None:
    validated = _request(
        base_model_id="acme.brand-new-model-v1:0", hyperparameters=hyperparameters, model_checks=model_checks
    ).validate()
    catalog_warnings = [w for w in validated.warnings if "is not in the model catalog" in w]
    assert len(catalog_warnings) == 1 and "acme.brand-new-model-v1:0" in catalog_warnings[0]
    assert SUPPORTED_URL in catalog_warnings[0] and CHECKED in catalog_warnings[0]


def test_warn_passes_what_strict_refuses() -> None:
    fields: dict[str, Any] = {
        "base_model_id": "anthropic.claude-3-haiku-20240307-v1:0:200k",
        "hyperparameters": {"epochCount": 50, "newKnob": "x"},
        "region_name": "us-east-1",
    }
    with pytest.raises(InvalidInputError) as refused:
        _request(**fields).validate()
    assert refused.value.fields == ["base_model_id"]
    with pytest.raises(InvalidInputError) as refused:
        _request(**{**fields, "region_name": "us-west-2"}).validate()
    assert refused.value.fields == ["hyperparameters.epochCount", "hyperparameters.newKnob"]
    validated = _request(**fields, model_checks="warn").validate()
    assert validated.hyperparameters == {"epochCount": "50", "newKnob": "x"}
    relaxed = [w for w in validated.warnings if w.startswith("model_checks='warn'")]
    assert len(relaxed) == 3, validated.warnings
    assert any("us-west-2" in w for w in relaxed)


def test_warn_still_refuses_what_bedrock_could_not_read() -> None:
    with pytest.raises(InvalidInputError) as refused:
        _request(hyperparameters={"epochCount": True}, model_checks="warn").validate()
    assert refused.value.fields == ["hyperparameters.epochCount"]


def test_model_checks_must_be_strict_or_warn() -> None:
    with pytest.raises(InvalidInputError) as refused:
        _request(model_checks="lenient").validate()
    assert refused.value.fields == ["model_checks"]
    assert "'strict'" in str(refused.value) and "'warn'" in str(refused.value)


@pytest.mark.parametrize("model_checks", ["strict", "warn"])
@pytest.mark.parametrize(
    "model_id", ["amazon.nova-micro-v1:0:128k", "acme.brand-new-model-v1:0", "amazon.titan-text-lite-v1"]
)
def test_a_foundation_model_arn_of_another_region_is_refused(model_checks: str, model_id: str) -> None:
    arn = f"arn:aws:bedrock:us-west-2::foundation-model/{model_id}"
    check = catalog_check(arn, "FINE_TUNING", "us-east-1", model_checks)
    assert check.problems and check.problems[0].field == "base_model_id"
    message = check.problems[0].message
    assert "us-west-2" in message and "us-east-1" in message
    assert f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}" in message


def test_the_run_configuration_check_follows_model_checks() -> None:
    from bedrock_provider.core.request.preflight import check_customization_conf

    with pytest.raises(InvalidInputError) as refused:
        check_customization_conf(_request(base_model_id="cohere.command-text-v14"))
    assert refused.value.fields == ["base_model_id"]
    checked = check_customization_conf(_request(base_model_id="cohere.command-text-v14", model_checks="warn"))
    assert any("retired" in warning for warning in checked.warnings)


def test_the_emulator_follows_the_catalog_on_teachers_and_versions() -> None:
    from bedrock_provider.emulator.refusals import check_customization

    def create(base_model_id: str, teacher: str | None = None) -> str:
        request: dict[str, Any] = {"baseModelIdentifier": base_model_id, "customizationType": "FINE_TUNING"}
        if teacher is not None:
            config = {"teacherModelConfig": {"teacherModelIdentifier": teacher}}
            request.update(customizationType=DISTILLATION, customizationConfig={"distillationConfig": config})
        return check_customization(request, base_model_id, "us-east-1")

    nova_2 = "amazon.nova-2-lite-v1:0:256k"
    assert create(nova_2, teacher="us.amazon.nova-premier-v1:0") == nova_2
    with pytest.raises(Exception, match="acme.teacher-v1:0 is not a foundation model"):
        create(nova_2, teacher="acme.teacher-v1:0")
    with pytest.raises(Exception, match="retired"):
        create("cohere.command-text-v14")
    assert create(UNLISTED_VERSION) == UNLISTED_VERSION
