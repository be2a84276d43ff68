"""A precomputed risk index: strongest walks from every punished party, for checks without traversal.

Use :class:`RiskIndexCache` in a long-running process (the API, a batch run): ``get(view,
as_of)`` returns a :class:`RiskIndex` for the view's version, rebuilding it when the store
changed (an ingest, a new list entry, a repair) or the date moved; pass it to
:func:`queries.risk.check` as ``index=``. The answer equals the direct computation of
:mod:`queries.risk` (same weights, caps and tie-breaks; tests/queries prove it).

How it works: the links alive on ``as_of`` become a compact undirected CSR (numpy) through a
small adapter (:func:`graph_arrays`: the embedded backend's column :class:`LinkIndex`, or any
backend through ``view.iter_links()``). From all punished parties at once, a layered,
vectorised relaxation computes for every (source, node, hops ≤ k) the strongest walk and the
arc it came by; a check then reads the labels of one node and rebuilds each path from the
predecessor arcs. Rebuilding after a list change reuses the CSR (links did not change) and
only recomputes the labels.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graph.model import Link, LinkKind, Party, RecordKind
from graph.store import View
from queries.catalog import Catalog, load_catalog
from queries.propagation import EntryLog
from queries.risk import (
    DEFAULT_CONFIG,
    KIND_CODE,
    LINK_KINDS,
    LinkHit,
    RiskConfig,
    SourceReason,
    arc_weight,
    punished_parties,
)
from queries.status import ActionBook
from queries.young_gc import young_collections_only

_NO_START = np.iinfo(np.int32).min
_NO_END = np.iinfo(np.int32).max
# the records a check reads of its subject (queries.risk._own)
_OWN_KINDS = (RecordKind.LIST_ENTRY, RecordKind.COURT_DISHONEST, RecordKind.PENALTY)
# facts remembered per index (parties, links, aliases): bounded memory, and few objects for the
# cyclic collector to walk (at 50,000 each its full collections took 20-25 ms)
_MEMO_LIMIT = 10_000
_UNKNOWN = object()  # not in a memo (None there means "looked up, not found")


@dataclass(slots=True)
class GraphArrays:
    """Every link as columns over dense, alias-resolved node ids, plus lookups back to facts."""

    n: int
    src: np.ndarray  # int64 node ids, aliases resolved
    dst: np.ndarray
    kind: np.ndarray  # int8, index into LINK_KINDS
    start: np.ndarray  # int32 ordinals (_NO_START when unknown)
    end: np.ndarray  # int32 ordinals (_NO_END when open)
    ratio: np.ndarray  # float64, nan when unknown
    fid: np.ndarray  # link ids (bytes), for tie-breaks and fetching
    is_org: np.ndarray  # bool per node
    ids_of: Callable[[Sequence[str]], np.ndarray]  # resolved keys -> node ids (-1 unknown)
    token: Any = None  # what the arrays were built from
    built_in: float = 0.0
    # (view, party key) -> (node id, kind, name) of a party stored under that very key (no
    # alias), in one look-up, or None; only where the backend offers it (the embedded one)
    plain_party: Callable[[Any, str], tuple[int, str, str] | None] | None = None
    # the stored row of each link, where node ids are party row ids too (the embedded
    # backend): a check then reads its paths' parties by row id (``light_parties_by_rowid`` of
    # the view) instead of by key, and builds their links from these columns
    rowid: np.ndarray | None = None
    # each link's title as a code into ``titles`` (0: none), where the backend gives them: a
    # warning path's links are then built from these columns, without reading their rows
    title: np.ndarray | None = None
    titles: list[str] = field(default_factory=list)
    origin: str = ""  # the store the columns were read from (its file), where known

    def nbytes(self) -> int:
        """Bytes held by the columns."""
        return sum(a.nbytes for a in (self.src, self.dst, self.kind, self.start, self.end, self.ratio, self.fid,
                                      self.is_org, *(a for a in (self.rowid, self.title) if a is not None)))

    def link(self, edge: int, src: str, dst: str) -> Link:
        """The link at ``edge`` as the columns hold it, its ends named ``src`` and ``dst``
        (the amount and provenance are not in the columns: None)."""
        start, end, ratio = int(self.start[edge]), int(self.end[edge]), float(self.ratio[edge])
        return Link(id=bytes(self.fid[edge]).decode(), kind=LINK_KINDS[int(self.kind[edge])], src=src, dst=dst,
                    start=None if start == _NO_START else dt.date.fromordinal(start),
                    end=None if end == _NO_END else dt.date.fromordinal(end),
                    ratio=None if ratio != ratio else ratio,  # nan: unknown
                    title=self.titles[int(self.title[edge])] if self.title is not None else "")


def _embedded_token(view: Any) -> tuple[int, int, int, int]:
    idx = view.index
    return (idx.max_rowid, idx.max_mutation, idx.n_nodes, int(idx.remap.sum()) if len(idx.remap) else 0)


def graph_arrays(view: View, previous: GraphArrays | None = None) -> GraphArrays:
    """Return the link columns of ``view`` (``previous`` when the links did not change).

    The embedded backend supplies its column index directly; any other backend is read
    through ``view.iter_links()`` (slower, rebuilt on every store version)."""
    if hasattr(view, "index") and hasattr(view, "conn") and hasattr(view.index, "csr"):
        token: tuple[str, Any] = ("embedded", _embedded_token(view))
        if previous is not None and previous.token == token:
            return previous
        return _embedded_arrays(view, token, previous)
    token = ("generic", view.version())
    if previous is not None and previous.token == token:
        return previous
    return _generic_arrays(view, token)


def _embedded_arrays(view: Any, token: Any, previous: GraphArrays | None = None) -> GraphArrays:
    t0 = time.perf_counter()
    idx, conn = view.index, view.conn
    n = int(idx.n_nodes)
    remap = idx.remap.astype(np.int64)
    src = remap[idx.src] if len(idx.src) else np.zeros(0, dtype=np.int64)
    dst = remap[idx.dst] if len(idx.dst) else np.zeros(0, dtype=np.int64)
    alive = idx.alive.copy()
    ratio = np.full(len(idx.rowid), np.nan)
    rows = conn.execute("SELECT id, ratio FROM links WHERE ratio IS NOT NULL").fetchall()
    if rows:
        arr = np.array(rows, dtype=np.float64)
        pos = np.searchsorted(idx.rowid, arr[:, 0].astype(np.int64))
        ok = (pos < len(idx.rowid)) & (idx.rowid[np.minimum(pos, len(idx.rowid) - 1)] == arr[:, 0].astype(np.int64))
        ratio[pos[ok]] = arr[ok, 1]
    fid = np.zeros(len(idx.rowid), dtype="S20")
    rows = conn.execute("SELECT id, fid FROM links").fetchall()
    if rows:
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        fids = np.array([r[1] for r in rows], dtype="S20")
        pos = np.searchsorted(idx.rowid, ids)
        ok = (pos < len(idx.rowid)) & (idx.rowid[np.minimum(pos, len(idx.rowid) - 1)] == ids)
        fid[pos[ok]] = fids[ok]
    origin = str(getattr(getattr(view, "store", None), "path", ""))
    title, titles = _titles(conn, idx.rowid, previous if previous is not None and origin and
                            previous.origin == origin else None)
    is_org = np.zeros(n, dtype=bool)
    org_ids = np.fromiter((r[0] for r in conn.execute("SELECT id FROM parties WHERE key LIKE 'org:%'")),
                          dtype=np.int64)
    is_org[org_ids[org_ids < n]] = True

    def here() -> Any:
        # a view on the calling thread's connection, not the building thread's: the index
        # answers on the event loop while a rebuild runs on a worker, and a connection shared
        # between threads made checks wait for the rebuild's long reads (seconds at 1M firms)
        return type(view)(view.store, view.index) if getattr(view, "store", None) is not None else view

    def ids_of(keys: Sequence[str]) -> np.ndarray:
        keys = list(keys)
        on = here()
        if len(keys) == 1:  # one party per check: the plain look-up, not the batched one
            row = on.conn.execute("SELECT id FROM parties WHERE key = ?", (keys[0],)).fetchone()
            return np.array([remap[row[0]] if row is not None and 0 <= row[0] < n else -1], dtype=np.int64)
        found = on.party_ids(keys)
        out = np.array([found.get(k, -1) for k in keys], dtype=np.int64)
        ok = (out >= 0) & (out < n)
        out[ok] = remap[out[ok]]
        out[~ok] = -1
        return out

    def plain_party(on: Any, key: str) -> tuple[int, str, str] | None:
        # on the caller's view (its thread's connection); an alias (its node remapped to
        # another party's) or a party added after these arrays is left to the full look-up
        row = on.conn.execute("SELECT id, kind, name FROM parties WHERE key = ?", (key,)).fetchone()
        if row is None or not 0 <= row[0] < n or remap[row[0]] != row[0]:
            return None
        return int(row[0]), row[1], row[2]

    keep = np.flatnonzero(alive)
    return GraphArrays(
        n=n, src=src[keep], dst=dst[keep], kind=idx.kind[keep].astype(np.int8), start=idx.start[keep].copy(),
        end=idx.end[keep].copy(), ratio=ratio[keep], fid=fid[keep], is_org=is_org, ids_of=ids_of, token=token,
        built_in=time.perf_counter() - t0, plain_party=plain_party, rowid=_compact(idx.rowid[keep]),
        title=title[keep], titles=titles, origin=origin,
    )


def _titles(conn: Any, rowids: np.ndarray, previous: GraphArrays | None) -> tuple[np.ndarray, list[str]]:
    """Each link's title (by its position in ``rowids``) as a code into the list returned.

    A title never changes once stored (links are only added, closed or removed), so the
    codes of links the previous columns hold are kept and only later rows are read: reading
    them all took 6.5 s at 1M firms (5.9M titled links), paid once per process."""
    codes: dict[str, int] = {"": 0}
    title = np.zeros(len(rowids), dtype=np.int32)
    after = 0
    if previous is not None and previous.title is not None and previous.rowid is not None and len(previous.rowid):
        codes = {t: i for i, t in enumerate(previous.titles)}
        old = previous.rowid.astype(np.int64)
        after = int(old.max())
        pos = np.searchsorted(old, rowids)
        ok = (pos < len(old)) & (old[np.minimum(pos, len(old) - 1)] == rowids)
        title[ok] = previous.title[pos[ok]]
    rows = conn.execute("SELECT id, title FROM links WHERE id > ? AND title != ''", (after,)).fetchall()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    vals = np.fromiter((codes.setdefault(r[1], len(codes)) for r in rows), dtype=np.int64, count=len(rows))
    if len(rows):
        pos = np.searchsorted(rowids, ids)
        ok = (pos < len(rowids)) & (rowids[np.minimum(pos, len(rowids) - 1)] == ids)
        title[pos[ok]] = vals[ok]
    return title.astype(np.int16) if len(codes) < 2**15 else title, list(codes)


def _compact(ids: np.ndarray) -> np.ndarray:
    """Row ids in 4 bytes each while they fit (34 MB less at 8.6M links)."""
    return ids.astype(np.int32) if len(ids) and int(ids.max()) < 2**31 else ids


def _generic_arrays(view: View, token: Any) -> GraphArrays:
    t0 = time.perf_counter()
    ids: dict[str, int] = {}
    for p in view.iter_parties():
        ids.setdefault(p.key, len(ids))
    aliases = {a.unresolved: a.resolved for a in view.aliases()}

    def node(key: str) -> int:
        key = aliases.get(key, key)
        got = ids.get(key)
        if got is None:
            got = ids[key] = len(ids)
        return got

    cols: list[tuple[int, int, int, int, int, float]] = []
    fids: list[str] = []
    for lk in view.iter_links():
        cols.append((node(lk.src), node(lk.dst), KIND_CODE[lk.kind],
                     lk.start.toordinal() if lk.start else _NO_START, lk.end.toordinal() if lk.end else _NO_END,
                     np.nan if lk.ratio is None else lk.ratio))
        fids.append(lk.id)
    arr = np.array(cols, dtype=np.float64).reshape(-1, 6)
    n = len(ids)
    is_org = np.zeros(n, dtype=bool)
    for k, i in ids.items():
        if k.startswith("org:"):
            is_org[i] = True

    def ids_of(keys: Sequence[str]) -> np.ndarray:
        return np.array([ids.get(aliases.get(k, k), -1) for k in keys], dtype=np.int64)

    return GraphArrays(
        n=n, src=arr[:, 0].astype(np.int64), dst=arr[:, 1].astype(np.int64), kind=arr[:, 2].astype(np.int8),
        start=arr[:, 3].astype(np.int32), end=arr[:, 4].astype(np.int32), ratio=arr[:, 5].copy(),
        fid=np.array(fids, dtype="S20"), is_org=is_org, ids_of=ids_of, token=token,
        built_in=time.perf_counter() - t0,
    )


@dataclass(slots=True)
class _Layer:
    key: np.ndarray  # node * n_sources + source index, sorted
    val: np.ndarray
    arc: np.ndarray  # the arc the walk arrived by


@dataclass(slots=True)
class RiskIndex:
    """Strongest walks (≤ hops links) from every punished party, on one date and store version."""

    as_of: dt.date
    hops: int
    config: RiskConfig
    catalog: Catalog
    version: int
    arrays: GraphArrays
    sources: np.ndarray  # node ids of punished parties (sorted)
    source_keys: list[str]
    reasons: dict[str, list[SourceReason]]
    book: ActionBook
    arc_ptr: np.ndarray
    arc_to: np.ndarray
    arc_edge: np.ndarray
    arc_fwd: np.ndarray
    degree: np.ndarray
    layers: list[_Layer] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    arc_w: np.ndarray | None = None  # weight of each arc
    arc_rank: np.ndarray | None = None  # rank of each arc's link id (tie-break)
    # per node: what a check must look at (see _mark); a node with none of them is answered
    # without reading labels, hubs or records
    reached: np.ndarray | None = None  # a punished party within hops (or punished itself)
    near_hub: np.ndarray | None = None  # within hops-1 links of a node with more than hard_cap links
    with_records: np.ndarray | None = None  # subject of a list entry, court entry or penalty
    # facts read while answering, kept for this store version (see parties())
    _party_memo: dict[str, Any] = field(default_factory=dict)
    _link_memo: dict[str, Any] = field(default_factory=dict)
    _resolve_memo: dict[str, Any] = field(default_factory=dict)
    _edge_memo: dict[int, Any] = field(default_factory=dict)  # edge (column position) -> Link
    _node_memo: dict[int, Any] = field(default_factory=dict)  # node (party row) id -> Party
    # pieces of warnings that recur across subjects (queries.risk._link_warning)
    warning_memo: dict[Any, Any] = field(default_factory=dict)

    # -- building -------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        view: View,
        as_of: dt.date,
        hops: int = 3,
        *,
        config: RiskConfig | None = None,
        catalog: Catalog | None = None,
        arrays: GraphArrays | None = None,
        memo: dict[tuple[Any, ...], Any] | None = None,
        previous: RiskIndex | None = None,
        log: EntryLog | None = None,
    ) -> RiskIndex:
        """Return the index of ``view`` on ``as_of`` (``arrays`` reused when links are unchanged,
        ``memo`` the people each entry reached, valid while the links are unchanged, ``log``
        the entries read by earlier builds)."""
        cfg = config or DEFAULT_CONFIG
        catalog = catalog or load_catalog()
        version = view.version()
        timings: dict[str, float] = {}
        t = time.perf_counter()
        arrays = graph_arrays(view, arrays)
        timings["arrays"] = time.perf_counter() - t
        t = time.perf_counter()
        punished = punished_parties(view, as_of, catalog, memo=memo, log=log)
        keys = sorted(punished.reasons)
        ids = arrays.ids_of(keys) if keys else np.zeros(0, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        ids, keys = ids[order], [keys[i] for i in order]
        keep = ids >= 0
        sources = ids[keep]
        source_keys = [k for k, ok in zip(keys, keep.tolist(), strict=True) if ok]
        timings["punished"] = time.perf_counter() - t
        t = time.perf_counter()
        if (previous is not None and previous.arrays is arrays and previous.as_of == as_of
                and previous.config == cfg and previous.arc_w is not None):
            # the links did not change: same CSR, weights and tie-break ranks
            index = cls(as_of, hops, cfg, catalog, version, arrays, sources, source_keys, punished.reasons,
                        ActionBook.load(view), previous.arc_ptr, previous.arc_to, previous.arc_edge, previous.arc_fwd,
                        previous.degree, timings=timings, arc_w=previous.arc_w, arc_rank=previous.arc_rank)
            timings["csr"] = time.perf_counter() - t
            t = time.perf_counter()
            index._label()
            timings["labels"] = time.perf_counter() - t
            index._mark(view)
            return index
        day = as_of.toordinal()
        live = np.flatnonzero((arrays.start <= day) & (arrays.end > day))
        u, v = arrays.src[live], arrays.dst[live]
        n = arrays.n
        degree = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
        loops = u == v
        if loops.any():
            degree -= np.bincount(u[loops], minlength=n)
        live, u, v = live[~loops], u[~loops], v[~loops]
        a_from = np.concatenate([u, v])
        a_to = np.concatenate([v, u])
        a_edge = np.concatenate([live, live])
        a_fwd = np.concatenate([np.ones(len(live), dtype=bool), np.zeros(len(live), dtype=bool)])
        order = np.argsort(a_from, kind="stable")
        a_to, a_edge, a_fwd = a_to[order], a_edge[order], a_fwd[order]
        arc_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(a_from, minlength=n), out=arc_ptr[1:])
        timings["csr"] = time.perf_counter() - t
        book = ActionBook.load(view)
        index = cls(as_of, hops, cfg, catalog, version, arrays, sources, source_keys, punished.reasons, book, arc_ptr,
                    a_to, a_edge, a_fwd, degree, timings=timings)
        t = time.perf_counter()
        index._label()
        timings["labels"] = time.perf_counter() - t
        index._mark(view)
        return index

    def _mark(self, view: View) -> None:
        """Mark the nodes a check must look at closely: reached by a punished party, near a
        capped hub, or with records of their own. Every other node's answer is grade A with
        nothing found, and a check says so without a look-up (same answer, by construction:
        the look-ups it skips would find nothing)."""
        t = time.perf_counter()
        n, n_src = self.arrays.n, max(len(self.sources), 1)
        reached = np.zeros(n, dtype=bool)
        reached[self.sources] = True
        for layer in self.layers:
            reached[layer.key // n_src] = True
        # hubs within hops-1 of a node, over every path (a superset of what _capped walks)
        near = self.degree > self.config.hard_cap
        frontier = np.flatnonzero(near)
        for _ in range(self.hops - 1):
            if not len(frontier):
                break
            nxt = np.unique(self._neighbours(frontier))
            frontier = nxt[~near[nxt]]
            near[frontier] = True
        subjects = view.record_subjects(_OWN_KINDS)
        subjects.update(view.resolve_many(subjects).values())  # a record under an alias counts for its party
        ids = self.arrays.ids_of(sorted(subjects)) if subjects else np.zeros(0, dtype=np.int64)
        with_records = np.zeros(n, dtype=bool)
        with_records[ids[ids >= 0]] = True
        self.reached, self.near_hub, self.with_records = reached, near, with_records
        self.timings["marks"] = time.perf_counter() - t

    def _neighbours(self, nodes: np.ndarray) -> np.ndarray:
        """The far ends of every arc leaving ``nodes`` (with repeats)."""
        lo = self.arc_ptr[nodes]
        cnt = self.arc_ptr[nodes + 1] - lo
        total = int(cnt.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        arcs = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
        return self.arc_to[arcs]

    def _arc_weights(self) -> np.ndarray:
        cfg, a = self.config, self.arrays
        e = self.arc_edge
        kinds = a.kind[e].astype(np.int64)
        ratio = a.ratio[e]
        bucket = np.where(ratio >= cfg.major_ratio, 0, np.where(ratio >= cfg.minor_ratio, 1, 2))  # nan -> 2
        s_org = a.is_org[a.src[e]]
        d_org = a.is_org[a.dst[e]]
        code = (((kinds * 3 + bucket) * 2 + self.arc_fwd) * 2 + s_org) * 2 + d_org
        table = np.zeros(len(LINK_KINDS) * 3 * 2 * 2 * 2)
        rep_ratio = (cfg.major_ratio, cfg.minor_ratio, None)
        for ki, kind in enumerate(LINK_KINDS):
            for b in range(3):
                for fwd in (0, 1):
                    for so in (0, 1):
                        for do in (0, 1):
                            table[(((ki * 3 + b) * 2 + fwd) * 2 + so) * 2 + do] = arc_weight(
                                cfg, LinkKind(kind), bool(fwd), rep_ratio[b], bool(so), bool(do))
        return table[code]

    def _label(self) -> None:
        cfg = self.config
        n_src = max(len(self.sources), 1)
        if self.arc_w is None or self.arc_rank is None:
            self.arc_w = self._arc_weights()
            # tie-break by link id, as the direct computation does
            fid_rank = np.empty(len(self.arrays.fid), dtype=np.int64)
            fid_rank[np.argsort(self.arrays.fid, kind="stable")] = np.arange(len(self.arrays.fid))
            self.arc_rank = fid_rank[self.arc_edge] if len(self.arc_edge) else np.zeros(0, dtype=np.int64)
        weights, arc_rank = self.arc_w, self.arc_rank
        s_idx = np.arange(len(self.sources), dtype=np.int64)
        nodes = self.sources.astype(np.int64)
        vals = np.ones(len(nodes))
        self.layers = []
        for h in range(1, self.hops + 1):
            if h > 1:
                deg = self.degree[nodes]
                ok = deg <= cfg.hard_cap
                s_idx, nodes, vals, deg = s_idx[ok], nodes[ok], vals[ok], deg[ok]
                hub = deg > cfg.soft_cap
            else:
                hub = np.zeros(len(nodes), dtype=bool)
            lo = self.arc_ptr[nodes]
            cnt = self.arc_ptr[nodes + 1] - lo
            total = int(cnt.sum())
            if total == 0:
                break
            rep = np.repeat(np.arange(len(nodes)), cnt)
            arcs = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
            z = self.arc_to[arcs]
            f = weights[arcs]
            if h > 1:
                f = f * cfg.decay
                f = np.where(hub[rep], f * cfg.hub_factor, f)
            v = vals[rep] * f
            si = s_idx[rep]
            keep = (v >= cfg.min_strength) & (z != self.sources[si])
            z, v, si, arcs = z[keep], v[keep], si[keep], arcs[keep]
            key = z * n_src + si
            order = np.lexsort((arc_rank[arcs], -v, key))
            key, v, arcs = key[order], v[order], arcs[order]
            first = np.ones(len(key), dtype=bool)
            first[1:] = key[1:] != key[:-1]
            layer = _Layer(key[first], v[first], arcs[first])
            self.layers.append(layer)
            nodes, s_idx, vals = layer.key // n_src, layer.key % n_src, layer.val

    # -- answering --------------------------------------------------------------------------
    def answers(self, view: View, as_of: dt.date, hops: int, config: RiskConfig, catalog: Catalog, *,
                earlier: bool = False) -> bool:
        """True when this index answers a check on ``view`` for these arguments (``earlier``:
        also when built on an earlier store version, which the caller vouches for)."""
        # identity first: the same config and catalog objects on every check of a service
        version = view.version()
        return (self.as_of == as_of and self.hops == hops and (self.config is config or self.config == config)
                and (self.catalog is catalog or self.catalog == catalog)
                and (self.version == version or (earlier and self.version < version)))

    def same_links(self, view: View) -> bool:
        """True when ``view`` holds the links, parties and aliases this index was built on
        (whatever else changed since: records). Answers of such an index are those of the
        state before the change, for everything the index decides; records are read as stored."""
        token = self.arrays.token
        if not (isinstance(token, tuple) and token and token[0] == "embedded"):
            return False  # other backends: no cheap way to tell
        return bool(hasattr(view, "index") and token[1] == _embedded_token(view))

    def path_parties(self, view: View, keys: Iterable[str]) -> dict[str, Party]:
        """The parties on warning paths, remembered for this store version (punished parties and
        their officers recur in the answers of many subjects). Only their key, kind and name are
        sure to be filled: those read by :meth:`path_parties_by_node` are light values."""
        return self._memo(self._party_memo, keys, view.parties)

    def links_by_id(self, view: View, link_ids: Iterable[str]) -> dict[str, Link]:
        """``view.links_by_id(link_ids)``, remembered for this store version."""
        return self._memo(self._link_memo, link_ids, view.links_by_id)

    def path_parties_by_node(self, view: View, nodes: Iterable[int]) -> dict[int, Party]:
        """The party of each node id (embedded backend: a party row id) as a light value, key,
        kind and name only (all a warning path shows), remembered for this store version; what
        is read is remembered by key too, for :meth:`path_parties`."""
        found = self._memo(self._node_memo, nodes, view.light_parties_by_rowid)  # type: ignore[attr-defined]
        if len(self._party_memo) + len(found) > _MEMO_LIMIT:
            self._party_memo.clear()
        for party in found.values():
            self._party_memo[party.key] = party
        return found

    def resolve_many(self, view: View, keys: Iterable[str]) -> dict[str, str]:
        """``view.resolve_many(keys)``, remembered for this store version."""
        return self._memo(self._resolve_memo, keys, view.resolve_many)

    @staticmethod
    def _memo(memo: dict[Any, Any], keys: Iterable[Any], fetch: Callable[[list[Any]], dict[Any, Any]]) -> dict[Any, Any]:
        # single get/set operations only: the batch check's threads share the memo with the
        # event loop, and one of them may clear it while another reads
        out: dict[Any, Any] = {}
        missing: list[Any] = []
        for k in dict.fromkeys(keys):
            v = memo.get(k, _UNKNOWN)
            if v is _UNKNOWN:
                missing.append(k)
            elif v is not None:
                out[k] = v
        if missing:
            got = fetch(missing)
            if len(memo) + len(missing) > _MEMO_LIMIT:
                memo.clear()  # a bound, not an LRU: refilled by the next answers
            for k in missing:
                v = memo[k] = got.get(k)  # None remembers "not found" too
                if v is not None:
                    out[k] = v
        return out

    def _node(self, key: str, view: View | None = None) -> int:
        ids = self.arrays.ids_of([view.resolve(key) if view is not None else key])
        return int(ids[0])

    def node_of(self, view: View, key: str, *, resolved: bool = False) -> int:
        """Return the node id of ``key`` in this index (-1 when unknown); ``resolved``: the
        caller already followed aliases (a party's own key), which saves a look-up."""
        return self._node(key, None if resolved else view)

    def own_party(self, view: View, key: str) -> tuple[int, str, str, bool] | None:
        """Return (node id, kind, name, quiet) of the party stored under the party key ``key``
        (no alias), in one look-up; ``quiet``: its node carries none of the marks of
        :meth:`_mark`, so its check finds nothing. None: look closer (an alias, an unknown
        key, or a backend without the one-step look-up)."""
        look = self.arrays.plain_party
        if look is None or self.reached is None or self.near_hub is None or self.with_records is None:
            return None
        found = look(view, key)
        if found is None:
            return None
        node, kind, name = found
        return node, kind, name, not (self.reached[node] or self.near_hub[node] or self.with_records[node])

    def has_records(self, node: int) -> bool:
        """False only when the party at ``node`` is surely the subject of no list entry, court
        entry or penalty (nothing for a check to read); True when it may be."""
        return node < 0 or self.with_records is None or bool(self.with_records[node])

    def hits_of(self, view: View, key: str, *, node: int | None = None) -> tuple[list[LinkHit], set[str]]:
        """Return the strongest walk to ``key`` from each punished party, and the hubs met
        (``node``: from :meth:`node_of`, when the caller has it, with ``key`` resolved)."""
        x = self._node(key, view) if node is None else node
        if x < 0:
            return [], set()
        if self.reached is not None and not self.reached[x]:
            return [], self._capped(view, x)  # no punished party within hops: no labels to read
        n_src = max(len(self.sources), 1)
        best: dict[int, tuple[float, int, int]] = {}  # source index -> (value, hops, row)
        bounds = np.array((x * n_src, (x + 1) * n_src), dtype=np.int64)
        for h, layer in enumerate(self.layers, start=1):
            lo, hi = layer.key.searchsorted(bounds).tolist()
            if lo == hi:
                continue
            # one conversion per slice, not one numpy scalar per label
            for row, si, val in zip(range(lo, hi), (layer.key[lo:hi] % n_src).tolist(), layer.val[lo:hi].tolist(),
                                    strict=True):
                got = best.get(si)
                if got is None or val > got[0]:
                    best[si] = (val, h, row)
        subject = view.resolve(key) if node is None else key
        walks = []
        for si, (val, h, row) in sorted(best.items()):
            source = self.source_keys[si]
            if source == subject:
                continue
            node_ids = [x]
            edges: list[int] = []
            src_first: list[bool] = []
            cur_row = row
            for level in range(h, 0, -1):
                arc = int(self.layers[level - 1].arc[cur_row])
                edge = int(self.arc_edge[arc])
                # a forward arc runs from the link's src to its dst: the predecessor is the other end
                y = int(self.arrays.src[edge]) if self.arc_fwd[arc] else int(self.arrays.dst[edge])
                edges.append(edge)
                src_first.append(not bool(self.arc_fwd[arc]))
                node_ids.append(y)
                if level > 1:
                    cur_row = int(self.layers[level - 2].key.searchsorted(y * n_src + si))
            walks.append((source, val, node_ids, edges, src_first))
        if self.arrays.rowid is not None and self.arrays.title is not None:
            hits = self._hits_by_row(view, x, subject, walks)
        else:
            hits = self._hits_by_id(view, subject, walks)
        return hits, self._capped(view, x)

    def _hits_by_row(self, view: View, x: int, subject: str, walks: list[Any]) -> list[LinkHit]:
        """The walks (from node ``x``, the subject's) as hits: their parties read by row id
        (node ids are party rows), their links built from the columns."""
        parties = self.path_parties_by_node(view, (n for w in walks for n in w[2][1:]))
        # the links from the columns (a warning shows kind, title, dates and ratio): reading
        # their rows cost ~90 µs a marked check at 1M firms, a random page each
        keys_of = {n: p.key for n, p in parties.items()} | {x: subject}
        arr, memo = self.arrays, self._edge_memo
        stored: dict[int, Link | None] = {}
        for w in walks:
            for e in w[3]:
                lk = memo.get(e)  # links near punished parties recur in many answers
                if lk is None:
                    a, b = keys_of.get(int(arr.src[e])), keys_of.get(int(arr.dst[e]))
                    if a is not None and b is not None:
                        if len(memo) >= _MEMO_LIMIT:
                            memo.clear()
                        lk = memo[e] = arr.link(e, a, b)
                stored[e] = lk
        hits: list[LinkHit] = []
        for source, val, node_ids, edges, src_first in walks:
            links = [stored.get(e) for e in edges]
            ends = [parties.get(n) for n in node_ids[1:]]
            if any(lk is None for lk in links) or any(p is None for p in ends):
                continue  # removed since the index was built
            keys = (subject, *(p.key for p in ends if p is not None))
            hits.append(self._hit(source, val, node_ids, keys, links, src_first))
        return hits

    def _hits_by_id(self, view: View, subject: str, walks: list[Any]) -> list[LinkHit]:
        """The walks as hits, their links read by link id and their ends resolved by key (any backend)."""
        fids = {e: bytes(self.arrays.fid[e]).decode() for w in walks for e in w[3]}
        # every link and endpoint of every walk in two look-ups, not one per link
        stored = self.links_by_id(view, fids.values())
        resolved = self.resolve_many(view, (k for lk in stored.values() for k in (lk.src, lk.dst)))
        hits: list[LinkHit] = []
        for source, val, node_ids, edges, src_first in walks:
            links = [stored.get(fids[e]) for e in edges]
            if any(lk is None for lk in links):
                continue
            keys = [subject]
            for i, lk in enumerate(links):
                assert lk is not None
                a, b = resolved[lk.src], resolved[lk.dst]
                keys.append(b if src_first[i] else a)
            hits.append(self._hit(source, val, node_ids, tuple(keys), links, src_first))
        return hits

    def _hit(self, source: str, val: float, node_ids: list[int], keys: tuple[str, ...], links: list[Any],
             src_first: list[bool]) -> LinkHit:
        hubs = tuple((keys[i], int(self.degree[node_ids[i]])) for i in range(1, len(keys) - 1)
                     if self.degree[node_ids[i]] > self.config.soft_cap)
        return LinkHit(source, val, keys, tuple(links), tuple(src_first), hubs)

    def _capped(self, view: View, x: int) -> set[str]:
        """Hubs (more than hard_cap links) within hops-1 of node ``x``: not passed through."""
        cfg = self.config
        if self.near_hub is not None and not self.near_hub[x]:
            return set()  # no hub within hops-1 links over any path
        seen = {x}
        frontier = np.array([x], dtype=np.int64)
        capped: list[int] = []
        for d in range(1, self.hops):
            lo, hi = self.arc_ptr[frontier], self.arc_ptr[frontier + 1]
            nxt = np.unique(np.concatenate([self.arc_to[a:b] for a, b in zip(lo, hi, strict=True)])) if len(
                frontier) else np.zeros(0, dtype=np.int64)
            nxt = np.array([int(n) for n in nxt if int(n) not in seen], dtype=np.int64)
            seen.update(nxt.tolist())
            big = nxt[self.degree[nxt] > cfg.hard_cap] if len(nxt) else nxt
            capped.extend(big.tolist())
            frontier = nxt[self.degree[nxt] <= cfg.hard_cap] if len(nxt) else nxt
            if d == self.hops - 1:
                break
        if not capped:
            return set()
        # node ids back to keys: hubs are rare, look them up through their links
        out: set[str] = set()
        for node in capped:
            arcs = self.arc_edge[self.arc_ptr[node] : self.arc_ptr[node] + 1]
            if len(arcs):
                lk = view.link(bytes(self.arrays.fid[int(arcs[0])]).decode())
                if lk is not None:
                    a, b = view.resolve(lk.src), view.resolve(lk.dst)
                    ids = self.arrays.ids_of([a, b])
                    out.add(a if int(ids[0]) == node else b)
        return out

    def nbytes(self) -> int:
        """Bytes held by the index (CSR, labels, link columns)."""
        total = sum(a.nbytes for a in (self.arc_ptr, self.arc_to, self.arc_edge, self.arc_fwd, self.degree,
                                       self.sources))
        total += sum(layer.key.nbytes + layer.val.nbytes + layer.arc.nbytes for layer in self.layers)
        total += sum(a.nbytes for a in (self.arc_w, self.arc_rank, self.reached, self.near_hub, self.with_records)
                     if a is not None)
        return total + self.arrays.nbytes()

    def label_count(self) -> int:
        """Number of (source, node, hops) labels held."""
        return sum(len(layer.key) for layer in self.layers)


class RiskIndexCache:
    """Holds one index and rebuilds it when the store version, date or settings change."""

    def __init__(self, hops: int = 3, *, config: RiskConfig | None = None, catalog: Catalog | None = None,
                 arrays: GraphArrays | None = None) -> None:
        self.hops = hops
        self.config = config or DEFAULT_CONFIG
        self.catalog = catalog or load_catalog()
        self.index: RiskIndex | None = None
        self.memo: dict[tuple[Any, ...], Any] = {}
        self._memo_token: Any = None
        self.log = EntryLog()  # list and court entries, read once and then only the new ones
        # link columns another cache already read (another date or hops): reused while the
        # links are the same, instead of read again (half of a first build at 1M firms)
        self._seed = arrays

    def get(self, view: View, as_of: dt.date | None = None) -> RiskIndex:
        """Return an index answering checks on ``view`` for ``as_of`` (today when None)."""
        as_of = as_of or dt.date.today()
        idx = self.index
        if idx is None or not idx.answers(view, as_of, self.hops, self.config, self.catalog):
            with young_collections_only():  # no collection walking the heap or the build (see young_gc)
                arrays = graph_arrays(view, idx.arrays if idx is not None else self._seed)
                self._seed = None
                if arrays.token != self._memo_token:
                    self.memo, self._memo_token = {}, arrays.token  # links changed: who held roles may differ
                self.index = RiskIndex.build(view, as_of, self.hops, config=self.config, catalog=self.catalog,
                                             arrays=arrays, memo=self.memo, previous=idx, log=self.log)
        assert self.index is not None
        return self.index


def sources_near(index: RiskIndex, view: View, keys: Iterable[str]) -> dict[str, int]:  # noqa: D103
    """Return, for each key, how many punished parties lie within the index's hops."""
    return {k: len(index.hits_of(view, k)[0]) for k in keys}
