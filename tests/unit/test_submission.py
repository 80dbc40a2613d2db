from __future__ import annotations

import pytest

from bedrock_provider.core.errors import JobConflictError
from bedrock_provider.core.names import MAX_NAME_LENGTH, TaskIdentity, attempt_name
from bedrock_provider.core.request.customization import CustomizationRequest
from bedrock_provider.core.request.submission import plan_submission, request_differences, same_value

ME = TaskIdentity("dag", "train", "manual__2024-01-01", -1, namespace="prod")
STRANGER = TaskIdentity("dag", "train", "manual__2024-02-02", -1, namespace="prod")
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
OTHER_DEPLOYMENT = TaskIdentity("dag", "train", "manual__2024-01-01", -1, namespace="staging")

FIELDS = {
    "job_name": "job",
    "custom_model_name": "model",
    "role_arn": "arn:aws:iam::123456789012:role/BedrockCustomization",
    "base_model_id": "amazon.titan-text-express-v1",
    "training_data_uri": "s3://bucket/data/train.jsonl",
    "output_data_uri": "s3://bucket/output/",
    "hyperparameters": {"epochCount": 2, "batchSize": 1, "learningRate": 0.00001},
}


def request(**overrides):
    return CustomizationRequest(**{**FIELDS, **overrides}).validate()


REQUEST = request()


def description(req, name="job", status="Completed", owner=ME, **overrides):
    """A GetModelCustomizationJob answer for a job created from ``req``, as Bedrock reports it."""
    kwargs = req.create_kwargs(1, owner.client_request_token(name, req.fingerprint()))
    job = {
        "jobName": name,
        "jobArn": f"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/m.x/{name[:12]}",
        "status": status,
        "clientRequestToken": kwargs["clientRequestToken"],
        "baseModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1:0:8k",
        "customizationType": kwargs["customizationType"],
        "trainingDataConfig": kwargs["trainingDataConfig"],
        "outputDataConfig": kwargs["outputDataConfig"],
        "hyperParameters": kwargs.get("hyperParameters", {}),
    }
    for key in ("validationDataConfig", "vpcConfig", "customizationConfig"):
        if key in kwargs:
            job[key] = kwargs[key]
    if "customModelKmsKeyId" in kwargs:
        job["outputModelKmsKeyArn"] = kwargs["customModelKmsKeyId"]
    job.update(overrides)
    return job


def jobs(*entries):
    """Fake GetModelCustomizationJob by name: entries of (name, status, owner[, request])."""
    table = {}
    for entry in entries:
        name, status, owner, *rest = entry
        table[name] = description(rest[0] if rest else REQUEST, name, status, owner)
    return table.get


def differences_from(req):
    return lambda job: request_differences(job, req)


def plan(if_job_exists, find, req=REQUEST, base="job"):
    return plan_submission(base, ME, if_job_exists, find, differences_from(req))


def test_no_job_submits_attempt_one():
    assert (plan("reattach", jobs()).action, plan("reattach", jobs()).attempt) == ("submit", 1)


@pytest.mark.parametrize("status", ["InProgress", "Completed"])
def test_own_running_or_completed_job_is_adopted(status):
    adopted = plan("reattach", jobs(("job", status, ME)))
    assert (adopted.action, adopted.job_name) == ("adopt", "job")
    assert adopted.existing["status"] == status


@pytest.mark.parametrize("status", ["Failed", "Stopped", "Stopping"])
def test_own_failed_job_is_retried_under_the_next_suffix(status):
    retried = plan("reattach", jobs(("job", status, ME)))
    assert (retried.action, retried.attempt, retried.job_name) == ("submit", 2, "job-r2")


def test_crash_after_submitting_r2_adopts_r2():
    adopted = plan("reattach", jobs(("job", "Failed", ME), ("job-r2", "InProgress", ME)))
    assert (adopted.action, adopted.job_name, adopted.attempt) == ("adopt", "job-r2", 2)


