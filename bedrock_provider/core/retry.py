"""Which failures of a Bedrock call are worth retrying, and how long to wait before the next try."""

from __future__ import annotations

import random

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceQuotaExceededException",
        "SlowDown",
    }
)
SERVER_ERROR_CODES = frozenset(
    {"InternalServerException", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException"}
)
NOT_FOUND_CODES = frozenset({"ResourceNotFoundException"})


def is_transient(error_code: str | None, http_status: int | None) -> bool:
    """Throttling and server-side errors pass; a caller error (4xx other than 429) does not."""
    if error_code in THROTTLING_CODES or error_code in SERVER_ERROR_CODES:
        return True
    return http_status is not None and (http_status == 429 or http_status >= 500)


def backoff_delay(
    failures: int, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
) -> float:
    """Capped exponential backoff with full jitter: uniform in [base/2, min(cap, base * 2**(failures-1))].

    Jitter spreads the retries of many waiting triggers that a throttle hit at the same moment.
    """
    if failures < 1:
        return 0.0
    ceiling = min(cap, base * (2 ** min(failures - 1, 30)))
    low = min(base / 2, ceiling)
    return (rng or random).uniform(low, ceiling)  # noqa: S311 - jitter, not security
