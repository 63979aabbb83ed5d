"""Random public identifiers (`ord_...`, `pay_...`): unguessable, unique, and cheap to make.

The bytes come from the operating system's CSPRNG, as `secrets.token_hex` reads them, but
4 KiB at a time: one system call per few hundred ids instead of one per id. Each system call
is costly here, and it releases the GIL, which the thread must then win back from the busy
ones (measured in a gunicorn worker under the intake benchmark: a tenth of the samples waited
there). Bytes are handed out once: a lock divides them among threads, and a forked child
(a gunicorn worker) drops the bytes it inherited, so no two processes share any.

For identifiers only. Secrets (API keys, salts, CSRF and webhook secrets) keep using
`secrets`, so that no copy of them stays in a buffer.
"""
from __future__ import annotations

import os
import threading

_READ_SIZE = 4096


class _EntropyPool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bytes = b""
        self._used = 0

    def take(self, count: int) -> bytes:
        with self._lock:
            if self._used + count > len(self._bytes):
                self._bytes, self._used = os.urandom(max(_READ_SIZE, count)), 0
            start, self._used = self._used, self._used + count
            return self._bytes[start:self._used]

    def forget_inherited(self) -> None:
        """In a forked child: the parent may hand out the same bytes, so drop them (and the
        lock, which a parent's thread may have held at the fork)."""
        self._lock = threading.Lock()
        self._bytes, self._used = b"", 0


_pool = _EntropyPool()
os.register_at_fork(after_in_child=_pool.forget_inherited)


def random_hex(nbytes: int) -> str:
    """`nbytes` random bytes as 2 * `nbytes` hex digits (as `secrets.token_hex`)."""
    return _pool.take(nbytes).hex()