def test_third_attempt_after_two_failures():
    assert plan("reattach", jobs(("job", "Failed", ME), ("job-r2", "Stopped", ME))).job_name == "job-r3"


def test_a_strangers_job_is_an_error_that_names_it_and_the_fix():
    with pytest.raises(JobConflictError, match=r"'job'.*not submitted by this task instance") as raised:
        plan("reattach", jobs(("job", "Completed", STRANGER)))
    message = str(raised.value)
    assert "run_id=manual__2024-01-01" in message
    assert "{{ ti | bedrock_job_name }}" in message and "if_job_exists='rename'" in message
    assert "ts_nodash" not in message


def test_a_token_made_for_another_name_is_not_ours():
    # Our token of job-r2 on a job named job means someone copied tokens, not that it is ours.
    find = jobs(("job", "Failed", ME), ("job-r2", "InProgress", ME))
    job = find("job")
    job["clientRequestToken"] = find("job-r2")["clientRequestToken"]
    with pytest.raises(JobConflictError, match="not submitted by this task instance"):
        plan("reattach", {"job": job}.get)


def test_rename_always_submits_the_next_suffix():
    renamed = plan("rename", jobs(("job", "Completed", ME)))
    assert (renamed.action, renamed.job_name) == ("submit", "job-r2")


def test_fail_raises_when_the_name_is_taken_and_recommends_a_unique_name():
    with pytest.raises(JobConflictError, match="if_job_exists='fail'") as raised:
        plan("fail", jobs(("job", "InProgress", ME)))
    assert "{{ ti | bedrock_job_name }}" in str(raised.value)
    assert "ts_nodash" not in str(raised.value)
    assert plan("fail", jobs()).action == "submit"


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="if_job_exists"):
        plan("replace", jobs())


# -- a job is adopted only when it is the job the request asks for ---------------------------------------


def test_edited_dag_then_cleared_task_is_refused_naming_each_field_with_both_values():
    edited = request(
        training_data_uri="s3://bucket/data/v2/train.jsonl",
        hyperparameters={**FIELDS["hyperparameters"], "learningRate": 0.0002},
    )
    with pytest.raises(JobConflictError) as raised:
        plan("reattach", jobs(("job", "Completed", ME)), req=edited)
    message = str(raised.value)
    assert "training_data_uri: the job has 's3://bucket/data/train.jsonl', this task asks for " in message
    assert "'s3://bucket/data/v2/train.jsonl'" in message
    assert "hyperparameters.learningRate: the job has '1e-05', this task asks for '0.0002'" in message
    assert "if_job_exists='resubmit_on_change'" in message and "'rename'" in message
    assert "nothing was submitted" in message


def test_resubmit_on_change_submits_a_fresh_job_when_the_request_changed():
    edited = request(training_data_uri="s3://bucket/data/v2/train.jsonl")
    fresh = plan("resubmit_on_change", jobs(("job", "Completed", ME)), req=edited)
    assert (fresh.action, fresh.job_name, fresh.attempt) == ("submit", "job-r2", 2)
    assert "training_data_uri" in fresh.reason
    # ...and the fresh job is adopted by the next try, since it is what the request asks for.
    again = plan(
        "resubmit_on_change", jobs(("job", "Completed", ME), ("job-r2", "InProgress", ME, edited)), req=edited
    )
    assert (again.action, again.job_name) == ("adopt", "job-r2")


def test_resubmit_on_change_adopts_an_unchanged_job():
    assert plan("resubmit_on_change", jobs(("job", "InProgress", ME))).action == "adopt"


def test_another_deployments_job_is_never_adopted():
    with pytest.raises(JobConflictError, match="another Airflow deployment"):
        plan("reattach", jobs(("job", "Completed", OTHER_DEPLOYMENT)))
    with pytest.raises(JobConflictError, match="not submitted by this task instance"):
        plan("resubmit_on_change", jobs(("job", "Completed", OTHER_DEPLOYMENT)))


