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
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from waiting.measures import loadavg, machine_busy_seconds, own_seconds, percentile, rss_kb
from waiting.processes import (
    BUCKET,
    END_JOBS,
    READY_TIMEOUT,
    REGION,
    REPO,
    ROLE_ARN,
    TRAINING_KEY,
    Emulator,
    child_environment,
    run_child,
)
from waiting.report import LABELS, goals, table

IMPLEMENTATIONS = ("amazon", "ours-poll", "ours-push")


# --------------------------------------------------------------------------------------- child


def child(args: argparse.Namespace) -> None:
    """One (implementation, N) measurement; prints one JSON line."""
    os.environ.update(
        {
            **child_environment("bench-waiting-airflow-"),
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
                args.impls = ",".join(bench_connections.IMPLEMENTATIONS)
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
