"""The GraphStore contract every backend fulfils.

``store.writer()`` opens one atomic batch: everything written inside the ``with`` block is
committed together on exit, or not at all when the block raises (or the process dies).
``store.view()`` returns a read view. Reads take ``as_of`` (a date; ``None`` means "at any
time", i.e. every fact ever recorded) so that any question can be asked of the past.

Writes are idempotent: facts carry deterministic ids (see :func:`fact_id`), and writing a
fact whose id is already stored keeps the stored one. Correcting a fact is done by closing
it (:meth:`Writer.close_link`) and adding a new one, never by editing it in place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from graph.model import (
    Alias,
    CodeObservation,
    Link,
    LinkKind,
    NameFact,
    Party,
    PartyKind,
    Record,
    RecordKind,
    Rejection,
    Subgraph,
)


class CreditGraphError(Exception):
    """Root of every error creditgraph raises on purpose."""


class NotFound(CreditGraphError):
    """The party, record or file asked for does not exist."""


class InvalidInput(CreditGraphError):
    """Input that cannot be used; the message names what and where."""

    def __init__(self, message: str, *, field: str = "", file: str = "", row: int = 0):
        super().__init__(message)
        self.field = field
        self.file = file
        self.row = row


class Conflict(InvalidInput):
    """An action the stored state does not allow (an entry repaired twice, an objection
    resolved twice); the message says what stands in the way."""


class StoreUnavailable(CreditGraphError):
    """The store cannot be opened or reached."""


def fact_id(*parts: object) -> str:
    """Return a deterministic 20-hex-character id for a fact made of ``parts``."""
    text = "\x1f".join(["" if p is None else p if isinstance(p, str) else str(p) for p in parts])
    return hashlib.blake2b(text.encode("utf-8"), digest_size=10).hexdigest()


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: the party, the name that matched and a score in [0, 100]."""

    party: Party
    matched: str
    score: float
    how: str  # "code", "id", "exact", "substring", "fuzzy"


@dataclass(frozen=True, slots=True)
class IngestRun:
    """One ingest run as recorded in the store."""

    id: str
    started: str
    finished: str
    summary: dict[str, object]


class Writer(Protocol):
    """One atomic batch of changes."""

    run_id: str

    def put_parties(self, parties: Iterable[Party]) -> None:
        """Add parties; a key already stored is merged: empty fields filled, flags united."""

    def put_names(self, names: Iterable[NameFact]) -> None:
        """Add name facts (a party's names over time)."""

    def put_links(self, links: Iterable[Link]) -> None:
        """Add links; an id already stored is kept as it is."""

    def replace_links(self, parties: Iterable[str], origin: str, links: Iterable[Link]) -> None:
        """Replace every link derived from ``origin`` (e.g. "registration+changes") that
        touches one of ``parties`` by ``links``: used where links are derived from several
        source rows at once, so re-deriving them is idempotent. Unchanged links stay as
        they are."""

    def lookup_parties(self, keys: Iterable[str]) -> dict[str, Party]:
        """Read parties as they stand inside this batch (uncommitted writes included)."""

    def lookup_records(self, subjects: Iterable[str], kind: RecordKind) -> list[Record]:
        """Read records of ``subjects`` as they stand inside this batch."""

    def close_link(self, link_id: str, end: dt.date) -> None:
        """Close a link on ``end`` (it no longer holds from that day)."""

    def put_records(self, records: Iterable[Record]) -> None:
        """Add records; an id already stored is kept as it is."""

    def put_rejections(self, rejections: Iterable[Rejection]) -> None:
        """Append rows to the rejection report."""

    def put_code_observations(self, observations: Iterable[CodeObservation]) -> None:
        """Keep identifiers as they appeared, for the quality report."""

    def put_aliases(self, aliases: Iterable[Alias]) -> None:
        """Record that unresolved parties are known parties (replaces earlier aliases)."""

    def drop_aliases(self, unresolved: Iterable[str]) -> None:
        """Forget resolutions that no longer hold."""

    def mark_file(self, sha256: str, path: str, kind: str, rows: int, status: str) -> None:
        """Record a file's ingest state ("partial" while running, "complete" at the end)."""

    def put_meta(self, key: str, value: str) -> None:
        """Store a small named value (e.g. the last detection run)."""


