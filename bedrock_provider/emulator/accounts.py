"""What Bedrock asks of the rest of the account at Create: IAM (can it assume the role?) and KMS (which key?).

Bedrock assumes the service role when the job is created and answers "Could not assume provided IAM
role" when it cannot; a KMS alias is resolved to the key it names. ``MotoAccount`` answers both from
moto's IAM and KMS, the state clients see through the emulator's endpoint, so a role a DAG creates
through IAM is the role the emulator checks.
"""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import unquote

SERVICE_PRINCIPAL = "bedrock.amazonaws.com"
TRUST_POLICY_URL = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-iam-role.html"


class AccountServices(Protocol):
    def role_problem(self, role_arn: str) -> str | None:
        """Why Bedrock could not assume the role, or None."""
        ...

    def kms_key_arn(self, key: str) -> str | None:
        """The key ARN a key id, key ARN, alias or alias ARN names; None when there is no such key."""
        ...


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


class PermissiveAccount:
    """No IAM or KMS to ask (a backend used on its own): every role is assumable, keys are taken as given."""

    def __init__(self, partition: str, region: str, account_id: str) -> None:
        self._prefix = f"arn:{partition}:kms:{region}:{account_id}:"

    def role_problem(self, role_arn: str) -> str | None:
        return None

    def kms_key_arn(self, key: str) -> str | None:
        if key.startswith("arn:"):
            return key
        return self._prefix + (key if key.startswith("alias/") else f"key/{key}")


class MotoAccount:
    """IAM and KMS answers from moto's backends of one account and Region."""

    def __init__(self, account_id: str, region: str, *, check_roles: bool = True) -> None:
        self.account_id = account_id
        self.region = region
        self.check_roles = check_roles

    def role_problem(self, role_arn: str) -> str | None:
        if not self.check_roles:
            return None
        from moto.iam.models import iam_backends

        try:
            role = iam_backends[self.account_id]["global"].get_role_by_arn(role_arn)
        except Exception:
            return (
                f"Could not assume provided IAM role {role_arn}: the role does not exist. Create it with a "
                f"trust policy that allows {SERVICE_PRINCIPAL} to assume it (see {TRUST_POLICY_URL})."
            )
        if not trusts_bedrock(role.assume_role_policy_document):
            return (
                f"Could not assume provided IAM role {role_arn}: its trust policy does not allow "
                f"{SERVICE_PRINCIPAL} to assume it (see {TRUST_POLICY_URL})."
            )
        return None

    def kms_key_arn(self, key: str) -> str | None:
        from moto.kms.models import kms_backends

        region = key.split(":")[3] if key.startswith("arn:") else self.region
        backend = kms_backends[self.account_id][region]
        name = key.split(":", 5)[5] if key.startswith("arn:") else key
        if name.startswith("alias/"):
            key_id = backend.get_key_id_from_alias(name)
        else:
            key_id = name.removeprefix("key/")
        if not key_id or key_id not in backend.keys:
            return None
        arn: str = backend.keys[key_id].arn
        return arn


def ensure_service_role(iam: Any, name: str = "BedrockModelCustomization") -> str:
    """Create, through the IAM API, a role Bedrock can assume (or find it); its ARN.

    ``iam`` is a boto3 IAM client: pointed at the emulator it creates the role the emulator checks, and
    the same call makes the role's trust on AWS (its permissions are the caller's to attach).
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
