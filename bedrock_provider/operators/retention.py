"""BedrockCustomModelRetentionOperator: delete the old custom models of one family, never the champion."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bedrock_provider.core.errors import InvalidInputError, Problem
from bedrock_provider.core.lineage import retention_lineage
from bedrock_provider.core.resources import CUSTOM_MODEL_DEPLOYMENT, PROVISIONED_THROUGHPUT, ResourceKind
from bedrock_provider.core.retention import (
    DEFAULT_KEEP_TAGS,
    RetentionPlan,
    RetentionSettings,
    carries,
    plan_retention,
)
from bedrock_provider.operators.base import BedrockBaseOperator, aws_template_fields
from bedrock_provider.operators.costs import storage_saved
from bedrock_provider.operators.waiting import ResourceWaitMixin

if TYPE_CHECKING:
    from airflow.sdk import Context


class BedrockCustomModelRetentionOperator(ResourceWaitMixin, BedrockBaseOperator):
    """Delete the custom models of one family beyond the newest ``keep_last``; keep the champion.

    :param model_name_prefix: the family: custom models whose name starts with it (at least 3
        characters). Models outside it are never touched.
    :param keep_last: how many of the newest models to keep.
    :param keep_tags: a model carrying all of these tags is kept whatever its age
        (default ``{"stage": "champion"}``).
    :param delete_deployments: delete the deployments and provisioned throughputs of a model before the
        model (Bedrock refuses to delete a model that is served). False: such a model is kept and
        reported in ``skipped``.
    :param undeploy_models: custom models of the family (ARNs or names) whose deployments are deleted
        unless they carry ``keep_tags``, even when the model itself is kept: the candidate a gate
        turned down, the champion a promotion replaced. Empty entries are ignored, so a template that
        finds nothing (no previous champion) may render to "".
    :param dry_run: log and return what would be deleted, deleting nothing.

    Returns ``{"kept": [arn...], "deleted": [arn...], "deleted_deployments": [arn...],
    "skipped": [{"arn", "reason"}], "dry_run", "storage_saved_per_month"}``: the last is the monthly
    storage the deleted models no longer cost (``{"usd", ...}``, usd None where a price is unknown).
    """

    template_fields: Sequence[str] = aws_template_fields(
        "model_name_prefix",
        "keep_last",
        "keep_tags",
        "undeploy_models",
    )
    template_fields_renderers = {"keep_tags": "json", "undeploy_models": "json"}
    ui_color = "#f0e4e4"

    def __init__(
        self,
        *,
        model_name_prefix: str,
        keep_last: int = 3,
        keep_tags: dict[str, str] | None = None,
        delete_deployments: bool = True,
        undeploy_models: list[str] | None = None,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model_name_prefix = model_name_prefix
        self.keep_last = keep_last
        self.keep_tags = dict(DEFAULT_KEEP_TAGS) if keep_tags is None else keep_tags
        self.delete_deployments = delete_deployments
        self.undeploy_models = undeploy_models
        # BaseOperator.dry_run() is a method of its own: the parameter is kept under another name.
        self.retention_dry_run = dry_run

    def execute(self, context: Context) -> dict[str, Any]:
        settings = RetentionSettings.check(
            self.model_name_prefix, self.keep_last, self.keep_tags, self.undeploy_models
        )
        hook = self.resource_hook
        tags: dict[str, dict[str, str]] = {}

        def tags_of(arn: str) -> dict[str, str]:
            if arn not in tags:
                tags[arn] = hook.list_tags(arn)
            return tags[arn]

        models = hook.custom_models(settings.model_name_prefix)
        plan = plan_retention(models, settings, tags_of)
        result: dict[str, Any] = {
            "kept": list(plan.kept),
            "deleted": [],
            "deleted_deployments": [],
            "skipped": [],
            "dry_run": bool(self.retention_dry_run),
        }
        verb = "Would delete" if self.retention_dry_run else "Deleting"
        for arn in plan.kept:
            self.log.info("Keeping %s (%s): %s", plan.names[arn], arn, plan.reasons[arn])
        for model in settings.undeploy_models:
            result["deleted_deployments"] += self._undeploy(model, settings, tags_of, verb)
        for arn in plan.deleted:
            self._delete_model(arn, plan, settings, result, verb)
        self.log.info(
            "%s: kept %d, %s %d models and %d deployments, skipped %d",
            settings.model_name_prefix,
            len(result["kept"]),
            "would delete" if self.retention_dry_run else "deleted",
            len(result["deleted"]),
            len(result["deleted_deployments"]),
            len(result["skipped"]),
        )
        base_models = {str(model.get("modelArn")): str(model.get("baseModelArn") or "") for model in models}
        result["storage_saved_per_month"] = storage_saved(
            self, [base_models.get(arn) or arn for arn in result["deleted"]], self.log
        )
        self.record_lineage(retention_lineage(result))
        return result

    def _served_by(self, model_arn: str) -> list[tuple[ResourceKind, str]]:
        hook = self.resource_hook
        return [
            *(
                (CUSTOM_MODEL_DEPLOYMENT, str(d["customModelDeploymentArn"]))
                for d in hook.deployments_of(model_arn)
            ),
            *(
                (PROVISIONED_THROUGHPUT, str(t["provisionedModelArn"]))
                for t in hook.throughputs_of(model_arn)
            ),
        ]

    def _undeploy(
        self, model: str, settings: RetentionSettings, tags_of: Callable[[str], dict[str, str]], verb: str
    ) -> list[str]:
        """Delete the deployments of one model of the family that is not (any longer) kept served."""
        found = self.resource_hook.find_custom_model(model)
        if found is None:
            self.log.info("No custom model %s: nothing to undeploy", model)
            return []
        name, arn = str(found["modelName"]), str(found["modelArn"])
        if not name.startswith(settings.model_name_prefix):
            raise InvalidInputError(
                "Invalid retention settings",
                [
                    Problem(
                        "undeploy_models",
                        model,
                        f"{name} is outside model_name_prefix={settings.model_name_prefix!r}",
                    )
                ],
            )
        if carries(tags_of(arn), settings.keep_tags):
            self.log.info("Leaving %s deployed: it carries %s", name, settings.keep_tags)
            return []
        return self._retire_deployments(arn, name, verb)

    def _retire_deployments(self, model_arn: str, model_name: str, verb: str) -> list[str]:
        retired = []
        for kind, arn in self._served_by(model_arn):
            self.log.info("%s %s %s of %s", verb, kind.label, arn, model_name)
            if not self.retention_dry_run:
                self.resource_hook.delete(kind, arn)
            retired.append(arn)
        return retired

    def _delete_model(
        self, arn: str, plan: RetentionPlan, settings: RetentionSettings, result: dict[str, Any], verb: str
    ) -> None:
        name = plan.names[arn]
        if not name.startswith(settings.model_name_prefix):  # the plan holds only the family
            raise RuntimeError(f"refusing to delete {name} ({arn}): outside {settings.model_name_prefix!r}")
        served = self._served_by(arn)
        if served and not self.delete_deployments:
            reason = f"served by {', '.join(a for _, a in served)} and delete_deployments=False"
            self.log.warning("Keeping %s (%s): %s", name, arn, reason)
            result["skipped"].append({"arn": arn, "reason": reason})
            return
        try:
            result["deleted_deployments"] += self._retire_deployments(arn, name, verb)
            self.log.info("%s custom model %s (%s)", verb, name, arn)
            if not self.retention_dry_run:
                self.resource_hook.delete_custom_model(arn)
        except Exception as error:
            from bedrock_provider.hooks.errors import error_code, error_message

            if error_code(error) not in ("ConflictException", "ValidationException"):
                raise
            # A provisioned throughput whose commitment has not ended cannot be deleted, nor its model.
            reason = error_message(error)
            self.log.warning("Could not delete %s (%s): %s", name, arn, reason)
            result["skipped"].append({"arn": arn, "reason": reason})
            return
        result["deleted"].append(arn)
