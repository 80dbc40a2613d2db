"""BedrockCustomModelRetentionOperator: delete the old custom models of one family, never the champion,
never a model that is not ours."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bedrock_provider.core.lifecycle.promotion import STABLE_TAG, protected_models
from bedrock_provider.core.lifecycle.resources import CUSTOM_MODEL_DEPLOYMENT, PROVISIONED_THROUGHPUT
from bedrock_provider.core.lifecycle.retention import (
    DEFAULT_KEEP_TAGS,
    RetentionPlan,
    RetentionSettings,
    Serving,
    plan_retention,
)
from bedrock_provider.core.lifecycle.retention_run import RetentionIncomplete, carry_out
from bedrock_provider.core.lineage import retention_lineage
from bedrock_provider.core.request.ownership import MODEL_FAMILY_TAG, NAMESPACE_TAG
from bedrock_provider.operators.base import BedrockBaseOperator, aws_template_fields, deployment_namespace
from bedrock_provider.operators.costs import storage_prices, storage_saved
from bedrock_provider.operators.waiting import ResourceWaitMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

PREFIX_ONLY_DEPRECATION = (
    "BedrockCustomModelRetentionOperator(model_name_prefix=...) without model_family is deprecated: the "
    "prefix then stands for model_family, and only models tagged airflow:model-family=<prefix> and this "
    "deployment's airflow:namespace are deleted. Set model_family (and the same model_family on "
    "BedrockModelCustomizationOperator); see the README's retention section to adopt untagged models."
)


class BedrockCustomModelRetentionOperator(ResourceWaitMixin, BedrockBaseOperator):
    """Delete the custom models of one family beyond the newest ``keep_last`` Active ones; keep the champion.

    :param model_family: the family: custom models tagged ``airflow:model-family=<model_family>`` and
        ``airflow:namespace=<this deployment's namespace>``, as BedrockModelCustomizationOperator(
        model_family=...) tags them. A model without both tags is never touched, whatever its name.
    :param model_name_prefix: narrows the family to the names starting with it (at least 3
        characters). Alone (deprecated, DeprecationWarning) it stands for ``model_family``.
    :param keep_last: how many of the newest Active models to keep; Creating models are never touched and
        Failed ones do not count (they are deleted).
    :param keep_tags: a model carrying all of these tags is kept whatever its age
        (default ``{"stage": "champion"}``).
    :param delete_deployments: delete the deployments and provisioned throughputs of a model before the
        model (Bedrock refuses to delete a model that is served). False: such a model is kept and
        reported in ``skipped``. A model kept for any reason keeps all its deployments.
    :param undeploy_models: custom models of the family (ARNs or names) whose deployments are deleted
        unless they carry ``keep_tags``, even when the model itself is kept: the candidate a gate
        turned down, the champion a promotion replaced. Empty entries are ignored, so a template that
        finds nothing (no previous champion) may render to "".
    :param dry_run: log and return the plan the real run would carry out, deleting nothing.

    Everything (settings, ``undeploy_models``, prices) is checked and the whole plan made before the
    first delete. Returns ``{"kept": [arn...], "deleted": [arn...], "deleted_deployments": [arn...],
    "skipped": [{"arn", "reason"}], "foreign": [arn...], "dry_run", "storage_saved_per_month"}``:
    ``foreign`` are the models whose name matches but that lack our tags; the last is the monthly
    storage the deleted models no longer cost (``{"usd", ...}``, usd None where a price is unknown).
    When a delete fails half-way, the error (RetentionIncomplete) and the task's XCom carry what was
    deleted until then.
    """

    template_fields: Sequence[str] = aws_template_fields(
        "model_family",
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
        model_family: str | None = None,
        model_name_prefix: str | None = None,
        keep_last: int = 3,
        keep_tags: dict[str, str] | None = None,
        delete_deployments: bool = True,
        undeploy_models: list[str] | None = None,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if model_family is None and model_name_prefix is not None:
            warnings.warn(PREFIX_ONLY_DEPRECATION, DeprecationWarning, stacklevel=2)
        self.model_family = model_family
        self.model_name_prefix = model_name_prefix
        self.keep_last = keep_last
        self.keep_tags = dict(DEFAULT_KEEP_TAGS) if keep_tags is None else keep_tags
        self.delete_deployments = delete_deployments
        self.undeploy_models = undeploy_models
        # BaseOperator.dry_run() is a method of its own: the parameter is kept under another name.
        self.retention_dry_run = dry_run

    def execute(self, context: Context) -> dict[str, Any]:
        settings = RetentionSettings.check(
            self.model_family,
            self.model_name_prefix,
            self.keep_last,
            self.keep_tags,
            self.undeploy_models,
            namespace=deployment_namespace(),
            delete_deployments=self.delete_deployments,
        )
        plan = self._plan(settings)
        bases = {removal.model_arn: removal.base_model or removal.model_arn for removal in plan.removals}
        # Prices are read now: a malformed bedrock_prices extra fails the task before the first delete.
        prices = storage_prices(self, [bases[arn] for arn in plan.deleted])
        if self.retention_dry_run:
            result = plan.result(dry_run=True)
            for removal in plan.removals:
                for kind, arn in removal.servings:
                    self.log.info("Would delete %s %s of %s", kind.label, arn, removal.model_name)
                if removal.delete_model:
                    self.log.info("Would delete custom model %s (%s)", removal.model_name, removal.model_arn)
        else:
            try:
                hook = self.resource_hook
                result = carry_out(plan, hook.delete, hook.delete_custom_model, _refusal, self.log)
            except RetentionIncomplete as error:
                error.result["storage_saved_per_month"] = storage_saved(
                    self, [bases[arn] for arn in error.result["deleted"]], self.log, prices
                )
                context["ti"].xcom_push(key="return_value", value=error.result)
                self.log.error("%s", error)
                raise
        self.log.info(
            "%s: kept %d, %s %d models and %d deployments, skipped %d, %d foreign left alone",
            settings.model_family,
            len(result["kept"]),
            "would delete" if self.retention_dry_run else "deleted",
            len(result["deleted"]),
            len(result["deleted_deployments"]),
            len(result["skipped"]),
            len(result["foreign"]),
        )
        result["storage_saved_per_month"] = storage_saved(
            self, [bases[arn] for arn in result["deleted"]], self.log, prices
        )
        self.record_lineage(retention_lineage(result))
        return result

    def _plan(self, settings: RetentionSettings) -> RetentionPlan:
        """The whole plan, logged; only reads (List, Get, ListTagsForResource) happen here."""
        hook = self.resource_hook
        tags: dict[str, dict[str, str]] = {}

        def tags_of(arn: str) -> dict[str, str]:
            if arn not in tags:
                tags[arn] = hook.list_tags(arn)
            return tags[arn]

        undeploy = {entry: hook.find_custom_model(entry) for entry in settings.undeploy_models}
        protected = self._stable_deployments_needs()
        plan = plan_retention(
            hook.custom_models(settings.model_name_prefix),
            settings,
            tags_of,
            self._served_by,
            undeploy,
            protected=protected,
        )
        for note in plan.notes:
            self.log.info("%s", note)
        for arn in plan.kept:
            self.log.info("Keeping %s (%s): %s", plan.names[arn], arn, plan.reasons[arn])
        for arn in plan.foreign:
            self.log.warning(
                "Leaving %s (%s) alone: its name starts with %r but it is not tagged %s=%r and %s=%r",
                plan.names[arn],
                arn,
                settings.name_filter,
                MODEL_FAMILY_TAG,
                settings.model_family,
                NAMESPACE_TAG,
                settings.namespace,
            )
        for skipped in plan.skipped:
            self.log.warning("Keeping %s: %s", skipped["arn"], skipped["reason"])
        return plan

    def _stable_deployments_needs(self) -> dict[str, str]:
        """The models promotions' stable deployments need (core/promotion.protected_models); the stable
        deployments themselves are left out of what serves a model, so that nothing deletes them."""
        hook = self.resource_hook
        stable = []
        for summary in hook.paginate("list_custom_model_deployments", "modelDeploymentSummaries"):
            arn = str(summary["customModelDeploymentArn"])
            tags = hook.list_tags(arn)
            if STABLE_TAG in tags:
                stable.append((hook.describe(CUSTOM_MODEL_DEPLOYMENT, arn), tags))
        self._stable_arns = {str(description["customModelDeploymentArn"]) for description, _ in stable}
        return protected_models(stable)

    def _served_by(self, model_arn: str) -> list[Serving]:
        hook = self.resource_hook
        stable: set[str] = getattr(self, "_stable_arns", set())
        return [
            *(
                (PROVISIONED_THROUGHPUT, str(t["provisionedModelArn"]), t)
                for t in hook.throughputs_of(model_arn)
            ),
            *(
                (CUSTOM_MODEL_DEPLOYMENT, str(d["customModelDeploymentArn"]), d)
                for d in hook.deployments_of(model_arn)
                if str(d["customModelDeploymentArn"]) not in stable
            ),
        ]


def _refusal(error: BaseException) -> str | None:
    """Bedrock's reason when it refused a deletion (a commitment that has not ended, a deployment made
    meanwhile); None for any other error."""
    from bedrock_provider.hooks.errors import error_code, error_message

    if error_code(error) in ("ConflictException", "ValidationException"):
        return error_message(error)
    return None
