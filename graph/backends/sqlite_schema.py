"""The SQLite schema of the embedded store, and the conversions between rows and values.

SQLite is the durable truth of the embedded backend: WAL journal, one transaction per
writer batch, so a crash (even SIGKILL) never leaves half a batch behind.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

import orjson

SCHEMA_VERSION = "1"

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, started TEXT NOT NULL, finished TEXT, note TEXT, summary TEXT
);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, UNIQUE(path)
);
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY, path TEXT NOT NULL, kind TEXT, rows INTEGER,
    status TEXT NOT NULL, run TEXT, updated TEXT
);
CREATE TABLE IF NOT EXISTS parties (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    start TEXT, end TEXT,
    status TEXT NOT NULL DEFAULT '',
    flags TEXT NOT NULL DEFAULT '',
    attrs TEXT,
    primary_rank INTEGER NOT NULL DEFAULT 0,
    src INTEGER, row INTEGER, run TEXT
);
CREATE TABLE IF NOT EXISTS names (
    id INTEGER PRIMARY KEY,
    party TEXT NOT NULL,
    name TEXT NOT NULL,
    nkey TEXT NOT NULL,
    start TEXT, end TEXT,
    src INTEGER, row INTEGER, run TEXT,
    UNIQUE(party, name, start)
);
CREATE VIRTUAL TABLE IF NOT EXISTS names_fts USING fts5(
    nkey, content='names', content_rowid='id', tokenize='trigram'
);
-- person names (2-3 characters) are found through names_nkey; the trigram index is for
-- the longer names of organisations, where substring search matters. New names are added
-- to it by one INSERT … SELECT at the end of each write batch (index_new_names), not by a
-- per-row trigger: four times cheaper, and committed in the same transaction.
CREATE TRIGGER IF NOT EXISTS names_ad AFTER DELETE ON names WHEN length(old.nkey) >= 4 BEGIN
    INSERT INTO names_fts(names_fts, rowid, nkey) VALUES ('delete', old.id, old.nkey);
END;
CREATE TABLE IF NOT EXISTS links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the index loads links by growing id
    fid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    src INTEGER NOT NULL,
    dst INTEGER NOT NULL,
    start INTEGER, end INTEGER,
    ratio REAL, amount REAL,
    title TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT '',
    srcfile INTEGER, row INTEGER, run TEXT,
    currency TEXT NOT NULL DEFAULT ''
);
-- traversals use the in-memory index; SQL only looks up derived links (re-derived per firm)
CREATE INDEX IF NOT EXISTS links_derived_dst ON links(dst) WHERE origin != '';
CREATE INDEX IF NOT EXISTS links_derived_src ON links(src) WHERE origin != '';
CREATE TABLE IF NOT EXISTS link_mutations (
    id INTEGER PRIMARY KEY, version INTEGER NOT NULL, link INTEGER NOT NULL, what TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    fid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    start TEXT, end TEXT,
    target TEXT NOT NULL DEFAULT '',
    attrs TEXT,
    srcfile INTEGER, row INTEGER, run TEXT
);
CREATE INDEX IF NOT EXISTS records_subject ON records(subject);
CREATE TABLE IF NOT EXISTS aliases (
    unresolved TEXT PRIMARY KEY, resolved TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS aliases_resolved ON aliases(resolved);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY, file TEXT NOT NULL, row INTEGER NOT NULL, col TEXT NOT NULL,
    value TEXT NOT NULL, reason TEXT NOT NULL, run TEXT,
    UNIQUE(file, row, col, reason)
);
CREATE TABLE IF NOT EXISTS code_observations (
    id INTEGER PRIMARY KEY, code TEXT NOT NULL, normalised TEXT NOT NULL, name TEXT NOT NULL,
    valid INTEGER NOT NULL, kind TEXT NOT NULL, srcfile INTEGER, row INTEGER, run TEXT,
    UNIQUE(srcfile, row, kind, code)
);
"""


# Indexes that only reads use: searching by code or ID (parties_code), by name (names_nkey),
# records by kind or target, one code given with several names (shown on a firm's profile).
# A first load into an empty store builds them once at its end instead of updating them
# batch by batch (7% of a 100k-firm load); every other opening of the store makes sure
# they exist (unless that load is still running), so a load killed before its end leaves
# them to the next one.
READ_INDEXES = {
    "parties_code": "CREATE INDEX IF NOT EXISTS parties_code ON parties(code) WHERE code != ''",
    "names_nkey": "CREATE INDEX IF NOT EXISTS names_nkey ON names(nkey)",
    "records_kind": "CREATE INDEX IF NOT EXISTS records_kind ON records(kind)",
    "records_target": "CREATE INDEX IF NOT EXISTS records_target ON records(target) WHERE target != ''",
    "code_observations_normalised": "CREATE INDEX IF NOT EXISTS code_observations_normalised ON code_observations(normalised)",
}


