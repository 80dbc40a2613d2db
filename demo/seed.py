"""Upload demo/data as the weekly partitions the example DAGs read from the emulator's demo bucket.

    python -m demo.seed --endpoint-url http://127.0.0.1:5055 [--wait 60]

demo/data/support/<YYYY-MM-DD>.jsonl becomes s3://<bucket>/raw/support/<YYYYMMDD>/tickets.jsonl.
The bucket, region and key layout are the example DAGs' own defaults (dags/_bedrock_demo_config.py),
so the demo, the end-to-end tests and docker-compose.yaml seed exactly what the DAGs look for.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO / "dags"
DEMO_DATA = Path(__file__).resolve().parent / "data" / "support"
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


def s3_client(endpoint_url: str, region: str = DAG_SETTINGS.DEMO_REGION) -> Any:
    import boto3

    access_key, secret_key = DUMMY_CREDENTIALS
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
    )


def partition_key(data_file: Path) -> str:
    day = datetime.strptime(data_file.stem, "%Y-%m-%d")
    return f"{DAG_SETTINGS.RAW_PREFIX}/{day:%Y%m%d}/{DAG_SETTINGS.RAW_OBJECT_NAME}"


def seed(
    endpoint_url: str, bucket: str = DAG_SETTINGS.DEMO_BUCKET, region: str = DAG_SETTINGS.DEMO_REGION
) -> list[str]:
    """Create the bucket if needed and upload every week of demo data; returns the object URIs."""
    s3 = s3_client(endpoint_url, region)
    if bucket not in {entry["Name"] for entry in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
    uris = []
    for data_file in sorted(DEMO_DATA.glob("*.jsonl")):
        key = partition_key(data_file)
        s3.upload_file(str(data_file), bucket, key)
        uris.append(f"s3://{bucket}/{key}")
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
    print(f"demo.seed: {len(uris)} weekly partitions uploaded to s3://{args.bucket}/", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
