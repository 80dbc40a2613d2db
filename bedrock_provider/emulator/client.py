"""``EmulatorClient``: the emulator's counts and fault controls from another process.

Stdlib only, and no moto import, so a test or demo that merely talks to a running
emulator stays light.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit


class EmulatorError(RuntimeError):
    """The emulator's control surface answered with an error or could not be reached."""


class EmulatorClient:
    """Same method names as ``BedrockEmulator`` for counts, faults and jobs."""

    def __init__(self, endpoint_url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(endpoint_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"endpoint_url must look like http://127.0.0.1:5055, got {endpoint_url!r}")
        self.endpoint_url = endpoint_url.rstrip("/")
        self._host = parts.hostname
        self._port = parts.port or 80
        self.timeout = timeout

    def _call(self, method: str, name: str, body: dict[str, Any] | None = None) -> Any:
        conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        try:
            data = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, f"/_emulator/{name}", body=data, headers=headers)
            response = conn.getresponse()
            payload = response.read()
        except OSError as exc:
            raise EmulatorError(f"cannot reach the emulator at {self.endpoint_url}: {exc}") from exc
        finally:
            conn.close()
        try:
            parsed = json.loads(payload) if payload else {}
        except ValueError:
            parsed = {"message": payload.decode(errors="replace")}
        if response.status >= 400:
            raise EmulatorError(
                f"{method} /_emulator/{name} answered {response.status}: {parsed.get('message')}"
            )
        return parsed

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "health")
        return result

    def wait_until_ready(self, timeout: float = 10.0) -> dict[str, Any]:
        """Poll /_emulator/health until it answers (e.g. right after starting the CLI)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.health()
            except EmulatorError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._call("GET", "counts").items()}

    def request_count(self, operation: str) -> int:
        return self.counts().get(operation, 0)

    def fault_counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._call("GET", "fault-counts").items()}

    def fault_count(self, operation: str) -> int:
        return self.fault_counts().get(operation, 0)

    def set_fault_rates(
        self, throttle: float = 0.0, server_error: float = 0.0, connection_drop: float = 0.0
    ) -> None:
        self._call(
            "POST",
            "faults",
            {"throttle": throttle, "server_error": server_error, "connection_drop": connection_drop},
        )

    def fault_rates(self) -> dict[str, float]:
        return {k: float(v) for k, v in self._call("GET", "faults").items()}

    @property
    def max_concurrent_jobs(self) -> int:
        """The quota of customization jobs running at once (ServiceQuotaExceededException beyond it)."""
        return int(self._call("GET", "quota")["max_concurrent_jobs"])

    @max_concurrent_jobs.setter
    def max_concurrent_jobs(self, value: int) -> None:
        self._call("POST", "quota", {"max_concurrent_jobs": value})

    def reset_counts(self) -> None:
        self._call("POST", "reset-counts", {})

    def auth_counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._call("GET", "auth-counts")["schemes"].items()}

    def access_key_counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._call("GET", "auth-counts")["access_keys"].items()}

    def distinct_bearer_keys(self) -> int:
        return int(self._call("GET", "auth-counts")["distinct_bearer_keys"])

    def issue_api_key(self, lifetime: float | None = None) -> str:
        return str(self._call("POST", "api-keys", {"lifetime": lifetime})["api_key"])

    def reset(self) -> None:
        self._call("POST", "reset", {})

    def jobs_created(self) -> int:
        return int(self._call("GET", "jobs")["jobs_created"])

    def jobs(self) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = self._call("GET", "jobs")["jobs"]
        return jobs

    def end_job(self, identifier: str) -> None:
        """End an InProgress customization job now, with the outcome its tags ask for."""
        self._call("POST", "end-job", {"job": identifier})
