"""API keys, roles and per-key rate limits; the API's own SQLite file and its settings.

Keys live in a SQLite file of their own next to the store (``data/creditgraph.api.sqlite``
for ``data/creditgraph.sqlite``), with the audit trail and the webhook tables: the graph
backends stay untouched and a Bolt-backed deployment keeps its keys locally too.

A key reads ``cg_<id>_<secret>``: the id finds the row, the secret is checked against
``sha256(salt + secret)`` with a per-key random salt (secrets are 32 random bytes, so a
slow KDF would buy nothing and cost every request). Only the hash is stored; ``creditgraph
keys create`` prints the key once.

Roles: ``investigator`` (full data), ``supervision_system`` (risk, batch check,
relocations, webhooks; person IDs masked, no phones or addresses), ``admin`` (everything,
plus keys, audit and ingest).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import math
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api import audit_index
from api.settings import Settings
from graph.loop_pass import current_pass
from graph.store import InvalidInput, NotFound

ROLES = ("investigator", "supervision_system", "admin")
INVESTIGATOR, SUPERVISION, ADMIN = ROLES
# who may do what: one table, read by the route dependencies
READ_PARTIES = (INVESTIGATOR, ADMIN)
RISK = (INVESTIGATOR, SUPERVISION, ADMIN)
WRITE_ACTIONS = (INVESTIGATOR, ADMIN)
WEBHOOKS = (SUPERVISION, ADMIN)
ADMIN_ONLY = (ADMIN,)


class ApiSettings(Settings):
    """The API's own settings (``CREDITGRAPH_*``), on top of the store settings."""

    api_db: str = ""  # empty: next to the store's SQLite file
    rate_per_second: float = 20.0  # tokens added per second to each key's bucket
    rate_burst: int = 60  # bucket size: requests a key may send at once
    max_batch: int = 1000
    max_upload_mb: int = 200
    upload_dir: str = ""  # empty: <api_db folder>/uploads
    webhook_max_attempts: int = 6
    webhook_backoff_seconds: float = 5.0  # first retry after this, doubled each time
    webhook_poll_seconds: float = 2.0
    webhook_timeout_seconds: float = 10.0
    webhooks_enabled: bool = True
    # POSTs only to public addresses: a subscriber must not make the server send signed party
    # data to the cloud metadata service or the credit office's internal hosts (tests and a
    # receiver on the same network turn this on)
    webhook_allow_private: bool = False
    response_cache: int = 20_000  # cached risk answers (per store version)
    prebuild_index: bool = True  # build today's risk index at start-up, in the background
    # answer today's risk checks in a second process (api.risk_worker): a server then uses two
    # cores. Off here (tests build many apps); `creditgraph serve` turns it on with 2+ cores
    # unless CREDITGRAPH_RISK_WORKER says otherwise
    risk_worker: bool = False


def api_settings(settings: Settings | None) -> ApiSettings:
    """Return ``settings`` as ApiSettings (the API's fields read from the environment)."""
    if isinstance(settings, ApiSettings):
        return settings
    if settings is None:
        return ApiSettings()
    return ApiSettings(**settings.model_dump())


def api_db_path(settings: Settings, store: Any = None) -> Path:
    """Return the path of the API's SQLite file: the setting, or next to the store's file."""
    explicit = getattr(settings, "api_db", "")
    if explicit:
        return Path(explicit)
    base = Path(getattr(store, "path", "") or settings.db)
    return base.with_name(base.stem + ".api.sqlite")


_DDL = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
    salt BLOB NOT NULL, hash BLOB NOT NULL, created TEXT NOT NULL, revoked TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL, who TEXT NOT NULL, who_name TEXT NOT NULL, role TEXT NOT NULL,
    ip TEXT NOT NULL, method TEXT NOT NULL, endpoint TEXT NOT NULL, path TEXT NOT NULL,
    key TEXT NOT NULL, status INTEGER NOT NULL, action TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_who ON audit(who, at);
-- the audit trail is append-only, also for anyone holding the file open in SQL
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, owner_role TEXT NOT NULL, url TEXT NOT NULL,
    secret TEXT NOT NULL, keys TEXT NOT NULL, regions TEXT NOT NULL, events TEXT NOT NULL,
    created TEXT NOT NULL, deleted TEXT
);
CREATE TABLE IF NOT EXISTS webhook_state (
    webhook TEXT NOT NULL, key TEXT NOT NULL, fingerprints TEXT NOT NULL,
    PRIMARY KEY (webhook, key)
);
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY, webhook TEXT NOT NULL, event TEXT NOT NULL, body BLOB NOT NULL,
    status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL,
    last_status INTEGER, last_error TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, delivered TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(status, next_at);
CREATE TABLE IF NOT EXISTS delivery_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, delivery TEXT NOT NULL, attempt INTEGER NOT NULL,
    at TEXT NOT NULL, status INTEGER, error TEXT NOT NULL DEFAULT '', ms REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS api_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


_LAST_MS: tuple[int, str] = (-1, "")  # the last millisecond formatted (audit rows come in bursts)


def now_iso() -> str:
    """The current time, UTC, ISO 8601 with milliseconds."""
    global _LAST_MS
    ms = time.time_ns() // 1_000_000
    last = _LAST_MS  # one read: another thread may swap the pair meanwhile
    if last[0] != ms:
        when = dt.datetime.fromtimestamp(ms // 1000, dt.UTC).replace(microsecond=ms % 1000 * 1000)
        last = _LAST_MS = (ms, when.isoformat(timespec="milliseconds"))
    return last[1]


class ApiDatabase:
    """The API's SQLite file: keys, audit trail, webhooks and deliveries (one locked connection).

    Commits never checkpoint the WAL here (``wal_autocheckpoint=0``): a checkpoint copies the
    WAL into the file and fsyncs it, 10-200 ms, and the audit rows are committed on the
    server's event loop, which would stall every request meanwhile. A running server checkpoints
    on a thread of its own instead (:meth:`start_upkeep`); SQLite checkpoints on the last
    close as well, so a CLI that only creates a key leaves no WAL behind."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA wal_autocheckpoint=0")
        self.conn.execute("PRAGMA journal_size_limit=67108864")  # a reset WAL shrinks back to 64 MB
        self.conn.executescript(_DDL)
        self.conn.executescript(audit_index.DDL)
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._upkeeper: threading.Thread | None = None

    def start_upkeep(self, every: float = 1.0, restart_frames: int = 16_384) -> None:
        """Every ``every`` seconds, on a thread with its own connection: index the new audit
        rows by key (:mod:`api.audit_index`), then checkpoint the WAL.

        PASSIVE checkpoints never block a reader or the writer (and the GIL is released while
        SQLite copies and syncs), but under unbroken writes they never catch up with the last
        frame, so the WAL is never restarted and keeps growing. Past ``restart_frames`` pages
        (64 MB) a RESTART checkpoint follows: it waits for the writer's current commit, finishes
        the few frames the passive one left, and makes the next commit start the WAL afresh;
        commits wait for it meanwhile, a few ms every minute or so at full load."""
        if self._upkeeper is not None and self._upkeeper.is_alive():
            return
        self._stop.clear()
        self._upkeeper = threading.Thread(target=self._upkeep_loop, args=(every, restart_frames),
                                          name="api-db-upkeep", daemon=True)
        self._upkeeper.start()

    def stop_upkeep(self) -> None:
        """Stop the upkeep thread (after one last round)."""
        self._stop.set()
        if self._upkeeper is not None:
            self._upkeeper.join(timeout=30)
            self._upkeeper = None

    def _upkeep_loop(self, every: float, restart_frames: int) -> None:
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        # as the request path's connection: no fsync under the write lock, no checkpoint on commit
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        try:
            while True:
                stopping = self._stop.wait(every)
                with contextlib.suppress(sqlite3.Error):  # busy or closing: the next round catches up
                    audit_index.index_pending(conn, turn=self.lock, pause=0.001)
                with contextlib.suppress(sqlite3.Error):
                    _busy, frames, _done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames > restart_frames:
                        conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
                if stopping:
                    return
        finally:
            conn.close()

    def execute(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (autocommit) and return its rows."""
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run one statement over many rows in one transaction."""
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                self.conn.executemany(sql, rows)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def data_version(self) -> int:
        """A number that changes when another connection (e.g. the CLI) committed."""
        with self.lock:
            return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        """Stop the upkeep thread and close the connection."""
        self.stop_upkeep()
        with self.lock:
            self.conn.close()


# -- keys ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as listed: never the secret."""

    id: str
    name: str
    role: str
    created: str
    revoked: str | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, name and role."""

    id: str
    name: str
    role: str

    @property
    def masked(self) -> bool:
        """True when person IDs, phones and addresses must be hidden from this caller."""
        return self.role == SUPERVISION


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode("utf-8")).digest()


def create_key(db: ApiDatabase, role: str, name: str = "") -> tuple[ApiKey, str]:
    """Create a key of ``role``; return it and the full key text (shown once, never stored)."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not {role!r}", field="role")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    created = now_iso()
    name = (name or "").strip() or f"{role}-{key_id}"
    db.execute("INSERT INTO api_keys(id, name, role, salt, hash, created) VALUES (?, ?, ?, ?, ?, ?)",
               (key_id, name, role, salt, _digest(salt, secret), created))
    return ApiKey(key_id, name, role, created, None), f"cg_{key_id}_{secret}"


def list_keys(db: ApiDatabase) -> list[ApiKey]:
    """Return every key (revoked ones included), oldest first."""
    rows = db.execute("SELECT id, name, role, created, revoked FROM api_keys ORDER BY created, id")
    return [ApiKey(*r) for r in rows]


def revoke_key(db: ApiDatabase, key_id: str) -> ApiKey:
    """Revoke a key (it stops working at once, also in a running server)."""
    rows = db.execute("SELECT id FROM api_keys WHERE id = ?", (key_id,))
    if not rows:
        raise NotFound(f"no API key with id {key_id!r}; `creditgraph keys list` shows them")
    db.execute("UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL", (now_iso(), key_id))
    return next(k for k in list_keys(db) if k.id == key_id)


class KeyRing:
    """Verifies presented keys against an in-memory copy of the key table, reloaded whenever
    the file changed (a revocation from the CLI takes effect on the next request, or, in a
    server, from the next pass of its event loop: the file is looked at once per pass)."""

    def __init__(self, db: ApiDatabase) -> None:
        self.db = db
        self._version: int | None = None
        self._keys: dict[str, tuple[bytes, bytes, Principal]] = {}
        self._local_changes = 0
        self._checked_in: object | None = None  # the event-loop pass that last looked at the file

    def _reload(self) -> None:
        token = current_pass()
        if token is not None and token is self._checked_in and self._local_changes == _local_key_changes[0]:
            return  # the file was looked at in this pass of the event loop (see graph.loop_pass)
        version = self.db.data_version()
        if version != self._version or self._local_changes != _local_key_changes[0]:
            rows = self.db.execute("SELECT id, name, role, salt, hash FROM api_keys WHERE revoked IS NULL")
            self._keys = {r[0]: (bytes(r[3]), bytes(r[4]), Principal(r[0], r[1], r[2])) for r in rows}
            self._version = version
            self._local_changes = _local_key_changes[0]
        self._checked_in = token

    def verify(self, presented: str) -> Principal | None:
        """Return the principal of a valid, unrevoked key, else None."""
        parts = presented.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != "cg":
            return None
        self._reload()
        found = self._keys.get(parts[1])
        if found is None:
            return None
        salt, digest, principal = found
        return principal if hmac.compare_digest(_digest(salt, parts[2]), digest) else None


# data_version does not move for commits on our own connection: count them here
_local_key_changes = [0]


def note_key_change() -> None:
    """Tell key rings in this process that the key table changed through this process."""
    _local_key_changes[0] += 1


def presented_key(headers: Any) -> str | None:
    """Return the key from ``X-API-Key`` or ``Authorization: Bearer …``, if any."""
    key = headers.get("x-api-key")
    if key:
        return str(key)
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return str(auth[7:].strip())
    return None


# -- rate limits ----------------------------------------------------------------------------
class RateLimiter:
    """A token bucket per key: ``rate`` tokens a second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = max(rate, 1e-9)
        self.burst = max(burst, 1)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, who: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens; return 0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(who, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= cost:
                self._buckets[who] = (tokens - cost, now)
                return 0.0
            self._buckets[who] = (tokens, now)
            return (cost - tokens) / self.rate


def retry_after(seconds: float) -> str:
    """Return a Retry-After header value (whole seconds, at least 1)."""
    return str(max(1, math.ceil(seconds)))
