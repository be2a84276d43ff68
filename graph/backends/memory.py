"""The embedded backend: SQLite as the durable truth, a compact in-memory link index.

Use :func:`open_store` for the default store of a single office. Facts live in one SQLite
file (WAL, one transaction per writer batch). Reads of links and traversals are answered
from :class:`LinkIndex`, a column store of every link (numpy arrays: source, target, kind,
start, end) with CSR adjacency, rebuilt at start and brought up to date after each batch.

Why not a networkx MultiDiGraph, as DESIGN.md first proposed: networkx spends about a
kilobyte per edge in nested dicts, so 1M firms + 2M persons + 5M links would need ~6 GB
and a slow start. The column index needs ~40 bytes per link, starts in seconds, and
traversals are vectorised. networkx is still used where graph algorithms help (paths),
on the small subgraphs this index returns.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from graph.backends.sqlite_rows import (
    INSERT_OBSERVATION,
    INSERT_PLACEHOLDER,
    INSERT_RECORD,
    INSERT_REJECTION,
    UPSERT_LINK,
    UPSERT_NAME,
    UPSERT_PARTY,
    PreparedDerived,
    PreparedFacts,
    link_rows,
    name_rows,
    observation_rows,
    party_rows,
    placeholder,
    prepare_derived,
    prepare_facts,
    record_rows,
    rejection_rows,
)
from graph.backends.sqlite_schema import (
    DDL,
    SCHEMA_VERSION,
    connect,
    create_read_indexes,
    drop_read_indexes,
    dumps,
    from_iso,
    from_ordinal,
    index_new_names,
    loads,
    migrate_link_currency,
    migrate_name_index,
    migrate_undated_names,
    missing_read_indexes,
)
from graph.backends.writer_turn import FirstLoad, WriterTurn
from graph.loop_pass import current_pass
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
from graph.store import IngestRun, InvalidInput, SearchHit, StoreUnavailable
from graph.textkey import name_search_key

_LINK_KINDS = list(LinkKind)
_KIND_CODE = {k: i for i, k in enumerate(_LINK_KINDS)}
_NO_START = np.iinfo(np.int32).min
_NO_END = np.iinfo(np.int32).max
# the index columns computed by SQLite itself: one C loop instead of a Python one per link
_INDEX_SELECT = (
    "SELECT id, src, dst, CASE kind "
    + " ".join(f"WHEN '{k.value}' THEN {i}" for i, k in enumerate(LinkKind))
    + f" END, IFNULL(start, {_NO_START}), IFNULL(end, {_NO_END}) FROM links WHERE id > ? ORDER BY id"
)

# stored values back to enum members: a dict look-up, where calling the enum costs ~1 µs (rows
# come back by the thousand on the risk path); the stored values were written from members
_PARTY_KIND = {m.value: m for m in PartyKind}
_LINK_KIND = {m.value: m for m in LinkKind}
_RECORD_KIND = {m.value: m for m in RecordKind}
_FLAG = {m.value: m for m in Flag}
_PARTY_COLS = "id, key, kind, name, code, region, start, end, status, flags, attrs, src, row, run"
_LINK_COLS = ("l.id, l.fid, l.kind, ps.key, pd.key, l.start, l.end, l.ratio, l.amount, l.title, l.srcfile, l.row, l.run, "
              "l.currency")
_LINK_FROM = "links l JOIN parties ps ON ps.id = l.src JOIN parties pd ON pd.id = l.dst"
_RECORD_COLS = "id, fid, kind, subject, start, end, target, attrs, srcfile, row, run"


def open_store(path: str | Path) -> EmbeddedStore:
    """Open (creating when needed) the embedded store at ``path``."""
    return EmbeddedStore(path)


_NEVER = object()  # a value no meta row holds


def _gather(ptr: np.ndarray, order: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The CSR rows of ``nodes``, flattened: (index into ``nodes``, edge position) per entry."""
    starts = ptr[nodes]
    counts = ptr[nodes + 1] - starts
    who = np.repeat(np.arange(len(nodes)), counts)
    # position inside each node's row: a running count that restarts at every row
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return who, order[np.repeat(starts, counts) + within]


