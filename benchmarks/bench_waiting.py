"""Waiting at scale: N concurrent waits on Bedrock customization jobs, ours against the Amazon provider's.

    python benchmarks/bench_waiting.py                      # N = 10, 100, 500; 8 to 10 minutes on 2 cores
    python benchmarks/bench_waiting.py --sizes 2 --interval 1 --steady 2 --spread 1   # a smoke run

The emulator runs as its own process (``bedrock-emulator``), so its CPU is not counted. Each
(implementation, N) is measured in a fresh child process:

- amazon: ``BedrockCustomizeModelCompletedTrigger`` (apache-airflow-providers-amazon), waiter_delay =
  the poll interval, each trigger's ``run()`` as the triggerer runs it;
- ours, polling: ``BedrockModelCustomizationTrigger`` driven the way Airflow 3.3's triggerer drives
  a trigger with a shared stream key: ``airflow.triggers.shared_stream.SharedStreamManager``,
  ``subscribe`` + ``filter_shared_stream`` + ``unsubscribe`` per trigger, as
  ``TriggerRunner.run_trigger`` does (without the supervisor and its database round trips, which
  cost the same for both implementations);
- ours, push: the same, with ``events_queue_url`` (the emulator publishes the job state-change
  events through EventBridge to an SQS queue) and the default safety_poll_interval;
- ours, run() (``--with-standalone``): ``run()`` per trigger, as dag.test() and Airflow before 3.3 do.

The child creates N jobs, starts the N waits over one poll interval, and once every wait has
polled once (plus one interval) measures:

- memory per wait: RSS with every wait waiting, minus RSS before the first one started, over N;
- CPU seconds per minute of waiting: the process's CPU time over a steady window of ``--steady``
  seconds in which no job ends;
- Bedrock requests per minute: the emulator's served Bedrock calls over the same window;
- delay from each job's end (its endTime) to its trigger's event, p50 and p95: after the window the
  parent ends the jobs one by one, evenly over ``--spread`` seconds, with StopModelCustomizationJob
  (the emulator runs with --stop-delay 0, so a stop is an immediate end). A stopped job is seen
  exactly as a completed one: it leaves the InProgress list, its describe shows a final status and
  endTime, and Bedrock publishes its state change. Ending jobs on a signal rather than after a fixed
  duration keeps the window clean however long the waits take to start (500 Amazon triggers take
  tens of seconds on 2 cores).

Push mode uses the recommended rule (job ends and Stopping only, see docs/push-mode.md).

The table states the issue's goals at the largest N as met or missed, and the machine's load
(other work on the machine slows every row alike, but shows in the delays first).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
BUCKET = "bench-waiting"
TRAINING_KEY = "data/train.jsonl"
ROLE_ARN = "arn:aws:iam::123456789012:role/BedrockCustomization"
IMPLEMENTATIONS = ("amazon", "ours-poll", "ours-push")
# The child's signal that the steady window is over and the parent may end the jobs.
END_JOBS = "END-JOBS"
# Starting 500 of the Amazon provider's triggers (a session and client each) takes a while on 2 cores.
READY_TIMEOUT = 180.0
LABELS = {
    "amazon": ("amazon", "poll"),
    "ours-poll": ("ours", "poll (shared)"),
    "ours-push": ("ours", "push"),
    "ours-run": ("ours", "poll (run)"),
}


# ------------------------------------------------------------------------------------ measures


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used since boot (from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    """CPU seconds this process and its finished children (the emulator, the measured children) used."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --------------------------------------------------------------------------------------- child


