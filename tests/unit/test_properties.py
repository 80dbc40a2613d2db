"""Property tests: whatever the input, a request Bedrock accepts or an InvalidInputError, nothing else.

"Accepts" is judged by an oracle independent of the provider's own rules: botocore's ParamValidator
on the bedrock service model (types, required members, minimum lengths), plus the patterns, maximum
lengths and list sizes the same model declares, which botocore leaves to the service to enforce.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_provider.core.catalog import FAMILIES
from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.core.names import TaskIdentity, attempt_name, sanitize_name
from bedrock_provider.core.request.customization import CustomizationRequest
from bedrock_provider.core.request.customization_fields import CUSTOMIZATION_TYPES
from tests.unit.test_request import GOOD

OPERATION = "CreateModelCustomizationJob"
FIELDS = {field.name for field in dataclasses.fields(CustomizationRequest) if field.init}
PROPERTY_SETTINGS = settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


# -- the oracle -----------------------------------------------------------------------------------------


@functools.cache
def _input_shape() -> Any:
    import botocore.session

    model = botocore.session.get_session().get_service_model("bedrock")
    return model.operation_model(OPERATION).input_shape


@functools.cache
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:
        return None


def _shape_violations(value: Any, shape: Any, path: str) -> list[str]:
    """What the service model declares and botocore does not check: patterns, maxima, list sizes."""
    found: list[str] = []
    metadata = shape.metadata
    if shape.type_name == "string" and isinstance(value, str):
        if "max" in metadata and len(value) > metadata["max"]:
            found.append(f"{path}: {len(value)} characters, at most {metadata['max']}")
        pattern = _pattern(metadata["pattern"]) if "pattern" in metadata else None
        if pattern is not None and pattern.fullmatch(value) is None:
            found.append(f"{path}: {value!r} does not match {metadata['pattern']}")
        if shape.enum and value not in shape.enum:
            found.append(f"{path}: {value!r} is not one of {shape.enum}")
    elif shape.type_name == "list" and isinstance(value, list):
        if "max" in metadata and len(value) > metadata["max"]:
            found.append(f"{path}: {len(value)} items, at most {metadata['max']}")
        for index, item in enumerate(value):
            found += _shape_violations(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "map" and isinstance(value, Mapping):
        for key, item in value.items():
            found += _shape_violations(key, shape.key, f"{path} key")
            found += _shape_violations(item, shape.value, f"{path}[{key!r}]")
    elif shape.type_name == "structure" and isinstance(value, Mapping):
        for key, item in value.items():
            if key in shape.members:
                found += _shape_violations(item, shape.members[key], f"{path}.{key}" if path else key)
    return found


def bedrock_rejections(kwargs: dict[str, Any]) -> list[str]:
    """Why botocore or Bedrock would refuse these CreateModelCustomizationJob arguments; [] if neither."""
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(kwargs, _input_shape())
    # One line per problem after the report's heading, so that each is judged on its own.
    found = report.generate_report().splitlines()[1:] if report.has_errors() else []
    return found + _shape_violations(kwargs, _input_shape(), "")


# -- strategies -----------------------------------------------------------------------------------------

garbage = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.lists(st.text(max_size=8), max_size=3),
    st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2),
)
names = st.one_of(st.from_regex(r"[a-zA-Z0-9][-a-zA-Z0-9+._ ]{0,70}", fullmatch=True), garbage)
buckets = st.from_regex(r"[a-z0-9][-.a-z0-9]{0,63}", fullmatch=True) | st.text(max_size=10)
keys = st.from_regex(r"[-a-zA-Z0-9!_*'()./ ]{0,30}", fullmatch=True)
s3_uris = st.one_of(
    st.builds(lambda bucket, key: f"s3://{bucket}/{key}", buckets, keys),
    st.just(GOOD["training_data_uri"]),
    garbage,
)
model_ids = st.one_of(
    st.sampled_from(sorted({model_id for family in FAMILIES for model_id in family.model_ids})),
    st.from_regex(r"[a-z0-9-]{1,20}\.[a-z0-9-]{1,20}(:[a-z0-9-]{1,5}){0,3}", fullmatch=True),
    st.from_regex(
        r"arn:aws:bedrock:[a-z0-9-]{1,12}:[0-9]{0,12}:[a-z-]{1,20}/[a-z0-9.:/-]{1,30}", fullmatch=True
    ),
    garbage,
)
hyperparameter_names = st.sampled_from(
    sorted({name for family in FAMILIES for name in family.hyperparameters})
) | st.text(max_size=12)
hyperparameter_values = st.one_of(
    st.integers(-5, 10_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1", "0.0001", "Auto", "fast", "", "1e-5", " 2 "]),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
hyperparameters = st.one_of(
    st.dictionaries(hyperparameter_names, hyperparameter_values, max_size=4),
    st.dictionaries(hyperparameter_names, hyperparameter_values, max_size=3).map(repr),
    garbage,
)
vpc_ids = st.from_regex(r"[-0-9a-zA-Z]{1,40}", fullmatch=True) | garbage
vpc_configs = st.one_of(
    st.fixed_dictionaries(
        {
            "subnetIds": st.lists(vpc_ids, max_size=18) | garbage,
            "securityGroupIds": st.lists(vpc_ids, max_size=6) | garbage,
        },
        optional={"vpcId": st.text(max_size=5)},
    ),
    st.fixed_dictionaries({"subnetIds": st.lists(vpc_ids, min_size=1, max_size=3)}).map(repr),
    garbage,
)
tag_texts = st.from_regex(r"[-a-zA-Z0-9 ._:/=+@]{0,20}", fullmatch=True) | st.text(max_size=20)
tag_values = st.one_of(tag_texts, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none())
tags = st.one_of(
    st.dictionaries(tag_texts, tag_values, max_size=4),
    st.lists(
        st.fixed_dictionaries({"key": tag_texts, "value": tag_values})
        | st.dictionaries(st.sampled_from(["key", "value", "Key", "Value"]), tag_texts, max_size=3),
        max_size=3,
    ),
    garbage,
)
teacher_configs = st.fixed_dictionaries(
    {
        "distillationConfig": st.fixed_dictionaries(
            {
                "teacherModelConfig": st.fixed_dictionaries(
                    {"teacherModelIdentifier": model_ids},
                    optional={"maxResponseLengthForInference": st.integers(-5, 10_000)},
                )
            }
        )
    }
)
job_kwargs = st.one_of(
    st.dictionaries(
        st.sampled_from(
            ["customizationConfig", "jobName", "hyperParameters", "clientRequestToken", "unknown"]
        )
        | st.text(max_size=8),
        teacher_configs | garbage,
        max_size=2,
    ),
    garbage,
)
validation_uris = st.one_of(st.none(), s3_uris, st.lists(s3_uris, max_size=12))
kms_keys = st.one_of(
    st.none(),
    st.just("arn:aws:kms:us-east-1:123456789012:alias/models"),
    st.from_regex(
        r"arn:aws:kms:[a-z0-9-]{0,12}:[0-9]{10,13}:(key|alias)/[-a-zA-Z0-9_/]{1,40}", fullmatch=True
    ),
    garbage,
)
role_arns = st.one_of(
    st.just(GOOD["role_arn"]),
    st.from_regex(r"arn:aws(-cn)?:iam::[0-9]{10,13}:(role|user)/[-a-zA-Z0-9_+=,.@/]{0,20}", fullmatch=True),
    garbage,
)
customization_types = st.sampled_from(CUSTOMIZATION_TYPES) | garbage


FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "job_name": names,
    "custom_model_name": names,
    "role_arn": role_arns,
    "base_model_id": model_ids,
    "training_data_uri": s3_uris,
    "output_data_uri": s3_uris,
    "hyperparameters": hyperparameters,
    "validation_data_uri": validation_uris,
    "customization_type": customization_types,
    "custom_model_kms_key_id": kms_keys,
    "vpc_config": vpc_configs,
    "job_tags": tags,
    "custom_model_tags": tags,
    "customization_job_kwargs": job_kwargs,
}


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """A good request with one to three parameters drawn anew: valid requests stay common enough for
    the oracle to see many of them, and each drawn value is tried in a context that is otherwise right."""
    chosen = draw(st.lists(st.sampled_from(sorted(FIELD_STRATEGIES)), min_size=1, max_size=3, unique=True))
    return {**GOOD, **{field: draw(FIELD_STRATEGIES[field]) for field in chosen}}


def validate_or_explain(fields: dict[str, Any]) -> dict[str, Any] | None:
    """The Create call's arguments, or None after checking that the refusal explains itself."""
    try:
        request = CustomizationRequest(**fields).validate()
    except InvalidInputError as error:
        assert error.problems
        for problem in error.problems:
            root = re.split(r"[.\[]", problem.field, maxsplit=1)[0]
            assert root in FIELDS, f"problem names no parameter: {problem}"
            assert problem.message.strip()
            assert str(problem) in str(error)
        assert "nothing was sent to AWS" in str(error)
        return None
    token = TaskIdentity("dag", "task", "run").client_request_token(request.job_name_for(2), "x")
    return request.create_kwargs(2, token)