class LinkIndex:
    """Every link as numpy columns plus CSR adjacency over party row ids.

    Links are append-only in SQLite (row ids grow); closings and deletions are logged in
    ``link_mutations`` so the index can catch up without reloading everything.
    """

    def __init__(self) -> None:
        self.rowid = np.zeros(0, dtype=np.int64)
        self.src = np.zeros(0, dtype=np.int32)
        self.dst = np.zeros(0, dtype=np.int32)
        self.kind = np.zeros(0, dtype=np.int8)
        self.start = np.zeros(0, dtype=np.int32)
        self.end = np.zeros(0, dtype=np.int32)
        self.alive = np.zeros(0, dtype=bool)
        self.max_rowid = 0
        self.max_mutation = 0
        self.n_nodes = 0
        self.remap: np.ndarray = np.zeros(0, dtype=np.int32)  # alias: node -> resolved node
        self._alias_marker: Any = _NEVER  # meta 'aliases_changed' when remap was read
        self._csr: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def catch_up(self, conn: Any) -> None:
        """Load links, mutations and aliases committed since the last call."""
        if self.max_rowid == 0:
            # a first load reads links as they stand: earlier closings and deletions are
            # already in the rows, so the mutation log is not replayed
            self.max_mutation = conn.execute("SELECT COALESCE(MAX(id), 0) FROM link_mutations").fetchone()[0]
        cursor = conn.execute(_INDEX_SELECT, (self.max_rowid,))
        chunks = []
        while True:  # in chunks: a list of 5M tuples would cost a gigabyte for a moment
            rows = cursor.fetchmany(262_144)
            if not rows:
                break
            chunks.append(np.array(rows, dtype=np.int64))
        if chunks:
            arr = np.concatenate(chunks)
            self.rowid = np.concatenate([self.rowid, arr[:, 0]])
            self.src = np.concatenate([self.src, arr[:, 1].astype(np.int32)])
            self.dst = np.concatenate([self.dst, arr[:, 2].astype(np.int32)])
            self.kind = np.concatenate([self.kind, arr[:, 3].astype(np.int8)])
            self.start = np.concatenate([self.start, arr[:, 4].astype(np.int32)])
            self.end = np.concatenate([self.end, arr[:, 5].astype(np.int32)])
            self.alive = np.concatenate([self.alive, np.ones(len(arr), dtype=bool)])
            self.max_rowid = int(arr[-1, 0])
            self._csr = None
        mutations = conn.execute(
            "SELECT m.id, m.link, m.what, l.end FROM link_mutations m LEFT JOIN links l ON l.id = m.link "
            "WHERE m.id > ? ORDER BY m.id",
            (self.max_mutation,),
        ).fetchall()
        if mutations:
            for mid, link, what, end in mutations:
                i = self.position(link)
                if i is not None:
                    if what == "delete":
                        self.alive[i] = False
                    elif what == "close":
                        self.end[i] = _NO_END if end is None else end
                self.max_mutation = mid
            self._csr = None
        n_nodes = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM parties").fetchone()[0]
        marker = conn.execute("SELECT value FROM meta WHERE key = 'aliases_changed'").fetchone()
        # the alias map depends on the aliases and on which parties exist (parties are never
        # deleted): read again only when either changed, as the join takes ~1 s at 1M firms and
        # a view after every list change, repair or objection would wait for it
        if n_nodes == self.n_nodes and marker == self._alias_marker:
            return
        aliases = conn.execute(
            "SELECT u.id, r.id FROM aliases a JOIN parties u ON u.key = a.unresolved JOIN parties r ON r.key = a.resolved"
        ).fetchall()
        remap = np.arange(n_nodes, dtype=np.int32)
        for u, r in aliases:
            remap[u] = r
        self._alias_marker = marker
        if n_nodes != self.n_nodes or not np.array_equal(remap, self.remap):
            self.n_nodes = n_nodes
            self.remap = remap
            self._csr = None

    def position(self, rowid: int) -> int | None:
        """Return the position of link ``rowid`` in the columns (row ids are loaded in order)."""
        i = int(np.searchsorted(self.rowid, rowid))
        return i if i < len(self.rowid) and self.rowid[i] == rowid else None

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return (out_ptr, out_edges, in_ptr, in_edges) over alias-resolved node ids."""
        if self._csr is None:
            src = self.remap[self.src] if len(self.src) else self.src
            dst = self.remap[self.dst] if len(self.dst) else self.dst
            alive = np.flatnonzero(self.alive)
            out_order = alive[np.argsort(src[alive], kind="stable")]
            in_order = alive[np.argsort(dst[alive], kind="stable")]
            out_ptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
            in_ptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
            np.cumsum(np.bincount(src[alive], minlength=self.n_nodes), out=out_ptr[1:])
            np.cumsum(np.bincount(dst[alive], minlength=self.n_nodes), out=in_ptr[1:])
            self._csr = (out_ptr, out_order.astype(np.int64), in_ptr, in_order.astype(np.int64))
        return self._csr

    def edges_of(self, nodes: np.ndarray, direction: str = "both") -> np.ndarray:
        """Return the positions of alive links touching ``nodes`` (resolved node ids)."""
        out_ptr, out_edges, in_ptr, in_edges = self.csr()
        parts: list[np.ndarray] = []
        nodes = nodes[(nodes >= 0) & (nodes < self.n_nodes)]
        if direction in ("out", "both"):
            parts.extend(out_edges[out_ptr[n] : out_ptr[n + 1]] for n in nodes.tolist())
        if direction in ("in", "both"):
            parts.extend(in_edges[in_ptr[n] : in_ptr[n + 1]] for n in nodes.tolist())
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(parts))

    def ends_of(self, nodes: np.ndarray, direction: str = "both") -> tuple[np.ndarray, np.ndarray]:
        """For many nodes at once, the far end of each alive link touching them: returns
        (position in ``nodes``, resolved node at the other end), one pair per link and side
        (``out``: links from the node, ``in``: links into it; a self-loop gives the node)."""
        out_ptr, out_edges, in_ptr, in_edges = self.csr()
        keep = np.flatnonzero((nodes >= 0) & (nodes < self.n_nodes))
        owners: list[np.ndarray] = []
        ends: list[np.ndarray] = []
        if direction in ("out", "both"):
            who, edges = _gather(out_ptr, out_edges, nodes[keep])
            owners.append(keep[who])
            ends.append(self.remap[self.dst[edges]])
        if direction in ("in", "both"):
            who, edges = _gather(in_ptr, in_edges, nodes[keep])
            owners.append(keep[who])
            ends.append(self.remap[self.src[edges]])
        if not owners:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(owners), np.concatenate(ends).astype(np.int64)

    def degrees(self) -> np.ndarray:
        """Return every resolved node's number of alive links (either direction)."""
        out_ptr, _, in_ptr, _ = self.csr()
        return np.diff(out_ptr) + np.diff(in_ptr)

    def filter(self, edges: np.ndarray, as_of: dt.date | None, kinds: Sequence[LinkKind] | None) -> np.ndarray:
        """Keep the links among ``edges`` active on ``as_of`` and of ``kinds``."""
        if as_of is not None and len(edges):
            day = as_of.toordinal()
            edges = edges[(self.start[edges] <= day) & (self.end[edges] > day)]
        if kinds is not None and len(edges):
            codes = np.array([_KIND_CODE[LinkKind(k)] for k in kinds], dtype=np.int8)
            edges = edges[np.isin(self.kind[edges], codes)]
        return edges

    def nbytes(self) -> int:
        """Bytes held by the columns and the CSR."""
        total = sum(a.nbytes for a in (self.rowid, self.src, self.dst, self.kind, self.start, self.end, self.alive))
        if self._csr is not None:
            total += sum(a.nbytes for a in self._csr)
        return total + self.remap.nbytes


READ_MMAP_BYTES = 2**31 - 1  # SQLite caps it at its compile-time maximum (2 GiB here)
MMAP_SETTING = "CREDITGRAPH_SQLITE_MMAP"  # "0" turns the memory map off


def read_mmap_bytes() -> int:
    """How much of the store reads go through a memory map: :data:`READ_MMAP_BYTES`, or 0 when
    ``CREDITGRAPH_SQLITE_MMAP=0``. With the map, an I/O error on the file (a failing disk, a
    network file system dropping out) ends the process with SIGBUS where SQLite would have
    reported an error; without it, cold look-ups at 1M firms cost ~67 µs instead of ~13."""
    return 0 if os.environ.get(MMAP_SETTING, "").strip() in ("0", "off", "false", "no") else READ_MMAP_BYTES


@dataclass(slots=True)
class WriteTime:
    """Seconds the write batches (:meth:`EmbeddedStore.writer`) of one opening of the store
    waited for their turn (behind other processes' batches, or this process's other threads)
    and then held it, from ``BEGIN`` to the end of the commit. Other uses of the turn (source
    ids, index builds) are not counted. An ingest reports both per file; in an ingest worker
    (one thread) they are that file's own batches: a load whose workers mostly wait is bound
    by the write lock, one whose workers rarely do, by CPU."""

    waited: float = 0.0
    held: float = 0.0


