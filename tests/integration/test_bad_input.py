"""Bad input is refused before any call reaches Bedrock: the emulator's request counts prove it."""

from __future__ import annotations

import pytest

from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from tests.integration.conftest import DEMO_BUCKET
from tests.unit.test_request import BAD_INPUTS, GOOD

pytestmark = pytest.mark.integration


class _TaskInstance:
    dag_id = "bad_input"
    task_id = "train"
    run_id = "manual__bad"
    map_index = -1

    def xcom_push(self, key, value):  # pragma: no cover - never reached on bad input
        raise AssertionError("nothing may be pushed for bad input")


def total_requests(emulator) -> int:
    return sum(emulator.counts().values())


@pytest.mark.parametrize(("overrides", "field", "fragment"), BAD_INPUTS, ids=[b[1] for b in BAD_INPUTS])
def test_operator_refuses_bad_input_before_any_call(emulator, overrides, field, fragment):
    before = total_requests(emulator)
    operator = BedrockModelCustomizationOperator(task_id="train", **{**GOOD, **overrides})
    with pytest.raises(InvalidInputError) as raised:
        operator.execute({"ti": _TaskInstance()})
    assert field in raised.value.fields
    assert fragment in str(raised.value)
    assert total_requests(emulator) == before


def test_bad_hyperparameters_from_the_run_conf_fail_the_task_before_any_call(run_dag, emulator, unique_name):
    before = total_requests(emulator)
    result = run_dag(
        "it_customize_bad_input",
        conf={"job_name": unique_name("it-bad"), "hyperparameters": {"epochCount": 99, "learning_rate": 0.1}},
    )
    assert result.task_states() == {"train": "failed"}
    assert total_requests(emulator) == before


@pytest.mark.parametrize("field", ["training_data_uri", "validation_data_uri"])
def test_a_missing_data_object_fails_every_try_with_no_create_call(run_dag, emulator, unique_name, field):
    creates = emulator.request_count("CreateModelCustomizationJob")
    missing = f"s3://{DEMO_BUCKET}/data/{unique_name('absent')}.jsonl"
    result = run_dag(
        "it_customize_data_from_conf", conf={"job_name": unique_name("it-missing"), field: missing}
    )
    assert result.task_states() == {"train": "failed"}
    assert result.try_numbers() == {"train": 2}  # the retry looked again, and refused again
    assert emulator.request_count("CreateModelCustomizationJob") == creates
