"""Extra links to the Bedrock console: the job's and the model's pages, in the ARN's partition and region;
the console's list when there is no ARN, so that the UI never shows an empty "Extra Links" heading."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from bedrock_provider.links import BedrockCustomizationJobLink, BedrockCustomModelLink

JOB_ARN = "arn:aws:bedrock:eu-west-1:123456789012:model-customization-job/amazon.titan-text-express-v1/abc"
MODEL_ARN = "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:custom-model/amazon.titan-text-express-v1/xyz"


def link(link_class: Any, value: object) -> str:
    with mock.patch("bedrock_provider.links.XCom.get_value", return_value=value):
        return str(link_class().get_link(mock.Mock(), ti_key=mock.Mock()))


def test_the_job_link_opens_the_job_in_its_region() -> None:
    assert link(BedrockCustomizationJobLink, JOB_ARN) == (
        "https://console.aws.amazon.com/bedrock/home?region=eu-west-1#/custom-models/customization-jobs/item?arn="
        "arn%3Aaws%3Abedrock%3Aeu-west-1%3A123456789012%3Amodel-customization-job%2F"
        "amazon.titan-text-express-v1%2Fabc"
    )


def test_the_model_link_follows_the_partition() -> None:
    assert link(BedrockCustomModelLink, MODEL_ARN).startswith(
        "https://console.amazonaws-us-gov.com/bedrock/home?region=us-gov-west-1#/custom-models/item?arn="
    )


@pytest.mark.parametrize("value", [None, "", "not-an-arn"])
def test_without_an_arn_the_link_opens_the_consoles_list(value: object) -> None:
    for link_class in (BedrockCustomizationJobLink, BedrockCustomModelLink):
        assert link(link_class, value) == "https://console.aws.amazon.com/bedrock/home#/custom-models"


# -- BaseAwsLink's shape: a link never breaks the page or the task -------------------------------------


def test_an_error_resolving_the_link_gives_an_empty_link_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = mock.patch("bedrock_provider.links.XCom.get_value", side_effect=RuntimeError("metadata DB away"))
    with broken, caplog.at_level("WARNING", logger="bedrock_provider.links"):
        for link_class in (BedrockCustomizationJobLink, BedrockCustomModelLink):
            assert link_class().get_link(mock.Mock(), ti_key=mock.Mock()) == ""
    assert "could not be resolved" in caplog.text
    assert "metadata DB away" in caplog.text


def test_an_unknown_partition_gives_the_consoles_list() -> None:
    assert link(BedrockCustomModelLink, "arn:aws-xx:bedrock:r:1:custom-model/x") == (
        "https://console.aws.amazon.com/bedrock/home#/custom-models"
    )


def _operator(do_xcom_push: bool = True) -> mock.Mock:
    operator = mock.Mock()
    operator.do_xcom_push = do_xcom_push
    return operator


@pytest.mark.parametrize("link_class", [BedrockCustomizationJobLink, BedrockCustomModelLink])
def test_persist_stores_the_arn_under_the_links_key(link_class: Any) -> None:
    ti = mock.Mock()
    link_class.persist({"ti": ti}, _operator(), JOB_ARN)
    ti.xcom_push.assert_called_once_with(key=link_class.key, value=JOB_ARN)


@pytest.mark.parametrize("link_class", [BedrockCustomizationJobLink, BedrockCustomModelLink])
def test_persist_stores_nothing_when_the_operator_pushes_no_xcom(link_class: Any) -> None:
    ti = mock.Mock()
    link_class.persist({"ti": ti}, _operator(do_xcom_push=False), JOB_ARN)
    ti.xcom_push.assert_not_called()


def test_a_failure_to_store_the_link_is_logged_and_never_fails_the_task() -> None:
    ti = mock.Mock()
    ti.xcom_push.side_effect = RuntimeError("XCom backend refused")
    operator = _operator()
    BedrockCustomizationJobLink.persist({"ti": ti}, operator, JOB_ARN)
    operator.log.warning.assert_called_once()
    assert "could not be stored" in operator.log.warning.call_args.args[0]


@pytest.mark.parametrize("do_xcom_push", [True, False])
def test_the_operator_stores_its_links_only_when_it_pushes_xcom(do_xcom_push: bool) -> None:
    from airflow.sdk.exceptions import AirflowException

    from tests.unit.test_quota_wait import _operator as customization_operator

    operator = customization_operator(do_xcom_push=do_xcom_push)
    ti = mock.Mock()
    with pytest.raises(AirflowException, match="Failed"):
        operator._finish({"ti": ti}, {"status": "Failed", "job_name": "job", "custom_model_arn": MODEL_ARN})
    pushed_keys = {call.kwargs["key"] for call in ti.xcom_push.call_args_list}
    assert (BedrockCustomModelLink.key in pushed_keys) is do_xcom_push


@pytest.mark.parametrize("do_xcom_push", [True, False])
def test_the_sensor_stores_its_links_only_when_it_pushes_xcom(do_xcom_push: bool) -> None:
    from bedrock_provider.sensors.customization import BedrockModelCustomizationSensor

    sensor = BedrockModelCustomizationSensor(
        task_id="watch", job_identifier=JOB_ARN, deferrable=False, do_xcom_push=do_xcom_push
    )
    ti = mock.Mock()
    sensor._done({"ti": ti}, {"status": "Completed", "jobArn": JOB_ARN, "outputModelArn": MODEL_ARN})
    pushed = {call.kwargs["key"]: call.kwargs["value"] for call in ti.xcom_push.call_args_list}
    if do_xcom_push:
        assert pushed == {BedrockCustomizationJobLink.key: JOB_ARN, BedrockCustomModelLink.key: MODEL_ARN}
    else:
        assert pushed == {}