class EmbeddedStore:
    """SQLite file + :class:`LinkIndex`: the embedded GraphStore."""

    backend_name = "memory"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._turn = WriterTurn(self.path)  # processes: ingest workers, a server, the CLI
        self._first_load = FirstLoad(self.path)
        try:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._write_conn = connect(self.path)
            self._write_conn.executescript(DDL)
            if missing_read_indexes(self._write_conn) and not self._first_load.elsewhere():
                # in the writers' turn: building them on a filled store may take a while
                with self._turn.held():
                    create_read_indexes(self._write_conn)
            migrate_name_index(self._write_conn)
            migrate_undated_names(self._write_conn)
            migrate_link_currency(self._write_conn)
        except Exception as exc:  # sqlite3.Error, OSError
            raise StoreUnavailable(f"cannot open the store at {self.path}: {exc}") from exc
        stored = self._write_conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if stored is None:
            self._write_conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            self._write_conn.execute("INSERT OR IGNORE INTO meta VALUES ('version', '0')")
        elif stored[0] != SCHEMA_VERSION:
            raise StoreUnavailable(f"{self.path} has schema {stored[0]}, this version needs {SCHEMA_VERSION}")
        self._write_lock = threading.Lock()  # threads of this process
        self._index_lock = threading.Lock()
        self._commits = 0  # batches committed through this object (data_version misses our own)
        self.source_paths: dict[int, str] = {}  # source id → path: ids never change meaning
        self._source_ids: dict[str, int] = {}  # path → source id, for batches prepared outside a writer
        self._local = threading.local()
        self.index = LinkIndex()
        self._index_version = -1
        # callers may cache "already written" facts by it: by default it names this opening of
        # the store; an ingest worker sets one for its whole run (ingest.pipeline._worker_ingest)
        self.cache_token = uuid.uuid4().hex
        self.write_time = WriteTime()  # this opening's batches: waiting for the writers' turn, holding it

    # -- connections -------------------------------------------------------------------
    def _read_conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            # reads through a memory map (SQLite's limit: the first 2 GiB of the file): a cold
            # party look-up at 1M firms fell from ~67 µs to ~13 µs, the page reads' system calls
            # gone. Writes still go through the WAL; the mapped pages are the OS's file cache.
            conn.execute(f"PRAGMA mmap_size = {read_mmap_bytes()}")
            self._local.conn = conn
        return conn

    def stored_version(self) -> int:
        """The batch counter as committed in SQLite.

        Read again only when something was committed since the last look: by this store's
        writer, or by another connection (``PRAGMA data_version`` changes then), so the hot
        path of a read costs one pragma, not a table read; on a thread running an event loop,
        one pragma per pass of the loop (:mod:`graph.loop_pass`)."""
        cached = getattr(self._local, "version", None)
        token = current_pass()
        if token is not None and cached is not None and cached[3] is token and cached[1] == self._commits:
            return int(cached[2])  # another process's commits were looked for in this pass of the event loop
        conn = self._read_conn()
        seen = conn.execute("PRAGMA data_version").fetchone()[0]
        if cached is not None and cached[0] == seen and cached[1] == self._commits:
            self._local.version = (*cached[:3], token)
            return int(cached[2])
        row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        version = int(row[0]) if row else 0
        self._local.version = (seen, self._commits, version, token)
        return version

    def _fresh_index(self) -> LinkIndex:
        version = self.stored_version()
        if version != self._index_version:
            with self._index_lock:
                if version != self._index_version:
                    self.index.catch_up(self._read_conn())
                    self._index_version = version
        return self.index

    # -- GraphStore ----------------------------------------------------------------------
    @contextmanager
    def writer(self, run_id: str | None = None) -> Iterator[EmbeddedWriter]:
        """Open one atomic batch; committed on exit, rolled back on error."""
        asked = time.perf_counter()
        with self._write_lock, self._turn.held():
            got = time.perf_counter()
            self.write_time.waited += got - asked
            conn = self._write_conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                w = EmbeddedWriter(conn, run_id or "")
                try:
                    yield w
                    index_new_names(conn)
                    conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'")
                    conn.execute("COMMIT")
                    self._commits += 1
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            finally:
                self.write_time.held += time.perf_counter() - got

    def prepare(self, run_id: str, **facts: Any) -> PreparedFacts:
        """Turn a batch's facts into parameter rows before taking the write lock; store them
        with ``writer.put_prepared``. Keywords as :func:`~graph.backends.sqlite_rows.prepare_facts`."""
        return prepare_facts(self._prepared_src(run_id), run_id, **facts)

    def prepare_derived(self, run_id: str, origin: str, people: list[Party], links: list[Link]) -> PreparedDerived:
        """Rows for a batch's derived people and for links derived from ``origin``, built
        before the write lock is taken; stored with ``writer.put_prepared_derived``."""
        return prepare_derived(self._prepared_src(run_id), origin, people, links)

    def _prepared_src(self, run_id: str) -> Any:
        ids = self._source_ids

        def src_of(source: Source | None) -> tuple[int | None, int | None, str]:
            if source is None:
                return None, None, run_id
            sid = ids.get(source.file)
            if sid is None:
                sid = self._source_id(source.file)
            return sid, source.row, source.run or run_id

        return src_of

    def _source_id(self, path: str) -> int:
        # a source row is harmless on its own, so it is committed at once, outside any batch
        with self._write_lock, self._turn.held():
            sid = source_row_id(self._write_conn, path)
        self._source_ids[path] = sid
        return sid

    @contextmanager
    def deferred_read_indexes(self) -> Iterator[bool]:
        """Around a first load: drop the read-only indexes (:data:`READ_INDEXES`) while the
        store holds no party, and build them once at the end. Yields whether they were dropped.

        Built at the end of a 100k-firm load they take about 0.6 s; kept up to date batch by
        batch they cost 7% of the load. A store that already holds parties keeps them: readers
        of a filled store (a server searching by code) must not lose them for the length of
        an ingest. While the load runs it holds :class:`FirstLoad`, and every opening of the
        store (its workers, a server) leaves the indexes alone; the first opening after a
        killed load builds them. A process that had the store open before keeps working
        without them until the load ends (its searches are slower, not wrong)."""
        with self._first_load.running() as alone:
            empty = False
            if alone:
                with self._write_lock, self._turn.held():
                    empty = self._write_conn.execute("SELECT 1 FROM parties LIMIT 1").fetchone() is None
                    if empty:
                        drop_read_indexes(self._write_conn)
            failed = True
            try:
                yield empty
                failed = False
            finally:
                if empty:
                    try:
                        with self._write_lock, self._turn.held():
                            create_read_indexes(self._write_conn)
                    except sqlite3.Error:
                        if not failed:
                            raise
                        # the load's own error is the one to report; the next opening builds them

    def committed_reads(self) -> CommittedReads:
        """``lookup_parties`` / ``lookup_records`` over the committed state, without the write
        lock and without bringing the link index up to date (cheap for ingest workers)."""
        return CommittedReads(self._read_conn())

    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """Nothing to take: a write batch here holds SQLite's write lock, which every process
        on the file respects, from its start (before a check reads) to its commit."""
        return nullcontext()

    def view(self, *, traversal: bool = True) -> EmbeddedView:
        """Return a read view (the link index is brought up to date first).

        ``traversal=False``: a view for reads SQLite answers alone (identity resolution at
        the end of an ingest), without building the link index (14 s at 1M firms); one of
        its traversals raises instead of answering from an empty index."""
        if not traversal:
            return EmbeddedView(self, _NoLinkIndex(), self.stored_version())  # type: ignore[arg-type]
        index = self._fresh_index()
        return EmbeddedView(self, index, self._index_version)

    def start_run(self, note: str = "") -> str:
        """Begin an ingest run and return its id."""
        run_id = dt.datetime.now().strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        with self._write_lock:
            self._write_conn.execute(
                "INSERT INTO runs(id, started, note) VALUES (?, ?, ?)", (run_id, _now(), note)
            )
        return run_id

    def finish_run(self, run_id: str, summary: dict[str, object]) -> None:
        """Record a run's summary."""
        with self._write_lock:
            self._write_conn.execute(
                "UPDATE runs SET finished = ?, summary = ? WHERE id = ?", (_now(), dumps(summary), run_id)
            )
            # fresh statistics, so the planner picks records(subject) over records(kind);
            # analysis_limit keeps this to a quick sample even on a large file
            self._write_conn.execute("PRAGMA analysis_limit = 1000")
            self._write_conn.execute("ANALYZE")

    def close(self) -> None:
        """Close connections."""
        self._write_conn.close()
        self._turn.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