class View(Protocol):
    """Read access to the graph as stored."""

    def party(self, key: str) -> Party | None:
        """Return the party with ``key`` (aliases followed), or None."""

    def parties(self, keys: Iterable[str]) -> dict[str, Party]:
        """Return the parties found among ``keys``."""

    def party_names(self, keys: Iterable[str]) -> dict[str, str]:
        """Return the name of each party found among ``keys`` (by its own key): what
        :meth:`parties` gives, without building the parties."""

    def iter_parties(self, kinds: Sequence[PartyKind] | None = None) -> Iterator[Party]:
        """Yield every party (of the given kinds)."""

    def parties_by_name(self, name_keys: Iterable[str]) -> dict[str, list[Party]]:
        """Return, per name comparison key (graph.textkey.name_search_key), the parties
        that have carried such a name: the bulk candidate query of identity resolution."""

    def names(self, key: str) -> list[NameFact]:
        """Return the names a party has carried, oldest first."""

    def links(
        self,
        key: str,
        *,
        as_of: dt.date | None = None,
        kinds: Sequence[LinkKind] | None = None,
        direction: str = "both",
    ) -> list[Link]:
        """Return the links touching ``key`` (``out``: key is src, ``in``: key is dst)."""

    def linked(self, keys: Iterable[str], *, direction: str = "both", aliases: bool = True) -> dict[str, set[str]]:
        """For each key, the keys of the parties at the other end of its links (any date), named
        as :meth:`links` names them (aliases followed on both ends): a bulk form of ``links``
        for callers that need only who is linked, such as identity resolution.
        ``aliases=False``: the links as stored, between the parties as stored (what identity
        resolution must read, so that its own earlier aliases do not change its answer)."""

    def link(self, link_id: str) -> Link | None:
        """Return one link by id."""

    def links_by_id(self, link_ids: Iterable[str]) -> dict[str, Link]:
        """Return the links with these ids, in one look-up (endpoints as stored)."""

    def resolve_many(self, keys: Iterable[str]) -> dict[str, str]:
        """Return ``resolve(key)`` for each key, in one look-up."""

    def iter_links(self, kinds: Sequence[LinkKind] | None = None) -> Iterator[Link]:
        """Yield every link (of the given kinds)."""

    def degree(self, key: str) -> int:
        """Return the number of links touching ``key`` at any time."""

    def records(
        self,
        subject: str | None = None,
        *,
        kinds: Sequence[RecordKind] | None = None,
        as_of: dt.date | None = None,
    ) -> list[Record]:
        """Return records (of a subject, of kinds, in force on ``as_of`` as given)."""

    def record_subjects(self, kinds: Sequence[RecordKind]) -> set[str]:
        """Return the subjects (as stored: aliases not followed) of every record of ``kinds``,
        without reading the records themselves (the risk index marks them after every change)."""

    def record(self, record_id: str) -> Record | None:
        """Return one record by id."""

    def records_targeting(self, record_id: str) -> list[Record]:
        """Return repairs, objections and resolutions that act on ``record_id``."""

    def neighbourhood(
        self,
        keys: Iterable[str],
        hops: int,
        *,
        as_of: dt.date | None = None,
        kinds: Sequence[LinkKind] | None = None,
        max_degree: int | None = None,
    ) -> Subgraph:
        """Return parties within ``hops`` of ``keys`` (links either way) and the links
        between them; nodes with more than ``max_degree`` links are included but not
        expanded, and listed in ``Subgraph.capped``."""

    def search(self, text: str, *, limit: int = 20) -> list[SearchHit]:
        """Find parties by USCC, resident ID or name (substring, then fuzzy; simplified
        or traditional input)."""

    def resolve(self, key: str) -> str:
        """Return the key an unresolved party is an alias of, or ``key`` itself."""

    def aliases(self) -> list[Alias]:
        """Return every alias recorded."""

    def rejections(self, run: str | None = None) -> list[Rejection]:
        """Return rejected rows (of one run)."""

    def code_observations(self) -> Iterator[CodeObservation]:
        """Yield identifiers as they appeared in files."""

    def file_status(self, sha256: str) -> str | None:
        """Return "partial", "complete" or None for a file content hash."""

    def runs(self) -> list[IngestRun]:
        """Return the ingest runs, oldest first."""

    def counts(self) -> dict[str, int]:
        """Return counts of parties by kind, links, records and rejections."""

    def meta(self, key: str) -> str | None:
        """Return a value stored with :meth:`Writer.put_meta`."""

    def version(self) -> int:
        """Return a number that grows with every committed batch (for cache invalidation)."""


class GraphStore(Protocol):
    """A backend: durable facts plus the indexes that answer reads."""

    def writer(self, run_id: str | None = None) -> AbstractContextManager[Writer]:
        """Open one atomic batch."""

    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """Hold the lock ``name`` across every process using this store while the block runs
        (a check and the write that depends on it: see :mod:`api.checked_write`)."""

    def view(self, *, traversal: bool = True) -> View:
        """Return a read view of the committed state. ``traversal=False`` promises that the
        caller will not traverse (neighbourhoods, paths, ``linked`` with aliases), so a
        backend with an in-memory link index need not bring it up to date."""

    def start_run(self, note: str = "") -> str:
        """Begin an ingest run and return its id."""

    def finish_run(self, run_id: str, summary: dict[str, object]) -> None:
        """Record a run's summary."""

    def close(self) -> None:
        """Release files and connections."""
