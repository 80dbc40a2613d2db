"""What comes after training, emulated: custom model deployments, provisioned throughput, evaluation jobs.

Split the way moto splits a service: ``models`` (resources and their response shapes),
``validation`` (requests checked against Bedrock's service model), ``backend`` (the API),
``creation`` (Create's checks and the new resource), ``lifecycle`` (each resource along the clock),
``refusals`` (what Bedrock refuses across resources), ``results`` (evaluation results) and
``responses`` (one method per API operation).
"""

from __future__ import annotations

from bedrock_provider.emulator.post_training.backend import PostTrainingBackend
from bedrock_provider.emulator.post_training.models import TAG_SCORE_PREFIX
from bedrock_provider.emulator.post_training.responses import ROUTES, PostTrainingResponses

__all__ = ["ROUTES", "TAG_SCORE_PREFIX", "PostTrainingBackend", "PostTrainingResponses"]
