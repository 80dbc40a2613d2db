"""What Bedrock asks of the rest of the account at Create: IAM (can it assume the role?) and KMS (which key?).

Bedrock assumes the service role when the job is created and answers "Could not assume provided IAM
role" when it cannot; a KMS alias is resolved to the key it names. ``MotoAccount`` answers both from
moto's IAM and KMS, the state clients see through the emulator's endpoint, so a role a DAG creates
through IAM is the role the emulator checks.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable
from typing import Any, Protocol
from urllib.parse import unquote

from bedrock_provider.core.request.rft import RFT_ACCESS_URL
from bedrock_provider.core.request.roles import SERVICE_PRINCIPAL, TRUST_POLICY_URL, trusts_bedrock

# What the RFT service role must be allowed on the grader (RFT_ACCESS_URL: "You must add Lambda
# invocation permissions", an Allow of lambda:InvokeFunction on the function).
INVOKE_ACTION = "lambda:InvokeFunction"


class AccountServices(Protocol):
    def role_problem(self, role_arn: str) -> str | None:
        """Why Bedrock could not assume the role, or None."""
        ...

    def kms_key_arn(self, key: str) -> str | None:
        """The key ARN a key id, key ARN, alias or alias ARN names; None when there is no such key."""
        ...

    def grader_problem(self, lambda_arn: str, role_arn: str) -> str | None:
        """Why an RFT job could not call its grader Lambda (missing, or the role may not invoke it)."""
        ...


class PermissiveAccount:
    """No IAM or KMS to ask (a backend used on its own): every role is assumable, keys are taken as given."""

    def __init__(self, partition: str, region: str, account_id: str) -> None:
        self._prefix = f"arn:{partition}:kms:{region}:{account_id}:"

    def role_problem(self, role_arn: str) -> str | None:
        return None

    def grader_problem(self, lambda_arn: str, role_arn: str) -> str | None:
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

    def grader_problem(self, lambda_arn: str, role_arn: str) -> str | None:
        """The grader must exist in moto's Lambda backend, and (when roles are checked) the service role's
        policies must allow lambda:InvokeFunction on it."""
        from moto.awslambda.models import lambda_backends

        parts = lambda_arn.split(":")
        region = parts[3]
        if parts[4] != self.account_id or region != self.region:
            return (
                f"The grader Lambda function {lambda_arn} (customizationConfig.rftConfig.graderConfig."
                f"lambdaGrader.lambdaArn) is not in this account and Region "
                f"({self.account_id}, {self.region})."
            )
        name, qualifier = parts[6], (parts[7] if len(parts) > 7 else None)
        try:
            lambda_backends[self.account_id][region].get_function(name, qualifier)
        except Exception:
            return (
                f"The grader Lambda function {lambda_arn} (customizationConfig.rftConfig.graderConfig."
                "lambdaGrader.lambdaArn) does not exist. Create the function, or correct the ARN."
            )
        if not self.check_roles:
            return None
        from moto.iam.models import iam_backends

        try:
            role = iam_backends[self.account_id]["global"].get_role_by_arn(role_arn)
        except Exception:
            return None  # role_problem reports a missing role
        if not allows(_policy_documents(role), INVOKE_ACTION, lambda_arn):
            return (
                f"The service role {role_arn} is not allowed to invoke the grader Lambda function "
                f"{lambda_arn}: add an IAM policy allowing {INVOKE_ACTION} on it (see {RFT_ACCESS_URL})."
            )
        return None


def _policy_documents(role: Any) -> list[str | dict[str, Any]]:
    """The inline and attached (default version) policy documents of a moto IAM role."""
    documents: list[str | dict[str, Any]] = list(role.policies.values())
    for policy in role.managed_policies.values():
        documents.extend(version.document for version in policy.versions if version.is_default)
    return documents


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(patterns: Iterable[object], value: str) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), str(pattern).lower()) for pattern in patterns)


def allows(documents: Iterable[str | dict[str, Any]], action: str, resource: str) -> bool:
    """Whether identity policies allow the action on the resource: an Allow matches (IAM's * and ?
    wildcards on Action and Resource) and no Deny does. Conditions are not evaluated."""
    allowed = False
    for document in documents:
        try:
            policy = json.loads(unquote(document)) if isinstance(document, str) else document
        except ValueError:
            continue
        for statement in _as_list(policy.get("Statement", [])) if isinstance(policy, dict) else []:
            if not isinstance(statement, dict):
                continue
            if not _matches(_as_list(statement.get("Action", [])), action):
                continue
            if not _matches(_as_list(statement.get("Resource", [])), resource):
                continue
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed
