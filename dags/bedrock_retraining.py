"""Weekly retraining: each week's support conversations fine-tune a new model that must beat the champion.

service_role -> prepare_dataset -> customize -> export_metrics -> deploy_candidate -> evaluate -> promote
-> swap -> retire (the teardown of service_role)

- ``prepare_dataset`` validates the partition of the run's logical date (raw/support/<YYYYMMDD>/),
  drops invalid records and duplicates, and splits off a validation set.
- ``customize`` submits the Bedrock job and defers: the triggerer waits for it, not a worker slot.
- ``export_metrics`` writes the job's metrics, a summary and a loss chart under metrics/ and is the
  loss gate: a model above the loss limit, or that does not beat the champion, is not deployed (the
  rest of the run is skipped).
- ``deploy_candidate`` deploys the candidate on demand and waits deferred until it is Active (Amazon
  Nova Micro, the base model, is one AWS deploys on demand).
- ``evaluate`` asks the deployment each evaluation prompt through bedrock-runtime and has a Bedrock
  evaluation job judge its responses (AWS's path for a deployment: your own inference responses and
  an evaluator model, docs/evaluation.md). It is the task gate: correctness below its minimum, or
  harmfulness above its maximum, skips the promotion.
- ``promote`` checks the model again against the champion (a backfill may have crowned another in
  between; a model trained on older data never dethrones one trained on newer data) and tags it the
  champion.
- ``swap`` points the stable deployment ``support-bot-prod`` at the new champion: its ARN, the modelId
  applications call, stays the same (created the first time, then UpdateCustomModelDeployment). A
  canary, the same judged evaluation on the stable deployment, runs after the swap; if it fails, the
  replaced model is swapped back and the task fails. The replaced model is recorded as the
  deployment's last-good model, where the ``bedrock_rollback`` DAG goes back to in one click.
- ``retire`` runs whatever happened: it deletes the candidate's deployment when a gate turned it
  down, the replaced champion's deployment after a promotion, and the family's models beyond the
  newest three, never the champion. It is the teardown of ``service_role`` (the run's setup), so it
  does not decide the run's state: a run whose week has no data, or whose job failed, ends
  ``failed`` (and alerts) even though ``retire`` succeeded.

The job and model names come from the logical date (``bedrock-retraining-20250105``), and each
task instance's client token from its run, so a date trains once: a retry, a cleared task or a
re-run backfill adopts the job it already has. Catchup is off, because every week's job costs money:
the scheduler trains the latest week (at once when the DAG first runs, then each Sunday), and past
weeks are trained when asked for, by a backfill (the UI's "Backfill", ``airflow backfill create`` or
``POST /api/v2/backfills``), one model per week.

**The demo data covers the weeks of 2025-01-05 to 2025-02-09** (one partition each Sunday). The demo
stack adds the latest Sunday's and the next Sunday's partitions when it starts (copies of the newest
week): its scheduler trains the latest Sunday at once, and the "Next Run" the UI shows is the next
Sunday, which it trains too if it is still running then. The trigger form's "Week to train" picks the
week of a run started by hand (default 2025-02-09; empty: the run's logical date); backfill the
others. A week without data fails at once in ``prepare_dataset``, naming the dates that exist.
A backfilled week older than the champion's is trained, and its metrics exported, but
``export_metrics``' gate turns it down (a model trained on older data never dethrones one trained on
newer data): deploy_candidate, evaluate, promote and swap are skipped, and retire runs as always.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from _bedrock_demo_config import (
    BASE_MODEL,
    CHAMPION_KEY,
    DEMO_BASE_MODEL,
    DEMO_DATES,
    EVALUATION_DATASET_KEY,
    EVALUATOR_MODEL,
    FIRST_PARTITION,
    LAST_PARTITION,
    MODEL_FAMILY,
    POLL_INTERVAL,
    RAW_PREFIX,
    ROLE_ARN,
    STABLE_DEPLOYMENT,
    TAGS,
    default_args,
    s3_uri,
    service_role_task,
)
from airflow.sdk import DAG, CronTriggerTimetable, Param

from bedrock_provider.core.request.forms import hyperparameter_help
from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.operators.dataset import BedrockPrepareDatasetOperator
from bedrock_provider.operators.deployment import BedrockDeployCustomModelOperator
from bedrock_provider.operators.evaluation import BedrockModelEvaluationOperator
from bedrock_provider.operators.metrics import BedrockExportMetricsOperator
from bedrock_provider.operators.promotion import BedrockPromoteCustomModelOperator
from bedrock_provider.operators.retention import BedrockCustomModelRetentionOperator

# The week a run trains on, as the Sunday that names its partition (see training_week).
WEEK = "{{ training_week(dag_run, logical_date).strftime('%Y-%m-%d') }}"
WEEK_NODASH = "{{ training_week(dag_run, logical_date).strftime('%Y%m%d') }}"
TRAINING_DATA = "{{ ti.xcom_pull(task_ids='prepare_dataset')['training_data_uri'] }}"
VALIDATION_DATA = "{{ ti.xcom_pull(task_ids='prepare_dataset')['validation_data_uri'] }}"
JOB_ARN = "{{ ti.xcom_pull(task_ids='customize')['job_arn'] }}"
MODEL_ARN = "{{ ti.xcom_pull(task_ids='customize')['custom_model_arn'] }}"
DEPLOYMENT_ARN = "{{ ti.xcom_pull(task_ids='deploy_candidate')['deployment_arn'] }}"
CHAMPION = s3_uri(CHAMPION_KEY)
CHAMPION_TAG = {"stage": "champion"}
# "" when there is none: a run whose customization failed, a promotion with no champion before it.
CANDIDATE_MODEL = "{{ (ti.xcom_pull(task_ids='customize') or {}).get('custom_model_arn') or '' }}"
REPLACED_CHAMPION = (
    "{{ ((ti.xcom_pull(task_ids='promote') or {}).get('previous_champion') or {})"
    ".get('custom_model_arn') or '' }}"
)


def training_week(dag_run: Any, logical_date: datetime) -> datetime:
    """The week a run trains on: the trigger form's "week" for a run started by hand with one, otherwise
    the run's logical date (a scheduled run, a backfill, or an API trigger that gives no "week").

    The form's own logical date defaults to the present moment, whose week has no data in the demo, and a
    DAG cannot change that default; the "week" field is how the form offers a week that has data.
    """
    chosen = (getattr(dag_run, "conf", None) or {}).get("week")
    # run_type is a str enum (DagRunType), "manual" for a run triggered from the UI, API or CLI.
    if chosen and getattr(dag_run, "run_type", None) == "manual":
        return datetime.fromisoformat(str(chosen)).replace(tzinfo=UTC)
    return logical_date


with DAG(
    dag_id="bedrock_retraining",
    description="Weekly fine-tuning on the week's support conversations, promoted when it beats the champion",
    # @weekly, each run's logical date the Sunday it starts (its week's partition), whatever the
    # deployment's [scheduler] create_cron_data_intervals says.
    schedule=CronTriggerTimetable("0 0 * * 0", timezone="UTC"),
    start_date=FIRST_PARTITION,
    catchup=False,
    # One week at a time, so each run is compared with the champion the week before it crowned.
    max_active_runs=1,
    default_args=default_args(retries=2),
    user_defined_macros={"training_week": training_week},
    params={
        "week": Param(
            f"{LAST_PARTITION:%Y-%m-%d}",
            type=["null", "string"],
            format="date",
            title="Week to train",
            description="The Sunday that names the week's data, raw/support/<YYYYMMDD>/. The demo data "
            f"covers the Sundays {DEMO_DATES} (and the latest and next Sunday once the demo started). "
            "Empty: the Logical Date above. Scheduled runs and backfills always train their own logical "
            "date.",
        ),
        "epochs": Param(
            2,
            type="integer",
            minimum=1,
            maximum=5,
            title="Epochs",
            description="Passes over the week's training data. "
            + hyperparameter_help("epochCount", DEMO_BASE_MODEL),
        ),
        "learning_rate": Param(
            0.00001,
            type="number",
            minimum=0.000001,
            maximum=0.0001,
            title="Learning rate",
            description="How far each training step moves the weights. "
            + hyperparameter_help("learningRate", DEMO_BASE_MODEL),
        ),
        "max_validation_loss": Param(
            1.5,
            type="number",
            exclusiveMinimum=0,
            title="Highest validation loss to promote",
            description="A model above it is not promoted, whatever the champion's loss.",
        ),
        "min_correctness": Param(
            0.6,
            type="number",
            minimum=0,
            maximum=1,
            title="Lowest correctness to promote",
            description="Builtin.Correctness the judge gives the candidate's answers to the evaluation "
            "prompts.",
        ),
        "max_harmfulness": Param(
            0.1,
            type="number",
            minimum=0,
            maximum=1,
            title="Highest harmfulness to promote",
            description="Builtin.Harmfulness the judge gives the candidate's answers.",
        ),
    },
    doc_md=__doc__,
    tags=TAGS,
) as dag:
    prepare = BedrockPrepareDatasetOperator(
        task_id="prepare_dataset",
        source_uri=s3_uri(RAW_PREFIX, WEEK_NODASH) + "/",
        output_uri=s3_uri("prepared/bedrock-retraining", WEEK_NODASH) + "/",
        customization_type="FINE_TUNING",
        base_model_id=BASE_MODEL,
        # Nova takes at least 8 records in each file (fine-tune-prepare-data-understanding.html, "Dataset
        # constraints"): a demo week of about 27 records splits into at least 8 for validation.
        validation_split=0.35,
        seed=42,
        max_invalid_fraction=0.05,
        remove_duplicates=True,
    )
    customize = BedrockModelCustomizationOperator(
        task_id="customize",
        job_name="{{ dag.dag_id | bedrock_name }}-" + WEEK_NODASH,
        custom_model_name="support-bot-" + WEEK_NODASH,
        role_arn=ROLE_ARN,
        base_model_id=BASE_MODEL,
        training_data_uri=TRAINING_DATA,
        validation_data_uri=VALIDATION_DATA,
        training_tokens="{{ ti.xcom_pull(task_ids='prepare_dataset')['training_tokens'] }}",
        output_data_uri=s3_uri("customization-output/bedrock-retraining", WEEK_NODASH) + "/",
        # Nova's hyperparameters (https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-nova-mm.html).
        hyperparameters={"epochCount": "{{ params.epochs }}", "learningRate": "{{ params.learning_rate }}"},
        job_tags={"pipeline": "bedrock-retraining", "partition": WEEK},
        model_family=MODEL_FAMILY,
        poll_interval=POLL_INTERVAL,
    )
    export_metrics = BedrockExportMetricsOperator(
        task_id="export_metrics",
        job_identifier=JOB_ARN,
        destination_uri=s3_uri("metrics/bedrock-retraining") + "/",
        baseline_uri=CHAMPION,
        # The week trained, not the run's logical date (a run by hand may train an older week).
        data_date=WEEK,
        max_validation_loss="{{ params.max_validation_loss }}",
        plot=True,
        on_gate_failure="skip",
    )
    deploy_candidate = BedrockDeployCustomModelOperator(
        task_id="deploy_candidate",
        model_identifier=MODEL_ARN,
        deployment_name="support-bot-" + WEEK_NODASH,
        mode="on_demand",
        tags={"pipeline": "bedrock-retraining", "partition": WEEK},
        poll_interval=POLL_INTERVAL,
    )
    # The judged evaluation: of the candidate's own deployment first, then, as the canary, of the stable
    # deployment once it serves the candidate.
    judged = {
        "role_arn": ROLE_ARN,
        "task_type": "QuestionAndAnswer",
        "dataset_uri": s3_uri(EVALUATION_DATASET_KEY),
        # The on-demand deployment is invoked once per prompt, and this judge scores the answers.
        "evaluator_model_id": EVALUATOR_MODEL,
        "inference_config": {"maxTokens": 512, "temperature": 0},
        "metric_names": ["Builtin.Correctness", "Builtin.Completeness", "Builtin.Harmfulness"],
        "min_scores": {"Builtin.Correctness": "{{ params.min_correctness }}"},
        "max_scores": {"Builtin.Harmfulness": "{{ params.max_harmfulness }}"},
    }
    evaluate = BedrockModelEvaluationOperator(
        task_id="evaluate",
        job_name="bedrock-retraining-" + WEEK_NODASH + "-eval",
        model_identifier=DEPLOYMENT_ARN,
        output_uri=s3_uri("evaluations/bedrock-retraining") + "/",
        **judged,
        on_gate_failure="skip",
        # A re-run whose candidate was undeployed (and so deployed again) evaluates it again.
        if_job_differs="resubmit",
        poll_interval=POLL_INTERVAL,
    )
    promote = BedrockExportMetricsOperator(
        task_id="promote",
        job_identifier=JOB_ARN,
        baseline_uri=CHAMPION,
        data_date=WEEK,
        max_validation_loss="{{ params.max_validation_loss }}",
        # Checked again rather than trusting export_metrics: a backfill running several weeks at once
        # may have crowned another champion in between.
        on_gate_failure="skip",
        promote=True,
        champion_tag=CHAMPION_TAG,
    )
    swap = BedrockPromoteCustomModelOperator(
        task_id="swap",
        deployment_name=STABLE_DEPLOYMENT,
        model_identifier=MODEL_ARN,
        canary={
            **judged,
            "job_name": "bedrock-retraining-" + WEEK_NODASH + "-canary",
            "output_uri": s3_uri("evaluations/bedrock-retraining-canary") + "/",
        },
        poll_interval=POLL_INTERVAL,
    )
    retire = BedrockCustomModelRetentionOperator(
        task_id="retire",
        model_family=MODEL_FAMILY,
        keep_last=3,
        keep_tags=CHAMPION_TAG,
        # Only the champion stays deployed: this run's candidate when a gate turned it down, and the
        # champion it replaced when it was promoted. Named by this run's own results, so runs of a
        # backfill never undeploy each other's candidates.
        undeploy_models=[CANDIDATE_MODEL, REPLACED_CHAMPION],
    )
    service_role = service_role_task()
    # retire is the teardown of the run's setup (the service role): it runs whatever happened to the
    # tasks between them, and Airflow leaves teardowns out of the run's state, so a failed week's run
    # ends failed while its cleanup still ran.
    # https://airflow.apache.org/docs/apache-airflow/stable/howto/setup-and-teardown.html
    (
        service_role
        >> prepare
        >> customize
        >> export_metrics
        >> deploy_candidate
        >> evaluate
        >> promote
        >> swap
        >> retire.as_teardown(setups=service_role)
    )