def child(args: argparse.Namespace) -> None:
    """One (implementation, N) measurement; prints one JSON line."""
    home = tempfile.mkdtemp(prefix="bench-waiting-airflow-")
    os.environ.update(
        {
            "AIRFLOW_HOME": home,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # Both implementations log each poll or progress change at INFO; neither is measured on it.
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
                {
                    "conn_type": "aws",
                    "login": "testing",
                    "password": "testing",
                    "extra": {"endpoint_url": args.endpoint, "region_name": REGION},
                }
            ),
        }
    )
    import logging

    # Everything either implementation needs is imported before the baseline.
    import aiobotocore.session  # noqa: F401
    import boto3
    from airflow.providers.amazon.aws.triggers.bedrock import BedrockCustomizeModelCompletedTrigger
    from airflow.triggers.shared_stream import SharedStreamManager

    from bedrock_provider.emulator.client import EmulatorClient
    from bedrock_provider.hooks.events_queue import EventsQueueHook
    from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger

    logging.getLogger().setLevel(logging.WARNING)
    emulator = EmulatorClient(args.endpoint)
    bedrock = boto3.client("bedrock", endpoint_url=args.endpoint, region_name=REGION)
    n, interval = args.n, args.interval
    prefix = f"bw-{args.impl}-{n}-{uuid.uuid4().hex[:6]}"
    names = [f"{prefix}-{i}" for i in range(n)]

    # The jobs run until the parent stops them after the steady window (the emulator stops a job at
    # once), so how long the waits took to start never eats into the window.
    for name in names:
        bedrock.create_model_customization_job(
            jobName=name,
            customModelName=f"{name}-m",
            roleArn=ROLE_ARN,
            baseModelIdentifier="amazon.titan-text-express-v1",
            trainingDataConfig={"s3Uri": f"s3://{BUCKET}/{TRAINING_KEY}"},
            outputDataConfig={"s3Uri": f"s3://{BUCKET}/output/"},
        )

    receives = 0
    original_receive = EventsQueueHook.receive_async

    async def counting_receive(self: Any, *a: Any, **k: Any) -> Any:
        nonlocal receives
        receives += 1
        return await original_receive(self, *a, **k)

    EventsQueueHook.receive_async = counting_receive  # type: ignore[method-assign]

    fired: dict[int, tuple[float, dict[str, Any]]] = {}
    manager = SharedStreamManager()

    async def wait_one(i: int) -> None:
        if args.impl == "amazon":
            amazon = BedrockCustomizeModelCompletedTrigger(
                job_name=names[i],
                waiter_delay=interval,
                waiter_max_attempts=1_000_000,
                aws_conn_id="aws_default",
            )
            async for event in amazon.run():
                fired[i] = (time.time(), event.payload)
            return
        ours = BedrockModelCustomizationTrigger(
            names[i],
            poll_interval=interval,
            events_queue_url=args.queue_url if args.impl == "ours-push" else None,
        )
        if args.impl == "ours-run":
            async for event in ours.run():
                fired[i] = (time.time(), event.payload)
            return
        key = ours.shared_stream_key()
        stream = manager.subscribe(trigger_id=i, trigger=ours, key=key)
        try:
            async for event in ours.filter_shared_stream(stream):
                fired[i] = (time.time(), event.payload)
        finally:
            await manager.unsubscribe(i, key)

    async def bedrock_calls() -> dict[str, int]:
        return await asyncio.to_thread(emulator.counts)

    async def measure() -> dict[str, Any]:
        gc.collect()
        baseline = rss_kb()
        started = time.time()
        before = await bedrock_calls()
        tasks = []
        for i in range(n):
            tasks.append(asyncio.create_task(wait_one(i)))
            await asyncio.sleep(interval / n)
        if args.impl != "ours-poll":
            # Every wait has asked about its job once (a describe each); ours-poll makes no per-wait call.
            ready_by = time.time() + READY_TIMEOUT
            while sum((await bedrock_calls()).values()) - sum(before.values()) < n and time.time() < ready_by:
                await asyncio.sleep(0.25)
        await asyncio.sleep(interval)
        gc.collect()
        waiting = rss_kb()
        ready = time.time() - started

        window_start = time.time()
        cpu_start = time.process_time()
        calls_start = await bedrock_calls()
        receives_start = receives
        await asyncio.sleep(args.steady)
        calls_end = await bedrock_calls()
        receives_end = receives
        cpu_end = time.process_time()
        window = time.time() - window_start
        in_window = len(fired)

        print(f"{END_JOBS} {prefix} {n}", flush=True)
        # The parent answers once it has stopped every job, which on a busy machine may take longer
        # than --spread; from then on, every wait has three intervals (and some slack) to fire.
        await asyncio.wait(
            [asyncio.ensure_future(asyncio.to_thread(sys.stdin.readline))], timeout=READY_TIMEOUT
        )
        await asyncio.wait(tasks, timeout=3 * interval + 10)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        calls = {op: calls_end.get(op, 0) - calls_start.get(op, 0) for op in calls_end}
        return {
            "baseline_rss_kb": baseline,
            "waiting_rss_kb": waiting,
            "ready_s": ready,
            "window_s": window,
            "cpu_s": cpu_end - cpu_start,
            "bedrock_calls": {op: c for op, c in calls.items() if c},
            "sqs_receives": receives_end - receives_start,
            "completions_in_window": in_window,
        }

    result = asyncio.run(measure())
    job_ends: dict[str, float] = {}
    for page in bedrock.get_paginator("list_model_customization_jobs").paginate(nameContains=prefix):
        for job in page["modelCustomizationJobSummaries"]:
            if job.get("endTime"):
                job_ends[job["jobName"]] = job["endTime"].timestamp()
    delays = [at - job_ends[names[i]] for i, (at, _) in fired.items() if names[i] in job_ends]
    missed = sum(1 for i, name in enumerate(names) if name in job_ends and i not in fired)
    statuses = sorted({str(payload.get("status")) for _, payload in fired.values()})
    window_min = result["window_s"] / 60
    result.update(
        impl=args.impl,
        n=n,
        interval=interval,
        mem_per_wait_kb=(result["waiting_rss_kb"] - result["baseline_rss_kb"]) / n,
        cpu_per_min=result["cpu_s"] / window_min,
        requests_per_min=sum(result["bedrock_calls"].values()) / window_min,
        sqs_receives_per_min=result["sqs_receives"] / window_min,
        fired=len(fired),
        ended=len(job_ends),
        missed=missed,
        statuses=statuses,
        delay_p50=percentile(delays, 50),
        delay_p95=percentile(delays, 95),
        delay_max=max(delays) if delays else None,
    )
    print(json.dumps(result), flush=True)


