"""The ingest pipeline: files → rows → facts → store, in atomic batches, with a rejection report.

Use :func:`ingest_paths`. Each file is read once; every ``batch_rows`` rows the facts are
written in one store transaction together with the file's progress mark, so a crash leaves
whole batches only, and re-running completes the file (facts have deterministic ids, so
rows already stored change nothing). A file whose bytes were ingested completely before is
skipped. After the files, identity resolution links masked and name-only mentions to known
people (:mod:`ingest.resolution`).
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from graph.model import Rejection, Source
from graph.store import GraphStore, InvalidInput
from ingest.derive_plan import apply_derive, plan_derive
from ingest.facts import CONVERTERS, Batch, Row, RowRejected
from ingest.layouts import LAYOUTS, SiteMapping, recognise
from ingest.mention_memory import MentionMemory
from ingest.normalise import is_empty_mark
from ingest.progress import progress_bar
from ingest.readers import SUFFIXES, Unreadable, count_rows, file_sha256, open_table
from ingest.resolution import ResolutionSummary, resolve_identities

KIND_ORDER = list(LAYOUTS)


@dataclass(slots=True)
class FileSummary:
    """What happened to one file."""

    path: str
    kind: str = ""
    encoding: str = ""
    rows: int = 0
    loaded: int = 0
    rejected: int = 0
    empty: int = 0
    duplicates: int = 0
    seconds: float = 0.0
    lock_waited: float = 0.0  # seconds its batches waited for the store's write lock (embedded store)
    lock_held: float = 0.0  # seconds they held it
    status: str = "pending"  # loaded | skipped (seen before) | failed
    error: str = ""
    ignored_columns: list[str] = field(default_factory=list)  # headers no layout column matched


@dataclass(slots=True)
class IngestSummary:
    """What one ingest run did, file by file, with totals."""

    run_id: str
    files: list[FileSummary] = field(default_factory=list)
    seconds: float = 0.0
    resolution: ResolutionSummary | None = None

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def failed(self) -> list[FileSummary]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "run_id": self.run_id,
            "rows": self.rows,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "files": [asdict(f) for f in self.files],
            "resolution": asdict(self.resolution) if self.resolution else None,
        }


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the spreadsheet files inside folders named (sorted)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES))
        else:
            out.append(p)
    return out


def ingest_paths(
    store: GraphStore,
    paths: Sequence[str | Path],
    *,
    kind: str | None = None,
    mapping: SiteMapping | None = None,
    batch_rows: int = 20000,
    progress: bool = True,
    force: bool = False,
    note: str = "",
    workers: int | None = None,
) -> IngestSummary:
    """Ingest files (and folders of files) into ``store``; return the run's summary.

    With the embedded store and ``workers`` > 1, worker processes ingest files (and row
    ranges of large files) side by side: each converts its rows while another writes, and
    SQLite serialises the write transactions, so the result is the same as one file after
    another. Workers are spawned processes: a script that asks for them must guard its
    entry point with ``if __name__ == "__main__":``. The CLI uses one per core (at most 2)."""
    with _few_collections():
        return _ingest_paths(store, paths, kind=kind, mapping=mapping, batch_rows=batch_rows, progress=progress,
                             force=force, note=note, workers=workers)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Let the cyclic garbage collector run rarely while ingesting.

    A batch makes hundreds of thousands of short-lived objects (cells, facts, rows) and the
    normalisation caches hold as many long-lived ones; with the default thresholds (700, 10,
    10) the collector ran every few hundred rows and kept re-scanning the caches: conversion
    of a registration row took ~110 µs with it and ~30 µs without. Almost nothing an ingest
    makes is cyclic (reference counting frees it), so rare collections lose nothing."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _ingest_paths(
    store: GraphStore, paths: Sequence[str | Path], *, kind: str | None, mapping: SiteMapping | None, batch_rows: int,
    progress: bool, force: bool, note: str, workers: int | None,
) -> IngestSummary:
    started = time.perf_counter()
    files = expand_paths(paths)
    run_id = store.start_run(note or "ingest " + " ".join(str(p) for p in paths)[:500])
    summary = IngestSummary(run_id)
    planned: list[tuple[int, Path, Any]] = []
    for path in files:
        fs = FileSummary(str(path))
        summary.files.append(fs)
        table = None
        try:
            table = open_table(path)
            recognised = recognise(table.headers, file=str(path), kind=kind, mapping=mapping)
        except InvalidInput as exc:
            fs.status, fs.error = "failed", str(exc)
            if table is not None:
                table.close()
            continue
        fs.kind, fs.encoding = recognised.layout.kind, table.encoding
        fs.ignored_columns = list(recognised.unknown_headers)
        planned.append((KIND_ORDER.index(fs.kind), path, (fs, table, recognised)))
    workers = workers if workers is not None else 1
    big = any((count_rows(path) or 0) > SPLIT_ROWS for _, path, _ in planned)
    deferred = getattr(store, "deferred_read_indexes", None)
    with deferred() if deferred is not None and planned else nullcontext():
        if workers > 1 and (len(planned) > 1 or big) and getattr(store, "backend_name", "") == "memory":
            _ingest_in_workers(store, run_id, planned, workers, mapping=mapping, batch_rows=batch_rows,
                               progress=progress, force=force)
        else:
            # registrations first: not needed for correctness (links are re-derived), but the
            # store then fills in firms before other files mention them, which reads better in logs
            for _, path, (fs, table, recognised) in sorted(planned, key=lambda t: (t[0], str(t[1]))):
                _ingest_file(store, run_id, path, fs, table, recognised, batch_rows=batch_rows, progress=progress,
                             force=force)
    summary.resolution = resolve_identities(store, run_id)
    summary.seconds = time.perf_counter() - started
    store.finish_run(run_id, summary.as_dict())
    return summary


# rough cost of a row by layout, for scheduling the largest work first
_ROW_COST = {"registrations": 4.0, "changes": 2.0, "controllers": 1.5, "shareholders": 1.2, "officers": 1.0}


SPLIT_ROWS = 10_000  # a file larger than this is shared between the workers by row ranges


def _ingest_in_workers(
    store: Any, run_id: str, planned: list[tuple[int, Path, Any]], workers: int, *, mapping: SiteMapping | None,
    batch_rows: int, progress: bool, force: bool,
) -> None:
    """Ingest files in worker processes (spawned: safe inside a threaded server too).

    Large files are cut into row ranges, one per worker; each range keeps its own progress
    mark, and the file is marked complete once every range is."""
    import multiprocessing

    tasks: list[tuple[float, tuple[Any, ...]]] = []
    by_path: dict[str, FileSummary] = {}
    ranges: dict[str, list[FileSummary]] = {}
    shas: dict[str, str] = {}
    for _, path, (fs, table, _) in planned:
        table.close()
        by_path[str(path)] = fs
        shas[str(path)] = sha = file_sha256(path)
        if not force and _reads(store).file_status(sha) == "complete":
            fs.status = "skipped"
            continue
        rows = count_rows(path) or 0
        parts = workers if rows > SPLIT_ROWS else 1
        bounds = [(i * rows // parts, None if i == parts - 1 else (i + 1) * rows // parts) for i in range(parts)]
        cost = path.stat().st_size * _ROW_COST.get(fs.kind, 1.0) / parts
        for i, (lo, hi) in enumerate(bounds):
            mark = sha if parts == 1 else f"{sha}#{i + 1}/{parts}"
            tasks.append((cost, (store.path, str(path), fs.kind, mapping, run_id, batch_rows, progress, force,
                                 os.getpid(), lo, hi, mark, sha)))
    tasks.sort(key=lambda t: -t[0])  # longest first: the workers finish close together
    # registrations go first, as in a sequential run, so that a representative named in a
    # change record meets the registration's ID number rather than a name-only stand-in
    phases = [[t for _, t in tasks if t[2] == "registrations"], [t for _, t in tasks if t[2] != "registrations"]]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        for phase in phases:
            for done in pool.imap_unordered(_worker_ingest, phase):
                ranges.setdefault(done.path, []).append(done)
    for done_path, pieces in ranges.items():
        fs = by_path[done_path]
        for name in ("rows", "loaded", "rejected", "empty", "duplicates", "lock_waited", "lock_held"):
            setattr(fs, name, sum(getattr(piece, name) for piece in pieces))
        fs.seconds = max(piece.seconds for piece in pieces)
        fs.encoding = pieces[0].encoding or fs.encoding
        failed = [piece for piece in pieces if piece.status == "failed"]
        fs.status, fs.error = ("failed", failed[0].error) if failed else ("loaded", "")
        if not failed and len(pieces) > 1:
            with store.writer(run_id) as w:
                w.mark_file(shas[done_path], done_path, fs.kind, fs.rows, "complete")


def _worker_ingest(task: tuple[Any, ...]) -> FileSummary:
    """One file (or one row range of it) in a worker process, with its own store connection."""
    from graph.backends.memory import open_store

    db, path, kind, mapping, run_id, batch_rows, progress, force, parent, lo, hi, mark, sha = task
    # a worker lives for one ingest: what it has imported and cached so far need never be
    # scanned, and it collects once per batch (below), not as its allocations count up
    gc.freeze()
    gc.disable()
    fs = FileSummary(path, kind=kind)
    store = open_store(db)
    # the mentions this process wrote for earlier tasks of the same run are still stored:
    # remember them across the worker's tasks, not per opening of the store. Per opening, a
    # person named in two files (or in two ranges of one) was written again by every task: at
    # 100k firms 899k party and 615k name upserts with two workers, 696k and 388k now. Exact
    # because nothing deletes parties or names, the pool lives for this run and this store
    # only, and every registration (which may replace a party whole) is stored before the
    # other files start (the phases in _ingest_in_workers): skipping a mention written
    # earlier in the run changes nothing
    store.cache_token = f"ingest {run_id} {db}"
    table = None
    try:
        table = open_table(path)
        recognised = recognise(table.headers, file=path, kind=kind, mapping=mapping)
        fs.encoding = table.encoding
        _ingest_file(store, run_id, Path(path), fs, table, recognised, batch_rows=batch_rows, progress=progress,
                     force=force, parent=parent, rows=(lo, hi), mark=mark, sha=sha, between_batches=_collect_young)
    except InvalidInput as exc:
        fs.status, fs.error = "failed", str(exc)
        if table is not None:
            table.close()
    finally:
        store.close()
    return fs


def _ingest_file(
    store: GraphStore, run_id: str, path: Path, fs: FileSummary, table: Any, recognised: Any, *, batch_rows: int,
    progress: bool, force: bool, parent: int | None = None, rows: tuple[int, int | None] = (0, None),
    mark: str | None = None, sha: str | None = None, between_batches: Callable[[], None] | None = None,
) -> None:
    """Ingest one file, or its records ``lo < k <= hi`` (counted from 1 after the header;
    ``rows=(lo, hi)``), whose progress is kept under ``mark`` (the file's hash unless it is one
    of several ranges). Reports and provenance name each row as the file numbers it."""
    started = time.perf_counter()
    lock = getattr(store, "write_time", None)
    lock_before = (lock.waited, lock.held) if lock is not None else (0.0, 0.0)
    sha = sha or file_sha256(path)
    mark = mark or sha
    view = _reads(store)
    if not force and (view.file_status(sha) == "complete" or view.file_status(mark) == "complete"):
        fs.status = "skipped"
        table.close()
        return
    lo, hi = rows
    converter = CONVERTERS[recognised.layout.kind]
    positions = list(recognised.positions.items())
    alternates = list(recognised.alternates.items())
    display = str(path)
    total = count_rows(path)
    bar = progress_bar(progress, (hi or total or 0) - lo if total is not None else None, path.name)
    batch, rejections = Batch(), []
    seen: set[int] = set()
    in_batch = 0
    stored = _counts(fs)  # the counts of what is committed: a failure reports those, not rows never stored
    k = 0  # records read: what the ranges count (a record may span lines)
    try:
        for n, cells in table.rows:
            k += 1
            if hi is not None and k > hi:
                break
            if k <= lo:
                # rows of an earlier range: only remembered, so a later copy counts as a duplicate
                if cells.__class__ is not Unreadable:
                    seen.add(hash(tuple(cells)))
                continue
            fs.rows += 1
            in_batch += 1
            if cells.__class__ is Unreadable:
                fs.rejected += 1
                column = table.headers[cells.column] if 0 <= cells.column < len(table.headers) else ""
                rejections.append(Rejection(display, n, column, cells.value[:500], cells.reason, run_id))
            elif _blank(cells):
                fs.empty += 1
            else:
                fingerprint = hash(tuple(cells))
                if fingerprint in seen:
                    fs.duplicates += 1
                else:
                    seen.add(fingerprint)
                    cellmap = {col: cells[i] for col, i in positions if i < len(cells)}
                    for col, others in alternates:  # the same column twice: the first filled cell
                        if _unfilled(cellmap.get(col)):
                            cellmap[col] = next((cells[i] for i in others if i < len(cells) and not _unfilled(cells[i])),
                                                cellmap.get(col))
                    try:
                        converter(Row(cellmap, Source(display, n, run_id)), batch)
                        fs.loaded += 1
                    except RowRejected as rej:
                        fs.rejected += 1
                        rejections.append(Rejection(display, n, rej.column, rej.value[:500], rej.reason, run_id))
            if in_batch >= batch_rows:
                if parent is not None and os.getppid() != parent:
                    raise SystemExit("the ingest that started this worker is gone")  # orphaned: stop
                _flush(store, run_id, batch, rejections, mark, display, fs, "partial")
                stored = _counts(fs)
                bar.update(in_batch)
                batch, rejections, in_batch = Batch(), [], 0
                if between_batches is not None:
                    between_batches()
        _flush(store, run_id, batch, rejections, mark, display, fs, "complete")
        bar.update(in_batch)
        fs.status = "loaded"
    except InvalidInput as exc:
        # what was committed stays committed; the file is marked partial and a re-run completes it
        fs.status, fs.error = "failed", str(exc)
        fs.rows, fs.loaded, fs.rejected, fs.empty, fs.duplicates = stored
    finally:
        table.close()
        bar.close()
        fs.seconds = round(time.perf_counter() - started, 3)
        if lock is not None:
            fs.lock_waited = round(lock.waited - lock_before[0], 3)
            fs.lock_held = round(lock.held - lock_before[1], 3)


def _collect_young() -> None:
    """Collect the cycles made since the last batch, in a worker whose automatic collection is off.

    Counted collections (even at a threshold of 50,000) ran in the middle of batches and
    scanned the batch's own facts, which reference counting frees at its end anyway: 6% of an
    ingest's CPU at 100k firms. Between batches the young generations hold only what the
    batch left behind (cache entries, remembered mentions); what survives moves to the old
    generation, which a worker never scans: it lives for one ingest."""
    gc.collect(1)


def _unfilled(cell: Any) -> bool:
    """True for a cell that says nothing: empty, blank, or a mark such as 无 or /."""
    if cell is None:
        return True
    text = cell.strip() if isinstance(cell, str) else "x"
    return not text or is_empty_mark(text)


def _counts(fs: FileSummary) -> tuple[int, int, int, int, int]:
    return fs.rows, fs.loaded, fs.rejected, fs.empty, fs.duplicates


def _reads(store: GraphStore) -> Any:
    """Something to ask ``file_status`` of: for the embedded store, its committed state, so an
    ingest worker does not load the whole link index into memory just to ask (a view would)."""
    committed = getattr(store, "committed_reads", None)
    return committed() if committed is not None else store.view()


def _blank(cells: list[Any]) -> bool:
    """True for a row with nothing but empty or whitespace cells."""
    try:
        return not "".join(cells).strip()  # CSV rows: all text, one C call
    except TypeError:  # workbook rows hold numbers, dates and None too
        return not any(c is not None and str(c).strip() for c in cells)


def _flush(
    store: GraphStore, run_id: str, batch: Batch, rejections: list[Rejection], sha: str, path: str, fs: FileSummary,
    status: str,
) -> None:
    token = getattr(store, "cache_token", None)
    parties, fresh, stored = _not_yet_put(token, _unique_parties(batch))
    names, fresh_names = _not_yet_named(token, dict.fromkeys(batch.names))
    links = _unique_links(batch)
    prepare = getattr(store, "prepare", None)
    # the embedded store can turn facts into rows before the write lock is taken, so a
    # second worker converts and prepares while the first one writes
    prepared = prepare(run_id, parties=parties, names=names, links=links, records=batch.records,
                       observations=batch.observations, rejections=rejections, stored=stored) if prepare else None
    committed = getattr(store, "committed_reads", None)
    plan = None
    if committed is not None and batch.chain_firms:
        prepare_derived = getattr(store, "prepare_derived", None)
        plan = plan_derive(committed(), batch,
                           partial(prepare_derived, run_id) if prepare_derived is not None else None)
    with store.writer(run_id) as w:
        if prepared is not None:
            w.put_prepared(prepared)  # type: ignore[attr-defined]  # the embedded writer's
        else:
            w.put_parties(parties)
            w.put_names(names)
            w.put_links(links)
            w.put_records(batch.records)
            w.put_code_observations(batch.observations)
            w.put_rejections(rejections)
        if batch.chain_firms:
            apply_derive(w, batch, plan)
        w.mark_file(sha, path, fs.kind, fs.rows, status)
    # remembered only once committed: a rolled-back batch must be written again
    if token is not None:
        _PUT.remember(fresh)
        _PUT.remember(fresh_names)


# Mentions written before in this process: a person named in many rows is written once.
# Only plain mentions (no registration attributes) are remembered; merging an identical
# mention again would change nothing, so skipping it is exact. Bounded; the store's token is
# part of every key, so two stores opened by one process never share a mention.
_PUT = MentionMemory()


def _not_yet_put(token: Any, parties: list[Any]) -> tuple[list[Any], list[Hashable], set[str]]:
    """Parties to write, the plain mentions among them to remember after the commit, and the
    keys of the mentions left out (stored before: they need no placeholder either)."""
    if token is None:
        return parties, [], set()
    out, fresh, stored = [], [], set()
    for p in parties:
        if p.attrs:
            out.append(p)
            continue
        mark = _PUT.mark((token, p.key, p.kind, p.name, p.code, p.region, p.flags))
        if mark not in _PUT:
            out.append(p)
            fresh.append(mark)
        else:
            stored.add(p.key)
    return out, fresh, stored


def _not_yet_named(token: Any, names: Any) -> tuple[list[Any], list[Hashable]]:
    """Names to write, and the undated ones to remember after the commit."""
    if token is None:
        return list(names), []
    out, fresh = [], []
    for n in names:
        if n.start is None and n.end is None:
            mark = _PUT.mark((token, "name", n.party, n.name))
            if mark in _PUT:
                continue
            fresh.append(mark)
        out.append(n)
    return out, fresh


def _unique_parties(batch: Batch) -> list[Any]:
    """One party per key: a registration (primary) wins over mentions, a named mention over an
    unnamed one; of two registrations the later row wins, as it does across batches (and as
    the links derived from the batch take it)."""
    by_key: dict[str, Any] = {}
    for p in batch.parties:
        seen = by_key.get(p.key)
        if seen is None:
            by_key[p.key] = p
            continue
        mine, theirs = _weight(p), _weight(seen)
        if mine > theirs or (mine == theirs and mine[0]):  # a later registration replaces an earlier one
            by_key[p.key] = p
    return list(by_key.values())


def _weight(p: Any) -> tuple[int, int, int]:
    return (int(bool(p.attrs and p.attrs.get("_primary"))), int(bool(p.name)), int(bool(p.code)))


def _unique_links(batch: Batch) -> list[Any]:
    by_id = {}
    for link in batch.links:
        by_id[link.id] = link
    return list(by_id.values())