class EmbeddedWriter:
    """Writes of one batch, inside the SQLite transaction the store opened."""

    def __init__(self, conn: Any, run_id: str) -> None:
        self.conn = conn
        self.run_id = run_id
        self._party_ids: dict[str, int] = {}
        self._known: set[str] = set()  # keys put by this batch
        self._source_ids: dict[str, int] = {}
        self._version: int | None = None

    def _src(self, source: Source | None) -> tuple[int | None, int | None, str]:
        if source is None:
            return None, None, self.run_id
        sid = self._source_ids.get(source.file)
        if sid is None:
            sid = self._source_ids[source.file] = source_row_id(self.conn, source.file)
        return sid, source.row, source.run or self.run_id

    def _next_version(self) -> int:
        if self._version is None:
            self._version = int(self.conn.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0]) + 1
        return self._version

    def put_parties(self, parties: Iterable[Party]) -> None:
        """Add parties; an existing key is merged (a primary source overrides, others fill gaps)."""
        parties = list(parties)
        self._known.update(p.key for p in parties)
        self.conn.executemany(UPSERT_PARTY, party_rows(parties, self._src))

    def put_names(self, names: Iterable[NameFact]) -> None:
        """Add name facts (ignored when the same party, name and start are stored)."""
        self.conn.executemany(UPSERT_NAME, name_rows(names, self._src))

    def put_prepared(self, facts: PreparedFacts) -> None:
        """Store a batch prepared outside the transaction (:meth:`EmbeddedStore.prepare`):
        the same effect as put_parties, put_names, put_links, put_records,
        put_code_observations and put_rejections with the facts it was made of."""
        self._known.update(facts.keys)
        self.conn.executemany(UPSERT_PARTY, facts.parties)
        self.conn.executemany(UPSERT_NAME, facts.names)
        self._store_links(facts.links, facts.placeholders)
        self.conn.executemany(INSERT_RECORD, facts.records)
        self.conn.executemany(INSERT_OBSERVATION, facts.observations)
        self.conn.executemany(INSERT_REJECTION, facts.rejections)

    def _party_id(self, key: str) -> int:
        pid = self._party_ids.get(key)
        if pid is None:
            row = self.conn.execute("SELECT id FROM parties WHERE key = ?", (key,)).fetchone()
            if row is None:
                self.conn.execute(
                    "INSERT INTO parties(key, kind, name) VALUES (?, 'unresolved', '')", (key,)
                )
                row = self.conn.execute("SELECT id FROM parties WHERE key = ?", (key,)).fetchone()
            pid = row[0]
            if len(self._party_ids) > 200_000:
                self._party_ids.clear()
            self._party_ids[key] = pid
        return pid

    def put_links(self, links: Iterable[Link], origin: str = "") -> None:
        """Add links; an id already stored is kept, except that an open link is closed when
        the new fact gives it an end."""
        rows, endpoints = link_rows(links, origin, self._src)
        self._store_links(rows, [placeholder(k) for k in endpoints - self._known])

    def _store_links(self, rows: list[tuple[Any, ...]], placeholders: list[tuple[str, str, str, str]]) -> None:
        if not rows:
            return
        if placeholders:
            # an endpoint nobody described yet becomes a placeholder, filled in when it is
            self.conn.executemany(INSERT_PLACEHOLDER, placeholders)
        closing = self._open_links([r[0] for r in rows if r[5] is not None])
        self.conn.executemany(UPSERT_LINK, rows)
        if closing:
            # stored open links that this batch closed: logged so indexes catch up
            version = self._next_version()
            self.conn.executemany(
                "INSERT INTO link_mutations(version, link, what) VALUES (?, ?, 'close')",
                [(version, lid) for lid in closing],
            )

    def _open_links(self, fids: list[str]) -> list[int]:
        """Row ids of stored, still open links among ``fids``."""
        out: list[int] = []
        for chunk in _chunks(fids, 900):
            marks = ",".join("?" * len(chunk))
            out.extend(
                r[0] for r in self.conn.execute(f"SELECT id FROM links WHERE fid IN ({marks}) AND end IS NULL", chunk)
            )
        return out

    def replace_links(self, parties: Iterable[str], origin: str, links: Iterable[Link]) -> None:
        """Replace every link derived from ``origin`` that touches one of ``parties`` by ``links``.

        Links that stay the same keep their row (no churn when re-deriving changes nothing)."""
        new = {link.id: link for link in links}
        old = self._drop_derived_except(parties, origin, new)
        self.put_links([link for fid, link in new.items() if fid not in old], origin=origin)

    def put_prepared_derived(self, parties: Iterable[str], origin: str, prepared: PreparedDerived) -> None:
        """Store rows made by :meth:`EmbeddedStore.prepare_derived`: the same effect as
        ``put_parties`` with the people and ``replace_links(parties, origin, links)``."""
        self._known.update(prepared.keys)
        self.conn.executemany(UPSERT_PARTY, prepared.parties)
        old = self._drop_derived_except(parties, origin, prepared.links)
        rows = [row for fid, row in prepared.links.items() if fid not in old]
        # the ends of links already stored (in ``old``) exist: a placeholder for one is ignored
        self._store_links(rows, [placeholder(k) for k in prepared.ends - self._known])

    def _drop_derived_except(self, parties: Iterable[str], origin: str, keep: Any) -> dict[str, int]:
        """Delete the links derived from ``origin`` touching ``parties`` whose id is not in
        ``keep``; return every such link found (id → row id), kept or not."""
        keys = list(dict.fromkeys(parties))
        old: dict[str, int] = {}
        for chunk in _chunks(keys, 400):
            marks = ",".join("?" * len(chunk))
            for lid, fid in self.conn.execute(
                f"""SELECT l.id, l.fid FROM parties p JOIN links l ON l.dst = p.id AND l.origin != ''
                    WHERE p.key IN ({marks}) AND l.origin = ?
                    UNION SELECT l.id, l.fid FROM parties p JOIN links l ON l.src = p.id AND l.origin != ''
                    WHERE p.key IN ({marks}) AND l.origin = ?""",
                [*chunk, origin, *chunk, origin],
            ):
                old[fid] = lid
        stale = [lid for fid, lid in old.items() if fid not in keep]
        if stale:
            version = self._next_version()
            self.conn.executemany("DELETE FROM links WHERE id = ?", [(lid,) for lid in stale])
            self.conn.executemany(
                "INSERT INTO link_mutations(version, link, what) VALUES (?, ?, 'delete')", [(version, lid) for lid in stale]
            )
        return old

    def lookup_parties(self, keys: Iterable[str]) -> dict[str, Party]:
        """Read parties as they stand inside this batch (uncommitted writes included)."""
        view = EmbeddedView.__new__(EmbeddedView)
        view.conn = self.conn
        view.store = None  # type: ignore[assignment]
        out: dict[str, Party] = {}
        for chunk in _chunks(list(dict.fromkeys(keys)), 900):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT {_PARTY_COLS} FROM parties WHERE key IN ({marks})", chunk):
                out[row[1]] = view._party(row)
        return out

    def lookup_records(self, subjects: Iterable[str], kind: RecordKind) -> list[Record]:
        """Read records of ``subjects`` as they stand inside this batch."""
        view = EmbeddedView.__new__(EmbeddedView)
        view.conn = self.conn
        view.store = None  # type: ignore[assignment]
        out: list[Record] = []
        for chunk in _chunks(list(dict.fromkeys(subjects)), 900):
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(
                # +kind: the subject index, always (before ANALYZE has run, as in a first ingest,
                # the planner took the kind index and read every change record per chunk)
                f"SELECT {_RECORD_COLS} FROM records WHERE +kind = ? AND subject IN ({marks})", [kind.value, *chunk]
            ):
                out.append(view._record(r))
        return out

    def derive_stamps(self, firms: Iterable[str], *, rows_of: Iterable[str] | None = None
                      ) -> dict[str, tuple[Any, frozenset[str]]]:
        """What a derivation of each firm's chains reads, in raw form, cheap to compare: the
        firm's stored row (None when absent, or when the firm is not among ``rows_of``, the
        firms whose stored row the derivation reads; all when None) and the ids of its change
        records."""
        keys = list(dict.fromkeys(firms))
        rows: dict[str, Any] = {}
        for chunk in _chunks(keys if rows_of is None else list(dict.fromkeys(rows_of)), 900):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT {_PARTY_COLS} FROM parties WHERE key IN ({marks})", chunk):
                rows[row[1]] = row
        fids: dict[str, set[str]] = {}  # most firms have no change record: no set made for them
        for chunk in _chunks(keys, 900):
            marks = ",".join("?" * len(chunk))
            for subject, fid in self.conn.execute(
                f"SELECT subject, fid FROM records WHERE +kind = ? AND subject IN ({marks})",  # see lookup_records
                [RecordKind.CHANGE.value, *chunk],
            ):
                fids.setdefault(subject, set()).add(fid)
        none: frozenset[str] = frozenset()
        return {k: (rows.get(k), frozenset(fids[k]) if k in fids else none) for k in keys}

    def close_link(self, link_id: str, end: dt.date) -> None:
        """Close a stored link on ``end``."""
        row = self.conn.execute("SELECT id, end FROM links WHERE fid = ?", (link_id,)).fetchone()
        if row is None:
            raise InvalidInput(f"no link with id {link_id}", field="link_id")
        self.conn.execute("UPDATE links SET end = ? WHERE id = ?", (end.toordinal(), row[0]))
        self.conn.execute(
            "INSERT INTO link_mutations(version, link, what) VALUES (?, ?, 'close')", (self._next_version(), row[0])
        )

    def put_records(self, records: Iterable[Record]) -> None:
        """Add records; an id already stored is kept."""
        self.conn.executemany(INSERT_RECORD, record_rows(records, self._src))

    def put_rejections(self, rejections: Iterable[Rejection]) -> None:
        """Append rows to the rejection report (the same row and reason once)."""
        self.conn.executemany(INSERT_REJECTION, rejection_rows(rejections, self.run_id))

    def put_code_observations(self, observations: Iterable[CodeObservation]) -> None:
        """Keep identifiers as they appeared in files."""
        self.conn.executemany(INSERT_OBSERVATION, observation_rows(observations, self._src))

    def put_aliases(self, aliases: Iterable[Alias]) -> None:
        """Record resolutions of unresolved parties (a later resolution replaces an earlier one)."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO aliases(unresolved, resolved, reason) VALUES (?,?,?)",
            [(a.unresolved, a.resolved, a.reason) for a in aliases],
        )
        self._aliases_changed()

    def drop_aliases(self, unresolved: Iterable[str]) -> None:
        """Forget resolutions that no longer hold."""
        self.conn.executemany("DELETE FROM aliases WHERE unresolved = ?", [(u,) for u in unresolved])
        self._aliases_changed()

    def _aliases_changed(self) -> None:
        # the batch's own version (committed with it): tells link indexes to read the alias map again
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) SELECT 'aliases_changed', CAST(value AS INTEGER) + 1 "
                          "FROM meta WHERE key = 'version'")

    def mark_file(self, sha256: str, path: str, kind: str, rows: int, status: str) -> None:
        """Record a file's ingest state."""
        self.conn.execute(
            """INSERT INTO files(sha256, path, kind, rows, status, run, updated) VALUES (?,?,?,?,?,?,?)
               ON CONFLICT(sha256) DO UPDATE SET path = excluded.path, kind = excluded.kind, rows = excluded.rows,
                 status = excluded.status, run = excluded.run, updated = excluded.updated""",
            (sha256, path, kind, rows, status, self.run_id, _now()),
        )

    def put_meta(self, key: str, value: str) -> None:
        """Store a small named value."""
        if key in ("schema", "version", "aliases_changed"):
            raise InvalidInput(f"meta key {key!r} is reserved", field="key")
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


