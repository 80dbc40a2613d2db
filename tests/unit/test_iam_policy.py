"""docs/iam/: the Airflow role's policy allows every AWS call the code makes, and nothing more.

The calls are read from the source (bedrock_provider/, without the emulator): every method call whose
name is an operation of a service the provider talks to (boto3's snake_case names), every paginator,
and every S3Hook method. A new call without its action in the policy fails here, naming where it is.
"""

from __future__ import annotations

import ast
import functools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "bedrock_provider"
IAM = REPO / "docs" / "iam"
AIRFLOW_POLICY = IAM / "airflow-role-policy.json"
TRUST_POLICY = IAM / "bedrock-service-role-trust-policy.json"
SERVICE_ROLE_POLICY = IAM / "bedrock-service-role-permissions.json"

# A method name found in several of these services is taken to be the first's (tag_resource is
# Bedrock's and EventBridge's; the provider tags custom models).
SERVICES = ("bedrock", "bedrock-runtime", "s3", "sqs", "events")
# Operations whose IAM action is not "<service>:<Operation>", or that need more than one.
OPERATION_ACTIONS = {
    ("bedrock", "CreateModelCustomizationJob"): {"bedrock:CreateModelCustomizationJob", "iam:PassRole"},
    ("bedrock", "CreateEvaluationJob"): {"bedrock:CreateEvaluationJob", "iam:PassRole"},
    # bedrock-runtime's actions are in the bedrock namespace; Converse is authorized as InvokeModel
    # (https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html).
    ("bedrock-runtime", "Converse"): {"bedrock:InvokeModel"},
    ("bedrock-runtime", "ConverseStream"): {"bedrock:InvokeModelWithResponseStream"},
    ("bedrock-runtime", "InvokeModel"): {"bedrock:InvokeModel"},
    ("s3", "HeadObject"): {"s3:GetObject"},
    ("s3", "HeadBucket"): {"s3:ListBucket"},
    ("s3", "ListObjects"): {"s3:ListBucket"},
    ("s3", "ListObjectsV2"): {"s3:ListBucket"},
    ("s3", "CopyObject"): {"s3:GetObject", "s3:PutObject"},
    ("s3", "DeleteObjects"): {"s3:DeleteObject"},
    ("s3", "CreateMultipartUpload"): {"s3:PutObject"},
    ("s3", "UploadPart"): {"s3:PutObject"},
    ("s3", "CompleteMultipartUpload"): {"s3:PutObject"},
    ("sqs", "DeleteMessageBatch"): {"sqs:DeleteMessage"},
    ("sqs", "SendMessageBatch"): {"sqs:SendMessage"},
    ("sqs", "ChangeMessageVisibilityBatch"): {"sqs:ChangeMessageVisibility"},
}
# The Amazon provider's S3Hook methods and the actions they need. An S3Hook method missing here fails
# the test: its actions must be looked up, not guessed.
# Method names of ours or of the Amazon provider that are also AWS operation names: never AWS calls.
NOT_AWS_CALLS = {
    "create_session",  # the Amazon provider's SessionFactory (hooks/clients.py), not S3's CreateSession
}
S3_HOOK_ACTIONS: dict[str, set[str]] = {
    "get_conn": set(),
    "parse_s3_url": set(),
    "get_s3_bucket_key": set(),
    "list_keys": {"s3:ListBucket"},
    "list_prefixes": {"s3:ListBucket"},
    "check_for_prefix": {"s3:ListBucket"},
    "check_for_key": {"s3:GetObject"},
    "head_object": {"s3:GetObject"},
    "get_key": {"s3:GetObject"},
    "read_key": {"s3:GetObject"},
    "download_file": {"s3:GetObject"},
    # Large files go up in parts; a failed part upload is aborted.
    "load_file": {"s3:PutObject", "s3:AbortMultipartUpload"},
    "load_file_obj": {"s3:PutObject", "s3:AbortMultipartUpload"},
    "load_bytes": {"s3:PutObject", "s3:AbortMultipartUpload"},
    "load_string": {"s3:PutObject", "s3:AbortMultipartUpload"},
    "copy_object": {"s3:GetObject", "s3:PutObject"},
    "delete_objects": {"s3:DeleteObject"},
}
# Bedrock actions without resource-level permissions (Service Authorization Reference, "Actions
# defined by Amazon Bedrock": no resource type), so their statement must say "*".
NO_RESOURCE_LEVEL = {
    "bedrock:ListModelCustomizationJobs",
    "bedrock:ListCustomModels",
    "bedrock:ListCustomModelDeployments",
    "bedrock:ListProvisionedModelThroughputs",
    "bedrock:ListEvaluationJobs",
    # An account setting, no resource (Service Authorization Reference, Amazon Bedrock actions).
    "bedrock:GetModelInvocationLoggingConfiguration",
}
PLACEHOLDERS = {"REGION", "ACCOUNT", "DATA_BUCKET", "OUTPUT_PREFIX", "BEDROCK_SERVICE_ROLE", "EVENTS_QUEUE"}