# -------------------------------------------------------------------------------------- parent


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
        str(Path(__file__).resolve()),
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


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(results: list[dict[str, Any]]) -> str:
    header = (
        "| impl | mode | N | memory/wait (KiB) | CPU s/min | Bedrock req/min | delay p50 (s) | delay p95 (s) "
        "| fired | note |"
    )
    rows = [header, "|" + "---|" * 10]
    for r in results:
        impl, mode = LABELS[r["impl"]]
        notes = []
        if r["missed"]:
            notes.append(f"{r['missed']} ended jobs not noticed in 3 intervals + 10 s")
        if r["ended"] < r["n"]:
            notes.append(f"{r['n'] - r['ended']} jobs not ended")
        if r["completions_in_window"]:
            notes.append(f"{r['completions_in_window']} fired in the steady window")
        if r["sqs_receives"]:
            notes.append(f"{r['sqs_receives_per_min']:.0f} SQS receives/min")
        rows.append(
            f"| {impl} | {mode} | {r['n']} | {fmt(r['mem_per_wait_kb'])} | {fmt(r['cpu_per_min'], 2)} "
            f"| {fmt(r['requests_per_min'])} | {fmt(r['delay_p50'], 2)} | {fmt(r['delay_p95'], 2)} "
            f"| {r['fired']}/{r['n']} | {'; '.join(notes)} |"
        )
    return "\n".join(rows)


