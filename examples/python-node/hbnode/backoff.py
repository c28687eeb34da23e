"""Reconnect delays: exponential backoff with full jitter."""

import random as _random
from collections.abc import Callable


def backoff_delay(attempt: int, base: float, cap: float, random: Callable[[], float] = _random.random) -> float:
    """Delay in seconds (whole milliseconds) before reconnect attempt ``attempt``
    (0-based): uniformly random in ``[0, min(cap, base * 2**attempt))``."""
    window = min(cap, base * 2 ** min(max(attempt, 0), 60))
    r = random()
    if not 0 <= r < 1:
        r = 0.0
    return int(r * window * 1000) / 1000
