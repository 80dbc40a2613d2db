"""Bedrock's ARNs as the emulator mints and recognises them, for every resource it keeps.

Every Bedrock ARN is ``arn:PARTITION:bedrock:REGION:ACCOUNT:RESOURCE``; a foundation model's has no
account. A resource id is 12 lowercase letters and digits, as Bedrock's are.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable

_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID = "[a-z0-9]{12}"


def _bedrock_arn(resource: str, *, account: bool = True) -> re.Pattern[str]:
    owner = "[0-9]{12}" if account else ""
    return re.compile(rf"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{{1,20}}:{owner}:{resource}$")


FOUNDATION_MODEL_ARN_RE = _bedrock_arn("foundation-model/(?P<model>[^/]+)", account=False)
JOB_ARN_RE = _bedrock_arn(f"model-customization-job/[^/]+/{_ID}")
CUSTOM_MODEL_ARN_RE = _bedrock_arn(f"custom-model/(?P<base>[^/]+)/{_ID}")
DEPLOYMENT_ARN_RE = _bedrock_arn(f"custom-model-deployment/{_ID}")
PROVISIONED_ARN_RE = _bedrock_arn(f"provisioned-model/{_ID}")
EVALUATION_JOB_ARN_RE = _bedrock_arn(f"evaluation-job/{_ID}")
MODEL_ID_RE = re.compile(r"^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63}){1,3}(:[a-z0-9-]{1,63}){0,2}$")


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class ArnMinter:
    """The ARNs of one emulated account and Region."""

    def __init__(self, region: str, account_id: str) -> None:
        self.region = region
        self.account_id = account_id
        self.partition = partition_of(region)

    def arn(self, kind: str, rest: str) -> str:
        return f"arn:{self.partition}:bedrock:{self.region}:{self.account_id}:{kind}/{rest}"

    def foundation_model_arn(self, model_id: str) -> str:
        return f"arn:{self.partition}:bedrock:{self.region}::foundation-model/{model_id}"

    @staticmethod
    def new_id(taken: Iterable[str]) -> str:
        """A resource id that no ARN in ``taken`` ends with."""
        taken = list(taken)
        while True:
            candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))
            if not any(arn.endswith("/" + candidate) for arn in taken):
                return candidate