def test_another_deployments_job_on_other_data_names_the_differences():
    staging = request(training_data_uri="s3://staging/train.jsonl")
    with pytest.raises(JobConflictError) as raised:
        plan("reattach", jobs(("job", "Completed", OTHER_DEPLOYMENT, staging)))
    assert "training_data_uri: the job has 's3://staging/train.jsonl'" in str(raised.value)


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("2", 2, True),
        ("1e-5", 0.00001, True),
        ("0.00001", "1E-05", True),
        ("2.0", "2", True),
        ("Auto", "Auto", True),
        ("Auto", "auto", False),
        ("2", "3", False),
        ("nan", "nan", True),
    ],
)
def test_values_compare_as_bedrock_reads_them(left, right, same):
    assert same_value(left, right) is same


def test_hyperparameters_written_differently_are_the_same_request():
    job = description(
        REQUEST, hyperParameters={"epochCount": "2.0", "batchSize": "1", "learningRate": "1e-5"}
    )
    assert request_differences(job, REQUEST) == []


def test_a_default_bedrock_reports_is_what_leaving_it_out_asks_for():
    job = description(REQUEST, hyperParameters={**REQUEST.hyperparameters, "learningRateWarmupSteps": "5"})
    assert request_differences(job, REQUEST) == []
    job = description(REQUEST, hyperParameters={**REQUEST.hyperparameters, "learningRateWarmupSteps": "0"})
    assert [d.field for d in request_differences(job, REQUEST)] == ["hyperparameters.learningRateWarmupSteps"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"base_model_id": "meta.llama3-1-8b-instruct-v1:0:128k"}, "base_model_id"),
        (
            {
                "customization_type": "CONTINUED_PRE_TRAINING",
                "hyperparameters": {"epochCount": 2, "batchSize": 1, "learningRate": 0.00001},
            },
            "customization_type",
        ),
        ({"validation_data_uri": "s3://bucket/data/validation.jsonl"}, "validation_data_uri"),
        ({"output_data_uri": "s3://bucket/output-v2/"}, "output_data_uri"),
        ({"vpc_config": {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]}}, "vpc_config"),
        (
            {"custom_model_kms_key_id": KEY_ARN},
            "custom_model_kms_key_id",
        ),
    ],
)
def test_each_compared_field_is_named_when_it_differs(overrides, field):
    assert [d.field for d in request_differences(description(REQUEST), request(**overrides))] == [field]


def test_customization_config_is_compared_deeply():
    def distill(teacher, max_len=100):
        return request(
            customization_type="DISTILLATION",
            base_model_id="amazon.nova-micro-v1:0:128k",
            hyperparameters=None,
            customization_job_kwargs={
                "customizationConfig": {
                    "distillationConfig": {
                        "teacherModelConfig": {
                            "teacherModelIdentifier": teacher,
                            "maxResponseLengthForInference": max_len,
                        }
                    }
                }
            },
        )

    job = description(distill("amazon.nova-pro-v1:0"))
    job["baseModelArn"] = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0:128k"
    assert request_differences(job, distill("amazon.nova-pro-v1:0")) == []
    assert [d.field for d in request_differences(job, distill("amazon.nova-premier-v1:0"))] == [
        "customization_job_kwargs.customizationConfig"
    ]


def test_vpc_order_and_output_trailing_slash_do_not_matter():
    vpc = {"subnetIds": ["subnet-1", "subnet-2"], "securityGroupIds": ["sg-1"]}
    job = description(request(vpc_config=vpc))
    job["vpcConfig"] = {"subnetIds": ["subnet-2", "subnet-1"], "securityGroupIds": ["sg-1"]}
    job["outputDataConfig"] = {"s3Uri": "s3://bucket/output"}
    assert request_differences(job, request(vpc_config=vpc)) == []


def test_kms_key_given_by_id_or_alias_matches_the_arn_bedrock_reports():
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    job = description(REQUEST, outputModelKmsKeyArn=key_arn)
    assert (
        request_differences(job, request(custom_model_kms_key_id="11111111-2222-3333-4444-555555555555"))
        == []
    )
    by_alias = request(custom_model_kms_key_id="alias/models")
    assert [d.field for d in request_differences(job, by_alias)] == ["custom_model_kms_key_id"]
    assert request_differences(job, by_alias, resolve_kms_key=lambda alias: key_arn) == []


def test_a_custom_base_model_given_by_name_is_resolved_to_compare():
    custom_arn = (
        "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/abcdefabcdef"
    )
    job = description(REQUEST, baseModelArn=custom_arn)
    by_name = request(base_model_id="my-custom-model")
    assert [d.field for d in request_differences(job, by_name)] == ["base_model_id"]
    assert request_differences(job, by_name, resolve_base_model=lambda name: (custom_arn,)) == []


# -- retry names ------------------------------------------------------------------------------------------


def test_long_names_that_differ_only_at_the_end_get_distinct_retry_names():
    first, second = "a" * 62 + "1", "a" * 62 + "2"
    assert attempt_name(first, 2) != attempt_name(second, 2)
    assert len(attempt_name(first, 2)) <= MAX_NAME_LENGTH


@pytest.mark.parametrize("length", [62, 63])
def test_a_long_name_ending_in_r2_is_told_apart_from_its_own_retry(length):
    base = "a" * (length - 3) + "-r2"
    assert attempt_name(base, 2) != base
    retried = plan("reattach", jobs((base, "Failed", ME)), base=base)
    assert (retried.action, retried.attempt) == ("submit", 2)
    assert retried.job_name not in (base,)
    adopted = plan("reattach", jobs((base, "InProgress", ME)), base=base)
    assert adopted.action == "adopt"


# -- reattach_or_rename: what the Amazon-named operator's ensure_unique_job_name=True means ----------


def test_reattach_or_rename_steps_around_a_strangers_job():
    renamed = plan("reattach_or_rename", jobs(("job", "Completed", STRANGER)))
    assert (renamed.action, renamed.attempt, renamed.job_name) == ("submit", 2, "job-r2")
    assert "not this task instance's" in renamed.reason


@pytest.mark.parametrize("status", ["InProgress", "Completed"])
def test_reattach_or_rename_adopts_our_own_job_behind_a_strangers(status):
    """A retry after we stepped around a stranger finds our job and is not renamed again, even when a
    newer stranger's job follows ours in the family."""
    find = jobs(("job", "Completed", STRANGER), ("job-r2", status, ME), ("job-r3", "InProgress", STRANGER))
    adopted = plan("reattach_or_rename", find)
    assert (adopted.action, adopted.attempt, adopted.job_name) == ("adopt", 2, "job-r2")


def test_reattach_or_rename_adopts_our_first_job():
    adopted = plan("reattach_or_rename", jobs(("job", "InProgress", ME)))
    assert (adopted.action, adopted.job_name) == ("adopt", "job")


def test_reattach_or_rename_retries_our_failed_job_under_the_next_free_suffix():
    retried = plan("reattach_or_rename", jobs(("job", "Failed", ME), ("job-r2", "Completed", STRANGER)))
    assert (retried.action, retried.attempt, retried.job_name) == ("submit", 3, "job-r3")
    assert "did not complete" in retried.reason


def test_reattach_or_rename_never_adopts_our_job_for_a_different_request():
    edited = request(training_data_uri="s3://bucket/data/v2/train.jsonl")
    fresh = plan("reattach_or_rename", jobs(("job", "Completed", ME)), req=edited)
    assert (fresh.action, fresh.job_name) == ("submit", "job-r2")
    assert "training_data_uri" in fresh.reason
