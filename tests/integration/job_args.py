"""The parameters every customization DAG of the integration tests shares: the job's names come from
the run's conf, the data from the bucket the emulator fixture fills."""

from __future__ import annotations

BUCKET = "bedrock-it"
JOB_ARGS = {
    "job_name": "{{ dag_run.conf['job_name'] }}",
    "custom_model_name": "{{ dag_run.conf['job_name'] }}-model",
    "role_arn": "arn:aws:iam::123456789012:role/BedrockCustomization",
    "base_model_id": "amazon.titan-text-express-v1",
    "training_data_uri": f"s3://{BUCKET}/data/train.jsonl",
    "output_data_uri": "s3://" + BUCKET + "/output/{{ dag_run.conf['job_name'] }}/",
}
