"""Airflow provider for Amazon Bedrock model customization."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow (entry point ``apache_airflow_provider``)."""
    return {
        "package-name": "airflow-provider-bedrock",
        "name": "Amazon Bedrock model customization",
        "description": "Submit, wait for and evaluate Amazon Bedrock model customization jobs.",
        "versions": [__version__],
        "hooks": [
            {
                "integration-name": "Amazon Bedrock model customization",
                "python-modules": [
                    "bedrock_provider.hooks.customization",
                    "bedrock_provider.hooks.resources",
                ],
            }
        ],
        "operators": [
            {
                "integration-name": "Amazon Bedrock model customization",
                "python-modules": [
                    "bedrock_provider.operators.customization",
                    "bedrock_provider.operators.dataset",
                    "bedrock_provider.operators.metrics",
                    "bedrock_provider.operators.deployment",
                    "bedrock_provider.operators.evaluation",
                    "bedrock_provider.operators.retention",
                    "bedrock_provider.operators.promotion",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Amazon Bedrock model customization",
                "python-modules": ["bedrock_provider.sensors.customization"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Amazon Bedrock model customization",
                "python-modules": [
                    "bedrock_provider.triggers.customization",
                    "bedrock_provider.triggers.resource",
                ],
            }
        ],
        "config": {
            "bedrock": {
                "description": "Amazon Bedrock model customization (airflow-provider-bedrock).",
                "options": {
                    "deployment_namespace": {
                        "description": "Tells this Airflow deployment's jobs from those of other "
                        "deployments on the same AWS account and region; part of every "
                        "clientRequestToken. Empty: the Airflow Variable bedrock_deployment_namespace, "
                        "created with a random value by the first task.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "prod-eu",
                        "default": "",
                    },
                    "model_checks": {
                        "description": "What the customization operator does with a base model, "
                        "customization type, Region or hyperparameter the model catalog says Bedrock "
                        "would refuse: 'strict' refuses it before any AWS call; 'warn' logs it and lets "
                        "Bedrock decide (for the day AWS changes before the catalog does). A task's "
                        "model_checks parameter overrides it.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "warn",
                        "default": "strict",
                    },
                },
            }
        },
        "extra-links": [
            "bedrock_provider.links.BedrockCustomizationJobLink",
            "bedrock_provider.links.BedrockCustomModelLink",
        ],
    }
