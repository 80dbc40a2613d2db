"""What an RFT job needs in the account, made through the AWS APIs as on AWS: a grader Lambda function and
a service role allowed to invoke it (https://docs.aws.amazon.com/bedrock/latest/userguide/rft-access-security.html)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

GRADER_SOURCE = """
def handler(event, context):
    # Scores each response 1.0 when it contains the reference answer, else 0.0.
    return [
        {"id": sample["id"], "aggregate_reward_score": float(str(sample.get("reference_answer")) in
         str(sample["messages"][-1]["content"]))}
        for sample in event
    ]
"""


def _zipped(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("grader.py", source)
    return buffer.getvalue()


def create_grader(lambda_client: Any, name: str, execution_role_arn: str) -> str:
    """A grader Lambda function (or the existing one of that name); its ARN."""
    try:
        return str(lambda_client.get_function(FunctionName=name)["Configuration"]["FunctionArn"])
    except lambda_client.exceptions.ResourceNotFoundException:
        pass
    created = lambda_client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=execution_role_arn,
        Handler="grader.handler",
        Code={"ZipFile": _zipped(GRADER_SOURCE)},
        Timeout=900,
    )
    return str(created["FunctionArn"])


def allow_invoke(iam_client: Any, role_name: str, lambda_arn: str) -> None:
    """Let the service role invoke the grader, as the RFT access page's example policy does."""
    iam_client.put_role_policy(
        RoleName=role_name,
        PolicyName=f"invoke-{lambda_arn.rsplit(':', 1)[-1]}",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": [lambda_arn]}
                ],
            }
        ),
    )
