"""What Bedrock asks of the rest of the account at Create: IAM (can it assume the role?) and KMS (which key?).

Bedrock assumes the service role when the job is created and answers "Could not assume provided IAM
role" when it cannot; a KMS alias is resolved to the key it names. ``MotoAccount`` answers both from
moto's IAM and KMS, the state clients see through the emulator's endpoint, so a role a DAG creates
through IAM is the role the emulator checks.
"""

from __future__ import annotations

from typing import Protocol

from bedrock_provider.core.roles import SERVICE_PRINCIPAL, TRUST_POLICY_URL, trusts_bedrock


class AccountServices(Protocol):
    def role_problem(self, role_arn: str) -> str | None:
        """Why Bedrock could not assume the role, or None."""
        ...

    def kms_key_arn(self, key: str) -> str | None:
        """The key ARN a key id, key ARN, alias or alias ARN names; None when there is no such key."""
        ...


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
