"""BedrockCustomizationHook against moto in-process (moto finds jobs by name and stores the token)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from bedrock_provider.core.errors import JobConflictError
from bedrock_provider.core.names import TaskIdentity
from bedrock_provider.core.request.customization import CustomizationRequest
from bedrock_provider.hooks.customization import BedrockCustomizationHook

REQUEST = CustomizationRequest(
    job_name="unit-job",
    custom_model_name="unit-model",
    role_arn="arn:aws:iam::123456789012:role/BedrockCustomization",
    base_model_id="amazon.titan-text-express-v1",
    training_data_uri="s3://bucket/train.jsonl",
    output_data_uri="s3://bucket/out/",
    hyperparameters={"epochCount": 1},
).validate()
ME = TaskIdentity("dag", "train", "manual__1", -1)


class MotoBedrockHook(BedrockCustomizationHook):
    """moto reports a made-up KMS key ('...-kms-key') for every job, whatever the request said;
    Bedrock reports the key the job was created with, or none. Drop moto's, so that adoption here
    compares what Bedrock would report."""

    def describe_job(self, job_identifier):
        description = super().describe_job(job_identifier)
        if str(description.get("outputModelKmsKeyArn", "")).endswith("-kms-key"):
            del description["outputModelKmsKeyArn"]
        return description


@pytest.fixture
def hook():
    with mock_aws():
        yield MotoBedrockHook(aws_conn_id=None, region_name="us-east-1")


def test_submit_then_resubmit_adopts(hook):
    first = hook.submit_job(REQUEST, ME)
    again = hook.submit_job(REQUEST, ME)
    assert not first.adopted and again.adopted
    assert again.job_arn == first.job_arn
    assert [job["jobName"] for job in hook.list_jobs()] == ["unit-job"]


def test_stranger_job_is_refused(hook):
    hook.submit_job(REQUEST, TaskIdentity("dag", "train", "manual__2", -1))
    with pytest.raises(JobConflictError, match="not submitted by this task instance"):
        hook.submit_job(REQUEST, ME)


def test_failed_job_is_retried_with_a_suffix(hook):
    hook.submit_job(REQUEST, ME)
    hook.conn.stop_model_customization_job(jobIdentifier="unit-job")
    retried = hook.submit_job(REQUEST, ME)
    assert (retried.job_name, retried.custom_model_name, retried.attempt) == (
        "unit-job-r2",
        "unit-model-r2",
        2,
    )
    token = ME.client_request_token("unit-job-r2", REQUEST.fingerprint())
    assert hook.describe_job("unit-job-r2")["clientRequestToken"] == token


def test_a_refused_create_still_lets_an_adoption_through(hook):
    """The data of the job is gone: its own job is adopted, and no job is created in its place, neither
    a first one nor a suffixed retry of a stopped one."""
    gone = RuntimeError("the training data is gone")
    with pytest.raises(RuntimeError, match="gone"):
        hook.submit_job(REQUEST, ME, create_refused=gone)
    assert list(hook.list_jobs()) == []

    first = hook.submit_job(REQUEST, ME)
    assert hook.submit_job(REQUEST, ME, create_refused=gone).job_arn == first.job_arn
    hook.conn.stop_model_customization_job(jobIdentifier="unit-job")
    with pytest.raises(RuntimeError, match="gone"):
        hook.submit_job(REQUEST, ME, create_refused=gone)
    assert [job["jobName"] for job in hook.list_jobs()] == ["unit-job"]


def test_find_job_is_none_for_unknown_names(hook):
    assert hook.find_job("nope") is None


def test_stop_job_only_stops_running_jobs(hook):
    hook.submit_job(REQUEST, ME)
    assert hook.stop_job("unit-job") is True
    assert hook.describe_job("unit-job")["status"] == "Stopped"
    assert hook.stop_job("unit-job") is False
    assert hook.stop_job("missing") is False


def test_list_jobs_follows_pages(hook):
    for index in range(5):
        hook.conn.create_model_customization_job(
            **CustomizationRequest(
                job_name=f"page-{index}",
                custom_model_name=f"page-model-{index}",
                role_arn=REQUEST.role_arn,
                base_model_id=REQUEST.base_model_id,
                training_data_uri=REQUEST.training_data_uri,
                output_data_uri=REQUEST.output_data_uri,
            )
            .validate()
            .create_kwargs(1, f"token{index}")
        )
    names = [job["jobName"] for job in hook.list_jobs(PaginationConfig={"PageSize": 2})]
    assert sorted(names) == [f"page-{i}" for i in range(5)]


def test_a_kms_alias_is_resolved_on_the_hooks_own_connection(hook):
    """The KMS client for an alias comes from the connection the hook has read already."""
    import boto3

    kms = boto3.client("kms", region_name="us-east-1")
    key_arn = kms.create_key()["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/models", TargetKeyId=key_arn)
    assert hook._kms_key_arn("alias/models") == key_arn
    assert hook._kms_key_arn("alias/missing") is None
