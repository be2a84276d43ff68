"""Whose turn it is to write: a lock file beside the SQLite store, shared by every process.

SQLite lets one writer in at a time; the others poll with growing sleeps (up to 100 ms
each) until the lock frees. With two ingest workers taking turns that polling wasted a
good part of each turn. An exclusive ``flock`` on ``<store>.writer`` queues the writers in
the kernel instead: the next one wakes the moment the previous one commits. The kernel
drops the lock of a killed process, so a crash never leaves it held. Where ``fcntl`` does
not exist (Windows) the turn is a no-op and SQLite's own polling remains.

:class:`FirstLoad` is the same kind of lock on ``<store>.load``, held for the whole of a first
load: while it is held, openings of the store leave the read indexes the load put off alone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Linux or macOS
    fcntl = None  # type: ignore[assignment]


class WriterTurn:
    """An exclusive, cross-process turn to write the store at ``db_path``."""

    def __init__(self, db_path: str) -> None:
        self.path = db_path + ".writer"
        self._fd: int | None = None
        self._opening = threading.Lock()

    def _descriptor(self) -> int:
        with self._opening:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            return self._fd

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the turn for the duration of the block (callers hold their thread lock first)."""
        if fcntl is None:
            yield
            return
        fd = self._descriptor()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Release the file descriptor."""
        with self._opening:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class FirstLoad:
    """Whether a first load of the store at ``db_path`` is running: an exclusive ``flock`` on
    ``<store>.load`` held by the loading process from start to end. The kernel drops it when
    that process dies, so a killed load never looks alive. Without ``fcntl`` nothing is
    ever held, and a load never defers anything."""

    def __init__(self, db_path: str) -> None:
        self.path = db_path + ".load"

    @contextmanager
    def running(self) -> Iterator[bool]:
        """Hold the lock for the block if no other load holds it; yields whether it is held."""
        if fcntl is None:
            yield False
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False  # another load is running: it has the store to itself
                return
            yield True
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def elsewhere(self) -> bool:
        """True while a first load holds the lock (another process, or another open here)."""
        if fcntl is None or not os.path.exists(self.path):
            return False
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False
