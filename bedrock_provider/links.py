"""Extra links from a task to its customization job and custom model in the Bedrock console."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink
from airflow.sdk.execution_time.xcom import XCom

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator, Context
    from airflow.sdk.types import TaskInstanceKey

_CONSOLE_DOMAINS = {"aws": "aws.amazon.com", "aws-cn": "amazonaws.cn", "aws-us-gov": "amazonaws-us-gov.com"}


def console_domain(arn: str) -> str | None:
    parts = arn.split(":")
    return _CONSOLE_DOMAINS.get(parts[1]) if len(parts) > 3 else None


def arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


# Where the console lists custom models and customization jobs: the link of a task with no ARN (yet).
LIST_PATH = "/custom-models"


class _BedrockArnLink(BaseOperatorLink):
    name: ClassVar[str]
    key: ClassVar[str]
    path: ClassVar[str]

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        arn = XCom.get_value(key=self.key, ti_key=ti_key)
        if isinstance(arn, str) and (link := self.format_link(arn)):
            return link
        # Airflow's UI shows the "Extra Links" heading whenever a task has links, and leaves out the
        # empty ones: a task refused before it submitted anything (or not run yet) would show the
        # heading alone. The console's list, where the job appears once there is one, fills it.
        return f"https://console.{_CONSOLE_DOMAINS['aws']}/bedrock/home#{LIST_PATH}"

    @classmethod
    def format_link(cls, arn: str) -> str:
        domain = console_domain(arn)
        if domain is None:
            return ""
        region = arn_region(arn)
        return f"https://console.{domain}/bedrock/home?region={region}#{cls.path}?arn={quote(arn, safe='')}"

    @classmethod
    def persist(cls, context: Context, arn: str | None) -> None:
        # Pushed even when there is no ARN: Airflow resolves every extra link when the task ends.
        context["ti"].xcom_push(key=cls.key, value=arn or None)


class BedrockCustomizationJobLink(_BedrockArnLink):
    """The model customization job in the Bedrock console."""

    name = "Bedrock Customization Job"
    key = "bedrock_customization_job_arn"
    path = "/custom-models/customization-jobs/item"


class BedrockCustomModelLink(_BedrockArnLink):
    """The custom model the job produced, in the Bedrock console."""

    name = "Bedrock Custom Model"
    key = "bedrock_custom_model_arn"
    path = "/custom-models/item"
