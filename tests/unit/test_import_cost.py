"""DAG files parse fast: importing the operator and sensor modules brings in no AWS SDK, no plotting
library, and not the dataset validator (the largest part of core/, needed only when a task runs)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

MODULES = [
    "bedrock_provider.operators.customization",
    "bedrock_provider.operators.dataset",
    "bedrock_provider.operators.metrics",
    "bedrock_provider.operators.deployment",
    "bedrock_provider.operators.evaluation",
    "bedrock_provider.operators.retention",
    "bedrock_provider.operators.promotion",
    "bedrock_provider.sensors.customization",
]
HEAVY = [
    "boto3",
    "botocore",
    "aiobotocore",
    "moto",
    "matplotlib",
    "bedrock_provider.core.datasets.validator",
    "bedrock_provider.core.datasets.checkers",
]


@pytest.mark.parametrize("module", MODULES)
def test_operator_modules_import_no_aws_sdk(module):
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == []
