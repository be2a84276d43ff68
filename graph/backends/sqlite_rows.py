"""Facts as SQLite parameter rows, and the statements that store them.

Building the rows is pure Python and needs no transaction, so an ingest worker can do it
before it takes the write lock (:class:`PreparedFacts`): the lock is then held only while
SQLite works. With two workers this is what lets the second one convert and prepare while
the first one writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graph.backends.sqlite_schema import dumps, iso, ordinal
from graph.model import CodeObservation, Link, NameFact, Party, PartyKind, Record, Rejection, Source
from graph.textkey import name_search_key

SrcOf = Callable[[Source | None], tuple[int | None, int | None, str]]

# A registration row (primary_rank 1) describes the firm as registered now: the one loaded last
# replaces an earlier one whole (name, status, dates, attributes and provenance), so a newer
# export is never half applied and the links derived from the row agree with it. Mentions
# (rank 0) only fill in what is missing.
UPSERT_PARTY = """INSERT INTO parties(key, kind, name, code, region, start, end, status, flags, attrs, primary_rank, src, row, run)
   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
   ON CONFLICT(key) DO UPDATE SET
     kind = CASE WHEN excluded.primary_rank >= MAX(parties.primary_rank, 1) OR parties.kind = 'unresolved'
                 THEN excluded.kind ELSE parties.kind END,
     name = CASE WHEN excluded.primary_rank >= MAX(parties.primary_rank, 1) OR parties.name = ''
                 THEN excluded.name ELSE parties.name END,
     code = CASE WHEN parties.code = '' THEN excluded.code ELSE parties.code END,
     region = CASE WHEN parties.region = '' THEN excluded.region ELSE parties.region END,
     start = CASE WHEN excluded.primary_rank >= MAX(parties.primary_rank, 1) THEN excluded.start
                  ELSE COALESCE(parties.start, excluded.start) END,
     end = CASE WHEN excluded.primary_rank >= MAX(parties.primary_rank, 1) THEN excluded.end
                ELSE COALESCE(parties.end, excluded.end) END,
     status = CASE WHEN excluded.primary_rank >= MAX(parties.primary_rank, 1) OR parties.status = ''
                   THEN excluded.status ELSE parties.status END,
     flags = CASE WHEN parties.flags = '' THEN excluded.flags
                  WHEN excluded.flags = '' OR instr(',' || parties.flags || ',', ',' || excluded.flags || ',') > 0
                  THEN parties.flags ELSE parties.flags || ',' || excluded.flags END,
     attrs = CASE WHEN excluded.primary_rank >= MAX(parties.primary_rank, 1) OR parties.attrs IS NULL
                  THEN COALESCE(excluded.attrs, parties.attrs) ELSE parties.attrs END,
     primary_rank = MAX(parties.primary_rank, excluded.primary_rank),
     -- a placeholder made for a link end has no provenance: the first fact describing it gives it
     -- (a registration row that replaces an earlier one: see the note above)
     src = CASE WHEN excluded.primary_rank >= MAX(parties.primary_rank, 1) THEN excluded.src
                ELSE COALESCE(parties.src, excluded.src) END,
     row = CASE WHEN excluded.primary_rank >= MAX(parties.primary_rank, 1) THEN excluded.row
                ELSE COALESCE(parties.row, excluded.row) END,
     run = CASE WHEN excluded.primary_rank >= MAX(parties.primary_rank, 1) THEN excluded.run
                ELSE COALESCE(parties.run, excluded.run) END
"""

UPSERT_NAME = """INSERT INTO names(party, name, nkey, start, end, src, row, run) VALUES (?,?,?,?,?,?,?,?)
   ON CONFLICT(party, name, start) DO UPDATE SET end = excluded.end
   WHERE names.end IS NULL AND excluded.end IS NOT NULL"""

INSERT_PLACEHOLDER = "INSERT OR IGNORE INTO parties(key, kind, name, code, region) VALUES (?, ?, '', ?, ?)"

# a link id already stored is kept; an open one is closed when the new fact ends it, and one
# stored without a currency (before links had one) takes the new fact's
UPSERT_LINK = """INSERT INTO links(fid, kind, src, dst, start, end, ratio, amount, title, origin, srcfile, row, run,
                     currency)
   VALUES (?, ?, (SELECT id FROM parties WHERE key = ?), (SELECT id FROM parties WHERE key = ?),
           ?,?,?,?,?,?,?,?,?,?)
   ON CONFLICT(fid) DO UPDATE SET
       end = CASE WHEN links.end IS NULL AND excluded.end IS NOT NULL THEN excluded.end ELSE links.end END,
       currency = CASE WHEN links.currency = '' THEN excluded.currency ELSE links.currency END
   WHERE (links.end IS NULL AND excluded.end IS NOT NULL) OR (links.currency = '' AND excluded.currency != '')"""

INSERT_RECORD = """INSERT OR IGNORE INTO records(fid, kind, subject, start, end, target, attrs, srcfile, row, run)
   VALUES (?,?,?,?,?,?,?,?,?,?)"""

INSERT_OBSERVATION = """INSERT OR IGNORE INTO code_observations(code, normalised, name, valid, kind, srcfile, row, run)
   VALUES (?,?,?,?,?,?,?,?)"""

INSERT_REJECTION = "INSERT OR IGNORE INTO rejections(file, row, col, value, reason, run) VALUES (?,?,?,?,?,?)"


def party_rows(parties: Iterable[Party], src_of: SrcOf) -> list[tuple[Any, ...]]:
    """Rows for :data:`UPSERT_PARTY`; attributes starting with ``_`` are instructions, not stored."""
    rows = []
    for p in parties:
        sid, row, run = src_of(p.source)
        if p.attrs:
            rank = int(p.attrs.get("_primary", 0))
            attrs = dumps({k: v for k, v in p.attrs.items() if not k.startswith("_")})
        else:
            rank, attrs = 0, None
        rows.append((p.key, p.kind.value, p.name, p.code, p.region, iso(p.start), iso(p.end), p.status,
                     ",".join(sorted(p.flags)) if p.flags else "", attrs, rank, sid, row, run))
    return rows


def name_rows(names: Iterable[NameFact], src_of: SrcOf) -> list[tuple[Any, ...]]:
    """Rows for :data:`UPSERT_NAME`, with the search key of each name.

    An undated name is stored with start '' rather than NULL: SQLite counts NULLs as distinct
    in a UNIQUE key, so the same undated mention from two files would be stored twice."""
    rows = []
    for n in names:
        sid, row, run = src_of(n.source)
        rows.append((n.party, n.name, name_search_key(n.name), iso(n.start) or "", iso(n.end), sid, row, run))
    return rows


def link_rows(links: Iterable[Link], origin: str, src_of: SrcOf) -> tuple[list[tuple[Any, ...]], set[str]]:
    """Rows for :data:`UPSERT_LINK`, and every endpoint key they name."""
    rows = []
    endpoints: set[str] = set()
    for link in links:
        sid, row, run = src_of(link.source)
        endpoints.add(link.src)
        endpoints.add(link.dst)
        rows.append((link.id, link.kind.value, link.src, link.dst, ordinal(link.start), ordinal(link.end),
                     link.ratio, link.amount, link.title, origin, sid, row, run, link.currency))
    return rows, endpoints


def record_rows(records: Iterable[Record], src_of: SrcOf) -> list[tuple[Any, ...]]:
    """Rows for :data:`INSERT_RECORD`."""
    rows = []
    for r in records:
        sid, row, run = src_of(r.source)
        rows.append((r.id, r.kind.value, r.subject, iso(r.start), iso(r.end), r.target, dumps(r.attrs), sid, row, run))
    return rows


def observation_rows(observations: Iterable[CodeObservation], src_of: SrcOf) -> list[tuple[Any, ...]]:
    """Rows for :data:`INSERT_OBSERVATION`."""
    rows = []
    for o in observations:
        sid, row, run = src_of(o.source)
        rows.append((o.code, o.normalised, o.name, int(o.valid), o.kind, sid, row, run))
    return rows


def rejection_rows(rejections: Iterable[Rejection], run_id: str) -> list[tuple[Any, ...]]:
    """Rows for :data:`INSERT_REJECTION`."""
    return [(r.file, r.row, r.column, r.value, r.reason, r.run or run_id) for r in rejections]


def placeholder(key: str) -> tuple[str, str, str, str]:
    """(key, kind, code, region) of a party known only by its key so far."""
    prefix, _, rest = key.partition(":")
    if prefix == "org":
        return key, PartyKind.ENTERPRISE.value, rest, rest[2:8]
    if prefix == "per":
        return key, PartyKind.PERSON.value, rest, ""
    kind = {"tel": PartyKind.PHONE, "eml": PartyKind.EMAIL, "adr": PartyKind.ADDRESS}.get(prefix, PartyKind.UNRESOLVED)
    return key, kind.value, "", ""


@dataclass(slots=True)
class PreparedFacts:
    """A batch's facts as parameter rows, built outside the write transaction.

    ``placeholders`` are the link endpoints the batch does not describe itself: they get a
    placeholder party unless the store knows them already."""

    parties: list[tuple[Any, ...]] = field(default_factory=list)
    names: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[tuple[Any, ...]] = field(default_factory=list)
    placeholders: list[tuple[str, str, str, str]] = field(default_factory=list)
    records: list[tuple[Any, ...]] = field(default_factory=list)
    observations: list[tuple[Any, ...]] = field(default_factory=list)
    rejections: list[tuple[Any, ...]] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)  # party keys the batch puts


def prepare_facts(
    src_of: SrcOf, run_id: str, *, parties: Iterable[Party] = (), names: Iterable[NameFact] = (),
    links: Iterable[Link] = (), records: Iterable[Record] = (), observations: Iterable[CodeObservation] = (),
    rejections: Iterable[Rejection] = (), stored: Iterable[str] = (),
) -> PreparedFacts:
    """Build every parameter row of a batch (no database access but ``src_of``).

    ``stored``: party keys known to be in the store already (no placeholder is made for them)."""
    parties = list(parties)
    out = PreparedFacts(keys={p.key for p in parties})
    out.parties = party_rows(parties, src_of)
    out.names = name_rows(names, src_of)
    out.links, endpoints = link_rows(links, "", src_of)
    out.placeholders = [placeholder(k) for k in sorted(endpoints - out.keys - set(stored))]
    out.records = record_rows(records, src_of)
    out.observations = observation_rows(observations, src_of)
    out.rejections = rejection_rows(rejections, run_id)
    return out


@dataclass(slots=True)
class PreparedDerived:
    """A batch's derived people and links as parameter rows, built outside the write transaction."""

    parties: list[tuple[Any, ...]]
    keys: set[str]  # party keys the rows put
    links: dict[str, tuple[Any, ...]]  # by link id
    ends: set[str]  # every endpoint key the links name (placeholders for those the store lacks)


def prepare_derived(src_of: SrcOf, origin: str, parties: list[Party], links: list[Link]) -> PreparedDerived:
    """Rows for derived people and for links derived from ``origin`` (no database access but ``src_of``)."""
    rows, ends = link_rows(links, origin, src_of)
    return PreparedDerived(party_rows(parties, src_of), {p.key for p in parties}, {r[0]: r for r in rows}, ends)