# -- properties -----------------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(fields=requests())
def test_any_request_is_one_bedrock_accepts_or_an_invalid_input_error(fields):
    kwargs = validate_or_explain(fields)
    if kwargs is None:
        return
    rejections = bedrock_rejections(kwargs)
    assert not rejections, rejections


@PROPERTY_SETTINGS
@given(
    value=st.one_of(st.text(max_size=200), st.integers(), st.floats(allow_nan=True), st.none()),
    max_length=st.integers(8, 63),
    attempt=st.integers(1, 120),
)
def test_sanitized_names_and_their_retries_match_bedrocks_patterns(value, max_length, attempt):
    name = sanitize_name(value, max_length)
    assert len(name) <= max_length
    assert sanitize_name(name, max_length) == name, "sanitizing twice changes nothing"
    retried = attempt_name(name, attempt)
    members = _input_shape().members
    for member in ("jobName", "customModelName"):
        assert not _shape_violations(retried, members[member], member), retried


@PROPERTY_SETTINGS
@given(
    dag_id=st.text(max_size=250),
    task_id=st.text(max_size=250),
    run_id=st.text(max_size=250),
    map_index=st.integers(-1, 10**6),
    attempt=st.integers(1, 100),
)
def test_client_request_tokens_match_the_idempotency_token_shape(dag_id, task_id, run_id, map_index, attempt):
    token = TaskIdentity(dag_id, task_id, run_id, map_index, namespace=run_id[:5]).client_request_token(
        attempt_name(sanitize_name(task_id or "x"), attempt), dag_id
    )
    shape = _input_shape().members["clientRequestToken"]
    assert not _shape_violations(token, shape, "clientRequestToken"), token


