"""Joint punishment reaches the people (联合惩戒落实到人), and market bans are watched.

Use :func:`propagate` to list every person (and listed subject) under a measure on a date,
each with the path firm → role link → person that put them there; :func:`punishments_of`
for one party; :func:`ban_alerts` for banned people who took a barred role in another firm.

The roles that count are those held when the dishonest act happened (``attrs["act_date"]``),
else on the listing date: a legal representative who left before the act is not reached,
one who joined after it is not either. A measure runs from the listing date to the first of:
its own period (``period_years``), the entry's period end, removal, repair or an upheld
objection (see :mod:`queries.status`). Nothing here is stored: withdraw the entry (repair,
objection) and everything derived from it disappears, while an earlier ``as_of`` replays it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graph.model import Flag, Link, LinkKind, Party, PartyKind, Record, RecordKind
from graph.schema import link_spec
from graph.store import View
from queries.catalog import COURT_LIST, PERSON_ROLES, SUBJECT, Catalog, Measure, load_catalog
from queries.status import ActionBook, EntryState, EntryStatus, judge, parse_date

UNRESOLVED_FLAG = "未识别身份"
# The deciding authority named a legal representative the store knows in no such role at this
# firm (its registration history lacks them): reached on the decision's word, and the holders
# the links give for the day are marked as differing from the decision. Both for an
# investigator to verify.
NAMED_IN_DECISION_FLAG = "仅见于决定书"
DIFFERS_FROM_DECISION_FLAG = "与决定书记载的法定代表人不一致"
# the measure reaches only the directly responsible of this role (董事、股东 for 撤销荣誉称号),
# which no file records: listed for the authority to confirm
TO_VERIFY_FLAG = "待核实直接责任"
_REP_KINDS = (LinkKind.LEGAL_REPRESENTATIVE, LinkKind.PRINCIPAL)
ENTRY_KINDS = (RecordKind.LIST_ENTRY, RecordKind.COURT_DISHONEST)
_ORG_FLAGS = frozenset({Flag.INVALID_CODE, Flag.NO_CODE})
_ROLE_OF_KIND = {kind: role for role, kind in PERSON_ROLES.items()}
_ROLE_ZH = {SUBJECT: "列入主体", **{role: link_spec(kind).label_zh for role, kind in PERSON_ROLES.items()}}


@dataclass(frozen=True, slots=True)
class PathStep:
    """One link on an explanation path, with both ends named."""

    link_id: str
    kind: LinkKind
    label_zh: str
    title: str
    src: str
    src_name: str
    dst: str
    dst_name: str
    start: dt.date | None
    end: dt.date | None
    ratio: float | None = None


@dataclass(frozen=True, slots=True)
class Punishment:
    """A measure a party is under because of one list entry, and why."""

    person: str  # party key (resolved); the listed subject itself for role "subject"
    person_name: str
    firm: str  # the listed organisation's key ("" when a person is listed)
    firm_name: str
    role: str  # "subject" or a role of queries.catalog.PERSON_ROLES
    measure_code: str
    measure_name: str
    mandatory: bool
    market_ban: bool
    entry_id: str
    list_type: str
    decision_no: str
    start: dt.date | None  # the listing date
    end: dt.date | None  # the first day it no longer applies; None: open (as long as the listing)
    end_reason: str
    basis: str
    counted_on: dt.date | None  # the date roles were taken on: act date, else listing date
    path: tuple[PathStep, ...] = ()
    flags: tuple[str, ...] = ()

    @property
    def role_zh(self) -> str:
        """The role in Chinese."""
        return _ROLE_ZH.get(self.role, self.role)

    def active(self, as_of: dt.date) -> bool:
        """True when the measure applies on ``as_of``."""
        return (self.start is None or self.start <= as_of) and (self.end is None or as_of < self.end)


@dataclass(frozen=True, slots=True)
class BanAlert:
    """A person under a market ban who took a barred role in another firm during the ban."""

    person: str
    person_name: str
    banned_firm: str
    banned_firm_name: str
    new_firm: str
    new_firm_name: str
    role: str
    role_zh: str
    link: PathStep
    taken_on: dt.date
    ban_start: dt.date | None
    ban_end: dt.date | None
    measure_codes: tuple[str, ...]
    entry_id: str
    list_type: str
    message: str


def list_type_of(entry: Record) -> str:
    """Return the list type of a list or court entry (court entries are 失信被执行人)."""
    if entry.kind == RecordKind.COURT_DISHONEST:
        return COURT_LIST
    return str((entry.attrs or {}).get("list_type") or "")


def counted_on(entry: Record) -> dt.date | None:
    """Return the date whose role holders count: the act date when given, else the listing date."""
    return parse_date((entry.attrs or {}).get("act_date")) or entry.start


def add_years(day: dt.date, years: int) -> dt.date:
    """Return ``day`` moved ``years`` years on (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def triggering_entries(view: View, catalog: Catalog, log: EntryLog | None = None) -> list[Record]:
    """Return every list or court entry whose list type triggers a measure of ``catalog``
    (``log``: read through it, only what was stored since its last read)."""
    types = catalog.list_types
    records = log.read(view) if log is not None else view.records(kinds=list(ENTRY_KINDS))
    return [r for r in records if list_type_of(r) in types]


class EntryLog:
    """Every list and court entry of a store, kept between reads (a risk index's rebuilds).

    Records are only ever added, so where the backend numbers them (``records_after``, the
    embedded store) a read loads only those stored since the last: a rebuild after a repair
    no longer loads the 65,000 entries of the 1M-firm demo set again (about 1.3 s). Elsewhere
    each read loads them all."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.mark = 0

    def read(self, view: View) -> list[Record]:
        """Return every entry stored in ``view``, oldest first."""
        after = getattr(view, "records_after", None)
        if after is None:
            return view.records(kinds=list(ENTRY_KINDS))
        new, top = after(self.mark, ENTRY_KINDS)
        if top < self.mark:  # a mark beyond the newest record: not the store read before
            self.records, self.mark = [], 0
            new, top = after(0, ENTRY_KINDS)
        self.records = self.records + new  # a new list: a reader of the last one keeps it whole
        self.mark = top
        return self.records


class _Names:
    """Party lookups with a cache (names for paths and outputs)."""

    def __init__(self, view: View) -> None:
        self.view = view
        self.cache: dict[str, Party | None] = {}
        self.resolved: dict[str, str] = {}

    def resolve(self, key: str) -> str:
        got = self.resolved.get(key)
        if got is None:
            got = self.view.resolve(key)
            self.resolved[key] = got
        return got

    def load(self, keys: Iterable[str]) -> None:
        missing = [k for k in set(keys) if k not in self.cache]
        if missing:
            found = self.view.parties(missing)
            for k in missing:
                self.cache[k] = found.get(k)

    def party(self, key: str) -> Party | None:
        if key not in self.cache:
            self.load([key])
        return self.cache[key]

    def name(self, key: str) -> str:
        p = self.party(key)
        return p.name if p is not None else ""


def step_of(link: Link, names: _Names | View) -> PathStep:
    """Return ``link`` as a path step, ends resolved and named."""
    n = names if isinstance(names, _Names) else _Names(names)
    src, dst = n.resolve(link.src), n.resolve(link.dst)
    n.load([src, dst])
    return PathStep(link.id, link.kind, link_spec(link.kind).label_zh, link.title, src, n.name(src), dst,
                    n.name(dst), link.start, link.end, link.ratio)


def _is_person_like(party: Party | None, key: str) -> bool:
    if party is None:
        return key.startswith("per:") or key.startswith("unr:")
    if party.kind == PartyKind.PERSON:
        return True
    return party.kind == PartyKind.UNRESOLVED and not (party.flags & _ORG_FLAGS)


def entry_punishments(
    view: View,
    entry: Record,
    status: EntryStatus,
    catalog: Catalog,
    *,
    names: _Names | None = None,
    only: str | None = None,
) -> list[Punishment]:
    """Return the punishments ``entry`` gives under ``status`` (every one, whether or not in
    force on ``status.as_of``; an entry revoked or not yet listed gives none)."""
    if status.state in (EntryState.NOT_LISTED, EntryState.REVOKED):
        return []
    measures = catalog.for_list(list_type_of(entry))
    if not measures:
        return []
    n = names or _Names(view)
    attrs = entry.attrs or {}
    subject = n.resolve(entry.subject)
    subject_party = n.party(subject)
    subject_is_org = subject_party is not None and subject_party.kind.is_organisation or subject.startswith("org:")
    firm = subject if subject_is_org else ""
    day = counted_on(entry)
    entry_end, entry_end_reason = _entry_end(status)
    out: list[Punishment] = []
    common: dict[str, Any] = {
        "firm": firm, "firm_name": n.name(firm) if firm else "", "entry_id": entry.id,
        "list_type": list_type_of(entry), "decision_no": str(attrs.get("decision_no") or attrs.get("case_no") or ""),
        "start": entry.start, "counted_on": day,
    }
    # the subject itself
    if only is None or only == subject:
        flags = (UNRESOLVED_FLAG,) if subject_party is None or subject_party.kind == PartyKind.UNRESOLVED else ()
        for m in measures:
            if m.reach(SUBJECT) is not None:
                end, why = _measure_end(m, entry.start, entry_end, entry_end_reason)
                out.append(Punishment(person=subject, person_name=n.name(subject) or str(attrs.get("subject_name", "")),
                                      role=SUBJECT, measure_code=m.code, measure_name=m.name_zh, mandatory=m.mandatory,
                                      market_ban=m.market_ban, end=end, end_reason=why, basis=m.basis, flags=flags,
                                      **common))
    if not subject_is_org:
        return out
    kinds = sorted({r.link_kind for m in measures for r in m.roles if r.link_kind is not None})
    if not kinds:
        return out
    links = view.links(subject, direction="in", as_of=day, kinds=kinds)
    n.load(n.resolve(lk.src) for lk in links)
    named = _named_only_in_decision(view, entry, subject, links, n)
    if named is not None:
        out.extend(_decision_named_punishments(entry, named, subject_party, measures, n, only, common, entry_end,
                                               entry_end_reason))
    for lk in links:
        holder = n.resolve(lk.src)
        if only is not None and holder != only:
            continue
        party = n.party(holder)
        if not _is_person_like(party, holder):
            continue  # an organisation holding a role: the measures reach people
        role = _ROLE_OF_KIND[lk.kind]
        flags = (UNRESOLVED_FLAG,) if party is None or party.kind == PartyKind.UNRESOLVED else ()
        if named is not None and lk.kind in _REP_KINDS:
            flags = (*flags, DIFFERS_FROM_DECISION_FLAG)
        for m in measures:
            reach = m.reach(role)
            if reach is None:
                continue
            if reach.min_ratio is not None and (lk.ratio is None or lk.ratio < reach.min_ratio):
                continue  # below (or unknown against) the measure's minimum holding
            end, why = _measure_end(m, entry.start, entry_end, entry_end_reason)
            out.append(Punishment(person=holder, person_name=party.name if party else "", role=role,
                                  measure_code=m.code, measure_name=m.name_zh, mandatory=m.mandatory,
                                  market_ban=m.market_ban, end=end, end_reason=why, basis=m.basis,
                                  path=(step_of(lk, n),), flags=(*flags, TO_VERIFY_FLAG) if reach.to_verify else flags,
                                  **common))
    return out


def _named_only_in_decision(view: View, entry: Record, subject: str, links: list[Link], n: _Names) -> str | None:
    """The legal representative the entry names (法定代表人 "as recorded by the authority at the
    time") when the store knows them in no representative role at this firm, at any date;
    else None. One who holds the role on the day, or held it at another time (left before the
    act, joined after it), is judged by the links, whose dates are known."""
    named_key = str((entry.attrs or {}).get("legal_rep_key") or "")
    if not named_key:
        return None
    named = n.resolve(named_key)
    if any(n.resolve(lk.src) == named for lk in links if lk.kind in _REP_KINDS):
        return None  # the common case: the decision and the links agree on the day
    if any(n.resolve(lk.src) == named for lk in view.links(subject, direction="in", kinds=list(_REP_KINDS))):
        return None
    return named


def _decision_named_punishments(entry: Record, named: str, subject_party: Party | None, measures: Sequence[Measure],
                                n: _Names, only: str | None, common: dict[str, Any], entry_end: dt.date | None,
                                entry_end_reason: str) -> list[Punishment]:
    if only is not None and named != only:
        return []
    n.load([named])
    party = n.party(named)
    if not _is_person_like(party, named):
        return []
    rep_kind = str((subject_party.attrs if subject_party else {}).get("rep_kind") or "")
    role = _ROLE_OF_KIND[LinkKind.PRINCIPAL if rep_kind == LinkKind.PRINCIPAL.value else LinkKind.LEGAL_REPRESENTATIVE]
    flags = (UNRESOLVED_FLAG, NAMED_IN_DECISION_FLAG) if party is None or party.kind == PartyKind.UNRESOLVED else \
        (NAMED_IN_DECISION_FLAG,)
    name = party.name if party else str((entry.attrs or {}).get("legal_rep_name") or "")
    out: list[Punishment] = []
    for m in measures:
        if m.reach(role) is None:
            continue
        end, why = _measure_end(m, entry.start, entry_end, entry_end_reason)
        out.append(Punishment(person=named, person_name=name, role=role, measure_code=m.code, measure_name=m.name_zh,
                              mandatory=m.mandatory, market_ban=m.market_ban, end=end, end_reason=why, basis=m.basis,
                              flags=flags, **common))
    return out


def _entry_end(status: EntryStatus) -> tuple[dt.date | None, str]:
    if status.state == EntryState.ACTIVE:
        return status.until, ("惩戒期限届满" if status.until else "")
    return status.since, status.state.label_zh


def _measure_end(m: Measure, start: dt.date | None, entry_end: dt.date | None, why: str) -> tuple[dt.date | None, str]:
    if m.period_years is not None and start is not None:
        own = add_years(start, m.period_years)
        if entry_end is None or own < entry_end:
            return own, f"措施期限{m.period_years}年届满"
    return entry_end, why


def propagate(
    view: View,
    as_of: dt.date | None = None,
    *,
    catalog: Catalog | None = None,
    include_ended: bool = False,
    entries: Sequence[Record] | None = None,
) -> list[Punishment]:
    """Return the punishments in force on ``as_of`` (today when None) from every triggering
    entry; with ``include_ended`` also those that ended (never those of revoked entries)."""
    as_of = as_of or dt.date.today()
    catalog = catalog or load_catalog()
    entries = list(entries) if entries is not None else triggering_entries(view, catalog)
    book = ActionBook.load(view)
    names = _Names(view)
    out: list[Punishment] = []
    for entry in entries:
        status = judge(entry, as_of, book)
        if not include_ended and not status.active:
            continue
        for p in entry_punishments(view, entry, status, catalog, names=names):
            if include_ended or p.active(as_of):
                out.append(p)
    out.sort(key=lambda p: (p.person, p.entry_id, p.measure_code, p.role, p.path[0].link_id if p.path else ""))
    return out


def punishments_of(
    view: View, key: str, as_of: dt.date | None = None, *, catalog: Catalog | None = None,
    include_ended: bool = False,
) -> list[Punishment]:
    """Return the punishments of one party (as listed subject or through a role) on ``as_of``."""
    as_of = as_of or dt.date.today()
    catalog = catalog or load_catalog()
    target = view.resolve(key)
    kinds = sorted(catalog.reached_link_kinds())
    candidates: dict[str, Record] = {}
    for r in view.records(target, kinds=list(ENTRY_KINDS)):
        candidates[r.id] = r
    firms = {view.resolve(lk.dst) for lk in view.links(target, direction="out", kinds=kinds)}
    for f in sorted(firms):
        for r in view.records(f, kinds=list(ENTRY_KINDS)):
            candidates[r.id] = r
    entries = [r for r in candidates.values() if list_type_of(r) in catalog.list_types]
    book = ActionBook.for_entries(view, entries)
    names = _Names(view)
    out: list[Punishment] = []
    for entry in sorted(entries, key=lambda r: r.id):
        status = judge(entry, as_of, book)
        if not include_ended and not status.active:
            continue
        for p in entry_punishments(view, entry, status, catalog, names=names, only=target):
            if p.person == target and (include_ended or p.active(as_of)):
                out.append(p)
    out.sort(key=lambda p: (p.entry_id, p.measure_code, p.role, p.path[0].link_id if p.path else ""))
    return out


def ban_alerts(
    view: View,
    as_of: dt.date | None = None,
    *,
    catalog: Catalog | None = None,
    punishments: Sequence[Punishment] | None = None,
) -> list[BanAlert]:
    """Return an alert for each barred role a person under a market ban took in another firm
    while the ban ran (link start inside the ban, known by ``as_of``)."""
    as_of = as_of or dt.date.today()
    catalog = catalog or load_catalog()
    if punishments is None:
        punishments = propagate(view, as_of, catalog=catalog, include_ended=True)
    names = _Names(view)
    grouped: dict[tuple[str, str, str], list[Punishment]] = defaultdict(list)
    for p in punishments:
        if not p.market_ban:
            continue
        party = names.party(p.person)
        if not _is_person_like(party, p.person):
            continue
        bars = catalog.measure(p.measure_code).bars
        kinds = [PERSON_ROLES[b] for b in sorted(bars)]
        for lk in view.links(p.person, direction="out", kinds=kinds):
            new_firm = names.resolve(lk.dst)
            if new_firm == p.firm or lk.start is None or lk.start > as_of:
                continue
            if (p.start is not None and lk.start < p.start) or (p.end is not None and lk.start >= p.end):
                continue
            grouped[(p.person, p.entry_id, lk.id)].append(p)
    alerts: list[BanAlert] = []
    for (person, _entry_id, link_id), ps in sorted(grouped.items()):
        found = view.link(link_id)
        if found is None:
            continue
        lk = found
        step = step_of(lk, names)
        p = ps[0]
        role = _ROLE_OF_KIND.get(lk.kind, lk.kind.value)
        start = min((q.start for q in ps if q.start), default=None)
        ends = [q.end for q in ps]
        end = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
        codes = tuple(sorted({q.measure_code for q in ps}))
        measure_names = "、".join(sorted({q.measure_name for q in ps}))
        message = (f"{p.person_name or person} 因{p.firm_name or p.firm}被列入{p.list_type}受{measure_names}"
                   f"(禁入期 {start} 至 {end or '移出名单时'}),于 {lk.start} 担任{step.dst_name or step.dst}"
                   f"{_ROLE_ZH.get(role, role)}")
        alerts.append(BanAlert(
            person=person, person_name=p.person_name, banned_firm=p.firm, banned_firm_name=p.firm_name,
            new_firm=step.dst, new_firm_name=step.dst_name, role=role, role_zh=_ROLE_ZH.get(role, role), link=step,
            taken_on=lk.start, ban_start=start, ban_end=end,  # type: ignore[arg-type]
            measure_codes=codes, entry_id=p.entry_id, list_type=p.list_type, message=message,
        ))
    return alerts


def ban_alerts_of(view: View, key: str, as_of: dt.date | None = None, *,
                  catalog: Catalog | None = None) -> list[BanAlert]:
    """The :func:`ban_alerts` about one party: a person's barred roles taken during their
    bans, or the people who took a barred role at this firm during theirs (for a profile:
    reads only the party's own people, not the whole store)."""
    as_of = as_of or dt.date.today()
    catalog = catalog or load_catalog()
    target = view.resolve(key)
    party = view.party(target)
    if party is None:
        return []
    if _is_person_like(party, target):
        return ban_alerts(view, as_of, catalog=catalog,
                          punishments=punishments_of(view, target, as_of, catalog=catalog, include_ended=True))
    barred = sorted({PERSON_ROLES[b] for m in catalog.measures if m.market_ban for b in m.bars})
    holders = sorted({view.resolve(lk.src) for lk in view.links(target, direction="in", kinds=barred)})
    out: list[BanAlert] = []
    for holder in holders:
        if not _is_person_like(view.party(holder), holder):
            continue
        punished = punishments_of(view, holder, as_of, catalog=catalog, include_ended=True)
        if any(p.market_ban for p in punished):
            out.extend(a for a in ban_alerts(view, as_of, catalog=catalog, punishments=punished) if a.new_firm == target)
    return out
