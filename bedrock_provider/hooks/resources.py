"""BedrockResourceHook: the Bedrock calls of what comes after training (deploy, evaluate, retire).

Describing and waiting take a ``ResourceKind`` (core/lifecycle/resources.py), so deployments, provisioned
throughput and evaluation jobs share one describe, one blocking wait and one async describe for the
trigger. Built on the same leased client as the customization hook: every trigger of a triggerer
process that waits through one connection shares one aiobotocore client.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from bedrock_provider.core.lifecycle.resources import ResourceKind, ResourceWatch
from bedrock_provider.hooks.customization import LeasedClientHook
from bedrock_provider.hooks.errors import error_code, is_not_found, is_transient_error

Description = dict[str, Any]


def _strip(response: dict[str, Any]) -> Description:
    return {key: value for key, value in response.items() if key != "ResponseMetadata"}


class BedrockResourceHook(LeasedClientHook):
    """Deployments, provisioned throughput, evaluation jobs and custom models, through an AWS connection.

    Takes the Amazon provider's AwsBaseHook arguments (aws_conn_id, region_name, verify,
    botocore_config).
    """

    hook_name = "Amazon Bedrock resources"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["client_type"] = "bedrock"
        super().__init__(*args, **kwargs)

    @property
    def client(self) -> Any:
        return self.conn

    # -- any kind ------------------------------------------------------------------------------------

    def describe(self, kind: ResourceKind, identifier: str) -> Description:
        method = getattr(self.client, kind.describe_method)
        return _strip(method(**kind.describe_kwargs(identifier)))

    def find(self, kind: ResourceKind, identifier: str) -> Description | None:
        """Like describe, but None when there is no such resource."""
        try:
            return self.describe(kind, identifier)
        except Exception as error:
            if is_not_found(error):
                return None
            raise

    def cleanup(self, kind: ResourceKind, identifier: str) -> bool:
        """Delete (deployments) or stop (jobs) a resource that is not ready; False when nothing was done."""
        if kind.cleanup_method is None:
            return False
        description = self.find(kind, identifier)
        if description is None or kind.is_terminal(kind.status_of(description)):
            return False
        try:
            getattr(self.client, kind.cleanup_method)(**kind.describe_kwargs(identifier))
        except Exception as error:
            if is_not_found(error) or error_code(error) in {"ConflictException", "ValidationException"}:
                return False
            raise
        return True

    def delete(self, kind: ResourceKind, identifier: str) -> bool:
        """Delete a deployment or provisioned throughput whatever its status; False when it was gone."""
        if kind.cleanup_action != "delete" or kind.cleanup_method is None:
            raise ValueError(f"a {kind.label} is not deleted this way")
        try:
            getattr(self.client, kind.cleanup_method)(**kind.describe_kwargs(identifier))
        except Exception as error:
            if is_not_found(error):
                return False
            raise
        return True

    def wait(
        self,
        kind: ResourceKind,
        identifier: str,
        poll_interval: float,
        max_wait: float | None = None,
        started_at: float | None = None,
    ) -> Description:
        """Block until the resource is ready or failed; transient errors back off within the deadline.

        Returns the final description; raises TimeoutError when max_wait passes first.
        """
        watch = ResourceWatch(kind, identifier, started_at or time.time(), max_wait)
        while True:
            try:
                description = self.describe(kind, identifier)
            except Exception as error:
                if not is_transient_error(error):
                    raise
                delay = watch.next_poll(poll_interval, failed=True)
                self.log.warning(
                    "Describing %s %s failed (%s); retrying in %.1f s", kind.label, identifier, error, delay
                )
            else:
                delay = watch.next_poll(poll_interval, failed=False)
                event, changed = watch.on_description(description)
                if changed is not None:
                    self.log.info("%s", watch.progress(changed, time.time()))
                if event is not None:
                    return description
            if watch.expired():
                raise TimeoutError(watch.timeout_event()["message"])
            time.sleep(delay)

    async def describe_async(self, kind: ResourceKind, identifier: str) -> Description:
        async with self.async_client() as client:
            method = getattr(client, kind.describe_method)
            return _strip(await method(**kind.describe_kwargs(identifier)))

    async def cleanup_async(self, kind: ResourceKind, identifier: str) -> bool:
        if kind.cleanup_method is None:
            return False
        async with self.async_client() as client:
            try:
                description = await getattr(client, kind.describe_method)(**kind.describe_kwargs(identifier))
                if kind.is_terminal(kind.status_of(description)):
                    return False
                await getattr(client, kind.cleanup_method)(**kind.describe_kwargs(identifier))
            except Exception as error:
                if is_not_found(error) or error_code(error) in {"ConflictException", "ValidationException"}:
                    return False
                raise
            return True

    def find_custom_model(self, model_identifier: str) -> Description | None:
        """GetCustomModel by name or ARN, or None when there is no such model."""
        try:
            return _strip(self.client.get_custom_model(modelIdentifier=model_identifier))
        except Exception as error:
            if is_not_found(error):
                return None
            raise

    def delete_custom_model(self, model_arn: str) -> None:
        self.client.delete_custom_model(modelIdentifier=model_arn)

    # -- tags ----------------------------------------------------------------------------------------

    def list_tags(self, arn: str) -> dict[str, str]:
        tags = self.client.list_tags_for_resource(resourceARN=arn).get("tags", [])
        return {str(tag["key"]): str(tag["value"]) for tag in tags}

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        """TagResource: add these tags, or change their values (others are kept)."""
        self.client.tag_resource(resourceARN=arn, tags=[{"key": k, "value": v} for k, v in tags.items()])

    # -- listing -------------------------------------------------------------------------------------

    def paginate(self, method: str, result_key: str, **filters: Any) -> Iterator[Description]:
        """Every item of a List call, following nextToken (the Bedrock paginators' own shape)."""
        request = dict(filters)
        while True:
            page = getattr(self.client, method)(**request)
            yield from page.get(result_key, [])
            token = page.get("nextToken")
            if not token:
                return
            request["nextToken"] = token

    def custom_models(self, name_contains: str | None = None) -> list[Description]:
        """ListCustomModels, every page; all of the account's models when ``name_contains`` is None."""
        filters = {} if name_contains is None else {"nameContains": name_contains}
        return list(self.paginate("list_custom_models", "modelSummaries", **filters))

    def deployments_of(self, model_arn: str) -> list[Description]:
        return list(
            self.paginate(
                "list_custom_model_deployments", "modelDeploymentSummaries", modelArnEquals=model_arn
            )
        )

    def throughputs_of(self, model_arn: str) -> list[Description]:
        return list(
            self.paginate(
                "list_provisioned_model_throughputs", "provisionedModelSummaries", modelArnEquals=model_arn
            )
        )

    def find_evaluation_job(self, job_name: str) -> Description | None:
        """The evaluation job of exactly that name (GetEvaluationJob takes only an ARN), or None."""
        for summary in self.paginate("list_evaluation_jobs", "jobSummaries", nameContains=job_name):
            if summary.get("jobName") == job_name:
                return _strip(self.client.get_evaluation_job(jobIdentifier=summary["jobArn"]))
        return None
