"""Waiting across connections: N waits over five AWS connections in one triggerer process.

    python benchmarks/bench_waiting.py --connections                   # 5,000 waits (ours), 500 (amazon)
    python benchmarks/bench_waiting.py --connections --sizes 100 --amazon-n 50 --interval 2 --steady 4

The five connections are what a team's triggerer sees: account A in us-east-1 and in us-west-2
(static keys), account B in both Regions through a role it assumes (``role_arn``), and one connection
holding a long-term Bedrock API key (``bedrock_api_key``). Each connection reaches an emulator of its
own, started for its account and Region (``--account-id``, ``--region``), as each account and Region
is a Bedrock endpoint of its own on AWS: a connection's list sees its jobs only, and its job events go
to its account's and Region's bus and queue. Waits are spread evenly over the connections. Each row is
one child process; the emulators run in processes of their own, so their CPU is not counted:

- ours, poll: ``BedrockModelCustomizationTrigger`` through Airflow's ``SharedStreamManager``: one
  shared list loop per connection;
- ours, push: the same with ``events_queue_url``, the queue of the connection's account and Region;
- amazon: ``BedrockCustomizeModelCompletedTrigger.run()`` per job, at a size it can hold.

Per connection: List rounds and List pages per minute (a round follows every page of one list),
Get calls per minute, and the time from each job's end to its trigger's event (p50, p99). Memory per
wait and CPU are the process's: one process holds every connection's waits.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import sys
import time
import uuid
from collections import Counter
from typing import Any

from waiting.connections import ACCOUNT_A, CONNECTIONS, connection_env, count_calls, events_queue
from waiting.measures import dump_memory, loadavg, percentile, rss_kb
from waiting.processes import (
    BUCKET,
    END_JOBS,
    READY_TIMEOUT,
    REGION,
    ROLE_ARN,
    TRAINING_KEY,
    Emulator,
    child_environment,
    end_jobs,
    run_child,
)
from waiting.report import LABELS, fmt
from waiting.stages import StageClock, format_breakdown

IMPLEMENTATIONS = ("ours-poll", "ours-push", "amazon")
GOAL_MEMORY_MIB = 0.02
GOAL_PUSH_P99 = 1.0


def job_prefix(run: str, conn_index: int) -> str:
    return f"{run}-c{conn_index}-"


def job_names(run: str, n: int) -> list[str]:
    """The N jobs of a run, spread evenly over the connections."""
    return [f"{job_prefix(run, i % len(CONNECTIONS))}{i}" for i in range(n)]


def owners(n: int) -> list[str]:
    """The connection each of the N jobs is waited on through."""
    return [CONNECTIONS[i % len(CONNECTIONS)][0] for i in range(n)]


def child(args: argparse.Namespace) -> None:
    os.environ.update(
        {
            **child_environment("bench-connections-airflow-"),
            **connection_env(json.loads(args.queues), args.api_key),
        }
    )
    import logging

    import aiobotocore.session  # noqa: F401
    import boto3
    from airflow.providers.amazon.aws.triggers.bedrock import BedrockCustomizeModelCompletedTrigger
    from airflow.triggers.shared_stream import SharedStreamManager

    from bedrock_provider.triggers.customization import BedrockModelCustomizationTrigger

    logging.getLogger().setLevel(logging.WARNING)
    targets: dict[str, dict[str, str]] = json.loads(args.queues)
    clients = {
        conn_id: boto3.client("bedrock", endpoint_url=targets[conn_id]["endpoint"], region_name=REGION)
        for conn_id, _, _, _ in CONNECTIONS
    }
    n, interval, per = args.n, args.interval, len(CONNECTIONS)
    names = job_names(args.run, n)
    for i, name in enumerate(names):
        clients[CONNECTIONS[i % per][0]].create_model_customization_job(
            jobName=name,
            customModelName=f"{name}-m",
            roleArn=ROLE_ARN,
            baseModelIdentifier="amazon.titan-text-express-v1",
            trainingDataConfig={"s3Uri": f"s3://{BUCKET}/{TRAINING_KEY}"},
            outputDataConfig={"s3Uri": f"s3://{BUCKET}/output/"},
        )
    calls: Counter[tuple[str, str]] = Counter()
    rounds: Counter[str] = Counter()
    count_calls(calls, rounds)
    stages = StageClock()
    if args.impl == "ours-push":
        stages.install()
    fired: dict[int, float] = {}
    manager = SharedStreamManager()

    async def wait_one(i: int) -> None:
        conn_id = CONNECTIONS[i % per][0]
        if args.impl == "amazon":
            amazon = BedrockCustomizeModelCompletedTrigger(
                job_name=names[i], waiter_delay=interval, waiter_max_attempts=1_000_000, aws_conn_id=conn_id
            )
            async for _ in amazon.run():
                fired[i] = time.time()
            return
        push = args.impl == "ours-push"
        ours = BedrockModelCustomizationTrigger(
            names[i],
            poll_interval=interval,
            aws_conn_id=conn_id,
            events_queue_url=targets[conn_id]["queue"] if push else None,
        )
        key = ours.shared_stream_key()
        stream = manager.subscribe(trigger_id=i, trigger=ours, key=key)
        try:
            async for _ in ours.filter_shared_stream(stream):
                fired[i] = time.time()
        finally:
            await manager.unsubscribe(i, key)

    async def measure() -> dict[str, Any]:
        gc.collect()
        baseline = rss_kb()
        dump_memory(f"{args.impl}-baseline")
        tasks = []
        for i in range(n):
            tasks.append(asyncio.create_task(wait_one(i)))
            await asyncio.sleep(interval / n)
        # Every wait has been seen by its first list round or describe, then one interval more.
        ready_by = time.time() + READY_TIMEOUT
        while time.time() < ready_by and (
            sum(calls[(conn, "GetModelCustomizationJob")] for conn, _, _, _ in CONNECTIONS) < n
            if args.impl != "ours-poll"
            else len(rounds) < per
        ):
            await asyncio.sleep(0.25)
        await asyncio.sleep(interval)
        gc.collect()
        waiting = rss_kb()
        dump_memory(f"{args.impl}-waiting")
        start, cpu_start, calls_start, rounds_start = (
            time.time(),
            time.process_time(),
            Counter(calls),
            Counter(rounds),
        )
        await asyncio.sleep(args.steady)
        window, cpu = time.time() - start, time.process_time() - cpu_start
        in_window = dict(Counter(calls) - calls_start), dict(Counter(rounds) - rounds_start)
        print(f"{END_JOBS} {args.run} {n}", flush=True)
        ending_cpu = time.process_time()
        await asyncio.wait(
            [asyncio.ensure_future(asyncio.to_thread(sys.stdin.readline))], timeout=READY_TIMEOUT
        )
        await asyncio.wait(tasks, timeout=3 * interval + 10)
        ending_cpu = time.process_time() - ending_cpu
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {
            "baseline": baseline,
            "waiting": waiting,
            "window": window,
            "cpu": cpu,
            "in_window": in_window,
            "ending_cpu": ending_cpu,
        }

    measured = asyncio.run(measure())
    ends: dict[str, float] = {}
    for bedrock in clients.values():
        for page in bedrock.get_paginator("list_model_customization_jobs").paginate(nameContains=args.run):
            for job in page["modelCustomizationJobSummaries"]:
                if job.get("endTime"):
                    ends[job["jobName"]] = job["endTime"].timestamp()
    window_min = measured["window"] / 60
    window_calls, window_rounds = measured["in_window"]
    per_connection = {}
    for index, (conn_id, _, _, _) in enumerate(CONNECTIONS):
        mine = [i for i in range(n) if i % per == index]
        delays = [fired[i] - ends[names[i]] for i in mine if i in fired and names[i] in ends]
        per_connection[conn_id] = {
            "waits": len(mine),
            "fired": sum(1 for i in mine if i in fired),
            "list_rounds_per_min": window_rounds.get(conn_id, 0) / window_min,
            "list_pages_per_min": window_calls.get((conn_id, "ListModelCustomizationJobs"), 0) / window_min,
            "gets_per_min": window_calls.get((conn_id, "GetModelCustomizationJob"), 0) / window_min,
            "delay_p50": percentile(delays, 50),
            "delay_p99": percentile(delays, 99),
            "stages": stages.breakdown(
                [names[i] for i in mine], ends, {names[i]: fired[i] for i in mine if i in fired}
            ),
        }
    print(
        json.dumps(
            {
                "impl": args.impl,
                "n": n,
                "interval": interval,
                "mem_per_wait_kib": (measured["waiting"] - measured["baseline"]) / n,
                "cpu_per_min": measured["cpu"] / window_min,
                # CPU seconds from the first job end to the last event: the push path under load.
                "ending_cpu": measured["ending_cpu"],
                "connections": per_connection,
            }
        ),
        flush=True,
    )


def table(results: list[dict[str, Any]]) -> str:
    rows = [
        "| impl | mode | N | connection | memory/wait (KiB) | CPU s/min | List rounds/min | List pages/min "
        "| Get/min | delay p50 (s) | delay p99 (s) | fired |",
        "|" + "---|" * 12,
    ]
    for result in results:
        impl, mode = LABELS[result["impl"]]
        for conn_id, c in result["connections"].items():
            rows.append(
                f"| {impl} | {mode} | {result['n']} | {conn_id} | {fmt(result['mem_per_wait_kib'])} "
                f"| {fmt(result['cpu_per_min'], 2)} | {fmt(c['list_rounds_per_min'])} "
                f"| {fmt(c['list_pages_per_min'])} | {fmt(c['gets_per_min'])} | {fmt(c['delay_p50'], 2)} "
                f"| {fmt(c['delay_p99'], 2)} | {c['fired']}/{c['waits']} |"
            )
    return "\n".join(rows)


def goals(results: list[dict[str, Any]], interval: float) -> list[str]:
    lines = []
    for result in results:
        if result["impl"] == "amazon":
            continue
        label = " ".join(LABELS[result["impl"]])
        mib = result["mem_per_wait_kib"] / 1024
        lines.append(
            f"- {label}: memory per wait {mib:.4f} MiB vs <= {GOAL_MEMORY_MIB} MiB: "
            f"{'MET' if mib <= GOAL_MEMORY_MIB else 'MISSED'}"
        )
        if result["impl"] == "ours-poll":
            # One round an interval; a round that starts late in the window counts whole: +1 of slack.
            most = max(c["list_rounds_per_min"] for c in result["connections"].values())
            limit = 60 / interval * 1.1
            lines.append(
                f"- {label}: List rounds per connection, at most {most:.1f}/min vs one per interval "
                f"({60 / interval:.0f}/min, +10%): {'MET' if most <= limit else 'MISSED'}"
            )
        if result["impl"] == "ours-push":
            worst = max((c["delay_p99"] or math.inf) for c in result["connections"].values())
            lines.append(
                f"- {label}: delay p99, worst connection {worst:.2f} s vs < {GOAL_PUSH_P99} s: "
                f"{'MET' if worst < GOAL_PUSH_P99 else 'MISSED'}"
            )
    return lines


def run(args: argparse.Namespace) -> None:
    """The parent: an emulator per connection (its account and Region), one child per row."""
    import boto3

    from bedrock_provider.emulator.client import EmulatorClient

    emulators: dict[str, Any] = {}
    results = []
    try:
        for conn_id, extra, _, account in CONNECTIONS:
            # Account B's emulator does not check the jobs' service role: it lives in account A's IAM.
            checks = ("--no-role-check",) if account != ACCOUNT_A else ()
            emulators[conn_id] = Emulator("--region", extra["region_name"], "--account-id", account, *checks)
            s3 = boto3.client("s3", endpoint_url=emulators[conn_id].endpoint, region_name=REGION)
            s3.put_object(
                Bucket=BUCKET, Key=TRAINING_KEY, Body=b'{"prompt": "q?", "completion": "a."}\n' * 20
            )
        api_key = EmulatorClient(emulators["api_key_us_east_1"].endpoint).issue_api_key()
        impls = [impl for impl in args.impls.split(",") if impl]
        for impl in impls:
            n = args.amazon_n if impl == "amazon" else args.connections_n
            run_id = f"bc-{impl}-{uuid.uuid4().hex[:6]}"
            targets = {}
            for conn_id, extra, _, account in CONNECTIONS:
                endpoint = emulators[conn_id].endpoint
                EmulatorClient(endpoint).reset_counts()
                queue = (
                    events_queue(endpoint, account, extra["region_name"], run_id)
                    if impl == "ours-push"
                    else ""
                )
                targets[conn_id] = {"endpoint": endpoint, "queue": queue}
            print(
                f"measuring {impl} with N={n} over {len(CONNECTIONS)} connections ...",
                file=sys.stderr,
                flush=True,
            )
            endpoint_of = {
                name: targets[conn_id]["endpoint"]
                for name, conn_id in zip(job_names(run_id, n), owners(n), strict=True)
            }

            def end(prefix: str, count: int, lookup: dict[str, str] = endpoint_of) -> None:
                end_jobs("", job_names(prefix, count), args.spread, lookup.__getitem__)

            extra_args = (
                "--connections",
                "--run",
                run_id,
                "--api-key",
                api_key,
                "--queues",
                json.dumps(targets),
            )
            load_before = loadavg()
            results.append(run_child(args, impl, n, "", "", extra_args, end))
            results[-1]["load"] = (load_before, loadavg())
            # Which scheme signed the calls: bearer only on the API-key connection's emulator.
            results[-1]["auth"] = {
                conn_id: EmulatorClient(targets[conn_id]["endpoint"]).auth_counts()
                for conn_id, _, _, _ in CONNECTIONS
            }
    finally:
        for emulator in emulators.values():
            emulator.stop()
    print(table(results))
    print()
    for result in results:
        label = " ".join(LABELS[result["impl"]])
        print(
            f"1-min load average during {label}: {result['load'][0]:.2f} at start, "
            f"{result['load'][1]:.2f} at end; the waits' process used {result['ending_cpu']:.1f} CPU-s "
            f"while the jobs ended"
        )
        for conn_id, c in result["connections"].items():
            if result["impl"] == "ours-push":
                print(format_breakdown(f"Push path of {conn_id}", c["stages"]))
    print()
    for result in results:
        label = " ".join(LABELS[result["impl"]])
        for conn_id, counts in result["auth"].items():
            schemes = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
            print(f"Calls {conn_id}'s emulator received during {label}, by scheme: {schemes}")
    print()
    print(f"Goals (poll interval {args.interval:g} s):")
    print("\n".join(goals(results, args.interval)))
