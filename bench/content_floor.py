"""How long does writing a finished store's content take, however the ingest produces it?

    .venv/bin/python bench/content_floor.py --firms 100000
    .venv/bin/python bench/content_floor.py --firms 100000 --repeat 3

``bench/sqlite_floor.py`` times the statements the store's ingest runs (upserts into indexed
tables). This asks a harder question: the least time *any* ingest needs to put the same rows
into one SQLite file. It reads every row of the tables an ingest fills from a finished store
(``bench/out/bench-N.sqlite``, as ``bench/ingest.py`` leaves it; made here when missing),
keeps them in memory as ready tuples, and writes them into fresh files with no conversion,
no look-up and no conflict to resolve:

1. *schema, batches*: the store's own schema (unique keys in place), plain INSERTs in
   transactions of 20,000 rows, WAL, as the store opens its files;
2. *bulk, batches*: the same tables without their unique keys while rows go in, then every
   index built at the end (a first load into an empty store could do this), WAL and
   transactions of 20,000 rows: still durable, a crash loses no committed batch (a restart
   would have to build the keys, or drop the load, before going on);
3. *bulk, no journal*: as 2 in one transaction with no journal and no syncing at all: not
   crash-safe, so no store could use it; the floor under every durable way.

Then the trigram name index and the read indexes in each. Each variant runs with Python's
``sqlite3`` and, when installed (``.venv/bin/pip install apsw``), with ``apsw``, whose
``executemany`` binds rows with less overhead.

The figure that matters is the rows/s a variant allows: the demo set's input rows over its
seconds. SQLite admits one writer per file, so a variant's time is also wall time, and it is
CPU time on one of the machine's two cores (section 3 never waits for the disk).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph.backends.sqlite_schema import DDL, READ_INDEXES, STORE_PRAGMAS  # noqa: E402

# the tables an ingest fills (the trigram index is rebuilt from names; meta, runs, files,
# sources, aliases and link_mutations are small bookkeeping)
TABLES = ("parties", "names", "links", "records", "code_observations", "rejections")

# the schema's unique keys and its indexes kept up while rows arrive: what a bulk load
# builds at the end instead
DEFERRED_INDEXES = {
    "parties(key)": "CREATE UNIQUE INDEX bulk_parties_key ON parties(key)",
    "names(party, name, start)": "CREATE UNIQUE INDEX bulk_names_key ON names(party, name, start)",
    "links(fid)": "CREATE UNIQUE INDEX bulk_links_fid ON links(fid)",
    "records(fid)": "CREATE UNIQUE INDEX bulk_records_fid ON records(fid)",
    "code_observations key": "CREATE UNIQUE INDEX bulk_obs_key ON code_observations(srcfile, row, kind, code)",
    "rejections key": "CREATE UNIQUE INDEX bulk_rejections_key ON rejections(file, row, col, reason)",
    "links_derived_dst": "CREATE INDEX links_derived_dst ON links(dst) WHERE origin != ''",
    "links_derived_src": "CREATE INDEX links_derived_src ON links(src) WHERE origin != ''",
    "records_subject": "CREATE INDEX records_subject ON records(subject)",
}


def bulk_ddl() -> str:
    """The store's DDL without the unique keys and indexes of :data:`DEFERRED_INDEXES`."""
    ddl = DDL
    for unique, plain in (("key TEXT NOT NULL UNIQUE", "key TEXT NOT NULL"),
                          ("fid TEXT NOT NULL UNIQUE", "fid TEXT NOT NULL"),
                          (",\n    UNIQUE(party, name, start)", ""),
                          (",\n    UNIQUE(file, row, col, reason)", ""),
                          (",\n    UNIQUE(srcfile, row, kind, code)", "")):
        if unique not in ddl:
            raise SystemExit(f"the store's DDL changed: {unique!r} not found; update bench/content_floor.py")
        ddl = ddl.replace(unique, plain)
    ddl, dropped = re.subn(r"CREATE INDEX IF NOT EXISTS (links_derived_dst|links_derived_src|records_subject) ON [^;]*;",
                           "", ddl)
    if dropped != 3:
        raise SystemExit("the store's DDL changed: its link and record indexes not found; update bench/content_floor.py")
    return ddl


