"""Public ids: hex of the asked length, never repeated across threads or forked workers."""
from __future__ import annotations

import os
import threading

from postal_svc import ids


def test_ids_are_hex_of_the_asked_length_and_unique() -> None:
    made = [ids.random_hex(10) for _ in range(5000)]  # several 4 KiB reads
    assert all(len(i) == 20 and int(i, 16) >= 0 for i in made)
    assert len(set(made)) == len(made)
    assert len(ids.random_hex(5000)) == 10000  # more than one read's worth at once


def test_threads_never_share_bytes() -> None:
    made: list[list[str]] = [[] for _ in range(8)]

    def work(slot: int) -> None:
        made[slot].extend(ids.random_hex(10) for _ in range(2000))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for slot in made for i in slot]
    assert len(set(every)) == len(every) == 16000


def test_a_forked_worker_does_not_repeat_its_parents_ids() -> None:
    ids.random_hex(10)  # the parent holds a buffer of unused bytes
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report its next ids and leave at once
        os.write(write_end, ",".join(ids.random_hex(10) for _ in range(50)).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        childs = set(pipe.read().split(","))
    os.waitpid(child, 0)
    parents = {ids.random_hex(10) for _ in range(50)}
    assert len(childs) == 50 and not childs & parents
