"""How a customization job moves along the clock, and what happens once at each of its boundaries.

A job is InProgress until its duration has passed, its stages (validation, data processing, training)
taking the first 20 %, the next 20 % and the rest of it. Whatever crosses a boundary (a request that
looks at the job, or the emulator's ticker thread) advances the job under the backend's lock, so the
side effects of a boundary (checking the input data, writing the metrics, creating the custom model)
run exactly once, and a client that sees ``Completed`` can already read the metrics and get the
custom model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bedrock_provider.emulator import training
from bedrock_provider.emulator.models import (
    DATA_PROCESSING_STAGE,
    DEFAULT_FAILURE_MESSAGE,
    TAG_FAILURE_MESSAGE,
    TAG_OUTCOME,
    TERMINAL,
    TRAINING_STAGE,
    VALIDATION_STAGE,
    Job,
)
from bedrock_provider.emulator.training import ArtifactWriteError, ObjectStore
from bedrock_provider.emulator.validation import decode_tag_value

log = logging.getLogger(__name__)

JobListener = Callable[[Job], None]


class JobLifecycle:
    """The running jobs (InProgress or Stopping) of one backend, advanced by the clock.

    ``create_model(job, when)`` keeps the custom model of a job that completed and returns its ARN.
    Callers hold the backend's lock.
    """

    def __init__(
        self,
        objects: ObjectStore,
        clock: Callable[[], float],
        stop_delay: float,
        create_model: Callable[[Job, float], str],
    ) -> None:
        self.objects = objects
        self.clock = clock
        self.stop_delay = stop_delay
        self._create_model = create_model
        self.running: dict[str, Job] = {}
        self.listeners: list[JobListener] = []

    def start(self, job: Job, now: float) -> None:
        """A job was created: announce it and let it cross whatever boundary ``now`` has passed."""
        self.running[job.arn] = job
        self.notify(job)
        self.advance(job, now)

    def stop(self, job: Job, now: float) -> None:
        """StopModelCustomizationJob on an InProgress job: it is Stopped ``stop_delay`` seconds later."""
        job.status = "Stopping"
        job.stop_requested = now
        job.last_modified = now
        job.final_stage = job.stage_at(now)
        self.notify(job)
        self.advance(job, now)

    def advance_all(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        for job in list(self.running.values()):
            self.advance(job, now)

    def advance(self, job: Job, now: float | None = None) -> None:
        if job.status in TERMINAL:
            return
        now = self.clock() if now is None else now
        if job.status == "Stopping":
            requested = job.stop_requested if job.stop_requested is not None else now
            stopped_at = requested + self.stop_delay
            if now >= stopped_at:
                self._finish(job, "Stopped", job.stage_at(requested), stopped_at)
            return
        bounds = job.bounds()
        if not job.data_checked and now >= bounds[DATA_PROCESSING_STAGE]:
            job.data_checked = True
            problem = training.check_inputs(job, self.objects)
            if problem is not None:
                self._finish(job, "Failed", VALIDATION_STAGE, bounds[DATA_PROCESSING_STAGE], problem)
                return
        if now < bounds[-1]:
            previous = job.last_modified
            job.last_modified = max(b for b in bounds[:-1] if b <= now)
            if job.last_modified != previous:
                self.notify(job)
            return
        ended = bounds[-1]
        outcome = job.tags.get(TAG_OUTCOME, "Completed")
        if outcome == "Failed":
            message = decode_tag_value(job.tags.get(TAG_FAILURE_MESSAGE) or "") or DEFAULT_FAILURE_MESSAGE
            self._finish(job, "Failed", TRAINING_STAGE, ended, message)
        elif outcome == "Stopped":
            self._finish(job, "Stopped", TRAINING_STAGE, ended)
        else:
            self._complete(job, ended)

    def notify(self, job: Job) -> None:
        for listener in list(self.listeners):
            try:
                listener(job)
            except Exception:
                log.exception("job listener %r failed", listener)

    def _finish(self, job: Job, status: str, stage: int, when: float, message: str | None = None) -> None:
        job.status = status
        job.final_stage = stage
        job.end_time = when
        job.last_modified = when
        job.failure_message = message if status == "Failed" else None
        self.running.pop(job.arn, None)
        log.info("job %s %s%s", job.name, status, f": {message}" if message else "")
        self.notify(job)

    def _complete(self, job: Job, when: float) -> None:
        try:
            training.write_artifacts(job, self.objects)
        except ArtifactWriteError as exc:
            self._finish(job, "Failed", TRAINING_STAGE, when, str(exc))
            return
        except Exception as exc:
            # A bug here must not kill the ticker and leave every job InProgress forever.
            log.exception("writing the artifacts of job %s failed", job.arn)
            self._finish(
                job, "Failed", TRAINING_STAGE, when, f"Internal error writing the job's artifacts: {exc}"
            )
            return
        job.output_model_arn = self._create_model(job, when)
        self._finish(job, "Completed", TRAINING_STAGE, when)
