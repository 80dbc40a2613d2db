"""BedrockModelCustomizationOperator's estimate and budget against the emulator: a refused job makes no
Create call (the emulator's counts prove it), an accepted one returns ``estimated_cost`` in its XCom."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from airflow.sdk.exceptions import AirflowFailException

from bedrock_provider.core.catalog.prices import PRICING_URL, READ_ON
from bedrock_provider.core.errors import InvalidInputError
from bedrock_provider.emulator import BedrockEmulator
from bedrock_provider.operators.base import BedrockAwsMixin
from bedrock_provider.operators.customization import BedrockModelCustomizationOperator
from bedrock_provider.operators.dataset import BedrockPrepareDatasetOperator

BUCKET = "cost-unit"
ROLE_ARN = "arn:aws:iam::123456789012:role/BedrockCustomization"
CONN_ID = "bedrock_cost_unit"
MODEL = "amazon.titan-text-express-v1"
NOVA = "amazon.nova-micro-v1:0:128k"
CREATE = "CreateModelCustomizationJob"
RECORDS = b"".join(
    json.dumps({"prompt": f"Question {i}?", "completion": f"Answer {i}."}).encode() + b"\n" for i in range(40)
)


class FakeTaskInstance:
    dag_id = "cost_unit"
    task_id = "train"
    run_id = "manual__cost"
    map_index = -1
    try_number = 1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


@pytest.fixture(scope="module")
def emulator() -> Iterator[BedrockEmulator]:
    with BedrockEmulator(job_duration=0.5) as emu:
        s3 = boto3.client("s3", endpoint_url=emu.endpoint_url, region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="data/train.jsonl", Body=RECORDS)
        iam = boto3.client("iam", endpoint_url=emu.endpoint_url, region_name="us-east-1")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "bedrock.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        iam.create_role(RoleName=ROLE_ARN.rsplit("/", 1)[-1], AssumeRolePolicyDocument=json.dumps(trust))
        yield emu


@pytest.fixture
def emu(emulator: BedrockEmulator, monkeypatch: pytest.MonkeyPatch) -> BedrockEmulator:
    """The module's emulator with jobs and counts cleared, reached through an Airflow connection."""
    emulator.reset()
    connection(monkeypatch, emulator)
    return emulator


def connection(monkeypatch: pytest.MonkeyPatch, emu: BedrockEmulator, **extra: Any) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN_ID.upper()}",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": emu.endpoint_url, "region_name": "us-east-1", **extra},
            }
        ),
    )


def customize(name: str, **kwargs: Any) -> BedrockModelCustomizationOperator:
    defaults: dict[str, Any] = {
        "task_id": "train",
        "job_name": name,
        "custom_model_name": f"{name}-model",
        "role_arn": ROLE_ARN,
        "base_model_id": MODEL,
        "training_data_uri": f"s3://{BUCKET}/data/train.jsonl",
        "output_data_uri": f"s3://{BUCKET}/output/",
        "aws_conn_id": CONN_ID,
        "wait_for_completion": False,
    }
    return BedrockModelCustomizationOperator(**{**defaults, **kwargs})


def run(operator: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"ti": FakeTaskInstance()}
    operator.render_template_fields(context)
    result: dict[str, Any] = operator.execute(context)
    return result


def expected_tokens() -> int:
    from bedrock_provider.core.datasets.prepare import validate_bytes

    return validate_bytes(RECORDS, base_model_id=MODEL).training_tokens


def test_a_tiny_budget_refuses_before_any_create(emu: BedrockEmulator) -> None:
    with pytest.raises(AirflowFailException) as caught:
        run(customize("cost-tiny", max_estimated_cost=0.000001))
    assert emu.request_count(CREATE) == 0
    message = str(caught.value)
    tokens = expected_tokens()
    for part in (f"{tokens:,} tokens", "5 epochs", "$0.008 per 1,000 tokens", "max_estimated_cost=$0.000001"):
        assert part in message, part


def test_a_generous_budget_submits_and_returns_the_estimate(emu: BedrockEmulator) -> None:
    result = run(customize("cost-generous", max_estimated_cost="25"))
    assert emu.request_count(CREATE) == 1
    tokens = expected_tokens()
    cost = result["estimated_cost"]
    assert cost["usd"] == pytest.approx(tokens / 1000 * 5 * 0.008) and cost["usd"] > 0
    assert (cost["tokens"], cost["epochs"], cost["price_per_1k_tokens"]) == (tokens, 5, 0.008)
    assert (cost["price_source"], cost["price_date"]) == (PRICING_URL, READ_ON)
    assert cost["tokens_basis"].startswith(f"counted in s3://{BUCKET}/data/train.jsonl")
    # The whole derivation, which the log's one short cost line leaves out.
    assert cost["derivation"].startswith("estimated training cost $") and PRICING_URL in cost["derivation"]


def test_tokens_from_the_prep_operator_are_used_as_given(emu: BedrockEmulator) -> None:
    result = run(customize("cost-given", training_tokens="1000", hyperparameters={"epochCount": 2}))
    assert result["estimated_cost"]["usd"] == pytest.approx(1 * 2 * 0.008)
    assert result["estimated_cost"]["tokens_basis"].startswith("training_tokens parameter")


def test_prep_then_customize_agree_on_tokens(emu: BedrockEmulator, tmp_path: Any) -> None:
    prep = BedrockPrepareDatasetOperator(
        task_id="prepare",
        source_uri=f"s3://{BUCKET}/data/train.jsonl",
        output_uri=f"s3://{BUCKET}/prepared/",
        base_model_id=MODEL,
        aws_conn_id=CONN_ID,
    ).execute({})
    assert prep["training_tokens"] == expected_tokens() and prep["validation_tokens"] == 0
    assert "characters" in prep["tokens_basis"]
    result = run(customize("cost-prep", training_tokens=prep["training_tokens"]))
    assert result["estimated_cost"]["tokens"] == prep["training_tokens"]