# -- what the code calls ---------------------------------------------------------------------------------


@functools.cache
def _operations() -> dict[str, tuple[str, str]]:
    """boto3 method name -> (service, API operation), first service wins."""
    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    found: dict[str, tuple[str, str]] = {}
    for service in SERVICES:
        for operation in session.get_service_model(service).operation_names:
            found.setdefault(xform_name(operation), (service, operation))
    return found


def _s3_hook_methods() -> set[str]:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return {name for name in vars(S3Hook) if not name.startswith("_")}


def _source_files() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if "emulator" not in path.relative_to(PACKAGE).parts)


def calls_in_code() -> dict[str, set[str]]:
    """IAM action -> where in the code it is needed ("path:line name")."""
    operations = _operations()
    s3_hook = _s3_hook_methods()
    needed: dict[str, set[str]] = defaultdict(set)
    unmapped: list[str] = []
    for path in _source_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in operations:
                # A method named by data (a ResourceKind's describe or cleanup method, a create call
                # chosen by mode) and called through getattr.
                service, operation = operations[node.value]
                actions = OPERATION_ACTIONS.get((service, operation), {f"{service}:{operation}"})
                for action in actions:
                    needed[action].add(f"{path.relative_to(REPO)}:{node.lineno} {node.value}")
                continue
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if (
                name in ("get_paginator", "get_waiter")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                name = str(node.args[0].value)
            where = f"{path.relative_to(REPO)}:{node.lineno} {name}"
            if name in NOT_AWS_CALLS:
                continue
            if name in operations:
                service, operation = operations[name]
                actions = OPERATION_ACTIONS.get((service, operation), {f"{service}:{operation}"})
            elif name in s3_hook:
                if name not in S3_HOOK_ACTIONS:
                    unmapped.append(where)
                    continue
                actions = S3_HOOK_ACTIONS[name]
            else:
                continue
            for action in actions:
                needed[action].add(where)
    assert not unmapped, f"S3Hook methods without IAM actions in S3_HOOK_ACTIONS: {unmapped}"
    return dict(needed)


# -- what the policies say -------------------------------------------------------------------------------


def load(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text())
    assert document["Version"] == "2012-10-17"
    assert isinstance(document["Statement"], list) and document["Statement"]
    return document


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def statements(path: Path) -> list[dict[str, Any]]:
    found = load(path)["Statement"]
    for statement in found:
        assert statement["Effect"] == "Allow", statement
        assert statement.get("Sid"), f"every statement says what it is for: {statement}"
    return found


def allowed_actions(path: Path) -> set[str]:
    return {action for statement in statements(path) for action in as_list(statement["Action"])}


# -- tests ---------------------------------------------------------------------------------------------------


def test_the_scan_finds_the_calls_the_provider_is_known_to_make():
    needed = calls_in_code()
    for action in (
        "bedrock:CreateModelCustomizationJob",
        "bedrock:GetModelCustomizationJob",
        "bedrock:StopModelCustomizationJob",
        "bedrock:ListModelCustomizationJobs",
        "iam:PassRole",
        "s3:GetObject",
        "s3:PutObject",
    ):
        assert action in needed, f"the scan missed {action}: it found {sorted(needed)}"


def test_every_action_the_code_needs_is_in_the_airflow_role_policy():
    needed = calls_in_code()
    missing = {
        action: sorted(where)
        for action, where in needed.items()
        if action not in allowed_actions(AIRFLOW_POLICY)
    }
    assert not missing, (
        f"add these actions to {AIRFLOW_POLICY.relative_to(REPO)}: {json.dumps(missing, indent=2)}"
    )


def test_the_airflow_role_policy_grants_nothing_the_code_does_not_use():
    unused = allowed_actions(AIRFLOW_POLICY) - set(calls_in_code())
    assert not unused, f"no code needs {sorted(unused)}: remove them from the policy"


def test_every_statement_names_its_resources():
    for path in (AIRFLOW_POLICY, SERVICE_ROLE_POLICY):
        for statement in statements(path):
            actions = as_list(statement["Action"])
            assert not any("*" in action for action in actions), f"wildcard action in {statement}"
            for resource in as_list(statement["Resource"]):
                if resource == "*":
                    assert set(actions) <= NO_RESOURCE_LEVEL, f"{actions} support resource ARNs: name them"
                    continue
                assert resource.startswith("arn:aws:"), resource
                words = {word for word in resource.replace("/", ":").split(":") if word.isupper()}
                assert words <= PLACEHOLDERS, f"unknown placeholder in {resource}"
                # A bucket or role by name, or the objects under a named prefix: never a bare service.
                assert resource.rstrip("/*").count(":") >= 5 or resource.startswith("arn:aws:s3:::"), resource


def test_the_service_role_may_be_passed_to_bedrock_only():
    [pass_role] = [s for s in statements(AIRFLOW_POLICY) if "iam:PassRole" in as_list(s["Action"])]
    assert as_list(pass_role["Action"]) == ["iam:PassRole"]
    assert pass_role["Resource"] == "arn:aws:iam::ACCOUNT:role/BEDROCK_SERVICE_ROLE"
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}


