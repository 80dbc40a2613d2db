"""How long to wait before the next try of a call that failed transiently (hooks/errors.py says which)."""

from __future__ import annotations

import random


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