def goals(results: list[dict[str, Any]], interval: float) -> list[str]:
    n = max(r["n"] for r in results)
    by_impl = {r["impl"]: r for r in results if r["n"] == n}
    amazon = by_impl.get("amazon")
    lines = [f"Goals at N={n} (poll interval {interval:g} s):"]

    def verdict(name: str, value: float | None, limit: float, unit: str, better: str = "lower") -> None:
        if value is None:
            lines.append(f"- {name}: not measured")
            return
        met = value <= limit
        gap = "" if met else f", missed by {value - limit:.2f}{unit} ({value / limit:.1f}x the limit)"
        lines.append(
            f"- {name}: {value:.2f}{unit} vs limit {limit:.2f}{unit}: {'MET' if met else 'MISSED'}{gap}"
        )

    for impl in ("ours-poll", "ours-push"):
        ours = by_impl.get(impl)
        if ours is None or amazon is None:
            continue
        label = " ".join(LABELS[impl])
        verdict(
            f"memory per wait, {label} <= 1/10 of amazon's {amazon['mem_per_wait_kb']:.0f} KiB",
            ours["mem_per_wait_kb"],
            amazon["mem_per_wait_kb"] / 10,
            " KiB",
        )
        verdict(
            f"Bedrock requests/min, {label} <= 1/20 of amazon's {amazon['requests_per_min']:.0f}",
            ours["requests_per_min"],
            amazon["requests_per_min"] / 20,
            "",
        )
    if "ours-poll" in by_impl:
        verdict("completion noticed, polling, p50", by_impl["ours-poll"]["delay_p50"], interval / 2 + 1, " s")
    if "ours-push" in by_impl:
        verdict("completion noticed, push, p95", by_impl["ours-push"]["delay_p95"], 2.0, " s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,500", help="comma-separated numbers of concurrent waits")
    parser.add_argument("--impls", default=",".join(IMPLEMENTATIONS), help=f"from {', '.join(LABELS)}")
    parser.add_argument(
        "--with-standalone", action="store_true", help="also measure ours with run() per trigger"
    )
    parser.add_argument("--interval", type=float, default=5.0, help="poll interval of both (s)")
    parser.add_argument("--steady", type=float, default=15.0, help="steady window with no job ending (s)")
    parser.add_argument("--spread", type=float, default=10.0, help="job ends spread over this long (s)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument(
        "--connections",
        action="store_true",
        help="the multi-connection scenario instead (bench_connections.py): --connections-n waits of ours "
        "and --amazon-n of the Amazon provider's over five connections",
    )
    parser.add_argument("--connections-n", type=int, default=5000, help="waits of ours over the connections")
    parser.add_argument("--amazon-n", type=int, default=500, help="waits of amazon's over the connections")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--api-key", help=argparse.SUPPRESS)
    parser.add_argument("--queues", help=argparse.SUPPRESS)
    parser.add_argument("--impl", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--queue-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.child:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    if args.connections:
        import bench_connections

        if args.child:
            bench_connections.child(args)
        else:
            sys.path.insert(0, str(REPO))
            if args.impls == ",".join(IMPLEMENTATIONS):
                args.impls = ",".join(bench_connections.MODES)
            bench_connections.run(args)
        return
    if args.child:
        child(args)
        return

    sys.path.insert(0, str(REPO))
    import boto3

    from bedrock_provider.emulator.client import EmulatorClient
    from bedrock_provider.emulator.events import create_events_queue

    impls = [i for i in args.impls.split(",") if i]
    if args.with_standalone and "ours-run" not in impls:
        impls.append("ours-run")
    sizes = [int(s) for s in args.sizes.split(",")]
    load_start = loadavg()
    began = time.time()
    busy_start, own_start = machine_busy_seconds(), own_seconds()
    emulator = Emulator()
    try:
        control = EmulatorClient(emulator.endpoint)
        s3 = boto3.client("s3", endpoint_url=emulator.endpoint, region_name=REGION)
        s3.put_object(Bucket=BUCKET, Key=TRAINING_KEY, Body=b'{"prompt": "q?", "completion": "a."}\n' * 20)
        events = boto3.client("events", endpoint_url=emulator.endpoint, region_name=REGION)
        results = []
        for n in sizes:
            for impl in impls:
                control.reset()
                # A queue and rule of its own: no leftover events of the runs before.
                name = f"bench-job-events-{impl}-{n}"
                queue_url = create_events_queue(emulator.endpoint, queue_name=name, rule_name=name)
                print(f"measuring {impl} with N={n} ...", file=sys.stderr, flush=True)
                try:
                    results.append(run_child(args, impl, n, emulator.endpoint, queue_url))
                finally:
                    events.remove_targets(Rule=name, Ids=["bedrock-job-events-queue"])
                    events.delete_rule(Name=name)
    finally:
        emulator.stop()
    load_end = loadavg()
    elapsed = time.time() - began
    others = machine_busy_seconds() - busy_start - (own_seconds() - own_start)
    print(table(results))
    print()
    print("\n".join(goals(results, args.interval)))
    print()
    print(
        f"Machine: {os.cpu_count()} CPUs. During the {elapsed:.0f} s run, other processes used "
        f"{max(others, 0.0):.0f} CPU-seconds ({max(others, 0.0) / (elapsed * (os.cpu_count() or 1)):.0%} "
        f"of the machine); 1-min load average {load_start:.2f} at start, {load_end:.2f} at end."
    )
    print(
        "Ours is driven by airflow.triggers.shared_stream.SharedStreamManager (subscribe, "
        "filter_shared_stream, unsubscribe, as TriggerRunner.run_trigger does); amazon by its run()."
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
