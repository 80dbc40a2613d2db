"""The HTTP face of the post-training backend: one method per Bedrock API operation, named after it.

Routes are the request URIs of Bedrock's service model; the middleware matches them on the raw,
still percent-encoded path and passes the identifier decoded.
"""

from __future__ import annotations

import re
from typing import Any

from bedrock_provider.emulator.post_training.backend import PostTrainingBackend
from bedrock_provider.emulator.responses import OperationResponses, _typed
from bedrock_provider.emulator.validation import check_input, tag_dict

Answer = tuple[int, dict[str, Any]]
Params = dict[str, str]

# (method, path pattern, operation), in the form of the middleware's own routes.
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/model-customization/custom-model-deployments/?$"), "CreateCustomModelDeployment"),
    ("GET", re.compile(r"^/model-customization/custom-model-deployments/?$"), "ListCustomModelDeployments"),
    (
        "GET",
        re.compile(r"^/model-customization/custom-model-deployments/(?P<id>.+?)/?$"),
        "GetCustomModelDeployment",
    ),
    (
        "PATCH",
        re.compile(r"^/model-customization/custom-model-deployments/(?P<id>.+?)/?$"),
        "UpdateCustomModelDeployment",
    ),
    (
        "DELETE",
        re.compile(r"^/model-customization/custom-model-deployments/(?P<id>.+?)/?$"),
        "DeleteCustomModelDeployment",
    ),
    ("POST", re.compile(r"^/provisioned-model-throughput/?$"), "CreateProvisionedModelThroughput"),
    ("GET", re.compile(r"^/provisioned-model-throughputs/?$"), "ListProvisionedModelThroughputs"),
    ("GET", re.compile(r"^/provisioned-model-throughput/(?P<id>.+?)/?$"), "GetProvisionedModelThroughput"),
    (
        "PATCH",
        re.compile(r"^/provisioned-model-throughput/(?P<id>.+?)/?$"),
        "UpdateProvisionedModelThroughput",
    ),
    (
        "DELETE",
        re.compile(r"^/provisioned-model-throughput/(?P<id>.+?)/?$"),
        "DeleteProvisionedModelThroughput",
    ),
    ("POST", re.compile(r"^/evaluation-jobs/?$"), "CreateEvaluationJob"),
    ("GET", re.compile(r"^/evaluation-jobs/?$"), "ListEvaluationJobs"),
    ("POST", re.compile(r"^/evaluation-job/(?P<id>.+)/stop/?$"), "StopEvaluationJob"),
    ("GET", re.compile(r"^/evaluation-jobs/(?P<id>.+?)/?$"), "GetEvaluationJob"),
]
OPERATIONS = frozenset(operation for _, _, operation in ROUTES)
TAG_OPERATIONS = frozenset({"TagResource", "UntagResource", "ListTagsForResource"})


