"""Carrying out a retention plan (core/lifecycle/retention.py): each deletion logged as it happens and kept
in the result, which survives a failure half-way (RetentionIncomplete carries it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bedrock_provider.core.lifecycle.resources import ResourceKind
from bedrock_provider.core.lifecycle.retention import RetentionPlan


class RetentionIncomplete(RuntimeError):
    """A deletion failed after others were done: ``result`` says exactly what was deleted."""

    def __init__(self, result: dict[str, Any], error: BaseException):
        self.result = result
        super().__init__(
            f"Retention stopped by {type(error).__name__}: {error}. Deleted before that: models "
            f"{result['deleted']}, deployments {result['deleted_deployments']}; skipped {result['skipped']}"
        )


def carry_out(
    plan: RetentionPlan,
    delete_serving: Callable[[ResourceKind, str], bool],
    delete_model: Callable[[str], None],
    refusal: Callable[[BaseException], str | None],
    log: Any,
) -> dict[str, Any]:
    """Delete what the plan says, in its order. ``delete_serving`` returns False when the deployment
    was already gone (not reported as deleted); ``refusal(error)`` is Bedrock's reason when it refused
    one model's deletion (that model is then skipped, the run goes on), None for any other error,
    which stops the run with RetentionIncomplete."""
    result = plan.result(dry_run=False)
    result["deleted"], result["deleted_deployments"] = [], []
    for removal in plan.removals:
        name = removal.model_name
        try:
            for kind, arn in removal.servings:
                if delete_serving(kind, arn):
                    result["deleted_deployments"].append(arn)
                    log.info("Deleted %s %s of %s", kind.label, arn, name)
            if removal.delete_model:
                delete_model(removal.model_arn)
                result["deleted"].append(removal.model_arn)
                log.info("Deleted custom model %s (%s)", name, removal.model_arn)
        except Exception as error:
            reason = refusal(error)
            if reason is None:
                raise RetentionIncomplete(result, error) from error
            log.warning("Could not delete %s (%s): %s", name, removal.model_arn, reason)
            result["skipped"].append({"arn": removal.model_arn, "reason": reason})
    return result
