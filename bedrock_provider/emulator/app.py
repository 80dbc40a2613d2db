"""WSGI middleware in front of moto's server app.

Requests signed for the ``bedrock`` service on the model-customization paths are answered by
``responses`` (one method per API operation) over the emulator's backend, and bedrock-runtime's
(signed ``bedrock`` too, on ``/model/{modelId}/...``) by ``runtime``; ``/_emulator/*`` is the
control surface; everything else (S3, SQS, EventBridge, STS, other Bedrock APIs) goes to moto untouched.
"""

from __future__ import annotations

import io
import json
import logging
import random
import re
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from werkzeug.wrappers import Request

from bedrock_provider.emulator.auth import BearerKeys
from bedrock_provider.emulator.backend import CustomizationBackend
from bedrock_provider.emulator.errors import BedrockError, internal_error, throttling, validation_error
from bedrock_provider.emulator.post_training import ROUTES as POST_TRAINING_ROUTES
from bedrock_provider.emulator.post_training import PostTrainingBackend, PostTrainingResponses
from bedrock_provider.emulator.post_training.responses import OPERATIONS as POST_TRAINING_OPERATIONS
from bedrock_provider.emulator.responses import BedrockResponses, OperationResponses
from bedrock_provider.emulator.runtime import OPERATIONS as RUNTIME_OPERATIONS
from bedrock_provider.emulator.runtime import ROUTES as RUNTIME_ROUTES
from bedrock_provider.emulator.runtime import RuntimeResponses

log = logging.getLogger(__name__)

WSGIEnviron = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[WSGIEnviron, StartResponse], Iterable[bytes]]

CONTROL_PREFIX = "/_emulator/"
FAULT_KINDS = ("throttle", "server_error", "connection_drop")
_CREDENTIAL_RE = re.compile(r"Credential=[^/,\s]+/[^/]+/(?P<region>[^/]+)/(?P<service>[^/]+)/")

# (method, path pattern on the raw, still percent-encoded path, operation)
_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/model-customization-jobs/?$"), "CreateModelCustomizationJob"),
    ("GET", re.compile(r"^/model-customization-jobs/?$"), "ListModelCustomizationJobs"),
    ("POST", re.compile(r"^/model-customization-jobs/(?P<id>.+)/stop/?$"), "StopModelCustomizationJob"),
    ("GET", re.compile(r"^/model-customization-jobs/(?P<id>.+?)/?$"), "GetModelCustomizationJob"),
    ("GET", re.compile(r"^/custom-models/?$"), "ListCustomModels"),
    ("GET", re.compile(r"^/custom-models/(?P<id>.+?)/?$"), "GetCustomModel"),
    ("DELETE", re.compile(r"^/custom-models/(?P<id>.+?)/?$"), "DeleteCustomModel"),
    ("GET", re.compile(r"^/logging/modelinvocations/?$"), "GetModelInvocationLoggingConfiguration"),
    ("PUT", re.compile(r"^/logging/modelinvocations/?$"), "PutModelInvocationLoggingConfiguration"),
    ("DELETE", re.compile(r"^/logging/modelinvocations/?$"), "DeleteModelInvocationLoggingConfiguration"),
    ("POST", re.compile(r"^/tagResource/?$"), "TagResource"),
    ("POST", re.compile(r"^/untagResource/?$"), "UntagResource"),
    ("POST", re.compile(r"^/listTagsForResource/?$"), "ListTagsForResource"),
    *POST_TRAINING_ROUTES,
    *RUNTIME_ROUTES,
]
_TAG_OPERATIONS = frozenset({"TagResource", "UntagResource", "ListTagsForResource"})


@dataclass
class FaultRates:
    throttle: float = 0.0
    server_error: float = 0.0
    connection_drop: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "throttle": self.throttle,
            "server_error": self.server_error,
            "connection_drop": self.connection_drop,
        }


class _DropConnection(ConnectionAbortedError):
    """Raised out of the WSGI app; werkzeug treats it as a dropped connection and sends nothing."""


