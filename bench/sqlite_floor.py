"""How fast can a load be while SQLite stores what it stores? The write work's own ceiling.

    .venv/bin/python bench/sqlite_floor.py --firms 100000

SQLite admits one writer at a time, so the time the store's statements take is a floor under
any load, however fast the Python side becomes. This prints:

1. *The driver's floor*: what Python's ``sqlite3`` takes to store one row of the links
   table's 14 columns with ``executemany``, with no index at all (in memory), and with one
   unique index on a random 20-character key, as ``links.fid`` is (a WAL file).
2. *The store's own write work*: the demo set (``bench/out/demo-N``, made as
   ``bench/ingest.py`` makes it) ingested by one process into a fresh store, with every
   statement on the write connection timed: count, seconds and µs per row by statement, the
   sum, and the rows/s that sum allows end to end (the file's rows over it). One process, so
   no statement waits for another worker's commit and every cache stays warm: the sum is
   the least the write work takes, not what a two-worker load sees.
3. *A leaner link table* (``--probe``, a design probe for whoever rewrites the write path):
   link upserts into a store of the 100k set's size as the store makes them (a 20-character
   ``fid`` under a unique index, both ends looked up by key), against a table whose row id
   is a 63-bit hash of the fact and whose ends are 63-bit hashes of the party keys (no index
   but an append-only sequence for loading by arrival, and the derived-link indexes), and
   against the store's own table with the ends bound as such hashes (no look-up by key).
   The hashes are made in Python and timed apart.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LINK_COLUMNS = "fid, kind, src, dst, start, end, ratio, amount, title, origin, srcfile, row, run, currency"
LINK_INSERT = f"INSERT INTO links({LINK_COLUMNS}) VALUES ({','.join('?' * 14)})"
LINK_TABLE = """CREATE TABLE links (id INTEGER PRIMARY KEY, fid TEXT NOT NULL, kind TEXT NOT NULL, src INTEGER NOT NULL,
    dst INTEGER NOT NULL, start INTEGER, end INTEGER, ratio REAL, amount REAL, title TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT '', srcfile INTEGER, row INTEGER, run TEXT, currency TEXT NOT NULL DEFAULT '')"""


def _link_like_rows(n: int, seed: int) -> list[tuple[Any, ...]]:
    """Rows shaped as the store's link rows: a random 20-hex id, two party ids, a date, a title."""
    rng = random.Random(seed)
    return [(f"{rng.getrandbits(80):020x}", "director", i, i + 7, 738000 + i % 3000, None, None, None, "董事", "",
             1, i, "3f2a9c0d1e2b4c5d6e7f8a9b", "") for i in range(n)]


