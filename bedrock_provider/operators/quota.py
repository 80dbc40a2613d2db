"""Waiting for a slot when Bedrock's quota of concurrent customization jobs is full.

A sweep submits more jobs than the account may run at once; Bedrock refuses the extra ones with
ServiceQuotaExceededException. The operator then waits for a slot (deferred on a timer when it is
deferrable, holding no worker) and submits again with the same clientRequestToken, so never twice.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk.exceptions import AirflowException

if TYPE_CHECKING:
    from airflow.sdk import Context

    from bedrock_provider.operators.base import BedrockBaseOperator as _OperatorBase
else:
    _OperatorBase = object

# Bedrock's answer when the account already runs as many customization jobs as its quota allows.
QUOTA_EXCEEDED = "ServiceQuotaExceededException"
# A sweep's points wait their turn: a job runs for hours, so a day is a bound, not a nuisance.
DEFAULT_MAX_QUOTA_WAIT = 24 * 3600.0

ResultT = TypeVar("ResultT")


def check_max_quota_wait(max_quota_wait: object) -> None:
    if (
        isinstance(max_quota_wait, bool)
        or not isinstance(max_quota_wait, int | float)
        or not math.isfinite(max_quota_wait)
        or max_quota_wait < 0
    ):
        raise ValueError(f"max_quota_wait={max_quota_wait!r}: must be a finite number of 0 or more seconds")


class QuotaWaitMixin(_OperatorBase):
    """For an operator that sets ``job_name``, ``poll_interval``, ``deferrable`` and ``max_quota_wait``,
    and whose ``execute`` submits again when called from ``resume_after_quota_wait``."""

    job_name: str
    poll_interval: float
    deferrable: bool
    max_quota_wait: float
    # When the first refusal came; kept across a deferral through the trigger's kwargs.
    _quota_wait_started: float | None = None

    @property
    def resuming_from_quota_wait(self) -> bool:
        return self._quota_wait_started is not None

    def submit_when_quota_allows(self, submit: Callable[[], ResultT]) -> ResultT:
        """``submit()``, again after each wait for a slot, until Bedrock takes it (or the wait ends)."""
        while True:
            try:
                return submit()
            except Exception as error:
                self._wait_for_quota_slot(error)

    def _wait_for_quota_slot(self, error: Exception) -> None:
        """Wait for a slot when Bedrock's concurrent-jobs quota is full; re-raise any other error.

        Deferrable: defer on a timer and come back to ``resume_after_quota_wait`` (no worker held).
        Otherwise: sleep here and return, so the caller submits again.
        """
        from bedrock_provider.hooks.errors import error_code, error_message

        if error_code(error) != QUOTA_EXCEEDED:
            raise error
        if self._quota_wait_started is None:
            self._quota_wait_started = time.time()
        waited = time.time() - self._quota_wait_started
        if waited + self.poll_interval > self.max_quota_wait:
            raise AirflowException(
                "Bedrock's quota of concurrent customization jobs is still full after waiting "
                f"{waited:.0f} s (max_quota_wait={self.max_quota_wait:g} s): {error_message(error)}. "
                "Raise the quota in Service Quotas, run fewer jobs at once (max_active_tis_per_dag), "
                "or raise max_quota_wait."
            ) from error
        self.log.warning(
            "Bedrock's quota of concurrent customization jobs is full (%s); submitting %s again in %s s "
            "(waited %.0f s of at most %g s)",
            error_message(error),
            self.job_name,
            self.poll_interval,
            waited,
            self.max_quota_wait,
        )
        if self.deferrable:
            from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger

            self.defer(
                trigger=TimeDeltaTrigger(timedelta(seconds=self.poll_interval)),
                method_name="resume_after_quota_wait",
                kwargs={"quota_wait_started": self._quota_wait_started},
            )
        time.sleep(self.poll_interval)

    def resume_after_quota_wait(
        self, context: Context, event: Any = None, quota_wait_started: float | None = None
    ) -> Any:
        """Back from a wait for a quota slot: submit again (the same token, so never twice)."""
        self._quota_wait_started = quota_wait_started
        return self.execute(context)