def test_bedrock_actions_are_real_operations():
    import botocore.session

    session = botocore.session.get_session()
    # The bedrock namespace covers the control plane and bedrock-runtime (InvokeModel).
    operations = {
        *session.get_service_model("bedrock").operation_names,
        *session.get_service_model("bedrock-runtime").operation_names,
    }
    for path in (AIRFLOW_POLICY, SERVICE_ROLE_POLICY):
        for action in allowed_actions(path):
            if action.startswith("bedrock:"):
                assert action.split(":", 1)[1] in operations, action


def test_trust_policy_guards_against_the_confused_deputy():
    """As "Create a service role for model customization" in the Bedrock user guide documents it."""
    [statement] = statements(TRUST_POLICY)
    assert statement["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "ACCOUNT"}
    assert statement["Condition"]["ArnEquals"] == {
        "aws:SourceArn": "arn:aws:bedrock:REGION:ACCOUNT:model-customization-job/*"
    }


def test_service_role_reads_the_data_writes_the_output_in_this_account_only():
    granted = {}
    for statement in statements(SERVICE_ROLE_POLICY):
        assert statement["Condition"] == {"StringEquals": {"aws:ResourceAccount": "ACCOUNT"}}, statement
        for action in as_list(statement["Action"]):
            granted.setdefault(action, set()).update(as_list(statement["Resource"]))
    assert granted == {
        "s3:ListBucket": {"arn:aws:s3:::DATA_BUCKET"},
        "s3:GetObject": {"arn:aws:s3:::DATA_BUCKET/*"},
        "s3:PutObject": {"arn:aws:s3:::DATA_BUCKET/OUTPUT_PREFIX/*"},
    }


@pytest.mark.parametrize("path", sorted(IAM.glob("*.json")), ids=lambda path: path.name)
def test_policies_are_plain_json_with_placeholders_only(path):
    text = path.read_text()
    load(path)
    assert "123456789012" not in text, "placeholders, not an account id"
