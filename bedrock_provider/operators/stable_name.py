"""A job name that is the same on every try of a task instance, checked when the task renders it.

A name with the try number or the current time in it would give each try a job of its own, running
side by side and each billed: the name is rendered a second time as the next try would render it, and
a difference fails the task before any AWS call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    import jinja2
    from airflow.sdk import Context

    from bedrock_provider.operators.base import BedrockBaseOperator as _OperatorBase
else:
    _OperatorBase = object


class _OtherTry:
    """The task instance as a template sees it on another try: only try_number differs."""

    def __init__(self, ti: Any) -> None:
        self._ti = ti
        self.try_number = int(getattr(ti, "try_number", 1) or 1) + 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ti, name)


def name_on_another_try(
    operator: Any, raw_job_name: object, context: Context, env: Any, seen_oids: set[int] | None = None
) -> object:
    """``job_name`` rendered again as the next try would render it (try_number + 1)."""
    other = dict(context)
    for key in ("ti", "task_instance"):
        if key in other:
            other[key] = _OtherTry(other[key])
    if "try_number" in other:
        other["try_number"] = getattr(other.get("ti"), "try_number", None)
    return operator.render_template(raw_job_name, other, env, None if seen_oids is None else set(seen_oids))


class StableJobNameMixin(_OperatorBase):
    """For an operator with a templated ``job_name``: ``_check_job_name_is_stable()`` in ``execute``
    refuses a name that renders differently on the next try."""

    job_name: str
    _job_name_on_another_try: object = None

    def _do_render_template_fields(
        self,
        parent: Any,
        template_fields: Iterable[str],
        context: Context,
        jinja_env: jinja2.Environment,
        seen_oids: set[int],
    ) -> None:
        """Render, then check that job_name renders the same on the next try: a name with the try
        number or the time in it would give each try a job of its own, running side by side.

        Here rather than in ``render_template_fields``: a mapped task renders its unmapped task's
        fields through this method alone."""
        raw_job_name = self.job_name if parent is self else None
        seen_before = set(seen_oids)
        super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)
        if parent is not self:
            return
        self._job_name_on_another_try = None
        if isinstance(raw_job_name, str) and "{" in raw_job_name:
            other = name_on_another_try(self, raw_job_name, context, jinja_env, seen_before)
            if other != self.job_name:
                self._job_name_on_another_try = other

    def _check_job_name_is_stable(self) -> None:
        other = self._job_name_on_another_try
        if other is not None:
            raise ValueError(
                f"job_name={self.job_name!r}: renders {other!r} on the next try of this task instance, "
                "so each try would submit a job of its own, running side by side. The name must be the "
                "same on every try (no try_number, no current time): use e.g. "
                "'{{ ti | bedrock_job_name }}'. Nothing was sent to AWS."
            )
