"""Create the example DAGs' service role, and upload demo/data as the weekly partitions they read.

    python -m demo.seed --endpoint-url http://127.0.0.1:5055 [--wait 60]

The role (dags/_bedrock_demo_config.py's DEMO_ROLE_ARN) is created through IAM with the trust policy
Bedrock needs, as on AWS: the emulator refuses a job whose role does not exist or does not trust it.
demo/data/support/<YYYY-MM-DD>.jsonl becomes s3://<bucket>/raw/support/<YYYYMMDD>/tickets.jsonl; the
newest week is also uploaded as the partitions of the latest Sunday and the next, the weeks the weekly
schedule reaches from today. demo/data/evaluation/support-qa.jsonl becomes the evaluation prompts
s3://<bucket>/evaluation/support-qa.jsonl.
The bucket, region and key layout are the example DAGs' own defaults (dags/_bedrock_demo_config.py),
so the demo, the end-to-end tests and docker-compose.yaml seed exactly what the DAGs look for.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO / "dags"
DEMO_DATA = Path(__file__).resolve().parent / "data" / "support"
EVALUATION_DATA = Path(__file__).resolve().parent / "data" / "evaluation" / "support-qa.jsonl"
# The emulator's dummy credentials (moto takes any); nothing the demo runs can reach AWS.
DUMMY_CREDENTIALS = ("testing", "testing")


def load_dag_settings() -> ModuleType:
    """dags/_bedrock_demo_config.py, loaded from its file because dags/ is not a package."""
    path = DAGS_FOLDER / "_bedrock_demo_config.py"
    spec = importlib.util.spec_from_file_location("_bedrock_demo_config", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DAG_SETTINGS = load_dag_settings()


def _client(service: str, endpoint_url: str, region: str) -> Any:
    import boto3

    access_key, secret_key = DUMMY_CREDENTIALS
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
    )


def s3_client(endpoint_url: str, region: str = DAG_SETTINGS.DEMO_REGION) -> Any:
    return _client("s3", endpoint_url, region)


def bedrock_client(endpoint_url: str, region: str = DAG_SETTINGS.DEMO_REGION) -> Any:
    return _client("bedrock", endpoint_url, region)


def create_role(endpoint_url: str, region: str = DAG_SETTINGS.DEMO_REGION) -> str:
    """The example DAGs' service role, created through IAM if it is missing; its ARN."""
    from bedrock_provider.core.request.roles import ensure_service_role

    name = DAG_SETTINGS.DEMO_ROLE_ARN.rsplit("/", 1)[1]
    return ensure_service_role(_client("iam", endpoint_url, region), name)


def demo_weeks() -> dict[datetime, Path]:
    """demo/data's weekly files by their Sunday, oldest first."""
    files = sorted(DEMO_DATA.glob("*.jsonl"))
    if not files:
        raise FileNotFoundError(f"no demo data in {DEMO_DATA}")
    return {datetime.strptime(path.stem, "%Y-%m-%d").replace(tzinfo=UTC): path for path in files}


def upload_weeks(s3: Any, bucket: str, weeks: Mapping[datetime, Path]) -> list[str]:
    """Upload each file as its week's partition; the object URIs."""
    uris = []
    for week, data_file in weeks.items():
        key = DAG_SETTINGS.partition_key(week)
        s3.upload_file(str(data_file), bucket, key)
        uris.append(f"s3://{bucket}/{key}")
    return uris


def newest_week_as(weeks: Iterable[datetime]) -> dict[datetime, Path]:
    """demo/data's newest week as the data of each of ``weeks`` (weeks the demo data does not hold)."""
    newest = list(demo_weeks().values())[-1]
    return dict.fromkeys(weeks, newest)


def seed(
    endpoint_url: str,
    bucket: str = DAG_SETTINGS.DEMO_BUCKET,
    region: str = DAG_SETTINGS.DEMO_REGION,
    now: datetime | None = None,
) -> list[str]:
    """Create the role and bucket if needed and upload the demo data; returns the object URIs.

    Each week of demo/data becomes its partition, and the newest one is uploaded again as the partitions
    of the two weeks the weekly schedule reaches from ``now`` (the latest Sunday and the next), so that
    the runs a scheduler starts find their data as well as the past weeks one triggers or backfills.
    """
    create_role(endpoint_url, region)
    s3 = s3_client(endpoint_url, region)
    if bucket not in {entry["Name"] for entry in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
    weeks = newest_week_as(DAG_SETTINGS.scheduled_weeks(now or datetime.now(UTC))) | demo_weeks()
    uris = upload_weeks(s3, bucket, dict(sorted(weeks.items())))
    # The prompt dataset the retraining DAG evaluates each candidate on.
    s3.upload_file(str(EVALUATION_DATA), bucket, DAG_SETTINGS.EVALUATION_DATASET_KEY)
    return uris


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", required=True, help="the emulator, e.g. http://127.0.0.1:5055")
    parser.add_argument("--bucket", default=DAG_SETTINGS.DEMO_BUCKET)
    parser.add_argument("--region", default=DAG_SETTINGS.DEMO_REGION)
    parser.add_argument("--wait", type=float, default=0.0, help="seconds to wait for the emulator to answer")
    args = parser.parse_args(argv)
    from bedrock_provider.emulator import EmulatorClient, EmulatorError

    try:
        EmulatorClient(args.endpoint_url).wait_until_ready(timeout=args.wait)
    except EmulatorError as error:
        print(f"demo.seed: {error}", file=sys.stderr)
        return 1
    uris = seed(args.endpoint_url, args.bucket, args.region)
    print(
        f"demo.seed: role {DAG_SETTINGS.DEMO_ROLE_ARN} ready; {len(uris)} weekly partitions uploaded to "
        f"s3://{args.bucket}/{DAG_SETTINGS.RAW_PREFIX}/ (the demo's weeks and the schedule's)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
