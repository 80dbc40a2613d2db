"""Extra links from a task to its customization job and custom model in the Bedrock console.

The links have the shape of the Amazon provider's BaseAwsLink without subclassing it: importing
airflow.providers.amazon.aws.links imports botocore, and a DAG file that builds our operators imports
no AWS SDK (tests/unit/test_import_cost.py). As there, resolving a link never raises (an error gives
"" and is logged), storing one never fails the task and stores nothing when the operator's
``do_xcom_push`` is False, and the console's domain of a partition is BaseAwsLink's, asked for when a
link is resolved. Unlike there, the XCom value is the ARN string itself.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink
from airflow.sdk.execution_time.xcom import XCom

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator, Context
    from airflow.sdk.types import TaskInstanceKey

log = logging.getLogger(__name__)

# Where the console lists custom models and customization jobs: the link of a task with no ARN (yet).
LIST_PATH = "/custom-models"


def console_domain(arn: str) -> str | None:
    """The console's domain of the ARN's partition (aws.amazon.com, amazonaws.cn...), None if unknown."""
    parts = arn.split(":")
    return partition_console_domain(parts[1]) if len(parts) > 3 else None


def partition_console_domain(partition: str) -> str | None:
    # Imported here, when a link is resolved (in the API server or at the task's end), never when a
    # DAG file is parsed: the Amazon provider's links package imports botocore.
    from airflow.providers.amazon.aws.links.base_aws import BaseAwsLink

    return BaseAwsLink.get_aws_domain(partition)


def arn_region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


class _BedrockArnLink(BaseOperatorLink):
    name: ClassVar[str]
    key: ClassVar[str]
    path: ClassVar[str]

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """The console page of the ARN the task stored; "" (logged) when the link cannot be resolved,
        so that a broken link never breaks the page or the task that shows it."""
        try:
            arn = XCom.get_value(key=self.key, ti_key=ti_key)
            if isinstance(arn, str) and (link := self.format_link(arn)):
                return link
            # Airflow's UI shows the "Extra Links" heading whenever a task has links, and leaves out the
            # empty ones: a task refused before it submitted anything (or not run yet) would show the
            # heading alone. The console's list, where the job appears once there is one, fills it.
            return f"https://console.{partition_console_domain('aws')}/bedrock/home#{LIST_PATH}"
        except Exception:
            log.warning("The %r link of %s could not be resolved", self.name, ti_key, exc_info=True)
            return ""

    @classmethod
    def format_link(cls, arn: str) -> str:
        domain = console_domain(arn)
        if domain is None:
            return ""
        region = arn_region(arn)
        return f"https://console.{domain}/bedrock/home?region={region}#{cls.path}?arn={quote(arn, safe='')}"

    @classmethod
    def persist(cls, context: Context, operator: BaseOperator, arn: str | None) -> None:
        """Store the ARN for the link; nothing when the operator pushes no XCom (``do_xcom_push=False``).
        A failure to store it is logged and never fails the task: the link is a convenience."""
        if not operator.do_xcom_push:
            return
        try:
            # Stored even when there is no ARN: Airflow resolves every extra link when the task ends.
            context["ti"].xcom_push(key=cls.key, value=arn or None)
        except Exception:
            operator.log.warning("The %r link could not be stored (ARN %s)", cls.name, arn, exc_info=True)


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
