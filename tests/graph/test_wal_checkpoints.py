"""WAL checkpoints on a thread of their own (bulk ingest): the writers' commits skip them,
the thread copies the WAL back, and the WAL stays bounded."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from graph.backends.memory import open_store
from graph.backends.sqlite_schema import AUTOCHECKPOINT_PAGES, connect
from graph.backends.wal_checkpoints import BackgroundCheckpoints, default_autocheckpoint, no_autocheckpoint


def _autocheckpoint(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])


def _write(conn: sqlite3.Connection, rows: int) -> None:
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t(v) VALUES (?)", [(os.urandom(200),) for _ in range(rows)])
    conn.execute("COMMIT")


def test_bulk_writes_turn_autocheckpoint_off_and_back_on(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.sqlite")
    try:
        conn = store._write_conn
        assert _autocheckpoint(conn) == AUTOCHECKPOINT_PAGES
        with store.bulk_writes():
            assert _autocheckpoint(conn) == 0
        assert _autocheckpoint(conn) == AUTOCHECKPOINT_PAGES
    finally:
        store.close()


def test_the_thread_copies_the_wal_back_and_restarts_it(tmp_path: Path) -> None:
    db = str(tmp_path / "c.sqlite")
    conn = connect(db)
    conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
    no_autocheckpoint(conn)
    with BackgroundCheckpoints(db, interval=0.02) as bg:
        for _ in range(30):
            _write(conn, 200)
            time.sleep(0.01)
    assert bg.checkpoints > 0
    # everything committed is in the database file itself once the last checkpoint ran
    busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and frames == copied
    # the WAL was restarted from its beginning rather than grown by every commit:
    # 30 commits of ~50 KB each would make it about 1.5 MB
    assert os.path.getsize(db + "-wal") < 1_000_000
    default_autocheckpoint(conn)
    assert _autocheckpoint(conn) == AUTOCHECKPOINT_PAGES
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 6000
    conn.close()


def test_a_wal_over_the_bound_is_restarted(tmp_path: Path) -> None:
    db = str(tmp_path / "r.sqlite")
    conn = connect(db)
    conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
    no_autocheckpoint(conn)
    _write(conn, 2000)  # ~0.5 MB of WAL before the thread starts
    with BackgroundCheckpoints(db, interval=0.02, restart_bytes=100_000) as bg:
        deadline = time.monotonic() + 10
        while bg.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert bg.restarts > 0
    conn.close()