def driver_floor(n: int) -> tuple[float, float]:
    """(µs per row without any index in memory, µs per row with a unique random key in a WAL file)."""
    bare = sqlite3.connect(":memory:", isolation_level=None)
    bare.execute(LINK_TABLE)
    plain = _batches(bare, LINK_INSERT, _link_like_rows(n, 1))
    bare.close()
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(os.path.join(tmp, "floor.sqlite"), isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -262144")
        conn.execute(LINK_TABLE)
        conn.execute("CREATE UNIQUE INDEX links_fid ON links(fid)")
        keyed = _batches(conn, LINK_INSERT, _link_like_rows(n, 2))
        conn.close()
    return plain, keyed


LEAN_LINKS = """CREATE TABLE links (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, kind TEXT NOT NULL,
    src INTEGER NOT NULL, dst INTEGER NOT NULL, start INTEGER, end INTEGER, ratio REAL, amount REAL,
    title TEXT NOT NULL DEFAULT '', origin TEXT NOT NULL DEFAULT '', srcfile INTEGER, row INTEGER, run TEXT,
    currency TEXT NOT NULL DEFAULT '');
CREATE INDEX links_seq ON links(seq);
CREATE INDEX links_derived_dst ON links(dst) WHERE origin != '';
CREATE INDEX links_derived_src ON links(src) WHERE origin != '';"""

LEAN_UPSERT = """INSERT INTO links(id, seq, kind, src, dst, start, end, ratio, amount, title, origin, srcfile, row, run,
                     currency) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
   ON CONFLICT(id) DO UPDATE SET
       end = CASE WHEN links.end IS NULL AND excluded.end IS NOT NULL THEN excluded.end ELSE links.end END,
       currency = CASE WHEN links.currency = '' THEN excluded.currency ELSE links.currency END
   WHERE (links.end IS NULL AND excluded.end IS NOT NULL) OR (links.currency = '' AND excluded.currency != '')"""


def _hash63(text: str) -> int:
    """A 63-bit integer hash (a non-negative SQLite integer) of ``text``."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") >> 1


def _probe_conn(path: str) -> sqlite3.Connection:
    from graph.backends.sqlite_schema import connect

    return connect(path)


def _probe_links(rng: random.Random, keys: list[str], n: int, start: int) -> list[tuple[Any, ...]]:
    """Link facts as the store's rows: (fid, kind, src key, dst key, start, … currency)."""
    out = []
    for i in range(start, start + n):
        fid = hashlib.blake2b(f"link {i}".encode(), digest_size=10).hexdigest()
        out.append((fid, "director", rng.choice(keys), rng.choice(keys), 730000 + i % 9000, None, None, None, "董事",
                    "registration+changes" if i % 5 == 0 else "", 1, i, "20261127T042210-8695e7", ""))
    return out


def link_table_probe(parties: int = 580_000, stored: int = 860_000, timed: int = 200_000) -> dict[str, float]:
    """µs per link upsert: the store's table and statement, the same table with both ends
    bound as key hashes, the lean table, and the Python hashing the lean one needs (per link:
    the fact and both ends)."""
    from graph.backends.sqlite_rows import UPSERT_LINK
    from graph.backends.sqlite_schema import DDL

    rng = random.Random(3)
    keys = [f"per:{rng.getrandbits(56):017d}" if i % 2 else f"org:91{rng.getrandbits(60):016X}" for i in range(parties)]
    old = _probe_links(rng, keys, stored, 0)
    new = _probe_links(rng, keys, timed, stored)
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        conn = _probe_conn(os.path.join(tmp, "store.sqlite"))
        conn.executescript(DDL)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO parties(key, kind) VALUES (?, 'person')", [(k,) for k in keys])
        conn.execute("COMMIT")
        _batches(conn, UPSERT_LINK, old)
        out["store"] = _batches(conn, UPSERT_LINK, new)
        conn.close()

        by_hash = UPSERT_LINK.replace("(SELECT id FROM parties WHERE key = ?), (SELECT id FROM parties WHERE key = ?)",
                                      "?, ?")
        conn = _probe_conn(os.path.join(tmp, "ends.sqlite"))
        conn.executescript(DDL)
        _batches(conn, by_hash, _hashed_ends(old))
        out["hashed ends"] = _batches(conn, by_hash, _hashed_ends(new))
        conn.close()

        started = time.perf_counter()
        lean_new = _lean_rows(new, stored)
        out["hashing"] = (time.perf_counter() - started) / len(new) * 1e6
        conn = _probe_conn(os.path.join(tmp, "lean.sqlite"))
        conn.executescript(LEAN_LINKS)
        _batches(conn, LEAN_UPSERT, _lean_rows(old, 0))
        out["lean"] = _batches(conn, LEAN_UPSERT, lean_new)
        conn.close()
    return out


def _hashed_ends(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [(r[0], r[1], _hash63(r[2]), _hash63(r[3]), *r[4:]) for r in rows]


def _lean_rows(rows: list[tuple[Any, ...]], seq: int) -> list[tuple[Any, ...]]:
    return [(_hash63(r[0]), seq + i, r[1], _hash63(r[2]), _hash63(r[3]), *r[4:]) for i, r in enumerate(rows)]


def _batches(conn: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]], batch: int = 20_000) -> float:
    """µs per row to run ``sql`` over ``rows``, one transaction per batch."""
    started = time.perf_counter()
    for k in range(0, len(rows), batch):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows[k:k + batch])
        conn.execute("COMMIT")
    return (time.perf_counter() - started) / len(rows) * 1e6


