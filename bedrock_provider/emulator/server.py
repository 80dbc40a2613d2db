"""``BedrockEmulator``: moto's server plus the Bedrock model-customization emulation, in a thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from bedrock_provider.core.request.roles import bedrock_trust_policy
from bedrock_provider.emulator.accounts import MotoAccount
from bedrock_provider.emulator.app import BedrockMiddleware
from bedrock_provider.emulator.backend import DEFAULT_MAX_CONCURRENT_JOBS, CustomizationBackend
from bedrock_provider.emulator.events import EventPublisher
from bedrock_provider.emulator.post_training import PostTrainingBackend
from bedrock_provider.emulator.s3 import MotoObjectStore

log = logging.getLogger(__name__)


class _RequestHandler(MotoRequestHandler):
    """moto's handler, with werkzeug's per-request access log made optional."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if getattr(self.server, "log_requests", False):
            super().log_request(code, size)


class BedrockEmulator:
    """A local Bedrock (model customization) and AWS endpoint on loopback.

    Serves every moto service on one port, so an Airflow aws connection pointing its
    ``endpoint_url`` here reaches S3, SQS, EventBridge, STS and Bedrock alike. Moto's state
    is per process: emulators in one process share S3 and the other moto services, while
    each keeps its own jobs, custom models and counts.

    Jobs follow their job tags: ``emulator:outcome`` (Completed, Failed, Stopped),
    ``emulator:duration`` (seconds), ``emulator:failure-message``, ``emulator:final-loss``
    and ``emulator:final-validation-loss``.

    Create checks what Bedrock checks: the base model, customization type and hyperparameters against
    the model catalog, that the service role exists in IAM (moto's) and trusts bedrock.amazonaws.com
    (``check_roles=False`` skips that; ``create_service_role`` makes one), and the quota of
    ``max_concurrent_jobs`` jobs running at once (AWS's default unless given).

    Each change of a job's status is published, as Bedrock does, as a "Model Customization Job
    State Change" event on moto's default EventBridge bus (``publish_events=False`` turns it off);
    ``bedrock_provider.emulator.events.create_events_queue`` routes them to an SQS queue.

    After training: custom model deployments (Creating -> Active, ``deployment_duration`` seconds),
    provisioned throughput (Creating -> InService, updates, deletes) and automated evaluation jobs
    (InProgress -> Completed in ``evaluation_duration`` seconds, results written under the output
    location as Bedrock writes them). They follow the same ``emulator:outcome`` and
    ``emulator:duration`` tags; an evaluation job's scores follow ``emulator:score:<metric name>``
    job tags, and are otherwise derived deterministically from the model, dataset and prompt.

    bedrock-runtime's Converse and InvokeModel are served on the same port for Active deployments,
    InService provisioned throughputs and foundation models, with deterministic answers
    (``answers.emulated_answer``), usage counts, the same faults and ``request_count("Converse")``.
    """

    def __init__(
        self,
        job_duration: float = 5.0,
        port: int = 0,
        region: str = "us-east-1",
        *,
        host: str = "127.0.0.1",
        seed: int | None = 0,
        stop_delay: float = 0.5,
        tick_interval: float = 0.1,
        account_id: str = DEFAULT_ACCOUNT_ID,
        seed_buckets: Iterable[str] = (),
        log_requests: bool = False,
        publish_events: bool = True,
        check_roles: bool = True,
        max_concurrent_jobs: int = DEFAULT_MAX_CONCURRENT_JOBS,
        deployment_duration: float = 2.0,
        evaluation_duration: float = 3.0,
    ) -> None:
        if job_duration < 0:
            raise ValueError(f"job_duration must be >= 0 seconds, got {job_duration}")
        if deployment_duration < 0 or evaluation_duration < 0:
            raise ValueError(
                f"deployment_duration={deployment_duration} and evaluation_duration={evaluation_duration} "
                "must be >= 0 seconds"
            )
        if tick_interval <= 0:
            raise ValueError(f"tick_interval must be > 0 seconds, got {tick_interval}")
        self.host = host
        self.region = region
        self.account_id = account_id
        self.tick_interval = tick_interval
        self.log_requests = log_requests
        self._requested_port = port
        self._seed_buckets = list(seed_buckets)
        self.objects = MotoObjectStore(account_id)
        self.backend = CustomizationBackend(
            region=region,
            account_id=account_id,
            objects=self.objects,
            job_duration=job_duration,
            stop_delay=stop_delay,
            account=MotoAccount(account_id, region, check_roles=check_roles),
            max_concurrent_jobs=max_concurrent_jobs,
        )
        self.objects.partition = self.backend.partition
        self.events = EventPublisher(account_id, region)
        if publish_events:
            self.backend.add_listener(self.events)
        self.post_training = PostTrainingBackend(
            self.backend,
            self.objects,
            deployment_duration=deployment_duration,
            evaluation_duration=evaluation_duration,
            stop_delay=stop_delay,
        )
        self.app = BedrockMiddleware(
            self.backend,
            DomainDispatcherApplication(create_backend_app),
            seed=seed,
            post_training=self.post_training,
        )
        self._server: BaseWSGIServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> BedrockEmulator:
        if self._server is not None:
            raise RuntimeError(f"the emulator is already running at {self.endpoint_url}")
        for bucket in self._seed_buckets:
            self.create_bucket(bucket)
        server = make_server(
            self.host, self._requested_port, self.app, threaded=True, request_handler=_RequestHandler
        )
        server.log_requests = self.log_requests  # type: ignore[attr-defined]
        self._server = server
        self._stopping.clear()
        self.app.info = {
            "region": self.region,
            "job_duration": self.job_duration,
            "endpoint_url": self.endpoint_url,
        }
        self._threads = [
            threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="bedrock-emulator",
                daemon=True,
            ),
            threading.Thread(target=self._tick_forever, name="bedrock-emulator-ticker", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        log.info("Bedrock emulator listening on %s", self.endpoint_url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> BedrockEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _tick_forever(self) -> None:
        while not self._stopping.wait(self.tick_interval):
            try:
                self.backend.tick()
                self.post_training.tick()
            except Exception:
                # Keep ticking: one bad job must not freeze every other job.
                log.exception("emulator tick failed")

    # ----------------------------------------------------------------- where

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() or use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def job_duration(self) -> float:
        return self.backend.job_duration

    @job_duration.setter
    def job_duration(self, seconds: float) -> None:
        """Duration of jobs created from now on that carry no emulator:duration tag."""
        self.backend.job_duration = seconds

    # ----------------------------------------------------------------- faults and counts

    def set_fault_rates(
        self, throttle: float = 0.0, server_error: float = 0.0, connection_drop: float = 0.0
    ) -> None:
        """Answer that fraction of Bedrock calls with ThrottlingException (429), HTTP 500, or no answer.

        A dropped connection happens after the request took effect (the response is lost),
        which is the case clientRequestToken exists for.
        """
        self.app.set_fault_rates(throttle, server_error, connection_drop)

    def fault_rates(self) -> dict[str, float]:
        return self.app.fault_rates()

    def request_count(self, operation: str) -> int:
        """Bedrock calls served (answered, including genuine errors) for one API operation."""
        return self.app.counts().get(operation, 0)

    def counts(self) -> dict[str, int]:
        return self.app.counts()

    def fault_count(self, operation: str) -> int:
        """Bedrock calls of that operation answered with an injected fault."""
        return self.app.fault_counts().get(operation, 0)

    def fault_counts(self) -> dict[str, int]:
        return self.app.fault_counts()

    def reset_counts(self) -> None:
        self.app.reset_counts()

    def auth_counts(self) -> dict[str, int]:
        """Calls received by "service:scheme" ("bedrock:sigv4", "bedrock:bearer", "s3:sigv4", ...)."""
        return self.app.auth.scheme_counts()

    def access_key_counts(self) -> dict[str, int]:
        """SigV4 calls received by "service:access key id": whose credentials signed them."""
        return self.app.auth.access_key_counts()

    def distinct_bearer_keys(self) -> int:
        """How many different Bedrock API keys reached it (each renewed short-term key is one more)."""
        return self.app.auth.distinct_bearer_keys()

    def issue_api_key(self, lifetime: float | None = None) -> str:
        """A long-term Bedrock API key this emulator takes for ``lifetime`` seconds (None: always).
        Bearer keys it did not issue, other than unexpired short-term keys, get Bedrock's 403."""
        return self.app.auth.issue(lifetime)

    # ----------------------------------------------------------------- state

    def jobs_created(self) -> int:
        """Jobs actually created (an idempotent replay of a Create creates none)."""
        return self.backend.jobs_created()

    def jobs(self) -> list[dict[str, Any]]:
        """jobArn, jobName and status of every job, oldest first."""
        return self.backend.job_summaries()

    def describe_job(self, identifier: str) -> dict[str, Any]:
        """GetModelCustomizationJob's answer, without going through HTTP or the counts."""
        return self.backend.get_job(identifier)

    def end_job(self, identifier: str) -> None:
        """End an InProgress customization job now, with its tagged outcome (an emulator control)."""
        self.backend.end_job(identifier)

    def set_custom_model_status(
        self, identifier: str, status: str, failure_message: str | None = None
    ) -> None:
        """Make a custom model Creating, Failed or Active again (an emulator control)."""
        self.backend.set_custom_model_status(identifier, status, failure_message)

    def create_bucket(self, bucket: str) -> None:
        """Create an S3 bucket in moto (no-op if it exists)."""
        self.objects.create_bucket(bucket, self.region)

    def create_service_role(self, name: str = "BedrockModelCustomization") -> str:
        """Create (or reuse) an IAM role that trusts bedrock.amazonaws.com, as users do on AWS; its ARN."""
        import json

        from moto.iam.models import iam_backends

        backend = iam_backends[self.account_id]["global"]
        try:
            return str(backend.get_role(name).arn)
        except Exception:
            log.debug("role %s does not exist yet; creating it", name)
        role = backend.create_role(
            role_name=name,
            assume_role_policy_document=json.dumps(bedrock_trust_policy(self.account_id)),
            path="/",
            permissions_boundary=None,
            description="Service role for Amazon Bedrock model customization",
            tags=[],
            max_session_duration="3600",
        )
        return str(role.arn)

    @property
    def max_concurrent_jobs(self) -> int:
        return self.backend.max_concurrent_jobs

    @max_concurrent_jobs.setter
    def max_concurrent_jobs(self, value: int) -> None:
        """The quota of jobs running at once, from now on."""
        if value < 1:
            raise ValueError(f"max_concurrent_jobs must be at least 1, got {value}")
        self.backend.max_concurrent_jobs = value

    def post_training_counts(self) -> dict[str, int]:
        """Deployments, provisioned throughputs and evaluation jobs that exist (deleted ones are gone)."""
        return self.post_training.created_counts()

    def reset(self) -> None:
        """Forget jobs, custom models and counts (moto's other state is left alone)."""
        self.reset_counts()
        self.backend.reset()
        self.post_training.reset()
