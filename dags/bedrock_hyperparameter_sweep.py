"""Hyperparameter sweep: one customization job per point of a small grid, the best kept by validation loss.

prepare_dataset -> hyperparameter_grid -> customize[i] -> export_metrics[i] -> pick_best

``hyperparameter_grid`` turns the run's Params (learning rates x epoch counts) into one set of
operator arguments per point; ``customize`` is mapped over them with dynamic task mapping
(``.partial(...).expand_kwargs(...)``), so every point is its own task instance and its own Bedrock
job, all deferred in the triggerer at once. Each mapped instance names its job and model with the
``bedrock_job_name`` filter (the run, then a digest of the run, task and map index), and each task
instance's client token carries its map index: a retried point adopts its own job and never submits
another point's. ``pick_best`` compares the final validation losses.

Before any job runs, ``hyperparameter_grid`` logs each point's estimated training cost and their sum;
above the ``max_total_estimated_cost`` Param it fails, and no job of the sweep is submitted.
"""

from __future__ import annotations

from typing import Any

from _bedrock_demo_config import (
    BASE_MODEL,
    DEMO_DATES,
    FIRST_PARTITION,
    POLL_INTERVAL,
    RAW_PREFIX,
    ROLE_ARN,
    TAGS,
    UNSCHEDULED,
    default_args,
    s3_uri,
    service_role_task,
)
from airflow.sdk import DAG, Param, task

from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.operators.dataset import BedrockPrepareDatasetOperator
from bedrock_provider.operators.metrics import BedrockExportMetricsOperator


@task
def hyperparameter_grid(params: dict[str, Any], ti: Any = None) -> list[dict[str, Any]]:
    """One dict of operator arguments per (learning rate, epoch count), within the sweep's budget."""
    from bedrock_provider.operators.costs import estimate_sweep

    points = [
        {"hyperparameters": {"epochCount": epochs, "learningRate": learning_rate}}
        for learning_rate in params["learning_rates"]
        for epochs in params["epoch_counts"]
    ]
    prepared = ti.xcom_pull(task_ids="prepare_dataset")
    estimate_sweep(
        BASE_MODEL,
        prepared["training_tokens"],
        [point["hyperparameters"] for point in points],
        params.get("max_total_estimated_cost"),
    )
    return points


# Each mapped task is labelled with its grid point in the UI, not with its index (customize[i] and
# export_metrics[i] are the same point).
GRID_POINT_LABEL = (
    "{% set point = ti.xcom_pull(task_ids='hyperparameter_grid')[ti.map_index]['hyperparameters'] %}"
    "learningRate {{ point.learningRate }}, epochCount {{ point.epochCount }}"
)


# One name per grid point and run, the same on every try of that point: the job's and its model's.
SWEEP_NAME = "{{ ti | bedrock_job_name('sweep') }}"


def job_arn(result: dict[str, Any]) -> str:
    return str(result["job_arn"])


@task
def pick_best(grid: list[dict[str, Any]], summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """The point whose model ended with the lowest validation loss (training loss when there is none)."""

    def loss(summary: dict[str, Any]) -> float:
        return float((summary["validation"] or summary["training"])["final_loss"])

    ranked = sorted(zip(grid, summaries, strict=True), key=lambda pair: loss(pair[1]))
    for point, summary in ranked:
        print(f"{loss(summary):.4f}  {point['hyperparameters']}  {summary['job_name']}")
    point, summary = ranked[0]
    return {
        "job_name": summary["job_name"],
        "job_arn": summary["job_arn"],
        "custom_model_arn": summary["custom_model_arn"],
        "hyperparameters": point["hyperparameters"],
        "loss": loss(summary),
        "loss_kind": "validation" if summary["validation"] else "training",
    }


with DAG(
    dag_id="bedrock_hyperparameter_sweep",
    description="One Bedrock job per point of a hyperparameter grid (dynamic task mapping); keep the best",
    **UNSCHEDULED,
    default_args=default_args(),
    params={
        "partition": Param(
            f"{FIRST_PARTITION:%Y%m%d}",
            type="string",
            pattern=r"^[0-9]{8}$",
            title="Data partition",
            description=f"The week of {RAW_PREFIX}/ to train on, as YYYYMMDD: the demo data covers the "
            f"Sundays from {DEMO_DATES}.",
        ),
        "learning_rates": Param(
            [0.00001, 0.00005],
            type="array",
            items={"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            minItems=1,
            maxItems=4,
            uniqueItems=True,
            title="Learning rates",
            description="Each above 0 and at most 1 (Nova Micro takes 0.000001 to 0.0001; Bedrock's default "
            "0.00001).",
        ),
        "epoch_counts": Param(
            [1, 2],
            type="array",
            items={"type": "integer", "minimum": 1, "maximum": 10},
            minItems=1,
            maxItems=4,
            uniqueItems=True,
            title="Epoch counts",
            description="The grid is every learning rate with every epoch count: one job each.",
        ),
        "max_total_estimated_cost": Param(
            None,
            type=["null", "number"],
            minimum=0,
            title="Budget for the whole sweep (USD)",
            description="Empty: no budget. Above it (the estimates' sum) no job of the sweep is submitted.",
        ),
    },
    doc_md=__doc__,
    tags=TAGS,
) as dag:
    prepare = BedrockPrepareDatasetOperator(
        task_id="prepare_dataset",
        source_uri=s3_uri(RAW_PREFIX, "{{ params.partition }}") + "/",
        output_uri=s3_uri("prepared/sweep", "{{ run_id | bedrock_name }}") + "/",
        base_model_id=BASE_MODEL,
        validation_split=0.2,
        seed=7,
        max_invalid_fraction=0.05,
        remove_duplicates=True,
    )
    grid = hyperparameter_grid()
    customize = BedrockModelCustomizationOperator.partial(
        task_id="customize",
        # Rendered by each mapped instance: the run, then a digest of the run, task and map index.
        job_name=SWEEP_NAME,
        custom_model_name=SWEEP_NAME,
        role_arn=ROLE_ARN,
        base_model_id=BASE_MODEL,
        training_data_uri="{{ ti.xcom_pull(task_ids='prepare_dataset')['training_data_uri'] }}",
        validation_data_uri="{{ ti.xcom_pull(task_ids='prepare_dataset')['validation_data_uri'] }}",
        training_tokens="{{ ti.xcom_pull(task_ids='prepare_dataset')['training_tokens'] }}",
        output_data_uri=s3_uri("customization-output/sweep") + "/",
        job_tags={"pipeline": "bedrock-hyperparameter-sweep"},
        poll_interval=POLL_INTERVAL,
        map_index_template=GRID_POINT_LABEL,
    ).expand_kwargs(grid)
    export_metrics = BedrockExportMetricsOperator.partial(
        task_id="export_metrics",
        destination_uri=s3_uri("metrics/sweep") + "/",
        on_gate_failure="record",
        map_index_template=GRID_POINT_LABEL,
    ).expand(job_identifier=customize.output.map(job_arn))
    service_role_task() >> prepare >> grid
    pick_best(grid, export_metrics.output)
