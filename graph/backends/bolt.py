"""The Bolt backend: the store contract on Neo4j 5 or FalkorDB, through the official driver.

Use :func:`open_bolt_store` when the graph should live in a graph database server (a
Neo4j cluster for a province, FalkorDB for a light server) instead of the embedded SQLite
store. Settings are passed explicitly; nothing here reads the environment. Every statement
lives in :mod:`graph.backends.cypher` (portable openCypher, parameters only).

Writer batches. A writer collects its changes in memory and sends them on exit, all in
one explicit transaction with batched ``UNWIND $rows`` statements, retried as a whole on
transient errors; a block that raises sends nothing. On Neo4j the transaction makes the
batch atomic. FalkorDB's Bolt port accepts BEGIN/COMMIT but runs every statement at once
(ROLLBACK undoes nothing), so there each statement is atomic and a batch is atomic against
errors raised in the ``with`` block, but a server crash or lost connection in the middle of
sending can leave part of a batch: every write is idempotent, so sending the batch again
(re-running the ingest) completes it. The version counter is bumped last.

Reads. As-of neighbourhoods are a BFS, one ``UNWIND $keys`` query per hop, so the same code
runs on both servers (no variable-length or ``shortestPath`` patterns, which FalkorDB and
Neo4j treat differently). Unresolved parties aliased to a known party are traversed as
that party, as in the embedded backend.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import orjson

from graph.backends import cypher as cy
from graph.model import (
    Alias,
    CodeObservation,
    Flag,
    Link,
    LinkKind,
    NameFact,
    Party,
    PartyKind,
    Record,
    RecordKind,
    Rejection,
    Source,
    Subgraph,
)
from graph.search import Hits, code_hits, score_names, search_text
from graph.store import IngestRun, InvalidInput, SearchHit, StoreUnavailable, fact_id
from graph.textkey import name_search_key

log = logging.getLogger(__name__)

#: rows per UNWIND statement
BATCH_ROWS = 2000
#: attempts for a read or a batch when the server reports a transient error
ATTEMPTS = 5
#: a gram held by more names than this is too common to pick fuzzy-search candidates
COMMON_GRAM = 2000
#: FalkorDB 4.16 turns a statement and its parameters into one text in a 4096-byte stack
#: buffer (``get_query`` in src/bolt/bolt_api.c, no bounds check) and crashes when it
#: overflows: statements to it stay below this many bytes, lists are split
FALKORDB_MESSAGE_BUDGET = 4000


def open_bolt_store(
    uri: str,
    user: str | None = None,
    password: str | None = None,
    database: str | None = None,
    *,
    dialect: str | None = None,
) -> BoltStore:
    """Connect to a Bolt server (``bolt://``, ``neo4j://`` for clusters, ``+s`` variants) and return the store.

    ``dialect`` ("neo4j" or "falkordb") skips detection. Raises :class:`StoreUnavailable`
    when the server cannot be reached or holds a graph of another layout version.
    """
    return BoltStore(uri, user=user, password=password, database=database, dialect=dialect)


# -- FalkorDB connection workarounds --------------------------------------------------------
# Two faults of FalkorDB 4.16's Bolt listener are worked around in the driver, only for the
# addresses of servers detected as FalkorDB:
# * it mishandles the GOODBYE message a driver sends when it closes a connection: the next
#   connection it accepts (on the same file descriptor) never gets its handshake read and
#   the client hangs. A socket closed without GOODBYE is handled, so such connections are
#   closed the way the driver closes broken ones (``kill``).
# * it writes a reply of more than a few kilobytes in pieces without TCP_NODELAY, so the
#   last piece waits for the client's delayed ACK: 40 ms for any read returning more than
#   about twenty parties. The client asks for immediate ACKs (TCP_QUICKACK, which Linux
#   clears now and then, so it is set again before each read).
_FALKORDB_ADDRESSES: set[tuple[str, int]] = set()
_patch_lock = threading.Lock()


def _is_falkordb(address: Any) -> bool:
    try:
        return (str(address[0]), int(address[1])) in _FALKORDB_ADDRESSES
    except (TypeError, ValueError, IndexError):
        return False


def _patch_driver_for_falkordb(host: str, port: int) -> None:
    import socket

    with _patch_lock:
        _FALKORDB_ADDRESSES.add((host, port))
        for resolved in {info[4][:2] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}:
            _FALKORDB_ADDRESSES.add((str(resolved[0]), int(resolved[1])))
        try:
            from neo4j._async_compat.network._bolt_socket import BoltSocketBase
            from neo4j._sync.io._bolt._base import Bolt
        except ImportError:  # a driver layout we do not know: nothing to patch
            return
        if getattr(Bolt.close, "_creditgraph", False):
            return
        close, recv_into = Bolt.close, BoltSocketBase.recv_into

        def close_without_goodbye(self: Any) -> None:
            if _is_falkordb(getattr(self, "unresolved_address", None)):
                self.kill()
                return
            close(self)

        quickack = getattr(socket, "TCP_QUICKACK", None)

        def recv_into_acking(self: Any, buffer: Any, nbytes: int) -> Any:
            flag = self.__dict__.get("_creditgraph_quickack")
            if flag is None:
                try:
                    flag = quickack is not None and _is_falkordb(self._socket.getpeername())
                except OSError:
                    flag = False
                self.__dict__["_creditgraph_quickack"] = flag
            if flag:
                try:
                    self._socket.setsockopt(socket.IPPROTO_TCP, quickack, 1)
                except OSError:
                    pass
            return recv_into(self, buffer, nbytes)

        close_without_goodbye._creditgraph = True  # type: ignore[attr-defined]
        Bolt.close = close_without_goodbye  # type: ignore[method-assign]
        BoltSocketBase.recv_into = recv_into_acking  # type: ignore[method-assign]


def _address(uri: str) -> tuple[str, int]:
    parts = urlsplit(uri)
    return parts.hostname or "localhost", parts.port or 7687


def detect_dialect(driver: Any, database: str | None = None) -> str:
    """Return "neo4j" when the server answers ``dbms.components()``, else "falkordb"."""
    import neo4j.exceptions as nx

    try:
        with driver.session(database=database) as session:
            rows = session.run(cy.DETECT).values()
    except (nx.ServiceUnavailable, nx.AuthError):
        raise
    except nx.Neo4jError:
        return "falkordb"
    names = " ".join(str(r[0]).lower() for r in rows)
    return "neo4j" if "neo4j" in names else "falkordb"


def _is_transient(exc: BaseException) -> bool:
    import neo4j.exceptions as nx

    if isinstance(exc, nx.ServiceUnavailable | nx.SessionExpired | nx.TransientError):
        return True
    return isinstance(exc, nx.Neo4jError | nx.DriverError) and exc.is_retryable()


def _retry(what: str, fn: Callable[[], Any]) -> Any:
    import neo4j.exceptions as nx

    for attempt in range(ATTEMPTS):
        try:
            return fn()
        except Exception as exc:
            if not _is_transient(exc):
                raise
            if attempt == ATTEMPTS - 1:
                if isinstance(exc, nx.ServiceUnavailable | nx.SessionExpired):
                    raise StoreUnavailable(f"the graph server is unreachable ({what}): {exc}") from exc
                raise
            time.sleep(0.05 * 2**attempt * (1 + random.random()))
    raise AssertionError("unreachable")


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


class BoltStore:
    """A GraphStore on a Bolt server (Neo4j 5 or FalkorDB)."""

    backend_name = "bolt"

    def __init__(
        self,
        uri: str,
        *,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        dialect: str | None = None,
    ) -> None:
        import neo4j
        import neo4j.exceptions as nx

        self.uri = uri
        auth = (user, password or "") if user else None
        try:
            self.driver = neo4j.GraphDatabase.driver(uri, auth=auth, connection_timeout=10.0)
            if dialect is None:
                dialect = detect_dialect(self.driver, database)
        except (nx.ServiceUnavailable, nx.AuthError, nx.ConfigurationError, ValueError, OSError) as exc:
            raise StoreUnavailable(f"cannot connect to the graph server at {uri}: {exc}") from exc
        if dialect not in cy.DIALECTS:
            raise InvalidInput(f"dialect must be one of {sorted(cy.DIALECTS)}, not {dialect!r}", field="dialect")
        self.dialect = cy.DIALECTS[dialect]
        if self.dialect.name == "falkordb":
            _patch_driver_for_falkordb(*_address(uri))
        self.database = database if self.dialect.named_databases else None
        self._bookmarks = neo4j.GraphDatabase.bookmark_manager()
        self._write_lock = threading.Lock()
        self.budget: int | None = FALKORDB_MESSAGE_BUDGET if self.dialect.name == "falkordb" else None
        self._escape = False
        if self.dialect.name == "falkordb":
            self._escape = self._strings_need_escaping()
        self.ensure_schema()

    def _strings_need_escaping(self) -> bool:
        """True when the server pastes string parameters into the query text unescaped.

        FalkorDB 4.16's Bolt port writes each parameter into a ``CYPHER name='value'``
        prefix without escaping it: a quote in a value ends the string (a party name could
        inject Cypher) and backslash sequences are interpreted. The probe sends a backslash
        followed by ``t``: a server that honours parameters returns it unchanged.
        """
        rows = self.query("RETURN $probe", probe="\\t")
        return bool(rows) and rows[0][0] != "\\t"

    # -- plumbing ------------------------------------------------------------------------
    def _session(self, write: bool = False) -> Any:
        import neo4j

        if not self.dialect.named_databases:
            # FalkorDB takes the first key of a BEGIN/RUN extra map as the graph's name, so an
            # access mode, database or bookmark sent along would switch to another graph
            return self.driver.session()
        return self.driver.session(
            database=self.database,
            default_access_mode=neo4j.WRITE_ACCESS if write else neo4j.READ_ACCESS,
            bookmark_manager=self._bookmarks,
        )

    def _prepare(self, statement: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.budget is not None:
            size = _statement_size(statement, params)
            if size > self.budget:
                raise InvalidInput(
                    f"a statement of {size} bytes is more than the {self.budget} that FalkorDB's "
                    "Bolt port takes: split the value or use Neo4j",
                    field="value",
                )
        return _escaped(params) if self._escape else params

    def run_in(self, tx: Any, statement: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        """Run one statement inside ``tx`` (parameters adapted to the server) and return its rows.

        Each statement waits for its reply. Statements are not sent ahead of their replies
        (Bolt pipelining, which the driver's public API does not offer): a trial of it on
        FalkorDB 4.16 left nodes without properties, though the cause is not proven.
        """
        return tx.run(statement, self._prepare(statement, params or {})).values()

    def pieces(self, statement: str, items: list[Any], **fixed: Any) -> Iterator[list[Any]]:
        """Split ``items`` into lists small enough to send with ``statement`` and ``fixed`` parameters."""
        if self.budget is None:
            yield from _chunks(items)
            return
        # one more parameter (the list: name, brackets) beside the fixed ones
        room = self.budget - _statement_size(statement, fixed) - 32
        part: list[Any] = []
        used = 0
        for item in items:
            size = _size(item) + 2  # ", " between items
            if part and (used + size > room or len(part) >= BATCH_ROWS):
                yield part
                part, used = [], 0
            part.append(item)
            used += size
        if part:
            yield part

    def run_rows(self, tx: Any, st: cy.RowStatement, rows: list[dict[str, Any]], key: str | None = None) -> None:
        """Send a row statement over ``rows`` in pieces (no ``key`` twice in one piece, so a
        key's later row is merged after its earlier one). A statement taking ``$file`` and
        ``$run`` is sent per stretch of consecutive rows of one source, which keeps the
        rows' order (merging a party depends on it)."""
        if st.sourced:
            groups = [(k, list(g)) for k, g in itertools.groupby(rows, key=lambda r: (r["src_file"], r["run"]))]
        else:
            groups = [((None, None), rows)]
        for (file, run), group in groups:
            fixed = {"file": file, "run": run} if st.sourced else {}
            for part in _rounds(group, key) if key else [group]:
                for chunk in self.pieces(st.text, [st.row(r) for r in part], **fixed):
                    self.run_in(tx, st.text, {"rows": chunk, **fixed})

    def query(self, statement: str, **params: Any) -> list[list[Any]]:
        """Run one read statement (auto-commit, retried) and return its rows as lists."""
        prepared = self._prepare(statement, params)

        def run() -> list[list[Any]]:
            with self._session() as session:
                return session.run(statement, prepared).values()

        return _retry("read", run)

    def query_pieces(self, statement: str, name: str, items: list[Any], **fixed: Any) -> list[list[Any]]:
        """Run a read statement once per piece of the list parameter ``name`` and join the rows."""
        out: list[list[Any]] = []
        for part in self.pieces(statement, items, **fixed):
            out.extend(self.query(statement, **{name: part}, **fixed))
        return out

    def stream(self, statement: str, **params: Any) -> Iterator[list[Any]]:
        """Yield the rows of one read statement as they arrive (no retry once started)."""
        prepared = self._prepare(statement, params)
        with self._session() as session:
            for record in session.run(statement, prepared):
                yield list(record.values())

    def execute(self, statement: str, **params: Any) -> list[list[Any]]:
        """Run one write statement in its own transaction (retried)."""

        def work(tx: Any) -> list[list[Any]]:
            return self.run_in(tx, statement, params)

        def run() -> list[list[Any]]:
            with self._session(write=True) as session:
                return session.execute_write(work)

        return _retry("write", run)

    def ensure_schema(self) -> None:
        """Create missing constraints and indexes, and the schema and version markers."""
        existing: set[tuple[str, str, str]] = set()
        if self.dialect.name == "falkordb":
            for row in self.query(cy.LIST_INDEXES_FALKORDB):
                # label, properties, types, options, language, stopwords, entitytype, ...
                for prop in row[1]:
                    existing.add((str(row[6]), str(row[0]), str(prop)))
        for statement in self.dialect.schema_statements(existing):
            self.execute(statement)
        stored = self.execute(cy.META_INIT, schema=cy.SCHEMA_VERSION)
        if stored and stored[0][0] != cy.SCHEMA_VERSION:
            raise StoreUnavailable(
                f"the graph at {self.uri} has layout {stored[0][0]}, this version needs {cy.SCHEMA_VERSION}"
            )

    # -- GraphStore ----------------------------------------------------------------------
    @contextmanager
    def writer(self, run_id: str | None = None) -> Iterator[BoltWriter]:
        """Open one batch: changes are sent in one transaction on exit, nothing when the block raises."""
        w = BoltWriter(self, run_id or "")
        yield w
        with self._write_lock:
            self._commit(w)

    @contextmanager
    def exclusive(self, name: str, *, ttl: float = 30.0, wait: float = 60.0) -> Iterator[None]:
        """Hold the lease ``name`` on the graph, across processes and machines, while the
        block runs; wait up to ``wait`` seconds for it (then StoreUnavailable).

        A lease, not a lock: a process that dies holding it loses it after ``ttl`` seconds, so
        the block must finish well within that (a check and one write batch take milliseconds)."""
        me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        deadline = time.monotonic() + wait
        pause = 0.005
        while not self.execute(cy.LEASE_TAKE, name=name, me=me, ttl_ms=int(ttl * 1000)):
            if time.monotonic() > deadline:
                raise StoreUnavailable(f"another process has held the lease {name!r} on the graph at {self.uri} "
                                       f"for over {wait:.0f} s")
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
        try:
            yield
        finally:
            try:
                self.execute(cy.LEASE_FREE, name=name, me=me)
            except Exception:  # the lease runs out by itself; what the block did (or raised) stands
                log.warning("could not give back the lease %r on %s; it runs out in %.0f s", name, self.uri, ttl,
                            exc_info=True)

    def _commit(self, w: BoltWriter) -> None:
        ops = w.ops

        def work(tx: Any) -> None:
            for op in ops:
                op(tx)
            self.run_in(tx, cy.BUMP_VERSION)

        def run() -> None:
            with self._session(write=True) as session:
                session.execute_write(work)

        _retry("write batch", run)

    def view(self, *, traversal: bool = True) -> BoltView:
        """Return a read view (each read sees what is committed when it runs; ``traversal``
        changes nothing here: the server traverses)."""
        return BoltView(self)

    def start_run(self, note: str = "") -> str:
        """Begin an ingest run and return its id."""
        run_id = dt.datetime.now().strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        self.execute(cy.START_RUN, id=run_id, started=_now(), note=note)
        return run_id

    def finish_run(self, run_id: str, summary: dict[str, object]) -> None:
        """Record a run's summary."""
        self.execute(cy.FINISH_RUN, id=run_id, finished=_now(), summary=_dumps(summary))

    def close(self) -> None:
        """Close the driver and its connections."""
        self.driver.close()


# -- conversions ---------------------------------------------------------------------------
def _dumps(value: dict[str, Any] | None) -> str | None:
    if not value:
        return None
    return orjson.dumps(value, default=str).decode()


def _loads(text: str | None) -> dict[str, Any]:
    return orjson.loads(text) if text else {}


def _size(value: Any) -> int:
    """Bytes ``value`` takes as a parameter in the text FalkorDB makes of it, or a little more.

    That text is Cypher literals: JSON's length, plus one for the space FalkorDB writes after
    each comma and one for the backslash the escaping adds before each single quote (both
    counted wherever the character appears, which only overestimates).
    """
    text = orjson.dumps(value, default=str)
    return len(text) + text.count(b",") + text.count(b"'")


def _statement_size(statement: str, params: dict[str, Any]) -> int:
    """Bytes of ``CYPHER k=v ... <statement>`` as FalkorDB's Bolt port writes it."""
    return 8 + len(statement.encode()) + sum(len(k) + 2 + _size(v) for k, v in params.items())


def _escaped(value: Any) -> Any:
    """``value`` with every string escaped for a server that pastes parameters into single quotes."""
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("'", "\\'")
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(v) for v in value]
    return value


def _num_text(x: float | None) -> str | None:
    """A ratio or amount as exact decimal text (see the module doc of cypher.py)."""
    return repr(float(x)) if x is not None else None


def _num(x: Any) -> float | None:
    return float(x) if x is not None else None


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _from_iso(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _ordinal(d: dt.date | None) -> int | None:
    return d.toordinal() if d is not None else None


def _from_ordinal(n: int | None) -> dt.date | None:
    return dt.date.fromordinal(n) if n is not None else None


def _source(file: str | None, row: int | None, run: str | None) -> Source | None:
    return Source(file, row, run or "") if file is not None else None  # type: ignore[arg-type]


def _party(m: dict[str, Any]) -> Party:
    return Party(
        key=m["key"],
        kind=PartyKind(m.get("kind") or "unresolved"),
        name=m.get("name") or "",
        code=m.get("code") or "",
        region=m.get("region") or "",
        start=_from_iso(m.get("start")),
        end=_from_iso(m.get("end")),
        status=m.get("status") or "",
        flags=frozenset(Flag(f) for f in m.get("flags") or ()),
        attrs=_loads(m.get("attrs")),
        source=_source(m.get("src_file"), m.get("src_row"), m.get("run")),
    )


def _link(r: Sequence[Any]) -> Link:
    return Link(
        id=r[0], kind=LinkKind(r[1]), src=r[2], dst=r[3], start=_from_ordinal(r[4]), end=_from_ordinal(r[5]),
        ratio=_num(r[6]), amount=_num(r[7]), title=r[8] or "", source=_source(r[9], r[10], r[11]),
        currency=r[12] or "",  # null on links stored before links had a currency
    )


def _record(m: dict[str, Any]) -> Record:
    return Record(
        id=m["fid"], kind=RecordKind(m["kind"]), subject=m["subject"], start=_from_iso(m.get("start")),
        end=_from_iso(m.get("end")), attrs=_loads(m.get("attrs")), target=m.get("target") or "",
        source=_source(m.get("src_file"), m.get("src_row"), m.get("run")),
    )


def _link_order(link: Link) -> tuple[str, str, str, dt.date]:
    return (link.kind.value, link.src, link.dst, link.start or dt.date.min)


def _chunks(rows: list[Any], size: int = BATCH_ROWS) -> Iterator[list[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _rounds(rows: list[dict[str, Any]], key: str) -> list[list[dict[str, Any]]]:
    """Split rows so that no statement holds the same key twice (the second waits a round)."""
    seen: Counter[Any] = Counter()
    out: list[list[dict[str, Any]]] = []
    for row in rows:
        n = seen[row[key]]
        seen[row[key]] += 1
        if n == len(out):
            out.append([])
        out[n].append(row)
    return out


def trigrams(key: str) -> list[str]:
    """Return the distinct character trigrams of a name search key, in order."""
    return list(dict.fromkeys(key[i : i + 3] for i in range(len(key) - 2)))


# -- writer --------------------------------------------------------------------------------
class BoltWriter:
    """One batch: every call turns its facts into rows now and queues the statements.

    Nothing reaches the server before the block ends, so :meth:`lookup_parties` and
    :meth:`lookup_records` answer from the committed graph with this batch's pending rows
    laid over it (by the same merge rules the statements apply).
    """

    def __init__(self, store: BoltStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.ops: list[Callable[[Any], object]] = []
        self._seq = itertools.count(time.time_ns())
        self._link_ids: set[str] = set()
        self._party_events: list[dict[str, Any]] = []  # put_parties rows and placeholders, in order
        self._records: dict[str, dict[str, Any]] = {}
        # keys of put_parties so far: a link written after them needs no placeholder for them
        self._put_keys: set[str] = set()

    def _src(self, source: Source | None) -> dict[str, Any]:
        if source is None:
            return {"src_file": None, "src_row": None, "run": self.run_id}
        return {"src_file": source.file, "src_row": source.row, "run": source.run or self.run_id}

    def put_parties(self, parties: Iterable[Party]) -> None:
        """Add parties; an existing key is merged (a primary source overrides, others fill gaps)."""
        rows = []
        for p in parties:
            rank = int(p.attrs.get("_primary", 0)) if p.attrs else 0
            attrs = {k: v for k, v in p.attrs.items() if not k.startswith("_")} if p.attrs else None
            rows.append(
                {"key": p.key, "kind": p.kind.value, "name": p.name, "code": p.code, "region": p.region,
                 "start": _iso(p.start), "end": _iso(p.end), "status": p.status, "flags": sorted(p.flags),
                 "attrs": _dumps(attrs), "rank": rank, "seq": next(self._seq), **self._src(p.source)}
            )
        if rows:
            self._party_events.extend(rows)
            self._put_keys.update(r["key"] for r in rows)
            self.ops.append(lambda tx: self.store.run_rows(tx, cy.PUT_PARTIES, rows, "key"))

    def put_names(self, names: Iterable[NameFact]) -> None:
        """Add name facts (kept once per party, name and start; a later fact may close one)."""
        rows: dict[str, dict[str, Any]] = {}
        for n in names:
            nkey = name_search_key(n.name)
            uid = fact_id(n.party, n.name, _iso(n.start))
            row = {"uid": uid, "party": n.party, "name": n.name, "nkey": nkey, "start": _iso(n.start),
                   "end": _iso(n.end), "grams": trigrams(nkey), "seq": next(self._seq), **self._src(n.source)}
            if uid not in rows or (rows[uid]["end"] is None and row["end"] is not None):
                rows[uid] = row
        if rows:
            self.ops.append(lambda tx: self._put_names(tx, list(rows.values())))

    def _put_names(self, tx: Any, rows: list[dict[str, Any]]) -> None:
        stored: dict[str, bool] = {}
        for chunk in self.store.pieces(cy.EXISTING_NAMES, [r["uid"] for r in rows]):
            stored.update((uid, is_open) for uid, is_open in self.store.run_in(tx, cy.EXISTING_NAMES, {"uids": chunk}))
        closing = [{"uid": r["uid"], "end": r["end"]} for r in rows if stored.get(r["uid"]) and r["end"] is not None]
        fresh = [r for r in rows if r["uid"] not in stored]
        self.store.run_rows(tx, cy.CLOSE_NAMES, closing)
        grams = Counter(g for r in fresh for g in r["grams"])
        self.store.run_rows(tx, cy.PUT_GRAMS, [{"g": g, "n": n} for g, n in grams.items()])
        self.store.run_rows(tx, cy.CREATE_NAMES, fresh)

    def _link_rows(self, links: Iterable[Link], origin: str) -> list[dict[str, Any]]:
        rows = []
        for link in links:
            rows.append(
                {"fid": link.id, "kind": link.kind.value, "src": link.src, "dst": link.dst,
                 "start": _ordinal(link.start), "end": _ordinal(link.end), "ratio": _num_text(link.ratio),
                 "amount": _num_text(link.amount), "currency": link.currency, "title": link.title, "origin": origin, "seq": next(self._seq),
                 **self._src(link.source)}
            )
            self._link_ids.add(link.id)
            self._party_events.append({"key": link.src, "placeholder": True})
            self._party_events.append({"key": link.dst, "placeholder": True})
        return rows

    def put_links(self, links: Iterable[Link], origin: str = "") -> None:
        """Add links; an id already stored is kept, except that an open link is closed when
        the new fact gives it an end."""
        rows = self._link_rows(links, origin)
        if rows:
            known = frozenset(self._put_keys)
            self.ops.append(lambda tx: self._put_links(tx, rows, known))

    def _put_links(self, tx: Any, rows: list[dict[str, Any]], known: frozenset[str]) -> None:
        """Write links, with placeholders for endpoints not put earlier in this batch."""
        ends = {r["src"]: r["seq"] for r in rows} | {r["dst"]: r["seq"] for r in rows}
        placeholders = [_placeholder(k) | {"seq": s} for k, s in ends.items() if k not in known]
        self.store.run_rows(tx, cy.PUT_PLACEHOLDERS, placeholders)
        self.store.run_rows(tx, cy.PUT_LINKS, rows, "fid")

    def replace_links(self, parties: Iterable[str], origin: str, links: Iterable[Link]) -> None:
        """Replace every link derived from ``origin`` that touches one of ``parties`` by ``links``
        (links that stay the same are left as they are)."""
        keys = list(dict.fromkeys(parties))
        rows = {r["fid"]: r for r in self._link_rows(links, origin)}
        known = frozenset(self._put_keys)

        def op(tx: Any) -> None:
            old: set[str] = set()
            if origin:
                for chunk in self.store.pieces(cy.DERIVED_LINKS, keys, origin=origin):
                    old.update(r[0] for r in self.store.run_in(tx, cy.DERIVED_LINKS, {"keys": chunk, "origin": origin}))
            stale = sorted(old - set(rows))
            for chunk in self.store.pieces(cy.DELETE_DERIVED_LINKS, stale, origin=origin):
                self.store.run_in(tx, cy.DELETE_DERIVED_LINKS, {"fids": chunk, "origin": origin})
            fresh = [row for fid, row in rows.items() if fid not in old]
            if fresh:
                self._put_links(tx, fresh, known)

        self.ops.append(op)

    def lookup_parties(self, keys: Iterable[str]) -> dict[str, Party]:
        """Read parties as they stand inside this batch (pending writes laid over the committed ones)."""
        keys = list(dict.fromkeys(keys))
        wanted = set(keys)
        state: dict[str, dict[str, Any]] = {
            m["key"]: m for (m,) in self.store.query_pieces(cy.PARTIES, "keys", keys)
        }
        for event in self._party_events:
            key = event["key"]
            if key not in wanted:
                continue
            if event.get("placeholder"):
                state.setdefault(key, _placeholder(key) | {"name": "", "primary_rank": 0, "flags": []})
            else:
                state[key] = _merge_party(state.get(key), event)
        return {k: _party(m) for k, m in state.items()}

    def lookup_records(self, subjects: Iterable[str], kind: RecordKind) -> list[Record]:
        """Read records of ``subjects`` as they stand inside this batch (pending ones included)."""
        subjects = list(dict.fromkeys(subjects))
        statement = cy.records(True, True, False)
        stored = [m for (m,) in self.store.query_pieces(statement, "subjects", subjects, kinds=[kind.value])]
        seen = {m["fid"] for m in stored}
        wanted = set(subjects)
        pending = [
            r for fid, r in self._records.items()
            if fid not in seen and r["kind"] == kind.value and r["subject"] in wanted
        ]
        return [_record(m) for m in stored + pending]

    def close_link(self, link_id: str, end: dt.date) -> None:
        """Close a stored link on ``end`` (raises InvalidInput at once for an unknown id)."""
        if link_id not in self._link_ids and not self.store.query(cy.LINK_EXISTS, fids=[link_id]):
            raise InvalidInput(f"no link with id {link_id}", field="link_id")

        def op(tx: Any) -> None:
            found = self.store.run_in(tx, cy.CLOSE_LINK, {"fid": link_id, "end": end.toordinal()})
            if not found or not found[0][0]:
                raise InvalidInput(f"no link with id {link_id}", field="link_id")

        self.ops.append(op)

    def put_records(self, records: Iterable[Record]) -> None:
        """Add records; an id already stored is kept."""
        rows = [
            {"fid": r.id, "kind": r.kind.value, "subject": r.subject, "start": _iso(r.start), "end": _iso(r.end),
             "target": r.target, "attrs": _dumps(r.attrs), "seq": next(self._seq), **self._src(r.source)}
            for r in records
        ]
        for row in rows:
            self._records.setdefault(row["fid"], row)
        if rows:
            self.ops.append(lambda tx: self.store.run_rows(tx, cy.PUT_RECORDS, rows, "fid"))

    def put_rejections(self, rejections: Iterable[Rejection]) -> None:
        """Append rows to the rejection report (the same row, column and reason once)."""
        rows = [
            {"uid": fact_id(r.file, r.row, r.column, r.reason), "file": r.file, "row": r.row, "col": r.column,
             "value": r.value, "reason": r.reason, "run": r.run or self.run_id, "seq": next(self._seq)}
            for r in rejections
        ]
        if rows:
            self.ops.append(lambda tx: self.store.run_rows(tx, cy.PUT_REJECTIONS, rows, "uid"))

    def put_code_observations(self, observations: Iterable[CodeObservation]) -> None:
        """Keep identifiers as they appeared in files."""
        rows = []
        for o in observations:
            seq = next(self._seq)
            src = self._src(o.source)
            uid = fact_id(src["src_file"], src["src_row"], o.kind, o.code) if o.source else f"seq:{seq}"
            rows.append({"uid": uid, "code": o.code, "normalised": o.normalised, "name": o.name, "valid": o.valid,
                         "kind": o.kind, "seq": seq, **src})
        if rows:
            self.ops.append(lambda tx: self.store.run_rows(tx, cy.PUT_CODE_OBSERVATIONS, rows, "uid"))

    def put_aliases(self, aliases: Iterable[Alias]) -> None:
        """Record resolutions of unresolved parties (a later resolution replaces an earlier one)."""
        rows = [{"unresolved": a.unresolved, "resolved": a.resolved, "reason": a.reason} for a in aliases]
        if rows:
            self.ops.append(lambda tx: self.store.run_rows(tx, cy.PUT_ALIASES, rows, "unresolved"))

    def drop_aliases(self, unresolved: Iterable[str]) -> None:
        """Forget resolutions that no longer hold."""
        keys = list(dict.fromkeys(unresolved))
        if keys:
            self.ops.append(lambda tx: self.store.run_rows(tx, cy.DROP_ALIASES, [{"unresolved": k} for k in keys]))

    def mark_file(self, sha256: str, path: str, kind: str, rows: int, status: str) -> None:
        """Record a file's ingest state."""
        params = {"sha256": sha256, "path": path, "kind": kind, "rows": rows, "status": status, "run": self.run_id,
                  "updated": _now()}
        self.ops.append(lambda tx: self.store.run_in(tx, cy.MARK_FILE, params))

    def put_meta(self, key: str, value: str) -> None:
        """Store a small named value."""
        if key in ("schema", "version"):
            raise InvalidInput(f"meta key {key!r} is reserved", field="key")
        self.ops.append(lambda tx: self.store.run_in(tx, cy.PUT_META, {"key": key, "value": value}))


def _placeholder(key: str) -> dict[str, Any]:
    """Kind, code and region of a party known only by its key so far (as the embedded backend)."""
    prefix, _, rest = key.partition(":")
    if prefix == "org":
        return {"key": key, "kind": PartyKind.ENTERPRISE.value, "code": rest, "region": rest[2:8]}
    if prefix == "per":
        return {"key": key, "kind": PartyKind.PERSON.value, "code": rest, "region": ""}
    kind = {"tel": PartyKind.PHONE, "eml": PartyKind.EMAIL, "adr": PartyKind.ADDRESS}.get(prefix, PartyKind.UNRESOLVED)
    return {"key": key, "kind": kind.value, "code": "", "region": ""}


def _merge_party(stored: dict[str, Any] | None, r: dict[str, Any]) -> dict[str, Any]:
    """What :data:`cypher.PUT_PARTIES` makes of a stored party and a new row (for in-batch reads)."""
    p = dict(stored or {"key": r["key"]})
    wins = p.get("primary_rank") is None or r["rank"] > p["primary_rank"] or \
        (r["rank"] >= 1 and r["rank"] == p["primary_rank"])
    replaces = wins and r["rank"] >= 1  # a registration row replaces the one before it whole
    flags = list(p.get("flags") or [])
    p["kind"] = r["kind"] if wins or p.get("kind") == "unresolved" else p["kind"]
    p["name"] = r["name"] if wins or not p.get("name") else p["name"]
    p["code"] = r["code"] if not p.get("code") else p["code"]
    p["region"] = r["region"] if not p.get("region") else p["region"]
    p["start"] = r["start"] if replaces else (r["start"] if wins else None) or p.get("start") or r["start"]
    p["end"] = r["end"] if replaces else (r["end"] if wins else None) or p.get("end") or r["end"]
    p["status"] = r["status"] if wins or not p.get("status") else p["status"]
    p["flags"] = flags + [f for f in r["flags"] if f not in flags]
    p["attrs"] = (r["attrs"] or p.get("attrs")) if wins or p.get("attrs") is None else p["attrs"]
    for field in ("src_file", "src_row", "run"):
        p[field] = r[field] if replaces or p.get(field) is None else p[field]
    p["primary_rank"] = r["rank"] if wins else p["primary_rank"]
    return p


# -- view ----------------------------------------------------------------------------------
class BoltView:
    """Reads over what the server has committed.

    Each read is one or a few statements; alias resolutions are remembered for the life of
    the view (take a new view after a batch that changes aliases), since callers resolve the
    same keys over and over and each statement costs a round trip.
    """

    def __init__(self, store: BoltStore) -> None:
        self.store = store
        self.q = store.query
        self._resolved: dict[str, str] = {}

    # -- parties -------------------------------------------------------------------------
    def resolve(self, key: str) -> str:
        """Return the known party an unresolved key is an alias of, or the key itself."""
        found = self._resolved.get(key)
        if found is None:
            rows = self.q(cy.RESOLVE, key=key)
            found = self._resolved[key] = rows[0][0] if rows and rows[0][0] is not None else key
        return found

    def _resolve_many(self, keys: Iterable[str]) -> dict[str, str]:
        keys = list(dict.fromkeys(keys))
        missing = [k for k in keys if k not in self._resolved]
        for k, r in self.store.query_pieces(cy.RESOLVE_MANY, "keys", missing):
            self._resolved[k] = r if r is not None else k
        return {k: self._resolved[k] for k in keys}

    def party(self, key: str) -> Party | None:
        """Return the party with ``key`` (aliases followed), or None."""
        rows = self.q(cy.PARTIES, keys=[self.resolve(key)])
        return _party(rows[0][0]) if rows else None

    def parties(self, keys: Iterable[str]) -> dict[str, Party]:
        """Return the parties found among ``keys`` (by their own key)."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, Party] = {}
        for (m,) in self.store.query_pieces(cy.PARTIES, "keys", keys):
            out[m["key"]] = _party(m)
        return out

    def party_names(self, keys: Iterable[str]) -> dict[str, str]:
        """Return the name of each party found among ``keys`` (by its own key)."""
        return {row[0]: row[1] for row in self.store.query_pieces(cy.PARTY_NAMES, "keys", list(dict.fromkeys(keys)))}

    def parties_by_name(self, name_keys: Iterable[str]) -> dict[str, list[Party]]:
        """Return, per name comparison key, the parties that have carried such a name."""
        out: dict[str, list[Party]] = {}
        for k, m in self.store.query_pieces(cy.PARTIES_BY_NAME_KEY, "keys", sorted(set(name_keys))):
            out.setdefault(k, []).append(_party(m))
        return out

    def iter_parties(self, kinds: Sequence[PartyKind] | None = None) -> Iterator[Party]:
        """Yield every party (of the given kinds)."""
        if kinds:
            rows = self.store.stream(cy.ITER_PARTIES_OF_KINDS, kinds=[PartyKind(k).value for k in kinds])
        else:
            rows = self.store.stream(cy.ITER_PARTIES)
        for (m,) in rows:
            yield _party(m)

    def names(self, key: str) -> list[NameFact]:
        """Return the names a party has carried, oldest first."""
        facts = [
            NameFact(r[0], r[1], _from_iso(r[2]), _from_iso(r[3]), _source(r[4], r[5], r[6]))
            for r in self.q(cy.NAMES_OF, key=self.resolve(key))
        ]
        facts.sort(key=lambda n: (n.start is not None, n.start or dt.date.min))
        return facts

    # -- links ---------------------------------------------------------------------------
    def _aliases_of(self, key: str) -> list[str]:
        return [r[0] for r in self.q(cy.ALIASES_OF, key=key)]

    def links(
        self,
        key: str,
        *,
        as_of: dt.date | None = None,
        kinds: Sequence[LinkKind] | None = None,
        direction: str = "both",
    ) -> list[Link]:
        """Return the links touching ``key`` (``out``: as source, ``in``: as target)."""
        if direction not in ("both", "in", "out"):
            raise InvalidInput(f"direction must be both, in or out, not {direction!r}", field="direction")
        statement = cy.links_of(direction, as_of is not None, kinds is not None)
        rows = self.q(statement, keys=[self.resolve(key)], **_filter_params(as_of, kinds))
        found = {r[0]: _link(r) for r in rows}
        return self._resolved_links(sorted(found.values(), key=_link_order))

    def linked(self, keys: Iterable[str], *, direction: str = "both", aliases: bool = True) -> dict[str, set[str]]:
        """For each key, the parties at the other end of its links, as :meth:`links` would name
        them (aliases followed on both ends), in one statement per piece of keys.
        ``aliases=False``: the links as stored, between the parties as stored."""
        if direction not in ("both", "in", "out"):
            raise InvalidInput(f"direction must be both, in or out, not {direction!r}", field="direction")
        keys = list(dict.fromkeys(keys))
        if not aliases:
            stored: dict[str, set[str]] = {k: set() for k in keys}
            for key, other in self.store.query_pieces(cy.stored_linked(direction), "keys", keys):
                stored[key].add(other)
            return stored
        resolved = self._resolve_many(keys)
        ends: dict[str, set[str]] = defaultdict(set)
        for key, other in self.store.query_pieces(cy.linked(direction), "keys", sorted(set(resolved.values()))):
            ends[key].add(other)
        return {k: set(ends.get(resolved[k], ())) for k in keys}

    def _resolved_links(self, links: list[Link]) -> list[Link]:
        """The links with unresolved endpoints shown as the parties they resolve to."""
        resolved = self._resolve_many(k for link in links for k in (link.src, link.dst))
        out = []
        for link in links:
            src, dst = resolved.get(link.src, link.src), resolved.get(link.dst, link.dst)
            out.append(link if (src, dst) == (link.src, link.dst) else replace(link, src=src, dst=dst))
        return out

    def link(self, link_id: str) -> Link | None:
        """Return one link by id."""
        rows = self.q(cy.LINK_BY_ID, fid=link_id)
        return _link(rows[0]) if rows else None

    def links_by_id(self, link_ids: Iterable[str]) -> dict[str, Link]:
        """Return the links with these ids, in one look-up (endpoints as stored)."""
        out: dict[str, Link] = {}
        for row in self.store.query_pieces(cy.LINKS_BY_ID, "fids", list(dict.fromkeys(link_ids))):
            link = _link(row)
            out[link.id] = link
        return out

    def resolve_many(self, keys: Iterable[str]) -> dict[str, str]:
        """Return ``resolve(key)`` for each key, in one look-up."""
        return self._resolve_many(keys)

    def iter_links(self, kinds: Sequence[LinkKind] | None = None) -> Iterator[Link]:
        """Yield every link (of the given kinds)."""
        if kinds:
            rows = self.store.stream(cy.ITER_LINKS_OF_KINDS, kinds=[LinkKind(k).value for k in kinds])
        else:
            rows = self.store.stream(cy.ITER_LINKS)
        for r in rows:
            yield _link(r)

    def degree(self, key: str) -> int:
        """Return the number of links touching ``key`` at any time."""
        rows = self.q(cy.DEGREES, keys=[self.resolve(key)])
        return int(rows[0][1]) if rows else 0

    def neighbourhood(
        self,
        keys: Iterable[str],
        hops: int,
        *,
        as_of: dt.date | None = None,
        kinds: Sequence[LinkKind] | None = None,
        max_degree: int | None = None,
    ) -> Subgraph:
        """Return parties within ``hops`` of ``keys`` and the links among them (BFS, one query per hop)."""
        if hops < 0:
            raise InvalidInput("hops must be >= 0", field="hops")
        seeds = list(dict.fromkeys(self._resolve_many(keys).values()))
        present = set(self.parties(seeds))
        seeds = [k for k in seeds if k in present]
        distance: dict[str, int] = dict.fromkeys(seeds, 0)
        capped: set[str] = set()
        found: dict[str, Link] = {}
        statement = cy.expand(as_of is not None, kinds is not None)
        params = _filter_params(as_of, kinds)
        frontier = seeds
        for hop in range(1, hops + 1):
            if not frontier:
                break
            if max_degree is not None:
                # a seed is always expanded: the user asked about it
                others = [k for k in frontier if distance[k] > 0]
                big = {k for k, n in self.store.query_pieces(cy.DEGREES, "keys", others) if n > max_degree}
                capped |= big
                frontier = [k for k in frontier if k not in big]
            new: list[str] = []
            for chunk in self.store.pieces(statement, frontier, **params):
                for r in self.q(statement, keys=chunk, **params):
                    if r[0] not in found:
                        found[r[0]] = _link(r)
                    other = r[13]  # after the link columns
                    if other not in distance:
                        distance[other] = hop
                        new.append(other)
            frontier = new
        parties = self.parties(distance)
        sub = Subgraph()
        for key, d in distance.items():
            if key in parties:
                sub.parties[key] = parties[key]
                sub.distance[key] = d
        sub.capped = {k for k in capped if k in parties}
        sub.links = self._resolved_links(sorted(found.values(), key=_link_order))
        return sub

    # -- records -------------------------------------------------------------------------
    def records(
        self,
        subject: str | None = None,
        *,
        kinds: Sequence[RecordKind] | None = None,
        as_of: dt.date | None = None,
    ) -> list[Record]:
        """Return records of a subject (aliases included), of kinds, in force on ``as_of``."""
        params: dict[str, Any] = {}
        if subject is not None:
            resolved = self.resolve(subject)
            subjects = [resolved, *self._aliases_of(resolved)]
            if subject not in subjects:
                subjects.append(subject)
            params["subjects"] = subjects
        if kinds:
            params["kinds"] = [RecordKind(k).value for k in kinds]
        if as_of is not None:
            params["day"] = as_of.isoformat()
        statement = cy.records(subject is not None, bool(kinds), as_of is not None)
        return [_record(m) for (m,) in self.q(statement, **params)]

    def record_subjects(self, kinds: Sequence[RecordKind]) -> set[str]:
        """Return the subjects of every record of ``kinds`` (as stored)."""
        if not kinds:
            return set()
        return {s for (s,) in self.q(cy.RECORD_SUBJECTS, kinds=[RecordKind(k).value for k in kinds])}

    def record(self, record_id: str) -> Record | None:
        """Return one record by id."""
        rows = self.q(cy.RECORD_BY_ID, fid=record_id)
        return _record(rows[0][0]) if rows else None

    def records_targeting(self, record_id: str) -> list[Record]:
        """Return the repairs, objections and resolutions acting on ``record_id``."""
        return [_record(m) for (m,) in self.q(cy.RECORDS_TARGETING, fid=record_id)]

    # -- search --------------------------------------------------------------------------
    def search(self, text: str, *, limit: int = 20) -> list[SearchHit]:
        """Find parties by code, ID or name: exact, substring, then fuzzy over trigram candidates."""
        raw = search_text(text)
        if not raw:
            return []
        found = Hits()
        code_hits(raw, found, party=self.party, by_code=lambda code: self._by_code_pattern(code, limit))
        key = name_search_key(raw)
        if not key:
            return found.hits[:limit]
        candidates: dict[str, str] = {}
        for party_key, name in self.q(cy.NAMES_BY_KEY, key=key, limit=limit * 4):
            candidates.setdefault(party_key, name)
        exact = set(candidates)
        grams = trigrams(key)
        counts: dict[str, int] = {}
        if grams:
            counts = {g: int(n) for g, n in self.q(cy.GRAM_COUNTS, grams=grams)}
            if len(counts) == len(grams):
                rarest = min(grams, key=lambda g: counts[g])
                rows = self.q(cy.NAMES_CONTAINING_VIA_GRAM, gram=rarest, key=key, limit=limit * 20)
            else:
                rows = []  # a trigram no name holds: no name contains the key
        else:
            rows = self.q(cy.NAMES_CONTAINING, key=key, limit=limit * 20)
        substring = {p for p, _ in rows}
        for p, n in rows:
            candidates.setdefault(p, n)
        if len(candidates) < limit and counts:
            ranked = sorted(counts, key=lambda g: counts[g])
            use = [g for g in ranked if counts[g] <= COMMON_GRAM][:12] or ranked[:3]
            for p, n in self.q(cy.NAMES_SHARING_GRAMS, grams=use, limit=limit * 20):
                candidates.setdefault(p, n)
        elif len(candidates) < limit and len(key) == 2:
            # two characters: any name holding one of them, scored below
            for ch in key:
                for p, n in self.q(cy.NAMES_CONTAINING, key=ch, limit=limit * 5):
                    candidates.setdefault(p, n)
        resolved = self._resolve_many(candidates)
        parties = self.parties(resolved.values())
        for score, how, n, party in score_names(key, candidates, exact, substring,
                                                lambda p: parties.get(resolved.get(p, p))):
            found.add(party, n, round(score, 1), how)
        return found.hits[:limit]

    def _by_code_pattern(self, code: str, limit: int) -> list[Party]:
        """Parties whose code equals ``code``, each ``*`` standing for any one character."""
        if "*" not in code:
            return [_party(m) for (m,) in self.q(cy.PARTIES_BY_CODE, code=code, limit=limit)]
        prefix, suffix = code.split("*", 1)[0], code.rsplit("*", 1)[1]
        rows = self.q(cy.PARTIES_BY_CODE_SHAPE, prefix=prefix, suffix=suffix, length=len(code), limit=limit * 5)
        out = []
        for (m,) in rows:
            stored = (m.get("code") or "").upper()
            if all(c == "*" or c == s for c, s in zip(code, stored, strict=True)):
                out.append(_party(m))
        return out[:limit]

    # -- aliases, quality, bookkeeping ---------------------------------------------------
    def aliases(self) -> list[Alias]:
        """Return every alias recorded."""
        return [Alias(*r) for r in self.q(cy.ALIASES)]

    def rejections(self, run: str | None = None) -> list[Rejection]:
        """Return rejected rows (of one run), in the order they were reported."""
        rows = self.q(cy.REJECTIONS_OF_RUN, run=run) if run else self.q(cy.REJECTIONS)
        return [Rejection(r[0], r[1], r[2], r[3], r[4], r[5] or "") for r in rows]

    def code_observations(self) -> Iterator[CodeObservation]:
        """Yield identifiers as they appeared in files."""
        for r in self.store.stream(cy.CODE_OBSERVATIONS):
            yield CodeObservation(r[0], r[1], r[2], bool(r[3]), r[4], _source(r[5], r[6], r[7]))

    def file_status(self, sha256: str) -> str | None:
        """Return "partial", "complete" or None."""
        rows = self.q(cy.FILE_STATUS, sha256=sha256)
        return rows[0][0] if rows else None

    def runs(self) -> list[IngestRun]:
        """Return the ingest runs, oldest first."""
        return [IngestRun(r[0], r[1], r[2] or "", _loads(r[3])) for r in self.q(cy.RUNS)]

    def counts(self) -> dict[str, int]:
        """Return counts of parties by kind, links, records by kind, rejections and aliases."""
        out: dict[str, int] = {}
        for kind, n in self.q(cy.COUNT_PARTIES):
            out[f"parties.{kind}"] = int(n)
        out["parties"] = sum(v for k, v in out.items() if k.startswith("parties."))
        out["links"] = int(self.q(cy.COUNT_LINKS)[0][0])
        for kind, n in self.q(cy.COUNT_RECORDS):
            out[f"records.{kind}"] = int(n)
        out["records"] = sum(v for k, v in out.items() if k.startswith("records."))
        out["rejections"] = int(self.q(cy.COUNT_REJECTIONS)[0][0])
        out["aliases"] = int(self.q(cy.COUNT_ALIASES)[0][0])
        return out

    def meta(self, key: str) -> str | None:
        """Return a value stored with put_meta."""
        rows = self.q(cy.META, key=key)
        return rows[0][0] if rows else None

    def version(self) -> int:
        """Return the committed batch counter."""
        value = self.meta("version")
        return int(value) if value else 0


def _filter_params(as_of: dt.date | None, kinds: Sequence[LinkKind] | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if as_of is not None:
        params["day"] = as_of.toordinal()
    if kinds is not None:
        params["kinds"] = [LinkKind(k).value for k in kinds]
    return params
