"""Lineage: OpenLineage's dataset naming for each step, the facets, and nothing imported without it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from bedrock_provider.core import lineage
from bedrock_provider.core.lineage import DatasetName

MODEL = "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1/abcdefghijkl"
DEPLOYMENT = "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/mnopqrstuvwx"
ACCOUNT = "arn:aws:bedrock:us-east-1:123456789012"


def test_s3_and_bedrock_resources_are_named_as_openlineage_names_datasets() -> None:
    assert lineage.dataset("s3://bucket/raw/support/20250105/") == DatasetName(
        "s3://bucket", "raw/support/20250105"
    )
    assert lineage.dataset("s3://bucket/train.jsonl") == DatasetName("s3://bucket", "train.jsonl")
    assert lineage.dataset(MODEL) == DatasetName(
        ACCOUNT, "custom-model/amazon.titan-text-express-v1/abcdefghijkl"
    )
    assert lineage.dataset(DEPLOYMENT) == DatasetName(ACCOUNT, "custom-model-deployment/mnopqrstuvwx")
    assert lineage.dataset("amazon.titan-text-express-v1") is None
    assert lineage.datasets([None, "", "s3://b/k", "s3://b/k"]) == [DatasetName("s3://b", "k")]


def test_each_step_joins_the_next() -> None:
    prepared = lineage.prepare_lineage(
        ["s3://b/raw/"], {"training_data_uri": "s3://b/prep/train.jsonl", "validation_data_uri": None}
    )
    trained = lineage.customization_lineage(
        {
            "training_data_uri": "s3://b/prep/train.jsonl",
            "validation_data_uris": [],
            "custom_model_arn": MODEL,
            "job_arn": "arn:job",
            "hyperparameters": {"epochCount": "2"},
        }
    )
    deployed = lineage.deployment_lineage({"model_arn": MODEL, "deployment_arn": DEPLOYMENT})
    evaluated = lineage.evaluation_lineage(
        {
            "model_identifier": DEPLOYMENT,
            "dataset_uri": "s3://b/eval.jsonl",
            "results_uri": "s3://b/out/job/id/",
            "scores": {"Builtin.Accuracy": 0.8},
        }
    )
    assert prepared.outputs[0] == trained.inputs[0]
    assert trained.outputs == deployed.inputs
    assert deployed.outputs[0] == evaluated.inputs[0]
    assert trained.output_facts[trained.outputs[0].name]["hyperParameters"] == {"epochCount": "2"}
    assert evaluated.run_facts["scores"] == {"Builtin.Accuracy": 0.8}
    retired = lineage.retention_lineage({"deleted": [MODEL], "deleted_deployments": [DEPLOYMENT]})
    assert all(facts == {"dropped": True} for facts in retired.output_facts.values())
    assert lineage.retention_lineage({"deleted": [MODEL], "dry_run": True}).outputs == []


def test_operator_lineage_carries_the_facets() -> None:
    from bedrock_provider.openlineage import BedrockDatasetFacet, BedrockRunFacet, operator_lineage

    trained = lineage.customization_lineage(
        {"training_data_uri": "s3://b/train.jsonl", "custom_model_arn": MODEL, "job_arn": "arn:job"}
    )
    result = operator_lineage(trained)
    assert [(d.namespace, d.name) for d in result.inputs] == [("s3://b", "train.jsonl")]
    assert isinstance(result.outputs[0].facets["bedrock"], BedrockDatasetFacet)
    assert result.outputs[0].facets["bedrock"].facts["jobArn"] == "arn:job"
    assert isinstance(result.run_facets["bedrock"], BedrockRunFacet)
    dropped = operator_lineage(lineage.retention_lineage({"deleted": [MODEL]}))
    assert dropped.outputs[0].facets["lifecycleStateChange"].lifecycleStateChange.value == "DROP"


def test_without_openlineage_the_operators_run_and_import_none_of_it() -> None:
    """With the OpenLineage packages made unimportable, the operators still import, record their
    lineage and run; no OpenLineage module is loaded."""
    code = textwrap.dedent(
        """
        import importlib.abc, json, sys

        # The OpenLineage client and the provider's code are unimportable; Airflow's own discovery of
        # installed providers (get_provider_info) is left alone.
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "openlineage" or name.startswith("openlineage."):
                    raise ImportError(f"{name} is not installed")
                provider_code = name.startswith("airflow.providers.openlineage.")
                if provider_code and not name.endswith(".get_provider_info"):
                    raise ImportError(f"{name} is not installed")
                return None

        sys.meta_path.insert(0, Block())
        from bedrock_provider.core.lineage import deployment_lineage
        from bedrock_provider.operators.deployment import BedrockDeployCustomModelOperator
        from bedrock_provider.operators.evaluation import BedrockModelEvaluationOperator
        from bedrock_provider.operators.retention import BedrockCustomModelRetentionOperator
        import bedrock_provider.operators.customization, bedrock_provider.operators.dataset
        import bedrock_provider.operators.metrics, bedrock_provider.sensors.customization

        operator = BedrockDeployCustomModelOperator(task_id="d", model_identifier="m", deployment_name="d")
        operator.record_lineage(deployment_lineage({"model_arn": "arn:a:b:c:d:e/f"}))
        loaded = [name for name in sys.modules if "openlineage" in name]
        print(json.dumps(sorted(n for n in loaded if not n.startswith("airflow.providers.openlineage"))))
        """
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []
