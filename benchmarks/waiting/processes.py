"""The processes of a waiting benchmark: the emulator, one measured child per row, and the job ends.

The measured child is bench_waiting.py itself (``--child``); the parent reads its JSON line and, when
the child asks (END_JOBS), ends its jobs evenly over ``--spread`` seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
BENCH_WAITING = REPO / "benchmarks" / "bench_waiting.py"
REGION = "us-east-1"
BUCKET = "bench-waiting"
TRAINING_KEY = "data/train.jsonl"
ROLE_ARN = "arn:aws:iam::123456789012:role/BedrockCustomization"
# The child's signal that the steady window is over and the parent may end the jobs.
END_JOBS = "END-JOBS"
# Starting 500 of the Amazon provider's triggers (a session and client each) takes a while on 2 cores.
READY_TIMEOUT = 180.0


def child_environment(prefix: str) -> dict[str, str]:
    """What a measured child sets before it imports Airflow: a throwaway Airflow home with its own
    SQLite database, quiet logs (both implementations log each poll at INFO; neither is measured on
    it) and the emulator's dummy credentials."""
    home = tempfile.mkdtemp(prefix=prefix)
    return {
        "AIRFLOW_HOME": home,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }


class Emulator:
    """The emulator CLI in its own process, so its CPU is not the benchmark's."""

    def __init__(self, *extra: str) -> None:
        """``extra``: more arguments of the emulator CLI (its Region, account, ...)."""
        self.log = tempfile.NamedTemporaryFile(prefix="bench-emulator-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bedrock_provider.emulator",
                "--port",
                "0",
                "--seed-bucket",
                BUCKET,
                "--job-duration",
                "86400",
                # StopModelCustomizationJob ends a job at once: the parent ends jobs at chosen times.
                "--stop-delay",
                "0",
                # Hundreds of jobs run at once here, far above AWS's default quota.
                "--max-concurrent-jobs",
                "100000",
                "--log-level",
                "WARNING",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=REPO,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on" not in line:
            self.process.kill()
            raise RuntimeError(f"the emulator did not start: {line!r}; see {self.log.name}")
        self.endpoint = line.rsplit(" ", 1)[-1].strip()
        import boto3

        from bedrock_provider.core.request.roles import ensure_service_role

        # The jobs' role must exist in the emulator's IAM and trust Bedrock, as on AWS.
        iam = boto3.client("iam", endpoint_url=self.endpoint, region_name=REGION)
        ensure_service_role(iam, ROLE_ARN.rsplit("/", 1)[1])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_child(
    args: argparse.Namespace,
    impl: str,
    n: int,
    endpoint: str,
    queue_url: str,
    extra: tuple[str, ...] = (),
    end: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:
    """Measure one row in a fresh child; ``extra`` arguments reach it, ``end(prefix, count)`` ends its
    jobs when it asks (by default: jobs ``{prefix}-{i}`` on ``endpoint``, spread over --spread)."""
    command = [
        sys.executable,
        str(BENCH_WAITING),
        "--child",
        "--impl",
        impl,
        "--n",
        str(n),
        "--interval",
        str(args.interval),
        "--steady",
        str(args.steady),
        "--spread",
        str(args.spread),
        "--endpoint",
        endpoint,
        "--queue-url",
        queue_url,
        *extra,
    ]
    process = subprocess.Popen(  # noqa: S603
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith(END_JOBS):
            _, prefix, count = line.split()
            if end is not None:
                end(prefix, int(count))
            else:
                end_jobs(endpoint, [f"{prefix}-{i}" for i in range(int(count))], args.spread)
            process.stdin.write("stopped\n")
            process.stdin.flush()
    stderr = process.stderr.read()
    results = [line for line in lines if line.startswith("{")]
    if process.wait() != 0 or not results:
        raise RuntimeError(f"{impl} N={n} failed ({process.returncode}):\n{stderr[-3000:]}")
    result: dict[str, Any] = json.loads(results[-1])
    return result


def end_jobs(
    endpoint: str, names: list[str], spread: float, endpoint_of: Callable[[str], str] | None = None
) -> None:
    """Stop the jobs one by one, evenly over ``spread`` seconds, so ends fall anywhere in a poll interval.

    A stopped job ends as a completed one does: it leaves the InProgress list, its describe shows a
    final status and its endTime, and Bedrock publishes its state change. ``endpoint_of(name)``: the
    emulator of each job, when there are several.
    """
    import boto3

    clients: dict[str, Any] = {}
    start = time.time() + 1
    for i, name in enumerate(names):
        url = endpoint_of(name) if endpoint_of is not None else endpoint
        if url not in clients:
            clients[url] = boto3.client("bedrock", endpoint_url=url, region_name=REGION)
        time.sleep(max(0.0, start + spread * (i + 0.5) / len(names) - time.time()))
        clients[url].stop_model_customization_job(jobIdentifier=name)