def test_connection_extra_prices_a_model_and_the_operator_overrides_it(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection(monkeypatch, emu, bedrock_prices={MODEL: {"training_per_1k_tokens": 1.0}})
    from_connection = run(customize("cost-conn", training_tokens=1000))["estimated_cost"]
    assert (from_connection["usd"], from_connection["price_source"]) == (
        5.0,
        f"connection '{CONN_ID}' extra bedrock_prices['{MODEL}']",
    )
    from_operator = run(
        customize("cost-op", training_tokens=1000, price_overrides={"training_per_1k_tokens": 0.5})
    )["estimated_cost"]
    assert (from_operator["usd"], from_operator["price_source"]) == (2.5, "price_overrides")


def test_connection_prices_keyed_by_a_versioned_id_price_the_bare_id(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection(monkeypatch, emu, bedrock_prices={NOVA: {"training_per_1k_tokens": 0.002}})
    operator = customize(
        "cost-nova-bare", base_model_id="amazon.nova-micro-v1", training_tokens=1000, max_estimated_cost=1
    )
    cost = run(operator)["estimated_cost"]
    assert cost["price_per_1k_tokens"] == 0.002 and cost["usd"] is not None
    assert cost["price_source"] == f"connection '{CONN_ID}' extra bedrock_prices['{NOVA}']"
    assert emu.request_count(CREATE) == 1


def test_unknown_price_with_a_budget_refuses_naming_the_model(emu: BedrockEmulator) -> None:
    operator = customize("cost-unknown", max_estimated_cost=100, training_tokens=10, base_model_id=NOVA)
    with pytest.raises(AirflowFailException, match=r"cannot be estimated.*amazon\.nova-micro-v1:0:128k"):
        run(operator)
    assert emu.request_count(CREATE) == 0


def test_unknown_price_without_a_budget_submits_with_an_unknown_estimate(emu: BedrockEmulator) -> None:
    operator = customize("cost-unknown-ok", training_tokens=10, base_model_id=NOVA)
    result = run(operator)
    assert emu.request_count(CREATE) == 1
    assert result["estimated_cost"]["usd"] is None and result["estimated_cost"]["tokens"] == 10


@pytest.mark.parametrize("tokens", [None, "1000"], ids=["counted", "given"])
@pytest.mark.parametrize("field", ["training_data_uri", "validation_data_uri"])
def test_a_missing_data_object_is_refused_before_any_create(
    emu: BedrockEmulator, field: str, tokens: str | None
) -> None:
    missing = f"s3://{BUCKET}/data/missing.jsonl"
    with pytest.raises(InvalidInputError) as caught:
        run(customize("cost-missing", training_tokens=tokens, **{field: missing}))
    assert caught.value.fields == [field]
    assert f"{field}='{missing}': no object exists at that S3 URI" in str(caught.value)
    assert emu.request_count(CREATE) == 0


def test_an_object_the_connection_may_not_see_is_left_to_bedrock() -> None:
    """S3 answers 403 for a missing key when the caller may not list the bucket: no proof either way."""
    from botocore.exceptions import ClientError

    from bedrock_provider.core.request.preflight import CANNOT_TELL, MISSING, PRESENT
    from bedrock_provider.operators.costs import look_at_object

    def answer(status: int) -> Any:
        class Hook:
            def head_object(self, key: str, bucket: str) -> dict[str, Any] | None:
                if status == 200:
                    return {"ContentLength": 1}
                if status == 404:
                    return None  # S3Hook.head_object's answer to a 404
                raise ClientError(
                    {"Error": {"Code": str(status)}, "ResponseMetadata": {"HTTPStatusCode": status}},
                    "HeadObject",
                )

        class Operator:
            s3_hook = Hook()

        return Operator()

    uri = f"s3://{BUCKET}/data/train.jsonl"
    assert [look_at_object(answer(status), uri) for status in (200, 404, 403)] == [
        PRESENT,
        MISSING,
        CANNOT_TELL,
    ]
    with pytest.raises(ClientError):
        look_at_object(answer(400), uri)


@pytest.mark.parametrize(
    "record",
    [
        {"id": 1, "prompt": "Question?", "completion": "Answer."},  # a field the format does not have
        [{"prompt": "Question?", "completion": "Answer."}],  # a JSON array per line
    ],
    ids=["extra-id-field", "json-array"],
)
def test_a_file_with_no_valid_record_cannot_be_estimated(
    emu: BedrockEmulator, record: object, capsys: pytest.CaptureFixture[str]
) -> None:
    key = f"data/no-valid-{type(record).__name__}.jsonl"
    body = b"".join(json.dumps(record).encode() + b"\n" for _ in range(20))
    boto3.client("s3", endpoint_url=emu.endpoint_url, region_name="us-east-1").put_object(
        Bucket=BUCKET, Key=key, Body=body
    )
    uri = f"s3://{BUCKET}/{key}"
    with pytest.raises(AirflowFailException, match=r"cannot be estimated.*No training tokens were counted"):
        run(customize("cost-none-valid", training_data_uri=uri, max_estimated_cost=0.000001))
    assert emu.request_count(CREATE) == 0
    # Without a budget the job is the user's call: submitted, with the estimate unknown and a warning.
    result = run(customize("cost-none-valid-ok", training_data_uri=uri))
    assert emu.request_count(CREATE) == 1
    assert result["estimated_cost"]["usd"] is None and result["estimated_cost"]["tokens"] == 0
    assert "No training tokens were counted" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_estimated_cost": "lots"}, "max_estimated_cost='lots'"),
        ({"max_estimated_cost": -5}, "max_estimated_cost=-5"),
        ({"training_tokens": "many"}, "training_tokens='many'"),
        ({"price_overrides": {"training_per_1k_tokens": "free"}}, r"price_overrides\.training_per_1k_tokens"),
    ],
)
def test_bad_cost_parameters_fail_before_any_call(
    emu: BedrockEmulator, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(AirflowFailException, match=match):
        run(customize("cost-bad", **kwargs))
    assert emu.request_count(CREATE) == 0


# -- the sweep ---------------------------------------------------------------------------------------


def test_sweep_sums_its_jobs_and_refuses_the_whole_sweep_above_its_budget(emu: BedrockEmulator) -> None:
    from bedrock_provider.operators.costs import estimate_sweep

    grid = [{"epochCount": epochs, "learningRate": 0.00001} for epochs in (1, 2, 3)]
    within = estimate_sweep(MODEL, 10_000, grid, "1.0", aws_conn_id=CONN_ID)
    assert within["usd"] == pytest.approx(10 * (1 + 2 + 3) * 0.008)
    assert [job["epochs"] for job in within["jobs"]] == [1, 2, 3]
    with pytest.raises(AirflowFailException, match=r"None of the 3 jobs was submitted.*\$0.48 in all"):
        estimate_sweep(MODEL, 10_000, grid, 0.1, aws_conn_id=CONN_ID)
    with pytest.raises(AirflowFailException, match="cannot be estimated"):
        estimate_sweep(NOVA, 10_000, grid, 100, aws_conn_id=CONN_ID)
    assert emu.request_count(CREATE) == 0


def test_the_report_line_names_the_total_and_its_factors() -> None:
    from bedrock_provider.core.catalog.cost import summarize

    line = summarize(
        {
            "usd": 0.0128,
            "tokens": 800,
            "epochs": 2,
            "price_per_1k_tokens": 0.008,
            "storage_per_month_usd": 1.95,
        }
    )
    assert (
        line
        == "$0.0128 to train (800 tokens x 2 epochs x $0.008 per 1,000 tokens), then $1.95 a month to store"
    )
    assert summarize(None) == "not estimated"
    assert summarize({"usd": None, "tokens": 5, "epochs": None, "price_per_1k_tokens": None}).startswith(
        "unknown"
    )


# -- storage and Provisioned Throughput ---------------------------------------------------------------


class Connected(BedrockAwsMixin):
    """What the retention and deploy operators pass: an object with the AWS connection."""

    aws_conn_id, region_name, verify, botocore_config = CONN_ID, None, None, None


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str, *args: Any) -> None:
        self.lines.append(message % args)

    warning = info


