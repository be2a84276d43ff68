"""The audit trail's key index, built off the request path (api.audit_index)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from api import audit_index
from api.audit import AuditLog
from api.auth import ApiDatabase


def _append(log: AuditLog, keys: list[str]) -> None:
    log.append(principal=None, ip="127.0.0.1", method="GET", endpoint="/api/v1/risk/{key}", path="/api/v1/risk/x",
               keys=keys, status=200)


def _own_conn(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)


def _ids_naming(db: ApiDatabase, key: str) -> list[int]:
    return [r[0] for r in db.conn.execute("SELECT id FROM audit WHERE key = ? ORDER BY id DESC", (key,))]


def test_look_ups_by_key_see_indexed_and_pending_rows_alike(tmp_path: Path) -> None:
    db = ApiDatabase(tmp_path / "api.sqlite")
    log = AuditLog(db)
    for i in range(120):
        _append(log, [f"org:{i % 7}"] if i % 5 else [])  # every fifth request named nobody
    conn = _own_conn(tmp_path / "api.sqlite")
    assert audit_index.index_pending(conn, batch=11) == 120  # eleven rows a transaction
    assert audit_index.indexed_upto(conn) == 120
    assert conn.execute("SELECT COUNT(*) FROM audit_by_key").fetchone()[0] == 96  # no row for the empty keys
    for i in range(30):  # not indexed yet
        _append(log, [f"org:{i % 7}"])
    for k in (f"org:{i}" for i in range(7)):
        rows, total = log.query(key=k, limit=1000)
        assert [r.id for r in rows] == _ids_naming(db, k)  # newest first, none twice, none missed
        assert total == len(rows)
        assert {r.key for r in rows} == {k}
    page, total = log.query(key="org:3", limit=3, offset=2)
    assert [r.id for r in page] == _ids_naming(db, "org:3")[2:5]
    assert log.query(key="org:nobody")[1] == 0
    db.close()


def test_an_old_file_loses_the_request_path_index_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "api.sqlite"
    db = ApiDatabase(path)
    for i in range(40):
        _append(AuditLog(db), [f"org:{i % 4}"])
    db.close()
    old = sqlite3.connect(path)  # as files were before: an index on (key, at), no key table
    old.execute("CREATE INDEX audit_key ON audit(key, at)")
    old.execute("DROP TABLE audit_by_key")
    old.commit()
    old.close()
    db = ApiDatabase(path)
    names = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master")}
    assert "audit_key" not in names and "audit_by_key" in names
    rows, total = AuditLog(db).query(key="org:2", limit=100)
    assert total == 10 and [r.id for r in rows] == _ids_naming(db, "org:2")
    db.close()


def test_the_key_index_is_append_only(tmp_path: Path) -> None:
    db = ApiDatabase(tmp_path / "api.sqlite")
    _append(AuditLog(db), ["org:1"])
    audit_index.index_pending(_own_conn(tmp_path / "api.sqlite"))
    for sql in ("UPDATE audit_by_key SET key = 'org:2'", "DELETE FROM audit_by_key"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.conn.execute(sql)
    db.close()


def test_the_upkeep_thread_indexes_new_rows(tmp_path: Path) -> None:
    db = ApiDatabase(tmp_path / "api.sqlite")
    log = AuditLog(db)
    for i in range(50):
        _append(log, [f"org:{i}"])
    db.start_upkeep(every=0.05)
    conn = _own_conn(tmp_path / "api.sqlite")
    deadline = time.monotonic() + 10
    while audit_index.indexed_upto(conn) < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert audit_index.indexed_upto(conn) == 50
    assert conn.execute("SELECT COUNT(*) FROM audit_by_key").fetchone()[0] == 50
    db.close()


def test_look_ups_are_exact_while_the_index_advances(tmp_path: Path) -> None:
    """A look-up reads the index, the mark and the pending rows in one snapshot: while another
    connection indexes row by row, every count is exact (a row counted twice or missed across
    the mark would show)."""
    db = ApiDatabase(tmp_path / "api.sqlite")
    log = AuditLog(db)
    for i in range(600):
        _append(log, [f"org:{i % 3}"])
    stop = threading.Event()

    def index_slowly() -> None:
        conn = _own_conn(tmp_path / "api.sqlite")
        while not stop.is_set() and audit_index.index_pending(conn, batch=1, max_batches=1):
            pass

    indexer = threading.Thread(target=index_slowly)
    indexer.start()
    seen = set()
    try:
        while indexer.is_alive():
            seen.add(audit_index.indexed_upto(db.conn))
            assert log.query(key="org:1", limit=1)[1] == 200
    finally:
        stop.set()
        indexer.join()
    assert len(seen) > 5  # the look-ups did meet the index at many marks
    db.close()


def test_look_ups_by_caller_take_a_key_id_or_a_key_name(tmp_path: Path) -> None:
    from api.auth import Principal, create_key

    db = ApiDatabase(tmp_path / "api.sqlite")
    log = AuditLog(db)
    first, second, other = (create_key(db, "supervision_system", name)[0] for name in ("desk", "desk", "other"))
    for key, times in ((first, 3), (second, 2), (other, 4)):
        for _ in range(times):
            log.append(principal=Principal(key.id, key.name, key.role), ip="127.0.0.1", method="GET",
                       endpoint="/api/v1/risk/{key}", path="/api/v1/risk/x", keys=["org:1"], status=200)
    _append(log, ["org:1"])  # refused: no key
    assert log.query(who="desk")[1] == 5  # both keys named desk
    assert log.query(who=first.id)[1] == 3
    assert log.query(who="other")[1] == 4
    assert log.query(who="anonymous")[1] == 1
    assert log.query(who="nobody")[1] == 0
    db.close()


def test_each_batch_is_indexed_in_turn_with_the_servers_commits(tmp_path: Path) -> None:
    """The indexer takes the lock the server's audit commits take, once per batch: they wait
    for one batch at most, not for a whole catch-up."""
    db = ApiDatabase(tmp_path / "api.sqlite")
    log = AuditLog(db)
    for i in range(25):
        _append(log, [f"org:{i}"])
    turns = []

    class Turn:  # the server's lock, noting the mark each time it is taken
        def __enter__(self) -> None:
            db.lock.acquire()
            turns.append(audit_index.indexed_upto(db.conn))

        def __exit__(self, *exc: object) -> None:
            db.lock.release()

    assert audit_index.index_pending(_own_conn(tmp_path / "api.sqlite"), batch=10, turn=Turn()) == 25
    assert turns == [0, 10, 20, 25]  # three batches, then the look that found nothing left
    db.close()