class BedrockMiddleware:
    """The emulator's WSGI app: Bedrock customization + control surface, moto for the rest."""

    def __init__(
        self,
        backend: CustomizationBackend,
        moto_app: WSGIApp,
        *,
        seed: int | None = 0,
        post_training: PostTrainingBackend | None = None,
    ) -> None:
        self.backend = backend
        self.responses = BedrockResponses(backend)
        # Deployments, provisioned throughput and evaluation jobs (emulator/post_training/).
        self.post_training = post_training or PostTrainingBackend(backend, backend.objects)
        self.post_training_responses = PostTrainingResponses(self.post_training)
        # bedrock-runtime (Converse, InvokeModel) on what the post-training backend serves.
        self.runtime_responses = RuntimeResponses(self.post_training)
        self.moto_app = moto_app
        self._stats_lock = threading.Lock()
        self._served: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._rates = FaultRates()
        # Not for security: seeded streams, one per operation, so a run with the same seed injects the
        # same faults into each operation however concurrent calls of other operations interleave.
        self._seed = seed
        self._fault_streams: dict[str, random.Random] = {}
        self.info: dict[str, Any] = {}
        # Which scheme signed each call, and the bearer keys Bedrock would take (emulator/auth.py).
        self.auth = BearerKeys(backend.clock)

    # ----------------------------------------------------------------- stats and faults

    def set_fault_rates(
        self, throttle: float = 0.0, server_error: float = 0.0, connection_drop: float = 0.0
    ) -> None:
        rates = FaultRates(float(throttle), float(server_error), float(connection_drop))
        for name, value in rates.as_dict().items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault rate {name}={value} must be between 0 and 1")
        if rates.throttle + rates.server_error + rates.connection_drop > 1.0 + 1e-9:
            raise ValueError(f"fault rates {rates.as_dict()} add up to more than 1")
        with self._stats_lock:
            self._rates = rates

    def fault_rates(self) -> dict[str, float]:
        with self._stats_lock:
            return self._rates.as_dict()

    def counts(self) -> dict[str, int]:
        with self._stats_lock:
            return dict(self._served)

    def fault_counts(self) -> dict[str, int]:
        with self._stats_lock:
            return dict(self._faults)

    def reset_counts(self) -> None:
        with self._stats_lock:
            self._served.clear()
            self._faults.clear()
        self.auth.reset_counts()

    def _draw_fault(self, operation: str) -> str | None:
        with self._stats_lock:
            rates = self._rates
            if not (rates.throttle or rates.server_error or rates.connection_drop):
                return None
            stream = self._fault_streams.get(operation)
            if stream is None:
                seed = None if self._seed is None else f"{self._seed}:{operation}"
                stream = self._fault_streams[operation] = random.Random(seed)  # noqa: S311
            draw = stream.random()
        if draw < rates.throttle:
            return "throttle"
        if draw < rates.throttle + rates.server_error:
            return "server_error"
        if draw < rates.throttle + rates.server_error + rates.connection_drop:
            return "connection_drop"
        return None

    def _count(self, counter: Counter[str], operation: str) -> None:
        with self._stats_lock:
            counter[operation] += 1

    # ----------------------------------------------------------------- WSGI

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(environ, start_response)
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        self.auth.record(authorization)
        route = self._match(environ)
        if route is None:
            return self.moto_app(environ, start_response)
        operation, identifier = route
        try:
            self.auth.check(authorization)
        except BedrockError as exc:
            return self._answer(environ, start_response, operation, exc.status, _error_body(exc), exc.code)
        request = Request(environ)
        body = request.get_data(cache=True)
        payload: dict[str, Any] = {}
        try:
            payload = _json_body(body)
        except BedrockError as exc:
            return self._answer(environ, start_response, operation, exc.status, _error_body(exc), exc.code)
        if operation in _TAG_OPERATIONS and not self._owns_arn(str(payload.get("resourceARN", ""))):
            # Tags of other Bedrock resources (guardrails, agents...) stay moto's business.
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("wsgi.input_terminated", None)
            return self.moto_app(environ, start_response)

        fault = self._draw_fault(operation)
        if fault in ("throttle", "server_error"):
            self._count(self._faults, operation)
            injected = (
                throttling() if fault == "throttle" else internal_error("Internal server error (injected).")
            )
            return _respond(start_response, injected.status, _error_body(injected), injected.code)

        status, result, error_code = self._run(operation, identifier, payload, request)
        if fault == "connection_drop":
            # The request took effect; only the answer is lost, as when a network drops a response.
            self._count(self._faults, operation)
            sock = environ.get("werkzeug.socket")
            if isinstance(sock, socket.socket):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    log.debug("socket already closed while dropping the connection")
            raise _DropConnection(f"connection dropped by the emulator during {operation}")
        return self._answer(environ, start_response, operation, status, result, error_code)

    def _run(
        self, operation: str, identifier: str | None, payload: dict[str, Any], request: Request
    ) -> tuple[int, dict[str, Any], str | None]:
        try:
            status, result = self._dispatch(operation, identifier, payload, request)
        except BedrockError as exc:
            return exc.status, _error_body(exc), exc.code
        except Exception:
            log.exception("emulator failed on %s", operation)
            error = internal_error()
            return error.status, _error_body(error), error.code
        return status, result, None

    def _answer(
        self,
        environ: WSGIEnviron,
        start_response: StartResponse,
        operation: str,
        status: int,
        result: dict[str, Any],
        error_code: str | None,
    ) -> Iterable[bytes]:
        self._count(self._served, operation)
        return _respond(start_response, status, result, error_code)

    def _match(self, environ: WSGIEnviron) -> tuple[str, str | None] | None:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        # A Bedrock API key signs nothing: only Bedrock takes bearer tokens, so such a request is
        # Bedrock's. BearerKeys.check decides whether Bedrock would take the key.
        bearer = authorization.startswith("Bearer ")
        credential = _CREDENTIAL_RE.search(authorization)
        if not bearer and (credential is None or credential.group("service") != "bedrock"):
            return None
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
        if "://" in raw:
            raw = urlsplit(raw).path
        raw_path = raw.split("?", 1)[0]
        method = environ.get("REQUEST_METHOD", "GET")
        for route_method, pattern, operation in _ROUTES:
            if method != route_method:
                continue
            match = pattern.match(raw_path)
            if match:
                identifier = match.groupdict().get("id")
                return operation, unquote(identifier) if identifier is not None else None
        return None

    def _owns_arn(self, arn: str) -> bool:
        return self.backend.owns_arn(arn) or self.post_training.owns_arn(arn)

    def _dispatch(
        self, operation: str, identifier: str | None, payload: dict[str, Any], request: Request
    ) -> tuple[int, dict[str, Any]]:
        params: dict[str, str] = dict(request.args.items())
        post_training = operation in POST_TRAINING_OPERATIONS or (
            operation in _TAG_OPERATIONS and self.post_training.owns_arn(str(payload.get("resourceARN", "")))
        )
        responses: OperationResponses[Any] = self.post_training_responses if post_training else self.responses
        if operation in RUNTIME_OPERATIONS:
            responses = self.runtime_responses
        return responses.operation_method(operation)(identifier, payload, params)

    # ----------------------------------------------------------------- control surface

    def _control(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        name = environ.get("PATH_INFO", "")[len(CONTROL_PREFIX) :].strip("/")
        try:
            if method == "GET" and name == "health":
                return _respond(start_response, 200, {"status": "ok", **self.info})
            if method == "GET" and name == "counts":
                return _respond(start_response, 200, self.counts())
            if method == "GET" and name == "fault-counts":
                return _respond(start_response, 200, self.fault_counts())
            if method == "GET" and name == "faults":
                return _respond(start_response, 200, self.fault_rates())
            if method == "POST" and name == "faults":
                body = _json_body(Request(environ).get_data())
                unknown = set(body) - set(FAULT_KINDS)
                if unknown:
                    raise ValueError(f"unknown fault kinds {sorted(unknown)}; expected {list(FAULT_KINDS)}")
                self.set_fault_rates(**{k: float(v) for k, v in body.items()})
                return _respond(start_response, 200, self.fault_rates())
            if method == "GET" and name == "quota":
                return _respond(
                    start_response, 200, {"max_concurrent_jobs": self.backend.max_concurrent_jobs}
                )
            if method == "POST" and name == "quota":
                value = _json_body(Request(environ).get_data()).get("max_concurrent_jobs")
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(
                        f"max_concurrent_jobs must be a whole number of at least 1, got {value!r}"
                    )
                self.backend.max_concurrent_jobs = value
                return _respond(start_response, 200, {"max_concurrent_jobs": value})
            if method == "GET" and name == "auth-counts":
                return _respond(start_response, 200, self.auth.summary())
            if method == "POST" and name == "api-keys":
                lifetime = _json_body(Request(environ).get_data()).get("lifetime")
                if lifetime is not None and (
                    isinstance(lifetime, bool) or not isinstance(lifetime, int | float)
                ):
                    raise ValueError(f"lifetime must be seconds or null, got {lifetime!r}")
                return _respond(start_response, 200, {"api_key": self.auth.issue(lifetime)})
            if method == "POST" and name == "reset-counts":
                self.reset_counts()
                return _respond(start_response, 200, {})
            if method == "POST" and name == "reset":
                self.reset_counts()
                self.backend.reset()
                self.post_training.reset()
                return _respond(start_response, 200, {})
            if method == "POST" and name == "end-job":
                identifier = _json_body(Request(environ).get_data()).get("job")
                if not isinstance(identifier, str) or not identifier:
                    raise ValueError(f"job must be a job name or ARN, got {identifier!r}")
                self.backend.end_job(identifier)
                return _respond(start_response, 200, {})
            if method == "GET" and name == "jobs":
                return _respond(
                    start_response,
                    200,
                    {"jobs_created": self.backend.jobs_created(), "jobs": self.backend.job_summaries()},
                )
        except (ValueError, TypeError, BedrockError) as exc:
            return _respond(start_response, 400, {"message": str(exc)})
        return _respond(start_response, 404, {"message": f"no control endpoint {method} /_emulator/{name}"})


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        raise validation_error("The request body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise validation_error("The request body must be a JSON object.")
    return parsed


def _error_body(exc: BedrockError) -> dict[str, Any]:
    return {"message": exc.message}


def _respond(
    start_response: StartResponse, status: int, payload: dict[str, Any], error_code: str | None = None
) -> list[bytes]:
    data = json.dumps(payload).encode()
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(data))),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    ]
    if error_code is not None:
        headers.append(("x-amzn-ErrorType", error_code))
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [data]