def test_storage_saved_by_deleting_models(emu: BedrockEmulator) -> None:
    from bedrock_provider.operators.costs import storage_saved

    log = Log()
    saved = storage_saved(Connected(), [MODEL, "cohere.command-text-v14:7:4k"], log)
    assert saved["usd"] == pytest.approx(3.90) and saved["quantity"] == 2
    assert "deleting 2 custom model(s) saves $3.90 a month" in log.lines[-1]
    unknown = storage_saved(Connected(), [NOVA], log)
    assert unknown["usd"] is None and NOVA in log.lines[-2]


def test_provisioned_throughput_price_is_logged_and_refused_above_its_budget(emu: BedrockEmulator) -> None:
    from bedrock_provider.operators.costs import provisioned_throughput_cost

    log = Log()
    cohere = "cohere.command-text-v14"
    cost = provisioned_throughput_cost(Connected(), cohere, "2", "OneMonth", 100, None, log)
    assert cost["usd"] == pytest.approx(79.20) and cost["price_usd"] == 39.60
    assert "2 model unit(s) x $39.60 an hour" in log.lines[-1] and "$79.20 an hour" in log.lines[-1]
    with pytest.raises(AirflowFailException, match=r"max_hourly_cost=\$50.00"):
        provisioned_throughput_cost(Connected(), cohere, 2, "OneMonth", 50, None, log)
    with pytest.raises(AirflowFailException, match="hourly price is unknown"):
        provisioned_throughput_cost(Connected(), MODEL, 1, None, 50, None, log)
    priced = provisioned_throughput_cost(Connected(), MODEL, 1, None, 50, {"provisioned_per_hour": 20.5}, log)
    assert priced["usd"] == 20.5 and priced["price_source"] == "price_overrides"


# -- model_checks: what the catalog would refuse, per task or from [bedrock] model_checks ---------------


def _warnings(operator: BedrockModelCustomizationOperator) -> list[str]:
    warned: list[str] = []
    operator.log.warning = lambda message, *args: warned.append(message % args)  # type: ignore[method-assign]
    return warned


def test_warn_lets_an_unlisted_version_through_to_bedrock_with_a_warning(emu: BedrockEmulator) -> None:
    operator = customize(
        "checks-version", base_model_id="amazon.titan-text-express-v1:0:99k", model_checks="warn"
    )
    warned = _warnings(operator)
    result = run(operator)
    assert emu.request_count(CREATE) == 1 and result["status"] == "InProgress"
    assert [w for w in warned if "amazon.titan-text-express-v1:0:99k is a version" in w and ":0:8k" in w]


