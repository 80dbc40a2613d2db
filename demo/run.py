"""The demo: the weekly retraining DAG, run by real Airflow against the local Bedrock emulator.

    python -m demo.run                     # start the stack in .demo/, run bedrock_retraining once, stop
    python -m demo.run --keep              # ... and leave the stack (and its UI) running
    python -m demo.run --executor celery   # the same on the CeleryExecutor (Redis, 2 workers, 2 triggerers)
    python -m demo.run --stop              # stop a stack left running

It starts PostgreSQL and the emulator, uploads demo/data as the weekly partitions of the demo bucket
(and the newest week again as the latest Sunday's and the next Sunday's), then starts Airflow's
api-server, scheduler, dag-processor and triggerer (demo/stack.py; with --executor celery also Redis,
two Celery workers and a second triggerer), and lets the scheduler start bedrock_retraining's weekly
run for the latest Sunday, as a deployment of it would. It follows that run's tasks (the customization
task waits deferred, in the triggerer) and prints what the run did. ``--logical-date`` trains a week of
the demo data instead: it is triggered through the REST API, and the scheduler starts nothing of its
own.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bedrock_provider.core.catalog.cost import summarize
from bedrock_provider.core.datasets.plan import counted
from bedrock_provider.core.lifecycle.promotion import LAST_GOOD_TAG
from demo.airflow_api import ApiError
from demo.processes import StackError, free_port, port_is_free, stop_recorded, wait_for
from demo.seed import DAG_SETTINGS, DEMO_DATA, REPO, bedrock_client
from demo.settings import EXECUTORS
from demo.stack import LocalStack

DAG_ID = "bedrock_retraining"
# The stable deployment the retraining DAG swaps its champions behind.
STABLE_DEPLOYMENT = DAG_SETTINGS.STABLE_DEPLOYMENT
DEFAULT_HOME = REPO / ".demo"
DEFAULT_UI_PORT = 8080


def first_scheduled_run(stack: LocalStack) -> dict[str, Any] | None:
    """The run the scheduler started from the weekly schedule (the stack's first), once it exists.

    Its week is the latest Sunday, or the next one when a Sunday began while the stack started: the
    seed holds both.
    """
    runs = stack.api.dag_runs(DAG_ID, run_type=["scheduled"], order_by="logical_date")
    return runs[0] if runs else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m demo.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the stack running (stop it with --stop)")
    parser.add_argument("--stop", action="store_true", help="stop a stack left running by --keep, and exit")
    parser.add_argument(
        "--home", type=Path, default=DEFAULT_HOME, help="where the stack lives (default: .demo)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_UI_PORT,
        help="port of the Airflow UI and API (default 8080, or a free one)",
    )
    parser.add_argument(
        "--job-duration", type=float, default=5.0, help="seconds an emulated job runs (default 5)"
    )
    parser.add_argument(
        "--logical-date",
        type=lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC),
        default=None,
        help="a week of the demo data to train on, triggered by hand, e.g. 2025-02-09 (default: the "
        "latest Sunday, the run the scheduler starts)",
    )
    parser.add_argument(
        "--then",
        type=lambda text: datetime.fromisoformat(text).replace(tzinfo=UTC),
        action="append",
        default=[],
        help="after the first run, trigger the week of this date too (repeatable), e.g. --then 2025-02-09: "
        "the stable deployment keeps its ARN while the model behind it is swapped",
    )
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds the run may take (default 240)")
    parser.add_argument(
        "--executor",
        choices=sorted(EXECUTORS),
        default="local",
        help="local: the LocalExecutor (default); celery: the CeleryExecutor with a Redis broker, "
        "two Celery workers and two triggerers",
    )
    return parser


class RunFollower:
    """Prints each task's state changes while the run goes."""

    def __init__(self, stack: LocalStack, run_id: str):
        self.stack = stack
        self.run_id = run_id
        self.started = time.monotonic()
        self.states: dict[str, str | None] = {}

    def poll(self) -> dict[str, Any] | None:
        for instance in self.stack.api.task_instances(DAG_ID, self.run_id):
            task_id, state = instance["task_id"], instance["state"]
            if state is not None and self.states.get(task_id) != state:
                self.states[task_id] = state
                note = "  (waiting in the triggerer, no worker slot held)" if state == "deferred" else ""
                print(f"  {time.monotonic() - self.started:6.1f} s  {task_id:<16} {state}{note}", flush=True)
        run = self.stack.api.dag_run(DAG_ID, self.run_id)
        return run if run["state"] in ("success", "failed") else None


TASKS = (
    "prepare_dataset",
    "customize",
    "export_metrics",
    "deploy_candidate",
    "evaluate",
    "promote",
    "swap",
    "retire",
)


def _loss(summary: dict[str, Any] | None) -> str:
    return "-" if not summary else f"{summary['final_loss']:.4f}"


def _results(
    stack: LocalStack, run_id: str, instances: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Each finished task's XCom (a dict), or {} when it pushed none."""
    results: dict[str, dict[str, Any]] = {}
    for task_id in TASKS:
        results[task_id] = {}
        if instances.get(task_id, {}).get("state") in ("success", "failed", "skipped"):
            try:
                value = stack.api.xcom(DAG_ID, run_id, task_id)
            except ApiError:
                continue
            results[task_id] = value if isinstance(value, dict) else {}
    return results


def _notes(results: dict[str, dict[str, Any]], promote_state: str | None) -> dict[str, str]:
    """The result column of the table, one short line per task."""
    prepared, job, metrics, deployment, evaluation, promotion, swap, retired = (
        results[task] for task in TASKS
    )
    notes = dict.fromkeys(TASKS, "")
    if prepared:
        notes["prepare_dataset"] = (
            f"{prepared['records']} records, {prepared['invalid_records']} invalid dropped, "
            f"{prepared['training_records']} training / {prepared['validation_records']} validation"
        )
    if job:
        notes["customize"] = f"{job['job_name']}: {job['status']}"
    if metrics:
        reasons = "; ".join(metrics["gate"]["reasons"])
        notes["export_metrics"] = "gate passed" if metrics["passed"] else f"gate failed: {reasons}"
    if deployment:
        notes["deploy_candidate"] = f"{deployment['deployment_name']}: {deployment['status']}"
    if evaluation:
        scores = ", ".join(
            f"{name.removeprefix('Builtin.')} {value:.3f}" for name, value in evaluation["scores"].items()
        )
        notes["evaluate"] = f"{scores}: gate {'passed' if evaluation['passed'] else 'failed'}"
    if promotion.get("promoted"):
        notes["promote"] = f"{promotion['custom_model_name']} is the champion"
    elif promote_state == "skipped":
        notes["promote"] = "not promoted: it does not beat the champion"
    if swap:
        canary = swap.get("canary") or {}
        checked = f", canary {'passed' if canary.get('passed') else 'failed'}" if canary else ""
        notes["swap"] = f"{swap['deployment_name']}: {swap['status']}{checked}"
    if retired:
        notes["retire"] = (
            f"kept {counted(len(retired['kept']), 'model')}, deleted "
            f"{counted(len(retired['deleted']), 'model')} and "
            f"{counted(len(retired['deleted_deployments']), 'deployment')}"
        )
    return notes


def stable_deployment(stack: LocalStack) -> dict[str, Any]:
    """The stable deployment's ARN, the model it serves and its last-good model ({} before it exists)."""
    bedrock = bedrock_client(stack.running_emulator_url(), stack.region)
    try:
        found = bedrock.get_custom_model_deployment(customModelDeploymentIdentifier=STABLE_DEPLOYMENT)
    except bedrock.exceptions.ResourceNotFoundException:
        return {}
    tags = bedrock.list_tags_for_resource(resourceARN=found["customModelDeploymentArn"])["tags"]
    last_good = {tag["key"]: tag["value"] for tag in tags}.get(LAST_GOOD_TAG)
    return {"arn": found["customModelDeploymentArn"], "model": found["modelArn"], "last_good": last_good}


def stable_lines(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The stable deployment before and after the run: the ARN applications call should not change."""

    def line(when: str, state: dict[str, Any]) -> str:
        if not state:
            return f"{when:<10} (no {STABLE_DEPLOYMENT} deployment yet)"
        return f"{when:<10} {state['arn']} serving {state['model']} (last-good: {state['last_good'] or '-'})"

    if not before:
        same = "created by the run" if after else "none yet"
    else:
        same = (
            "the same ARN after the run"
            if before.get("arn") == after.get("arn")
            else "a new ARN after the run"
        )
    return [
        "",
        f"stable     {STABLE_DEPLOYMENT} ({same})",
        line("  before", before),
        line("  after", after),
    ]


def report(
    stack: LocalStack,
    run: dict[str, Any],
    elapsed: float,
    keep: bool,
    stable_before: dict[str, Any] | None = None,
) -> str:
    """The table printed at the end: tasks, states, the job, its losses and the chart."""
    run_id = run["dag_run_id"]
    instances = {ti["task_id"]: ti for ti in stack.api.task_instances(DAG_ID, run_id)}
    results = _results(stack, run_id, instances)
    notes = _notes(results, instances.get("promote", {}).get("state"))
    # On the CeleryExecutor, which worker ran each task.
    where_header = f"{'worker':<16} " if stack.workers else ""
    lines = [
        f"{DAG_ID}  run {run_id}",
        f"logical date {run['logical_date'][:10]}  state {run['state'].upper()}  in {elapsed:.0f} s",
        "",
        f"{'task':<16} {'state':<9} {'tries':>5} {'seconds':>8}  {where_header}result",
    ]
    for task_id in TASKS:
        ti = instances.get(task_id, {})
        state = ti.get("state") or "-"
        duration = f"{ti['duration']:.1f}" if ti.get("duration") is not None else "-"
        where = f"{stack.component_of_hostname(ti.get('hostname')) or '-':<16} " if stack.workers else ""
        lines.append(
            f"{task_id:<16} {state:<9} {ti.get('try_number', 0):>5} {duration:>8}  {where}{notes[task_id]}"
        )
    job, metrics = results["customize"], results["export_metrics"]
    lines += ["", f"job ARN    {job.get('job_arn', '-')}", f"model ARN  {job.get('custom_model_arn', '-')}"]
    if job:
        lines.append(f"est. cost  {summarize(job.get('estimated_cost'))}")
    deployment, evaluation = results["deploy_candidate"], results["evaluate"]
    if deployment:
        lines.append(f"deployed   {deployment['deployment_arn']}")
    if evaluation:
        lines.append(
            "scores     "
            + ", ".join(f"{name} {value:.4f}" for name, value in evaluation["scores"].items())
            + f" over {evaluation['prompts']} prompts ({evaluation['job_name']})"
        )
        if evaluation.get("responses_uri"):
            lines.append(
                f"evaluated  {evaluation['evaluation_path']}: responses in {evaluation['responses_uri']}"
            )
    if metrics:
        training, validation = _loss(metrics["training"]), _loss(metrics["validation"])
        lines.append(f"losses     training {training}, validation {validation} (final)")
        chart = metrics["artifacts"].get("chart")
        if chart:
            local = stack.download(chart, stack.home / "artifacts" / "loss.png")
            shown = local.relative_to(REPO) if local.is_relative_to(REPO) else local
            lines += [f"chart      {chart}", f"           copied to {shown}"]
    if stable_before is not None:
        lines += stable_lines(stable_before, stable_deployment(stack))
    ui = f"{stack.api_url}/dags/{DAG_ID}/runs/{run_id}"
    lines += ["", f"UI         {ui}" + ("" if keep else "  (stopped; --keep leaves it running)")]
    lines.append(f"logs       {stack.logs_hint()}")
    return "\n".join(lines)


def run_demo(args: argparse.Namespace) -> int:
    home: Path = args.home.resolve()
    stopped = stop_recorded(home)
    if stopped:
        print(f"Stopped the stack left running in {home}: {', '.join(stopped)}")
    # A fresh metadata database each time: the emulator's jobs and objects do not outlive it either.
    shutil.rmtree(home, ignore_errors=True)
    port = args.port if args.port and port_is_free(args.port) else free_port()
    triggered = args.logical_date is not None

    started = time.monotonic()
    stack = LocalStack(
        home,
        job_duration=args.job_duration,
        poll_interval=1.0,
        api_port=port,
        executor=args.executor,
        schedules=not triggered,
    )
    services = "PostgreSQL" + (", Redis" if stack.redis is not None else "")
    print(
        f"Starting the Bedrock emulator, {services} and Airflow on the {EXECUTORS[args.executor]} "
        f"({', '.join(stack.components)}) in {home}"
    )
    try:
        stack.start()
        print(f"  ready in {time.monotonic() - started:.0f} s: Airflow {stack.api_url}")
        print(
            f"  emulator {stack.emulator_url}: {len(stack.seeded)} weekly partitions uploaded "
            f"({DEMO_DATA.relative_to(REPO)}, and its newest week as the latest and the next Sunday)"
        )
        if triggered:
            run = stack.api.trigger(DAG_ID, logical_date=args.logical_date)
            print(f"Triggered {DAG_ID} for the week of {args.logical_date:%Y-%m-%d} through the REST API")
        else:
            run = wait_for(
                lambda: first_scheduled_run(stack),
                60.0,
                f"the scheduler to start {DAG_ID}",
                1.0,
                lambda: stack.log_tail("scheduler"),
            )
            week = datetime.fromisoformat(run["logical_date"])
            print(f"The scheduler started {DAG_ID} for the latest Sunday, {week:%Y-%m-%d}")
        stable_before = stable_deployment(stack)
        follower = RunFollower(stack, run["dag_run_id"])
        run_started = time.monotonic()
        run = wait_for(follower.poll, args.timeout, f"the {DAG_ID} run to finish", 1.0, stack.logs_hint)
        print()
        print(report(stack, run, time.monotonic() - run_started, args.keep, stable_before))
        for logical_date in args.then:
            stable_before = stable_deployment(stack)
            run = stack.api.trigger(DAG_ID, logical_date=logical_date)
            print(f"\nTriggered {DAG_ID} for the week of {logical_date:%Y-%m-%d} through the REST API")
            follower, run_started = RunFollower(stack, run["dag_run_id"]), time.monotonic()
            run = wait_for(follower.poll, args.timeout, f"the {DAG_ID} run to finish", 1.0, stack.logs_hint)
            print()
            print(report(stack, run, time.monotonic() - run_started, args.keep, stable_before))
        print(f"\nDemo finished in {time.monotonic() - started:.0f} s.")
        if args.keep and not triggered:
            print(
                f"Next Run of {DAG_ID}: {week + timedelta(weeks=1):%Y-%m-%d} 00:00 UTC, "
                "which this stack also trains if it is still running then."
            )
        if args.keep:
            print(
                f"The stack keeps running: `make demo-stop` (or python -m demo.run --stop) stops it.\n"
                f"Use the airflow CLI with it: source {home / 'env.sh'}"
            )
        return 0 if run["state"] == "success" else 1
    except (StackError, OSError) as error:
        print(f"\nThe demo failed: {error}\n{stack.logs_hint()}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            stack.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.stop:
        stopped = stop_recorded(args.home.resolve())
        print(
            f"Stopped what the demo started in {args.home}: {', '.join(stopped)}"
            if stopped
            else f"No stack running in {args.home}"
        )
        return 0
    return run_demo(args)


if __name__ == "__main__":
    sys.exit(main())