class PostTrainingResponses(OperationResponses[PostTrainingBackend]):
    """The API operations after training, over one backend: (HTTP status, JSON body) each.

    Each method checks its input against Bedrock's service model first (``check_input``).
    """

    # -- custom model deployments -------------------------------------------------------------------

    def create_custom_model_deployment(
        self, identifier: str | None, body: dict[str, Any], params: Params
    ) -> Answer:
        check_input("CreateCustomModelDeployment", body)
        return 202, {"customModelDeploymentArn": self.backend.create_deployment(body)}

    def get_custom_model_deployment(
        self, identifier: str | None, body: dict[str, Any], params: Params
    ) -> Answer:
        check_input("GetCustomModelDeployment", {"customModelDeploymentIdentifier": identifier})
        return 200, self.backend.get_deployment(identifier or "")

    def list_custom_model_deployments(
        self, identifier: str | None, body: dict[str, Any], params: Params
    ) -> Answer:
        check_input("ListCustomModelDeployments", _typed(params))
        return 200, self.backend.list_deployments(params)

    def update_custom_model_deployment(
        self, identifier: str | None, body: dict[str, Any], params: Params
    ) -> Answer:
        check_input("UpdateCustomModelDeployment", {**body, "customModelDeploymentIdentifier": identifier})
        return 202, {"customModelDeploymentArn": self.backend.update_deployment(identifier or "", body)}

    def delete_custom_model_deployment(
        self, identifier: str | None, body: dict[str, Any], params: Params
    ) -> Answer:
        check_input("DeleteCustomModelDeployment", {"customModelDeploymentIdentifier": identifier})
        self.backend.delete_deployment(identifier or "")
        return 200, {}

    # -- provisioned throughput -----------------------------------------------------------------------

    def create_provisioned_model_throughput(
        self, identifier: str | None, body: dict[str, Any], params: Params
    ) -> Answer:
        check_input("CreateProvisionedModelThroughput", body)
        return 201, {"provisionedModelArn": self.backend.create_throughput(body)}

    def get_provisioned_model_throughput(
        self, identifier: str | None, body: dict[str, Any], params: Params
    ) -> Answer:
        check_input("GetProvisionedModelThroughput", {"provisionedModelId": identifier})
        return 200, self.backend.get_throughput(identifier or "")

    def list_provisioned_model_throughputs(
        self, identifier: str | None, body: dict[str, Any], params: Params
    ) -> Answer:
        check_input("ListProvisionedModelThroughputs", _typed(params))
        return 200, self.backend.list_throughputs(params)

    def update_provisioned_model_throughput(
        self, identifier: str | None, body: dict[str, Any], params: Params
    ) -> Answer:
        check_input("UpdateProvisionedModelThroughput", {**body, "provisionedModelId": identifier})
        self.backend.update_throughput(identifier or "", body)
        return 200, {}

    def delete_provisioned_model_throughput(
        self, identifier: str | None, body: dict[str, Any], params: Params
    ) -> Answer:
        check_input("DeleteProvisionedModelThroughput", {"provisionedModelId": identifier})
        self.backend.delete_throughput(identifier or "")
        return 200, {}

    # -- evaluation jobs -------------------------------------------------------------------------------

    def create_evaluation_job(self, identifier: str | None, body: dict[str, Any], params: Params) -> Answer:
        return 202, {"jobArn": self.backend.create_evaluation_job(body)}

    def get_evaluation_job(self, identifier: str | None, body: dict[str, Any], params: Params) -> Answer:
        check_input("GetEvaluationJob", {"jobIdentifier": identifier})
        return 200, self.backend.get_evaluation_job(identifier or "")

    def list_evaluation_jobs(self, identifier: str | None, body: dict[str, Any], params: Params) -> Answer:
        check_input("ListEvaluationJobs", _typed(params))
        return 200, self.backend.list_evaluation_jobs(params)

    def stop_evaluation_job(self, identifier: str | None, body: dict[str, Any], params: Params) -> Answer:
        check_input("StopEvaluationJob", {"jobIdentifier": identifier})
        self.backend.stop_evaluation_job(identifier or "")
        return 200, {}

    # -- tags of these resources ----------------------------------------------------------------------

    def tag_resource(self, identifier: str | None, body: dict[str, Any], params: Params) -> Answer:
        check_input("TagResource", body)
        self.backend.tag_resource(body["resourceARN"], tag_dict(body["tags"], "tags"))
        return 200, {}

    def untag_resource(self, identifier: str | None, body: dict[str, Any], params: Params) -> Answer:
        check_input("UntagResource", body)
        self.backend.untag_resource(body["resourceARN"], body["tagKeys"])
        return 200, {}

    def list_tags_for_resource(self, identifier: str | None, body: dict[str, Any], params: Params) -> Answer:
        check_input("ListTagsForResource", body)
        tags = self.backend.tag_target(body["resourceARN"])
        return 200, {"tags": [{"key": key, "value": value} for key, value in tags.items()]}
