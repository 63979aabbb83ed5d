"""Rate limits per client: a small protocol and an in-process token bucket (no Flask)."""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Protocol


@dataclass(frozen=True)
class Decision:
    """Whether one request may go ahead; if not, how many whole seconds to wait."""

    allowed: bool
    retry_after_s: int = 0


class RateLimiter(Protocol):
    def hit(self, key: str) -> Decision:
        """Count one request for `key` and say whether it is within the limit."""
        ...


class Unlimited:
    """Lets everything through (a limit of 0 in the settings)."""

    def hit(self, key: str) -> Decision:
        return Decision(True)


class TokenBucketLimiter:
    """`per_minute` requests a minute per key, with bursts up to `per_minute`.

    Each key holds a bucket of tokens refilled continuously; a request takes one. Memory is
    bounded: at most `max_keys` buckets are kept, the least recently used dropped first (a
    dropped bucket starts full again, which only ever errs on the side of letting a client
    through). Thread-safe: one lock around a few arithmetic operations. Per process: with
    several workers each has its own buckets (a shared store such as Redis would go behind
    the same protocol).
    """

    def __init__(self, per_minute: int, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive; use Unlimited for no limit")
        self.capacity = float(per_minute)
        self.refill_per_s = per_minute / 60.0
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at

    def hit(self, key: str) -> Decision:
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.refill_per_s)
            if tokens >= 1.0:
                decision = Decision(True)
                tokens -= 1.0
            else:
                decision = Decision(False, max(1, math.ceil((1.0 - tokens) / self.refill_per_s)))
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return decision

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)


def build_limiter(per_minute: int, *, max_keys: int = 10_000) -> RateLimiter:
    """The limiter the settings ask for: none for 0 (or less), else a token bucket."""
    if per_minute <= 0:
        return Unlimited()
    return TokenBucketLimiter(per_minute, max_keys=max_keys)
