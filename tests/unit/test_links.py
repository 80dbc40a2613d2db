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
