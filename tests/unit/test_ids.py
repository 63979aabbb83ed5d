"""Public ids: hex of the asked length, never repeated across threads or forked workers."""
from __future__ import annotations

import itertools
import os
import sys
import threading
from typing import Iterator

import pytest

from postal_svc import ids


@pytest.fixture
def counting_urandom(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """os.urandom returning consecutive 4-byte counters, so any byte handed out twice shows,
    and a fresh pool."""
    counter = itertools.count()

    def urandom(size: int) -> bytes:
        return b"".join(next(counter).to_bytes(4, "big") for _ in range(size // 4))

    monkeypatch.setattr(ids.os, "urandom", urandom)
    ids._pool.forget_inherited()
    yield
    ids._pool.forget_inherited()


def test_ids_are_hex_of_the_asked_length_and_unique() -> None:
    made = [ids.random_hex(10) for _ in range(5000)]  # several 4 KiB reads
    assert all(len(i) == 20 and int(i, 16) >= 0 for i in made)
    assert len(set(made)) == len(made)
    assert len(ids.random_hex(5000)) == 10000  # more than one read's worth at once


def test_threads_never_share_bytes(counting_urandom: None) -> None:
    made: list[list[str]] = [[] for _ in range(8)]

    def work(slot: int) -> None:
        made[slot].extend(ids.random_hex(4) for _ in range(3000))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as the interpreter lets them
    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    every = [i for slot in made for i in slot]
    assert len(set(every)) == len(every) == 24000  # each 4-byte counter handed out once


def test_a_forked_worker_does_not_repeat_its_parents_ids() -> None:
    ids._pool.forget_inherited()
    ids.random_hex(10)  # the parent now holds 4 KiB of unused bytes
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report its next ids and leave at once, whatever happens
        try:
            os.write(write_end, ",".join(ids.random_hex(10) for _ in range(50)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        childs = set(pipe.read().split(","))
    os.waitpid(child, 0)
    parents = {ids.random_hex(10) for _ in range(50)}
    assert len(childs) == 50 and not childs & parents
