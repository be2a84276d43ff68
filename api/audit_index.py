"""The audit trail's index by party key, kept off the request path.

An index on ``audit(key, ...)`` made every audited request pay for a random B-tree insert:
the keys of fifty concurrent risk checks land on fifty different leaf pages, and each group
commit wrote all of them to the WAL. That cost 12 of the 17 µs an audit row took to commit
on the event loop (measured on a copy with and without the index, 300k rows, batches of 50).

So the rows are committed without it, and a background thread (:meth:`ApiDatabase.start_upkeep`)
copies (key, id) of the new rows into ``audit_by_key`` in small sorted batches, recording in
``api_meta`` up to which row id it got. A look-up by key reads the indexed part through
``audit_by_key`` and scans only the rows after that id (at most about a second of traffic
while the server runs), in one statement, so it sees one snapshot and never misses a row.
Each batch is a short transaction (1-3 ms) taken in turn with the event loop's own commits
(the API database's lock), so those wait for one batch at most.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from contextlib import AbstractContextManager
from typing import Any

UPTO_META = "audit_indexed_upto"  # api_meta key: every audit row up to this id is in audit_by_key

DDL = """
DROP INDEX IF EXISTS audit_key;
CREATE TABLE IF NOT EXISTS audit_by_key (
    key TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (key, id)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS audit_by_key_no_update BEFORE UPDATE ON audit_by_key
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_by_key_no_delete BEFORE DELETE ON audit_by_key
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""

# rows of the audit table naming party ``?`` (bind the key twice): the indexed ones by their
# ids, the rest by a scan of the rows the index has not reached yet. Written as one id list
# (a UNION ALL in IN): an OR of the two made SQLite scan the whole table in id order.
KEY_CONDITION = (
    "id IN (SELECT id FROM audit_by_key WHERE key = ? UNION ALL SELECT id FROM audit WHERE id > "
    f"IFNULL((SELECT CAST(value AS INTEGER) FROM api_meta WHERE key = '{UPTO_META}'), 0) AND key = ?)"
)


def indexed_upto(conn: sqlite3.Connection) -> int:
    """The id up to which every audit row is in ``audit_by_key`` (0: none yet)."""
    row = conn.execute("SELECT CAST(value AS INTEGER) FROM api_meta WHERE key = ?", (UPTO_META,)).fetchone()
    return int(row[0]) if row else 0


def index_pending(conn: sqlite3.Connection, *, batch: int = 200, max_batches: int = 1_000,
                  turn: AbstractContextManager[Any] | None = None, pause: float = 0.0) -> int:
    """Copy the keys of audit rows not yet indexed into ``audit_by_key``, ``batch`` rows per
    transaction, until none is left (or ``max_batches`` were done); return how many audit ids
    were covered.

    ``conn`` is the calling thread's own connection in autocommit mode. ``turn`` is held for
    each transaction: the lock the server's own audit commits take, so they wait for one short
    batch at most instead of sleeping through SQLite's busy back-off (a catch-up of 1M rows run
    back to back stalled them 250-430 ms); ``pause`` between batches lets them in. Rows without a
    key (requests that named no party) are passed over: nobody looks them up by key."""
    done = 0
    for i in range(max_batches):
        if i and pause:
            time.sleep(pause)
        with turn if turn is not None else contextlib.nullcontext():
            last, upto = _index_batch(conn, batch)
        if last is None:
            return done
        done += last - upto
    return done


def _index_batch(conn: sqlite3.Connection, batch: int) -> tuple[int | None, int]:
    """Index the next ``batch`` audit rows in one transaction: (last id covered or None, mark before)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        upto = indexed_upto(conn)
        last = conn.execute("SELECT MAX(id) FROM (SELECT id FROM audit WHERE id > ? ORDER BY id LIMIT ?)",
                            (upto, batch)).fetchone()[0]
        if last is not None:
            # sorted by key: neighbouring inserts share leaf pages
            conn.execute("INSERT OR IGNORE INTO audit_by_key(key, id) SELECT key, id FROM audit "
                         "WHERE id > ? AND id <= ? AND key != '' ORDER BY key, id", (upto, last))
            conn.execute("INSERT INTO api_meta(key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (UPTO_META, str(last)))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return (int(last) if last is not None else None), upto


__all__ = ["DDL", "KEY_CONDITION", "UPTO_META", "index_pending", "indexed_upto"]