@PROPERTY_SETTINGS
@given(value=st.text(max_size=120))
def test_the_bedrock_name_filter_renders_any_text_to_a_valid_name(value):
    from bedrock_provider.operators.customization import BedrockModelCustomizationOperator

    operator = BedrockModelCustomizationOperator(task_id="t", **GOOD)
    rendered = operator.render_template("{{ value | bedrock_name }}-r2", {"value": value})
    assert not _shape_violations(rendered, _input_shape().members["jobName"], "jobName"), rendered


# -- values botocore's patterns accept but Bedrock's service model refuses ----------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("training_data_uri", "s3://my-bucket-/train.jsonl", id="bucket-ends-in-a-dash"),
        pytest.param("training_data_uri", "s3://ab/train.jsonl", id="two-letter-bucket"),
        pytest.param(
            "vpc_config",
            {"subnetIds": ["subnet-" + "0" * 40], "securityGroupIds": ["sg-1"]},
            id="subnet-id-over-32",
        ),
        pytest.param(
            "base_model_id", "arn:aws:bedrock:us-east-1:123456789012:foundation-model/x", id="model-arn-shape"
        ),
        pytest.param("base_model_id", "o.o", id="model-id-shape"),
        pytest.param("customization_job_kwargs", {"customizationConfig": "x"}, id="config-not-a-dict"),
        pytest.param(
            "customization_job_kwargs", {"customizationConfig": {"distillationConfig": 5}}, id="config-inner"
        ),
        pytest.param(
            "customization_job_kwargs", {"customizationConfig": {"unknownConfig": {}}}, id="config-unknown"
        ),
    ],
)
def test_values_bedrock_refuses_are_refused_before_any_call(field, value):
    with pytest.raises(InvalidInputError):
        CustomizationRequest(**{**GOOD, field: value}).validate()
