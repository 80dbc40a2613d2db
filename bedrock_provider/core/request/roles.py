"""The service role Bedrock assumes for a customization job: its trust policy, and making one.

Bedrock assumes the role when the job is created and refuses the job when it cannot ("Could not
assume provided IAM role"). The role must trust ``bedrock.amazonaws.com``:
https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-iam-role.html
The emulator checks roles against this, and the demo and the example DAGs create theirs with it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

SERVICE_PRINCIPAL = "bedrock.amazonaws.com"
TRUST_POLICY_URL = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-iam-role.html"


def bedrock_trust_policy(account_id: str | None = None) -> dict[str, Any]:
    """The trust policy of a Bedrock model-customization service role (TRUST_POLICY_URL)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": SERVICE_PRINCIPAL},
        "Action": "sts:AssumeRole",
    }
    if account_id:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def trusts_bedrock(policy_document: str | dict[str, Any]) -> bool:
    """Whether a role's trust policy lets bedrock.amazonaws.com assume it."""
    if isinstance(policy_document, str):
        try:
            policy = json.loads(unquote(policy_document))
        except ValueError:
            return False
    else:
        policy = policy_document
    for statement in _as_list(policy.get("Statement", [])):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = {str(action) for action in _as_list(statement.get("Action", []))}
        if not actions & {"sts:AssumeRole", "sts:*", "*"}:
            continue
        principal = statement.get("Principal")
        if principal == "*":
            return True
        if isinstance(principal, dict) and SERVICE_PRINCIPAL in _as_list(principal.get("Service", [])):
            return True
    return False


def ensure_service_role(iam: Any, name: str = "BedrockModelCustomization") -> str:
    """Create, through the IAM API, a role Bedrock can assume (or find it); its ARN.

    ``iam`` is a boto3 IAM client: pointed at the emulator it creates the role the emulator checks, and
    the same call makes the role's trust on AWS (its permissions are the caller's to attach). A role
    that exists is left as it is.
    """
    try:
        arn: str = iam.get_role(RoleName=name)["Role"]["Arn"]
        return arn
    except iam.exceptions.NoSuchEntityException:
        pass
    created: str = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(bedrock_trust_policy()),
        Description="Service role for Amazon Bedrock model customization",
    )["Role"]["Arn"]
    return created
