"""The in-process token bucket: the limit, the wait it announces, bounded memory, threads."""
from __future__ import annotations

import threading

import pytest

from postal_svc.ratelimit import TokenBucketLimiter, Unlimited, build_limiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_gets_its_per_minute_allowance_then_is_refused_with_a_wait():
    clock = FakeClock()
    limiter = TokenBucketLimiter(60, clock=clock)
    assert all(limiter.hit("a").allowed for _ in range(60))
    refused = limiter.hit("a")
    assert not refused.allowed
    assert refused.retry_after_s == 1  # one token a second at 60 a minute


def test_tokens_come_back_with_time_and_the_wait_is_honest():
    clock = FakeClock()
    limiter = TokenBucketLimiter(3, clock=clock)  # one token every 20 s
    for _ in range(3):
        assert limiter.hit("a").allowed
    refused = limiter.hit("a")
    assert not refused.allowed and refused.retry_after_s == 20
    clock.now += 19.5
    assert not limiter.hit("a").allowed
    clock.now += 0.5  # 20 s after the refusal: exactly one token
    assert limiter.hit("a").allowed
    assert not limiter.hit("a").allowed


def test_clients_do_not_share_a_bucket():
    limiter = TokenBucketLimiter(1, clock=FakeClock())
    assert limiter.hit("a").allowed
    assert not limiter.hit("a").allowed
    assert limiter.hit("b").allowed


def test_memory_is_bounded_by_dropping_the_least_recently_seen_clients():
    limiter = TokenBucketLimiter(1, max_keys=100, clock=FakeClock())
    for i in range(1000):
        limiter.hit(f"client-{i}")
    assert len(limiter) == 100
    assert not limiter.hit("client-999").allowed  # recent ones are still remembered


def test_concurrent_hits_never_let_more_through_than_the_limit():
    limiter = TokenBucketLimiter(50, clock=FakeClock())
    allowed = []
    barrier = threading.Barrier(20)

    def worker() -> None:
        barrier.wait()
        for _ in range(10):
            allowed.append(limiter.hit("same").allowed)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 50
    assert len(allowed) == 200


def test_a_limit_of_zero_means_no_limit():
    limiter = build_limiter(0)
    assert isinstance(limiter, Unlimited)
    assert all(limiter.hit("a").allowed for _ in range(1000))
    with pytest.raises(ValueError):
        TokenBucketLimiter(0)