def test_a_retired_model_is_refused_before_the_create_and_warn_lets_bedrock_decide(
    emu: BedrockEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bedrock_provider.core.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="retired"):
        run(customize("checks-strict", base_model_id="cohere.command-text-v14"))
    assert emu.request_count(CREATE) == 0
    # [bedrock] model_checks = warn: the Create is sent, and Bedrock (here the emulator) refuses it.
    monkeypatch.setenv("AIRFLOW__BEDROCK__MODEL_CHECKS", "warn")
    operator = customize("checks-warn", base_model_id="cohere.command-text-v14")
    warned = _warnings(operator)
    with pytest.raises(Exception, match="ValidationException"):
        run(operator)
    assert emu.request_count(CREATE) == 1
    assert [w for w in warned if w.startswith("model_checks='warn'") and "retired" in w]
    # The task's own setting wins over the configuration.
    with pytest.raises(InvalidInputError, match="retired"):
        run(customize("checks-task", base_model_id="cohere.command-text-v14", model_checks="strict"))
    assert emu.request_count(CREATE) == 1


def wait_until_ended(emu: BedrockEmulator, job_arn: str) -> str:
    bedrock = boto3.client("bedrock", endpoint_url=emu.endpoint_url, region_name="us-east-1")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = str(bedrock.get_model_customization_job(jobIdentifier=job_arn)["status"])
        if status not in ("InProgress", "Stopping"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_arn} did not end within 30 s")


def test_a_rerun_adopts_its_job_after_the_training_data_is_gone(emu: BedrockEmulator) -> None:
    """A backfill re-run weeks later: the prepared file has expired (an S3 lifecycle rule), the job this
    task instance submitted with it is still there, and the re-run adopts it instead of failing."""
    s3 = boto3.client("s3", endpoint_url=emu.endpoint_url, region_name="us-east-1")
    key = "data/expires.jsonl"
    s3.put_object(Bucket=BUCKET, Key=key, Body=RECORDS)
    submitted = run(customize("cost-expired", training_data_uri=f"s3://{BUCKET}/{key}"))
    # Bedrock reads the data while the job runs: it expires once the job has completed.
    assert wait_until_ended(emu, submitted["job_arn"]) == "Completed"
    s3.delete_object(Bucket=BUCKET, Key=key)

    # A budget too small for any estimate: an adopted job is not refused again.
    rerun = customize("cost-expired", training_data_uri=f"s3://{BUCKET}/{key}", max_estimated_cost="0.000001")
    warned = _warnings(rerun)
    adopted = run(rerun)

    assert emu.request_count(CREATE) == 1
    assert adopted["job_arn"] == submitted["job_arn"]
    assert adopted["estimated_cost"]["tokens"] is None and adopted["estimated_cost"]["usd"] is None
    assert any(
        f"s3://{BUCKET}/{key}" in line and "is adopted, not submitted again" in line for line in warned
    )


@pytest.mark.parametrize("if_job_exists", ["rename", "fail"])
def test_missing_data_still_refuses_a_job_that_would_be_new(emu: BedrockEmulator, if_job_exists: str) -> None:
    s3 = boto3.client("s3", endpoint_url=emu.endpoint_url, region_name="us-east-1")
    key = f"data/expires-{if_job_exists}.jsonl"
    s3.put_object(Bucket=BUCKET, Key=key, Body=RECORDS)
    run(customize(f"cost-expired-{if_job_exists}", training_data_uri=f"s3://{BUCKET}/{key}"))
    s3.delete_object(Bucket=BUCKET, Key=key)

    with pytest.raises(InvalidInputError) as caught:
        run(
            customize(
                f"cost-expired-{if_job_exists}",
                training_data_uri=f"s3://{BUCKET}/{key}",
                if_job_exists=if_job_exists,
            )
        )
    assert caught.value.fields == ["training_data_uri"]
    assert emu.request_count(CREATE) == 1