Content = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def read_content(db: Path) -> Content:
    """Every row of :data:`TABLES` in ``db``, by table: (column names, rows in id order)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        content: Content = {}
        for table in TABLES:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            content[table] = (columns, conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall())
        return content
    finally:
        conn.close()


def input_rows(db: Path) -> int:
    """The data rows the ingest that made ``db`` read (from its runs' summaries)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return sum(json.loads(s).get("rows", 0) for (s,) in conn.execute("SELECT summary FROM runs WHERE summary IS NOT NULL"))
    finally:
        conn.close()


class _Driver:
    """The few calls the floor needs, on ``sqlite3`` or ``apsw``."""

    def __init__(self, name: str, path: str) -> None:
        self.name = name
        if name == "apsw":
            import apsw

            self._conn: Any = apsw.Connection(path)
        else:
            self._conn = sqlite3.connect(path, isolation_level=None)

    def run(self, sql: str) -> None:
        """One statement (its first row, if any, is stepped to and dropped)."""
        self._conn.execute(sql)

    def script(self, sql: str) -> None:
        """Several statements."""
        if self.name == "apsw":
            self._conn.execute(sql)  # apsw runs every statement it is given
        else:
            self._conn.executescript(sql)

    def many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self._conn.executemany(sql, rows)

    def close(self) -> None:
        self._conn.close()


DURABLE_PRAGMAS = STORE_PRAGMAS  # as the store opens its files
UNSAFE_PRAGMAS = ("journal_mode = OFF", "synchronous = OFF", "cache_size = -1048576", "temp_store = MEMORY",
                  "locking_mode = EXCLUSIVE")

VARIANTS = {
    "schema, batches": (DDL, DURABLE_PRAGMAS, 20_000, False),
    "bulk, batches": (None, DURABLE_PRAGMAS, 20_000, True),
    "bulk, no journal": (None, UNSAFE_PRAGMAS, None, True),
}


def write_content(content: Content, path: str, variant: str, driver: str = "sqlite3") -> dict[str, float]:
    """Write ``content`` into a fresh file at ``path`` the way ``variant`` says; seconds by step."""
    ddl, pragmas, batch, deferred = VARIANTS[variant]
    conn = _Driver(driver, path)
    steps: dict[str, float] = {}
    try:
        for pragma in pragmas:
            conn.run(f"PRAGMA {pragma}")
        conn.script(ddl or bulk_ddl())
        if batch is None:
            conn.run("BEGIN")
        for table in TABLES:
            columns, rows = content[table]
            sql = f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            started = time.perf_counter()
            for k in range(0, len(rows), batch or len(rows) or 1):
                if batch is not None:
                    conn.run("BEGIN IMMEDIATE")
                conn.many(sql, rows[k:k + batch] if batch else rows)
                if batch is not None:
                    conn.run("COMMIT")
            steps[f"insert {table}"] = time.perf_counter() - started
        if batch is not None:
            conn.run("BEGIN IMMEDIATE")
        started = time.perf_counter()
        conn.run("INSERT INTO names_fts(rowid, nkey) SELECT id, nkey FROM names WHERE length(nkey) >= 4")
        steps["trigram name index"] = time.perf_counter() - started
        if deferred:
            for name, sql in DEFERRED_INDEXES.items():
                started = time.perf_counter()
                conn.run(sql)
                steps[f"index {name}"] = time.perf_counter() - started
        started = time.perf_counter()
        for sql in READ_INDEXES.values():
            conn.run(sql)
        steps["read indexes"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.run("COMMIT")
        if batch is not None:
            conn.run("PRAGMA wal_checkpoint(TRUNCATE)")
        steps["commit"] = time.perf_counter() - started
    finally:
        conn.close()
    return steps


def available_drivers() -> list[str]:
    """``sqlite3``, and ``apsw`` when it is installed."""
    try:
        import apsw  # noqa: F401
    except ImportError:
        return ["sqlite3"]
    return ["sqlite3", "apsw"]


def _finished_store(out: Path, firms: int) -> Path:
    db = out / f"bench-{firms}.sqlite"
    if db.exists() and input_rows(db):
        return db
    from graph.backends.memory import open_store
    from ingest.demo import generate
    from ingest.pipeline import ingest_paths

    data = out / f"demo-{firms}"
    if not (data / "ground_truth.json").exists():
        generate(data, firms=firms, progress=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    store = open_store(db)
    try:
        ingest_paths(store, [data], progress=True, workers=2)
    finally:
        store.close()
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--repeat", type=int, default=1, help="runs of every variant (the machine is noisy)")
    parser.add_argument("--target", type=float, default=50_000, help="the rows/s the ingest must reach end to end")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = _finished_store(out, args.firms)
    rows = input_rows(db)
    started = time.perf_counter()
    content = read_content(db)
    print(f"{db.name}: {rows:,} input rows; read {sum(len(r) for _, r in content.values()):,} stored rows "
          f"in {time.perf_counter() - started:.1f} s: "
          + ", ".join(f"{t} {len(r):,}" for t, (_, r) in content.items()))
    print(f"sqlite3 module: SQLite {sqlite3.sqlite_version}; the target of {args.target:,.0f} rows/s allows "
          f"{rows / args.target:.2f} s for the whole ingest")
    drivers = available_drivers()
    if "apsw" not in drivers:
        print("(apsw not installed: .venv/bin/pip install apsw to time it too)")
    for run in range(args.repeat):
        for driver in drivers:
            for variant in VARIANTS:
                with tempfile.TemporaryDirectory(dir=out) as tmp:
                    steps = write_content(content, os.path.join(tmp, "floor.sqlite"), variant, driver)
                total = sum(steps.values())
                largest = sorted(steps.items(), key=lambda kv: -kv[1])[:5]
                print(f"run {run + 1}  {driver:7} {variant:17} {total:6.2f} s = {rows / total:8,.0f} rows/s at most   "
                      + ", ".join(f"{name} {secs:.2f}" for name, secs in largest))


if __name__ == "__main__":
    main()
