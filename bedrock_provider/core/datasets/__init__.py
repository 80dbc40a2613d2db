"""Training-data formats, the streaming validator and the splitter behind BedrockPrepareDatasetOperator.

It decides whether a record is one Bedrock would train on, and counts a file's tokens for the cost
estimate. It never calls AWS (the operator moves the files) and never submits a job.

Pure Python (no Airflow): ``plan.plan_dataset`` checks the parameters, ``validator.DatasetValidator``
validates streams into training and validation outputs, ``prepare.prepare_dataset`` runs it over local or
S3 sources into local files with a JSON report. The package imports nothing itself, so a DAG file that
only plans a dataset does not load the validator.
"""