def missing_read_indexes(conn: sqlite3.Connection) -> bool:
    """True when one of :data:`READ_INDEXES` does not exist."""
    found = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    return not set(READ_INDEXES) <= found


def create_read_indexes(conn: sqlite3.Connection) -> None:
    """Make sure every index in :data:`READ_INDEXES` exists."""
    conn.executescript(";\n".join(READ_INDEXES.values()) + ";")


def drop_read_indexes(conn: sqlite3.Connection) -> None:
    """Drop the indexes in :data:`READ_INDEXES` (one transaction; the caller holds the writers' turn)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for name in READ_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def index_new_names(conn: sqlite3.Connection) -> None:
    """Add names stored since the last call to the trigram index (inside the caller's transaction)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'fts_upto'").fetchone()
    upto = int(row[0]) if row else 0
    top = conn.execute("SELECT max(id) FROM names").fetchone()[0] or 0
    if top > upto:
        conn.execute("INSERT INTO names_fts(rowid, nkey) SELECT id, nkey FROM names WHERE id > ? AND length(nkey) >= 4",
                     (upto,))
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('fts_upto', ?)", (str(top),))


def migrate_name_index(conn: sqlite3.Connection) -> None:
    """Stores made before index_new_names kept the trigram index by trigger: drop it and
    note that every stored name is indexed."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'names_ai'").fetchone():
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DROP TRIGGER names_ai")
        top = conn.execute("SELECT max(id) FROM names").fetchone()[0] or 0
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('fts_upto', ?)", (str(top),))
        conn.execute("COMMIT")


def migrate_link_currency(conn: sqlite3.Connection) -> None:
    """Give a store made before links had a currency its column (every amount stored so far
    was read as renminbi)."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(links)")}
    if "currency" not in columns:
        conn.execute("ALTER TABLE links ADD COLUMN currency TEXT NOT NULL DEFAULT ''")


def migrate_undated_names(conn: sqlite3.Connection) -> None:
    """Stores made before undated names were stored with start '' may hold the same undated
    name more than once (NULLs never conflict in a UNIQUE key): keep the first, date the rest ''."""
    # looked for once per store (a scan of names), then remembered in meta
    if conn.execute("SELECT 1 FROM meta WHERE key = 'undated_names'").fetchone() is not None:
        return
    conn.execute("BEGIN IMMEDIATE")
    # the delete trigger takes the extra copies out of the trigram index too
    conn.execute("""DELETE FROM names WHERE start IS NULL AND id NOT IN
                    (SELECT min(id) FROM names WHERE start IS NULL GROUP BY party, name)""")
    conn.execute("""DELETE FROM names WHERE start IS NULL AND EXISTS
                    (SELECT 1 FROM names o WHERE o.party = names.party AND o.name = names.name AND o.start = '')""")
    conn.execute("UPDATE names SET start = '' WHERE start IS NULL")
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('undated_names', 'start is empty text')")
    conn.execute("COMMIT")


# What every connection of the store runs after its busy timeout, in this order. A read-only
# connection leaves out the journal mode, which only a writer may set. (bench/content_floor.py
# opens its files with these too, so its figures stay those of the store's settings.)
STORE_PRAGMAS = (
    "journal_mode = WAL",
    # NORMAL in WAL mode: a committed batch survives a process crash (SIGKILL); only a
    # power cut may lose the newest batches, and never leaves a partial one.
    "synchronous = NORMAL",
    "cache_size = -262144",  # 256 MiB page cache
    "temp_store = MEMORY",
    "wal_autocheckpoint = 20000",  # fewer, larger checkpoints during bulk ingest
)


def connect(path: str, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the database with the pragmas the store relies on (:data:`STORE_PRAGMAS`)."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
    else:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 30000")
    for pragma in STORE_PRAGMAS:
        if not (readonly and pragma.startswith("journal_mode")):
            conn.execute(f"PRAGMA {pragma}")
    return conn


def iso(d: dt.date | None) -> str | None:
    """A date as ISO text for storage."""
    return d.isoformat() if d is not None else None


def from_iso(text: str | None) -> dt.date | None:
    """An ISO date from storage."""
    return dt.date.fromisoformat(text) if text else None


def ordinal(d: dt.date | None) -> int | None:
    """A date as its proleptic ordinal (links keep dates as integers for the index)."""
    return d.toordinal() if d is not None else None


def from_ordinal(n: int | None) -> dt.date | None:
    """A date from its ordinal."""
    return dt.date.fromordinal(n) if n is not None else None


def dumps(value: dict[str, Any] | None) -> str | None:
    """A JSON attribute dict for storage (None when empty)."""
    if not value:
        return None
    return orjson.dumps(value, default=str).decode()


def loads(text: str | None) -> dict[str, Any]:
    """A JSON attribute dict from storage."""
    return orjson.loads(text) if text else {}
