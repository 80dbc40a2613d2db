"""``bedrock-emulator`` / ``python -m bedrock_provider.emulator``: run the emulator until signalled."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bedrock-emulator",
        description="Local Amazon Bedrock model customization (and every moto AWS service) on one port.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=5055, help="port to bind, 0 for a free one (default: 5055)"
    )
    parser.add_argument("--job-duration", type=float, default=5.0, help="seconds a job runs (default: 5)")
    parser.add_argument(
        "--deployment-duration",
        type=float,
        default=2.0,
        help="seconds a custom model deployment or provisioned throughput takes to become ready (default: 2)",
    )
    parser.add_argument(
        "--evaluation-duration", type=float, default=3.0, help="seconds an evaluation job runs (default: 3)"
    )
    parser.add_argument("--region", default="us-east-1", help="region of the ARNs (default: us-east-1)")
    parser.add_argument(
        "--account-id", default="123456789012", help="account of the ARNs and events (default: 123456789012)"
    )
    parser.add_argument(
        "--seed-bucket",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME",
        help="S3 bucket(s) to create at start",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault injection (default: 0)")
    parser.add_argument("--stop-delay", type=float, default=0.5, help="seconds from Stopping to Stopped")
    parser.add_argument("--throttle", type=float, default=0.0, help="fraction of Bedrock calls throttled")
    parser.add_argument("--server-error", type=float, default=0.0, help="fraction answered with HTTP 500")
    parser.add_argument("--connection-drop", type=float, default=0.0, help="fraction left without an answer")
    parser.add_argument("--log-requests", action="store_true", help="log every HTTP request")
    parser.add_argument(
        "--no-events", action="store_true", help="do not publish job state-change events to EventBridge"
    )
    parser.add_argument(
        "--no-role-check",
        action="store_true",
        help="accept any roleArn (by default the role must exist in the emulator's IAM and trust Bedrock)",
    )
    parser.add_argument(
        "--max-concurrent-jobs",
        type=int,
        default=None,
        help="quota of customization jobs running at once (default: AWS's default)",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default: INFO)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Imported here so --help answers without loading moto.
    from bedrock_provider.emulator.server import BedrockEmulator

    emulator = BedrockEmulator(
        job_duration=args.job_duration,
        port=args.port,
        region=args.region,
        account_id=args.account_id,
        host=args.host,
        seed=args.seed,
        stop_delay=args.stop_delay,
        seed_buckets=args.seed_bucket,
        log_requests=args.log_requests,
        publish_events=not args.no_events,
        check_roles=not args.no_role_check,
        deployment_duration=args.deployment_duration,
        evaluation_duration=args.evaluation_duration,
        **({"max_concurrent_jobs": args.max_concurrent_jobs} if args.max_concurrent_jobs else {}),
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        emulator.set_fault_rates(args.throttle, args.server_error, args.connection_drop)
        emulator.start()
    except (OSError, ValueError) as exc:
        print(f"bedrock-emulator: cannot start: {exc}", file=sys.stderr)
        return 2
    # Parents (tests, the demo) read this line to learn the port when --port 0.
    print(f"bedrock-emulator listening on {emulator.endpoint_url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    print("bedrock-emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