class CommittedReads:
    """The writer's look-ups, on a read connection: what is committed, nothing pending."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    lookup_parties = EmbeddedWriter.lookup_parties
    lookup_records = EmbeddedWriter.lookup_records
    derive_stamps = EmbeddedWriter.derive_stamps

    def file_status(self, sha256: str) -> str | None:
        """Return "partial", "complete" or None (as :meth:`EmbeddedView.file_status`)."""
        return EmbeddedView.file_status(self, sha256)  # type: ignore[arg-type]  # reads self.conn only


class NoLinkIndex(AttributeError):
    """Raised when a view opened with ``traversal=False`` is asked to traverse."""


class _NoLinkIndex:
    """The link index of a view opened with ``traversal=False``: any use of it is a mistake."""

    def __getattr__(self, name: str) -> Any:
        raise NoLinkIndex(f"this view was opened without the link index (traversal=False): no {name}")


class EmbeddedView:
    """Reads over the committed state: SQLite for facts, the link index for traversal."""

    def __init__(self, store: EmbeddedStore, index: LinkIndex, version: int = -1) -> None:
        self.store = store
        self.index = index
        self.conn = store._read_conn()
        self._version = version

    # -- parties -------------------------------------------------------------------------
    def _party(self, row: Sequence[Any]) -> Party:
        flags = frozenset(_FLAG[f] for f in row[9].split(",") if f) if row[9] else frozenset()
        source = Source(self._path(row[11]), row[12], row[13] or "") if row[11] is not None else None
        return Party(
            key=row[1], kind=_PARTY_KIND[row[2]], name=row[3], code=row[4], region=row[5], start=from_iso(row[6]),
            end=from_iso(row[7]), status=row[8], flags=flags, attrs=loads(row[10]), source=source,
        )

    def _path(self, source_id: int) -> str:
        cache = self.store.source_paths if self.store is not None else self.__dict__.setdefault("_paths", {})
        path = cache.get(source_id)
        if path is None:
            row = self.conn.execute("SELECT path FROM sources WHERE id = ?", (source_id,)).fetchone()
            path = row[0] if row else ""
            cache[source_id] = path
        return path

    def resolve(self, key: str) -> str:
        """Return the known party an unresolved key is an alias of, or the key itself."""
        row = self.conn.execute("SELECT resolved FROM aliases WHERE unresolved = ?", (key,)).fetchone()
        return row[0] if row else key

    def party(self, key: str) -> Party | None:
        """Return the party with ``key`` (aliases followed), or None."""
        row = self.conn.execute(f"SELECT {_PARTY_COLS} FROM parties WHERE key = ?", (self.resolve(key),)).fetchone()
        return self._party(row) if row else None

    def parties(self, keys: Iterable[str]) -> dict[str, Party]:
        """Return the parties found among ``keys`` (by their own key)."""
        out: dict[str, Party] = {}
        keys = list(dict.fromkeys(keys))
        for chunk in _chunks(keys, 900):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT {_PARTY_COLS} FROM parties WHERE key IN ({marks})", chunk):
                out[row[1]] = self._party(row)
        return out

    def party_names(self, keys: Iterable[str]) -> dict[str, str]:
        """Return the name of each party found among ``keys`` (by its own key)."""
        return self._party_pairs("key", "name", keys)

    def _party_pairs(self, by: str, value: str, wanted: Iterable[Any]) -> dict[Any, Any]:
        """``{by: value}`` of the parties whose column ``by`` is one of ``wanted``."""
        out: dict[Any, Any] = {}
        for chunk in _chunks(list(dict.fromkeys(wanted)), 900):
            marks = ",".join("?" * len(chunk))
            out.update(self.conn.execute(f"SELECT {by}, {value} FROM parties WHERE {by} IN ({marks})", chunk).fetchall())
        return out

    def light_parties_by_rowid(self, ids: Iterable[int]) -> dict[int, Party]:
        """Return the parties stored in these rows as light values, by row id: key, kind and name
        read, every other field at its default (what a warning path shows of them, in a third of
        the time of :meth:`parties_by_rowid`)."""
        out: dict[int, Party] = {}
        for chunk in _chunks(list(ids), 900):
            marks = ",".join("?" * len(chunk))
            for rid, key, kind, name in self.conn.execute(
                    f"SELECT id, key, kind, name FROM parties WHERE id IN ({marks})", chunk):
                out[rid] = Party(key=key, kind=_PARTY_KIND[kind], name=name)
        return out

    def parties_by_rowid(self, ids: Iterable[int]) -> dict[int, Party]:
        """Return the parties stored in these rows, by row id (what the link index's node ids are)."""
        out: dict[int, Party] = {}
        for chunk in _chunks(list(ids), 900):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT {_PARTY_COLS} FROM parties WHERE id IN ({marks})", chunk):
                out[row[0]] = self._party(row)
        return out

    def _ids(self, keys: Iterable[str]) -> dict[str, int]:
        """Row ids of the parties ``keys`` resolve to, by resolved key."""
        return self.party_ids(self.resolve_many(keys).values())

    def party_ids(self, keys: Iterable[str]) -> dict[str, int]:
        """Row ids of the parties stored under ``keys`` (as given: aliases not followed)."""
        return self._party_pairs("key", "id", keys)

    def party_keys(self, ids: Iterable[int]) -> dict[int, str]:
        """Keys of the parties with these row ids."""
        return self._party_pairs("id", "key", (int(i) for i in ids))

    def parties_by_name(self, name_keys: Iterable[str]) -> dict[str, list[Party]]:
        """Return, per name comparison key, the parties that have carried such a name."""
        out: dict[str, list[Party]] = {}
        cols = ", ".join("p." + c.strip() for c in _PARTY_COLS.split(","))
        for chunk in _chunks(sorted(set(name_keys)), 900):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT DISTINCT n.nkey, {cols} FROM names n JOIN parties p ON p.key = n.party WHERE n.nkey IN ({marks})",
                chunk,
            )
            for row in rows:
                out.setdefault(row[0], []).append(self._party(row[1:]))
        return out

    def iter_parties(self, kinds: Sequence[PartyKind] | None = None) -> Iterator[Party]:
        """Yield every party (of the given kinds)."""
        if kinds:
            marks = ",".join("?" * len(kinds))
            cur = self.conn.execute(
                f"SELECT {_PARTY_COLS} FROM parties WHERE kind IN ({marks}) ORDER BY id", [k.value for k in kinds]
            )
        else:
            cur = self.conn.execute(f"SELECT {_PARTY_COLS} FROM parties ORDER BY id")
        for row in cur:
            yield self._party(row)

    def names(self, key: str) -> list[NameFact]:
        """Return the names a party has carried, oldest first."""
        rows = self.conn.execute(
            "SELECT party, name, start, end, src, row, run FROM names WHERE party = ? ORDER BY coalesce(start, '')",
            (self.resolve(key),),
        ).fetchall()
        return [
            NameFact(r[0], r[1], from_iso(r[2]), from_iso(r[3]),
                     Source(self._path(r[4]), r[5], r[6] or "") if r[4] is not None else None)
            for r in rows
        ]

    # -- links ---------------------------------------------------------------------------
    def _links_at(self, positions: np.ndarray) -> list[Link]:
        rowids = self.index.rowid[positions].tolist()
        out: list[Link] = []
        for chunk in _chunks(rowids, 900):
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(f"SELECT {_LINK_COLS} FROM {_LINK_FROM} WHERE l.id IN ({marks})", chunk):
                out.append(self._link(r))
        out.sort(key=lambda lk: (lk.kind.value, lk.src, lk.dst, lk.start or dt.date.min))
        return out

    def _link(self, r: Sequence[Any]) -> Link:
        source = Source(self._path(r[10]), r[11], r[12] or "") if r[10] is not None else None
        return Link(
            id=r[1], kind=_LINK_KIND[r[2]], src=r[3], dst=r[4], start=from_ordinal(r[5]), end=from_ordinal(r[6]),
            ratio=r[7], amount=r[8], title=r[9], source=source, currency=r[13],
        )

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
        ids = self._ids([key])
        if not ids:
            return []
        node = self.index.remap[np.array(list(ids.values()), dtype=np.int64)]
        edges = self.index.edges_of(node, direction)
        return [self._resolved_link(lk) for lk in self._links_at(self.index.filter(edges, as_of, kinds))]

    def linked(self, keys: Iterable[str], *, direction: str = "both", aliases: bool = True) -> dict[str, set[str]]:
        """For each key, the parties at the other end of its links, as :meth:`links` would name
        them (aliases followed on both ends): one pass over the index for all keys, no Link
        objects. ``in``: the sources of links into the key; ``out``: the targets.
        ``aliases=False``: the links as stored, between the parties as stored."""
        if direction not in ("both", "in", "out"):
            raise InvalidInput(f"direction must be both, in or out, not {direction!r}", field="direction")
        keys = list(dict.fromkeys(keys))
        if not aliases:
            return self._stored_linked(keys, direction)
        out: dict[str, set[str]] = {k: set() for k in keys}
        resolved = self.resolve_many(keys)
        ids = self.party_ids(resolved.values())
        wanted = [(k, ids[resolved[k]]) for k in keys if resolved[k] in ids]
        if not wanted:
            return out
        index = self.index
        nodes = np.array([pid for _, pid in wanted], dtype=np.int64)
        inside = nodes < len(index.remap)
        nodes[inside] = index.remap[nodes[inside]]
        # every key's links gathered at once from the CSR (one numpy call per key took most of
        # identity resolution at the end of an ingest)
        owners, ends = index.ends_of(nodes, direction)
        order = np.argsort(owners, kind="stable")
        owners, ends = owners[order], ends[order]
        cuts = np.searchsorted(owners, np.arange(len(wanted) + 1))
        flat = ends.tolist()
        others = {key: flat[cuts[i]:cuts[i + 1]] for i, (key, _) in enumerate(wanted)}
        names = self.party_keys(n for ends in others.values() for n in ends)
        for key, ends in others.items():
            out[key] = {names[n] for n in ends if n in names}
        return out

    def _stored_linked(self, keys: list[str], direction: str) -> dict[str, set[str]]:
        """:meth:`linked` without aliases, from SQLite: the index merges an aliased party into
        the one it resolves to. One pass over the links for all keys (they have no index by
        endpoint: traversals use the link index)."""
        ids = self.party_ids(keys)
        out: dict[str, set[str]] = {k: set() for k in keys}
        if not ids:
            return out
        conn = self.conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS linked_wanted (id INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM temp.linked_wanted")
        conn.executemany("INSERT OR IGNORE INTO temp.linked_wanted VALUES (?)", [(i,) for i in ids.values()])
        if direction == "out":
            ends = conn.execute("SELECT l.src, l.dst FROM links l WHERE l.src IN temp.linked_wanted").fetchall()
        elif direction == "in":
            ends = conn.execute("SELECT l.dst, l.src FROM links l WHERE l.dst IN temp.linked_wanted").fetchall()
        else:  # one pass for both ends
            wanted = set(ids.values())
            ends = []
            for src, dst in conn.execute(
                    "SELECT l.src, l.dst FROM links l WHERE l.src IN temp.linked_wanted OR l.dst IN temp.linked_wanted"):
                if src in wanted:
                    ends.append((src, dst))
                if dst in wanted:
                    ends.append((dst, src))
        conn.execute("DELETE FROM temp.linked_wanted")
        names = self.party_keys({n for pair in ends for n in pair})
        for mine, other in ends:
            if mine in names and other in names:
                out[names[mine]].add(names[other])
        return out

    def links_by_id(self, link_ids: Iterable[str]) -> dict[str, Link]:
        """Return the links with these ids (as stored: endpoints not alias-resolved)."""
        out: dict[str, Link] = {}
        for chunk in _chunks(list(dict.fromkeys(link_ids)), 900):
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(f"SELECT {_LINK_COLS} FROM {_LINK_FROM} WHERE l.fid IN ({marks})", chunk):
                out[r[1]] = self._link(r)
        return out

    def resolve_many(self, keys: Iterable[str]) -> dict[str, str]:
        """Return ``resolve(key)`` for each key, in one look-up."""
        keys = list(dict.fromkeys(keys))
        out = {k: k for k in keys}
        for chunk in _chunks(keys, 900):
            marks = ",".join("?" * len(chunk))
            out.update(self.conn.execute(f"SELECT unresolved, resolved FROM aliases WHERE unresolved IN ({marks})",
                                         chunk).fetchall())
        return out

    def link(self, link_id: str) -> Link | None:
        """Return one link by id."""
        r = self.conn.execute(f"SELECT {_LINK_COLS} FROM {_LINK_FROM} WHERE l.fid = ?", (link_id,)).fetchone()
        return self._link(r) if r else None

    def iter_links(self, kinds: Sequence[LinkKind] | None = None) -> Iterator[Link]:
        """Yield every link (of the given kinds)."""
        if kinds:
            marks = ",".join("?" * len(kinds))
            cur = self.conn.execute(
                f"SELECT {_LINK_COLS} FROM {_LINK_FROM} WHERE l.kind IN ({marks}) ORDER BY l.id", [k.value for k in kinds]
            )
        else:
            cur = self.conn.execute(f"SELECT {_LINK_COLS} FROM {_LINK_FROM} ORDER BY l.id")
        for r in cur:
            yield self._link(r)

    def degree(self, key: str) -> int:
        """Return the number of links touching ``key`` at any time."""
        ids = self._ids([key])
        if not ids:
            return 0
        node = self.index.remap[next(iter(ids.values()))] if self.index.n_nodes else 0
        out_ptr, _, in_ptr, _ = self.index.csr()
        if node >= len(out_ptr) - 1:
            return 0
        return int(out_ptr[node + 1] - out_ptr[node] + in_ptr[node + 1] - in_ptr[node])

    def neighbourhood(
        self,
        keys: Iterable[str],
        hops: int,
        *,
        as_of: dt.date | None = None,
        kinds: Sequence[LinkKind] | None = None,
        max_degree: int | None = None,
    ) -> Subgraph:
        """Return parties within ``hops`` of ``keys`` and the links among them."""
        if hops < 0:
            raise InvalidInput("hops must be >= 0", field="hops")
        idx = self.index
        start_ids = self._ids(keys)
        seeds = np.unique(idx.remap[np.array(list(start_ids.values()), dtype=np.int64)]) if start_ids else np.zeros(
            0, dtype=np.int64
        )
        distance: dict[int, int] = {int(n): 0 for n in seeds}
        capped: set[int] = set()
        degrees = idx.degrees() if max_degree is not None else None
        frontier = seeds
        all_edges: list[np.ndarray] = []
        for hop in range(1, hops + 1):
            if not len(frontier):
                break
            if degrees is not None and max_degree is not None:
                big = frontier[degrees[frontier] > max_degree]
                # a seed is always expanded: the user asked about it
                big = np.array([n for n in big.tolist() if distance.get(n, 1) > 0], dtype=np.int64)
                capped.update(big.tolist())
                frontier = np.setdiff1d(frontier, big)
            edges = idx.filter(idx.edges_of(frontier), as_of, kinds)
            all_edges.append(edges)
            ends = np.concatenate([idx.remap[idx.src[edges]], idx.remap[idx.dst[edges]]])
            new = [int(n) for n in np.unique(ends).tolist() if n not in distance]
            for n in new:
                distance[n] = hop
            frontier = np.array(new, dtype=np.int64)
        edges = np.unique(np.concatenate(all_edges)) if all_edges else np.zeros(0, dtype=np.int64)
        parties = self.parties_by_rowid(distance)
        sub = Subgraph()
        for node, party in parties.items():
            sub.parties[party.key] = party
            sub.distance[party.key] = distance[node]
        sub.capped = {parties[n].key for n in capped if n in parties}
        for link in self._links_at(edges):
            sub.links.append(self._resolved_link(link))
        return sub

    def _resolved_link(self, link: Link) -> Link:
        """A link whose unresolved endpoints are shown as the parties they resolve to."""
        src, dst = self.resolve(link.src), self.resolve(link.dst)
        if src == link.src and dst == link.dst:
            return link
        from dataclasses import replace

        return replace(link, src=src, dst=dst)

    # -- records -------------------------------------------------------------------------
    def _record(self, r: Sequence[Any]) -> Record:
        source = Source(self._path(r[8]), r[9], r[10] or "") if r[8] is not None else None
        return Record(
            id=r[1], kind=_RECORD_KIND[r[2]], subject=r[3], start=from_iso(r[4]), end=from_iso(r[5]), target=r[6],
            attrs=loads(r[7]), source=source,
        )

    def records(
        self,
        subject: str | None = None,
        *,
        kinds: Sequence[RecordKind] | None = None,
        as_of: dt.date | None = None,
    ) -> list[Record]:
        """Return records of a subject (aliases included), of kinds, in force on ``as_of``."""
        where, args = [], []
        if subject is not None:
            resolved = self.resolve(subject)
            subjects = [resolved] + [
                r[0] for r in self.conn.execute("SELECT unresolved FROM aliases WHERE resolved = ?", (resolved,))
            ]
            if subject not in subjects:
                subjects.append(subject)
            where.append(f"subject IN ({','.join('?' * len(subjects))})")
            args.extend(subjects)
        if kinds:
            where.append(f"kind IN ({','.join('?' * len(kinds))})")
            args.extend(k.value for k in kinds)
        if as_of is not None:
            where.append("(start IS NULL OR start <= ?) AND (end IS NULL OR end > ?)")
            args.extend([as_of.isoformat(), as_of.isoformat()])
        sql = f"SELECT {_RECORD_COLS} FROM records" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        return [self._record(r) for r in self.conn.execute(sql, args)]

    def record(self, record_id: str) -> Record | None:
        """Return one record by id."""
        r = self.conn.execute(f"SELECT {_RECORD_COLS} FROM records WHERE fid = ?", (record_id,)).fetchone()
        return self._record(r) if r else None

    def records_after(self, mark: int, kinds: Sequence[RecordKind]) -> tuple[list[Record], int]:
        """Return the records of ``kinds`` stored after ``mark`` (0: all), oldest first, and the
        mark to pass next time. Records are only ever added (INSERT OR IGNORE, never updated
        or deleted) and batches commit one at a time in row-id order, so a caller that keeps
        what it read reads each record once (a mark above the newest: another store; start at 0)."""
        top = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM records").fetchone()[0]
        if top <= mark or not kinds:
            return [], top
        marks = ",".join("?" * len(kinds))
        rows = self.conn.execute(
            f"SELECT {_RECORD_COLS} FROM records WHERE id > ? AND id <= ? AND kind IN ({marks}) ORDER BY id",
            [mark, top, *(RecordKind(k).value for k in kinds)])
        return [self._record(r) for r in rows], top

    def record_subjects(self, kinds: Sequence[RecordKind]) -> set[str]:
        """Return the subjects of every record of ``kinds`` (as stored)."""
        if not kinds:
            return set()
        marks = ",".join("?" * len(kinds))
        rows = self.conn.execute(f"SELECT DISTINCT subject FROM records WHERE kind IN ({marks})",
                                 [RecordKind(k).value for k in kinds])
        return {r[0] for r in rows}

    def records_targeting(self, record_id: str) -> list[Record]:
        """Return the repairs, objections and resolutions acting on ``record_id``."""
        return [
            self._record(r)
            # "target != ''" lets SQLite use the partial index records_target
            for r in self.conn.execute(
                f"SELECT {_RECORD_COLS} FROM records WHERE target = ? AND target != '' ORDER BY id", (record_id,)
            )
        ]

    # -- search --------------------------------------------------------------------------
    def search(self, text: str, *, limit: int = 20) -> list[SearchHit]:
        """Find parties by code, ID or name: exact, substring, then fuzzy."""
        raw = search_text(text)
        if not raw:
            return []
        found = Hits()

        def by_code(code: str) -> list[Party]:
            # equality, or GLOB for masked codes: both can use the parties_code index (the
            # case-insensitive LIKE cannot, and scanned every party: seconds at 1M firms);
            # codes are stored normalised (upper case), and "code != ''" lets the planner use
            # the partial index
            if "*" in code:
                sql, arg = f"SELECT {_PARTY_COLS} FROM parties WHERE code GLOB ? AND code != '' LIMIT ?", code.replace("*", "?")
            else:
                sql, arg = f"SELECT {_PARTY_COLS} FROM parties WHERE code = ? AND code != '' LIMIT ?", code
            return [self._party(row) for row in self.conn.execute(sql, (arg, limit))]

        code_hits(raw, found, party=self.party, by_code=by_code)
        key = name_search_key(raw)
        if not key:
            return found.hits[:limit]
        candidates: dict[str, str] = {}
        for party_key, name in self.conn.execute(
            "SELECT party, name FROM names WHERE nkey = ? LIMIT ?", (key, limit * 4)
        ):
            candidates.setdefault(party_key, name)
        exact = set(candidates)
        if len(key) >= 3:
            rows = self.conn.execute(
                "SELECT n.party, n.name FROM names_fts f JOIN names n ON n.id = f.rowid WHERE names_fts MATCH ? LIMIT ?",
                (_fts_phrase(key), limit * 20),
            ).fetchall()
        else:
            rows = self.conn.execute(
                "SELECT party, name FROM names WHERE instr(nkey, ?) > 0 LIMIT ?", (key, limit * 20)
            ).fetchall()
        substring = {p for p, _ in rows}
        for p, n in rows:
            candidates.setdefault(p, n)
        if len(candidates) < limit and len(key) >= 3:
            grams = {key[i : i + 3] for i in range(len(key) - 2)}
            query = " OR ".join(_fts_phrase(g) for g in sorted(grams))
            for p, n in self.conn.execute(
                "SELECT n.party, n.name FROM names_fts f JOIN names n ON n.id = f.rowid "
                "WHERE names_fts MATCH ? ORDER BY rank LIMIT ?",
                (query, limit * 20),
            ):
                candidates.setdefault(p, n)
        elif len(candidates) < limit and len(key) == 2:
            # two characters: any name holding one of them, scored below
            for ch in key:
                for p, n in self.conn.execute(
                    "SELECT party, name FROM names WHERE instr(nkey, ?) > 0 LIMIT ?", (ch, limit * 5)
                ):
                    candidates.setdefault(p, n)
        parties = self.parties(self.resolve(p) for p in candidates)
        for score, how, n, party in score_names(key, candidates, exact, substring,
                                                lambda p: parties.get(self.resolve(p))):
            found.add(party, n, round(score, 1), how)
        return found.hits[:limit]

    # -- aliases, quality, bookkeeping ---------------------------------------------------
    def aliases(self) -> list[Alias]:
        """Return every alias recorded."""
        return [Alias(*r) for r in self.conn.execute("SELECT unresolved, resolved, reason FROM aliases ORDER BY 1")]

    def rejections(self, run: str | None = None) -> list[Rejection]:
        """Return rejected rows (of one run), in file and row order."""
        sql = "SELECT file, row, col, value, reason, run FROM rejections"
        rows = self.conn.execute(sql + " WHERE run = ? ORDER BY id" if run else sql + " ORDER BY id", (run,) if run else ())
        return [Rejection(*r) for r in rows]

    def names_for_code(self, code: str) -> list[str]:
        """The names files gave with the valid USCC ``code``, one per comparison key, first
        seen first: two or more mean one code stands for several firms (a data error the
        store keeps as one party, and the quality report lists)."""
        out: dict[str, str] = {}
        for (name,) in self.conn.execute(
            "SELECT name FROM code_observations WHERE normalised = ? AND kind = 'uscc' AND valid = 1 AND name != '' "
            "ORDER BY id", (code,)
        ):
            out.setdefault(name_search_key(name), name)
        return list(out.values())

    def code_observations(self) -> Iterator[CodeObservation]:
        """Yield identifiers as they appeared in files."""
        for r in self.conn.execute(
            "SELECT code, normalised, name, valid, kind, srcfile, row, run FROM code_observations ORDER BY id"
        ):
            yield CodeObservation(r[0], r[1], r[2], bool(r[3]), r[4], Source(self._path(r[5]), r[6], r[7] or ""))

    def file_status(self, sha256: str) -> str | None:
        """Return "partial", "complete" or None."""
        row = self.conn.execute("SELECT status FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        return row[0] if row else None

    def runs(self) -> list[IngestRun]:
        """Return the ingest runs, oldest first."""
        return [
            IngestRun(r[0], r[1], r[2] or "", loads(r[3]))
            for r in self.conn.execute("SELECT id, started, finished, summary FROM runs ORDER BY started, id")
        ]

    def counts(self) -> dict[str, int]:
        """Return counts of parties by kind, links, records by kind and rejections."""
        out: dict[str, int] = {}
        for kind, n in self.conn.execute("SELECT kind, COUNT(*) FROM parties GROUP BY kind"):
            out[f"parties.{kind}"] = n
        out["parties"] = sum(v for k, v in out.items() if k.startswith("parties."))
        out["links"] = self.conn.execute("SELECT COUNT(*) FROM links").fetchone()[0]
        for kind, n in self.conn.execute("SELECT kind, COUNT(*) FROM records GROUP BY kind"):
            out[f"records.{kind}"] = n
        out["records"] = sum(v for k, v in out.items() if k.startswith("records."))
        out["rejections"] = self.conn.execute("SELECT COUNT(*) FROM rejections").fetchone()[0]
        out["aliases"] = self.conn.execute("SELECT COUNT(*) FROM aliases").fetchone()[0]
        return out

    def meta(self, key: str) -> str | None:
        """Return a value stored with put_meta."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def version(self) -> int:
        """Return the committed batch counter this view was opened at."""
        return self._version if self._version >= 0 else self.store.stored_version()


def source_row_id(conn: Any, path: str) -> int:
    """The id of the ``sources`` row of ``path``, added when missing (in the caller's transaction)."""
    conn.execute("INSERT OR IGNORE INTO sources(path) VALUES (?)", (path,))
    return int(conn.execute("SELECT id FROM sources WHERE path = ?", (path,)).fetchone()[0])


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
