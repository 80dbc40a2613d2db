"""The model catalog: every row is well formed and cites AWS, and for every row, id form and
customization type the request validator and the dataset planner give the same answer."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_provider.core.catalog import (
    API_CUSTOMIZATION_TYPES,
    DISTILLATION,
    FAMILIES,
    FORMATS,
    JOB_CUSTOMIZATION_TYPES,
    ModelFamily,
    check_base_model,
    id_forms,
    resolve,
    teacher_problem,
)
from bedrock_provider.core.datasets import plan_dataset
from bedrock_provider.core.datasets.plan import SUPPORTED_TYPES
from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.request import CustomizationRequest

ROWS = [(family, form) for family in FAMILIES for form in id_forms(family)]


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
    request = CustomizationRequest(
        job_name="job",
        custom_model_name="model",
        role_arn="arn:aws:iam::123456789012:role/r",
        base_model_id=base_model_id,
        training_data_uri="s3://bucket/train.jsonl",
        output_data_uri="s3://bucket/out/",
        customization_type=customization_type,
        customization_job_kwargs=extra,
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
        assert customization.dataset_format in FORMATS
        assert customization.limits.doc_url.startswith("https://docs.aws.amazon.com/")
        for name, spec in customization.hyperparameters.items():
            assert spec.name == name and spec.minimum <= spec.maximum
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
        ("amazon.titan-text-express-v1:9:9k", "FINE_TUNING", "base_model_id"),
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
    assert "eu-west-1" in (check_base_model(arn, "FINE_TUNING")[1] or problem).message


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
