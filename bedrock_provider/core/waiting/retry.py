"""How long to wait before the next try of a call that failed transiently (hooks/errors.py says which)."""

from __future__ import annotations

import random

# Transient failures back off up to this long between tries, however short the interval.
MAX_BACKOFF_SECONDS = 300.0
# The first retry comes within this many seconds (or the call's interval, when shorter), so a wait
# that polls every ten minutes does not wait ten minutes to retry a throttled call.
FIRST_RETRY_CEILING = 5.0


def retry_delay(
    failures: int, interval: float, cap: float = MAX_BACKOFF_SECONDS, rng: random.Random | None = None
) -> float:
    """Seconds before trying again a call made every ``interval`` seconds that has failed transiently
    ``failures`` times in a row: the one backoff policy of every wait (describe, list, receive)."""
    return backoff_delay(failures, base=min(interval, FIRST_RETRY_CEILING), cap=cap, rng=rng)


def backoff_delay(
    failures: int, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
) -> float:
    """Capped exponential backoff with jitter: uniform in [base/2, min(cap, base * 2**(failures-1))].

    Jitter spreads the retries of many waiting triggers that a throttle hit at the same moment; the
    floor of base/2 (not 0, as full jitter would have it) keeps a failing loop from retrying at once.
    """
    if failures < 1:
        return 0.0
    ceiling = min(cap, base * (2 ** min(failures - 1, 30)))
    low = min(base / 2, ceiling)
    return (rng or random).uniform(low, ceiling)  # noqa: S311 - jitter, not security
