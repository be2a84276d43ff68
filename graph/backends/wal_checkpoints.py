"""WAL checkpoints on a thread of their own during a bulk ingest, outside the write lock.

SQLite's automatic checkpoint runs inside the COMMIT that crosses the WAL size threshold:
the committing writer copies every page of the WAL into the database file (and syncs it)
while it still holds the write lock. On the 100k-firm demo set that was 5.7 s of the 22 s an
ingest spends in SQLite, all of it with the other worker waiting for its turn.

A checkpoint needs no write lock: a PASSIVE checkpoint copies whatever is committed while
writers go on appending to the WAL. So during a bulk ingest the writers turn their automatic
checkpoints off (:func:`no_autocheckpoint`) and :class:`BackgroundCheckpoints` copies the WAL
back a few times a second from its own connection. The WAL restarts from its beginning
whenever a checkpoint has caught up with it; should it still grow past ``restart_bytes``
(writers outrunning the copying) one checkpoint waits for the writers (RESTART) so that the
file stays bounded.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from types import TracebackType

from graph.backends.sqlite_schema import AUTOCHECKPOINT_PAGES


def no_autocheckpoint(conn: sqlite3.Connection) -> None:
    """Leave this connection's checkpoints to a :class:`BackgroundCheckpoints` thread."""
    conn.execute("PRAGMA wal_autocheckpoint = 0")


def default_autocheckpoint(conn: sqlite3.Connection) -> None:
    """Give this connection its automatic checkpoints back."""
    conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")


class BackgroundCheckpoints:
    """A thread checkpointing the WAL of the SQLite file at ``db_path`` every ``interval`` s.

    Use as a context manager around a bulk ingest; on exit it stops and runs one last PASSIVE
    checkpoint. Errors (a busy database, say) are retried on the next turn: a missed
    checkpoint costs WAL space, never data."""

    def __init__(self, db_path: str, *, interval: float = 0.25, restart_bytes: int = 1 << 30) -> None:
        self.db_path = db_path
        self.interval = interval
        self.restart_bytes = restart_bytes
        self.checkpoints = 0
        self.restarts = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> BackgroundCheckpoints:
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self.db_path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = 1000")
            while not self._stop.wait(self.interval):
                self._checkpoint(conn, self._wal_size() > self.restart_bytes)
            self._checkpoint(conn, False)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection, restart: bool) -> None:
        try:
            conn.execute(f"PRAGMA wal_checkpoint({'RESTART' if restart else 'PASSIVE'})").fetchall()
        except sqlite3.OperationalError:
            return  # busy or locked: the next turn tries again
        self.checkpoints += 1
        self.restarts += restart

    def _wal_size(self) -> int:
        try:
            return os.path.getsize(self.db_path + "-wal")
        except OSError:
            return 0