class TimedConnection:
    """A write connection that times every statement it runs, by the statement's opening words."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.seconds: dict[str, float] = defaultdict(float)
        self.rows: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    @staticmethod
    def _label(sql: str) -> str:
        words = " ".join(sql.split())
        return words[:58]

    def _timed(self, label: str, rows: int, call: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            self.seconds[label] += time.perf_counter() - started
            self.rows[label] += rows

    def execute(self, sql: str, *args: Any) -> Any:
        return self._timed(self._label(sql), 1, self._conn.execute, sql, *args)

    def executemany(self, sql: str, rows: Any) -> Any:
        rows = list(rows)
        return self._timed(self._label(sql), len(rows), self._conn.executemany, sql, rows)

    def executescript(self, script: str) -> Any:
        return self._timed("script: " + self._label(script), 1, self._conn.executescript, script)


def store_write_work(data: Path, db: Path) -> tuple[int, float, TimedConnection]:
    """Ingest ``data`` in this process into a fresh store at ``db`` whose write connection is
    timed: (rows, wall seconds, the timed connection)."""
    from graph.backends.memory import open_store
    from ingest.pipeline import ingest_paths

    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    store = open_store(db)
    timed = TimedConnection(store._write_conn)
    store._write_conn = timed  # type: ignore[assignment]  # every write goes through it
    try:
        started = time.perf_counter()
        summary = ingest_paths(store, [data], progress=True, workers=1)
        seconds = time.perf_counter() - started
    finally:
        store._write_conn = timed._conn
        store.close()
    return summary.rows, seconds, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--rows", type=int, default=300_000, help="rows for the driver's floor")
    parser.add_argument("--probe", action="store_true", help="only the lean link table probe (section 3)")
    args = parser.parse_args()
    if args.probe:
        probe = link_table_probe()
        print("\n== a link upsert, into a store of the 100k set's size (860,000 links, 580,000 parties) ==")
        print(f"the store's table and statement: {probe['store']:.2f} µs")
        print(f"the store's table, ends bound as 63-bit key hashes (no look-up): {probe['hashed ends']:.2f} µs")
        print(f"a lean table (row id = a 63-bit fact hash, ends = 63-bit key hashes): {probe['lean']:.2f} µs, "
              f"and {probe['hashing']:.2f} µs of Python to make its three hashes")
        return
    data = Path(args.out) / f"demo-{args.firms}"
    if not (data / "ground_truth.json").exists():
        from ingest.demo import generate

        generate(data, firms=args.firms, progress=True)

    plain, keyed = driver_floor(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        rows, seconds, timed = store_write_work(data, Path(tmp) / "floor.sqlite")
    total = sum(timed.seconds.values())

    print("\n== what SQLite's own work allows ==")
    print(f"sqlite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
    print(f"a 14-column row through executemany: {plain:.2f} µs with no index (in memory), "
          f"{keyed:.2f} µs with a unique random 20-character key (WAL file)")
    print(f"\nthe store's statements in a one-process load of {rows:,} rows ({args.firms:,} firms, {seconds:.1f} s):")
    for label, secs in sorted(timed.seconds.items(), key=lambda item: -item[1])[:12]:
        n = timed.rows[label]
        print(f"  {secs:7.2f} s {n:>10,} rows {secs / max(n, 1) * 1e6:8.1f} µs  {label}")
    print(f"  {total:7.2f} s in all ({total / seconds:.0%} of the load)")
    print(f"ceiling from SQLite alone: {rows / total:,.0f} rows/s end to end "
          f"(one writer at a time; the target of 50,000 allows {rows / 50_000:.1f} s in all)")


if __name__ == "__main__":
    main()
