"""Risk warnings across linked entities (风险预判预警) and graded supervision (分级分类监管).

Use :func:`check` for one firm or person: its own records (list entries, court entries,
recent penalties), its links to punished parties within ``hops``, red/black conflicts, and
the supervision grade A–D with the "双随机、一公开" sampling ratio it implies. Pass a
:class:`queries.risk_index.RiskIndex` to answer from the precomputed index (the hot path of
approval desks); without one the same answer is computed directly from the view.

How links are graded: a walk from a punished party P to the subject S scores the product of
its links' weights (:func:`arc_weight`: legal representative / controller / major
shareholder strong, director / supervisor / manager medium, shared phone or e-mail medium,
shared address weak; an org-to-org holding walked from the held firm to its holder is
weakened), times ``decay`` for each hop after the first, times ``hub_factor`` when it passes
through a node with more than ``soft_cap`` links (agencies, shared addresses: the warning
says so); nodes with more than ``hard_cap`` links are not passed through at all. For each P
the strongest walk of at most ``hops`` links is kept; ties go to fewer hops, then to the
link with the smaller id, so the index and the direct computation pick the same path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from graph.identifiers import NO_CODE, check_resident_id, check_uscc, normalise_code
from graph.model import Link, LinkKind, Party, PartyKind, RecordKind
from graph.schema import PARTY_LABELS_ZH, link_spec
from graph.store import InvalidInput, NotFound, View
from queries.catalog import COURT_LIST, Catalog, load_catalog
from queries.propagation import (
    TO_VERIFY_FLAG,
    EntryLog,
    PathStep,
    _Names,
    entry_punishments,
    list_type_of,
    triggering_entries,
)
from queries.status import ActionBook, EntryState, judge

LINK_KINDS = list(LinkKind)
KIND_CODE = {k: i for i, k in enumerate(LINK_KINDS)}
KEY_PREFIXES = ("org:", "per:", "unr:", "tel:", "eml:", "adr:")
RED_MARK = "红名单"
ATTENTION_LIST = "重点关注名单"
_CONTROL_KINDS = frozenset({LinkKind.SHAREHOLDER, LinkKind.ACTUAL_CONTROLLER, LinkKind.BENEFICIAL_OWNER})
_SERIOUS_PENALTIES = ("吊销", "责令停产停业", "责令关闭", "暂扣", "限制从业", "限制开展生产经营", "降低资质")


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """Weights, caps and grade mapping of the risk check (a site may pass its own)."""

    weights: tuple[tuple[LinkKind, float], ...] = (
        (LinkKind.LEGAL_REPRESENTATIVE, 1.0),
        (LinkKind.PRINCIPAL, 1.0),
        (LinkKind.ACTUAL_CONTROLLER, 1.0),
        (LinkKind.BENEFICIAL_OWNER, 0.9),
        (LinkKind.DIRECTOR, 0.6),
        (LinkKind.SUPERVISOR, 0.5),
        (LinkKind.SENIOR_MANAGER, 0.6),
        (LinkKind.RESPONSIBLE_PRACTITIONER, 0.6),
        (LinkKind.BRANCH_OF, 0.9),
        (LinkKind.SHARED_PHONE, 0.7),
        (LinkKind.SHARED_EMAIL, 0.7),
        (LinkKind.SHARED_ADDRESS, 0.5),
    )
    major_ratio: float = 0.25  # 大股东: at or above, a shareholder link is strong
    minor_ratio: float = 0.05  # at or above (and below major), medium; below or unknown, weak
    shareholder_weights: tuple[float, float, float] = (0.9, 0.6, 0.35)  # major, medium, weak
    upward_factor: float = 0.7  # org-to-org holding walked from the held firm to its holder
    decay: float = 0.85  # per hop after the first
    soft_cap: int = 50  # more links than this: a hub, passed through down-weighted
    hub_factor: float = 0.5
    hard_cap: int = 1000  # more links than this: not passed through at all
    high: float = 0.6  # strength from which a link warning is 高
    medium: float = 0.3  # … 中; below, 低
    min_strength: float = 0.05  # weaker links are not reported
    max_link_warnings: int = 20
    penalty_years: int = 3
    serious_fine: float = 10.0  # 万元
    sampling: tuple[tuple[str, float], ...] = (("A", 0.03), ("B", 0.05), ("C", 0.10), ("D", 0.20))

    def weight_of(self, kind: LinkKind) -> float:
        """Return the base weight of a link kind."""
        for k, w in self.weights:
            if k == kind:
                return w
        return 0.3

    def sampling_ratio(self, grade: str) -> float:
        """Return the sampling ratio of a grade."""
        return dict(self.sampling)[grade]


DEFAULT_CONFIG = RiskConfig()


def arc_weight(cfg: RiskConfig, kind: LinkKind, forward: bool, ratio: float | None, src_org: bool, dst_org: bool) -> float:
    """Return the weight of walking a link (``forward``: from its src to its dst, i.e. from the
    punished side toward the subject in that direction)."""
    if kind == LinkKind.SHAREHOLDER:
        major, medium, weak = cfg.shareholder_weights
        if ratio is not None and ratio >= cfg.major_ratio:
            w = major
        elif ratio is not None and ratio >= cfg.minor_ratio:
            w = medium
        else:
            w = weak
    else:
        w = cfg.weight_of(kind)
    if src_org and dst_org:
        # who controls whom: src controls dst for holdings, dst (head office) controls a branch
        upward = (not forward) if kind in _CONTROL_KINDS else (forward if kind == LinkKind.BRANCH_OF else False)
        if upward:
            w = w * cfg.upward_factor
    return w


def step_factor(cfg: RiskConfig, w: float, hop: int, hub: bool) -> float:
    """Return the factor of one step of a walk: the link weight, decayed after the first hop
    and down-weighted when leaving a hub (the same float operations as the index)."""
    f = w
    if hop > 1:
        f = f * cfg.decay
        if hub:
            f = f * cfg.hub_factor
    return f


def is_org_key(key: str) -> bool:
    """True when ``key`` names a registered organisation."""
    return key.startswith("org:")


def level_of(cfg: RiskConfig, strength: float) -> str:
    """Return 高, 中 or 低 for a link strength."""
    if strength >= cfg.high:
        return "高"
    if strength >= cfg.medium:
        return "中"
    return "低"


# -- results ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SourceRef:
    """A record a warning rests on."""

    record_id: str
    kind: str
    list_type: str
    decision_no: str
    authority: str
    start: dt.date | None
    status: str = ""


@dataclass(frozen=True, slots=True)
class SourceReason:
    """Why a party counts as punished: listed itself, or reached through a role."""

    how: str  # "listed" or "reached"
    entry_id: str
    list_type: str
    decision_no: str
    authority: str
    start: dt.date | None
    firm: str = ""
    firm_name: str = ""
    role: str = ""
    role_zh: str = ""
    measures: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PathNode:
    """A party on a warning path."""

    key: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class Warning:
    """One graded warning: level 高/中/低, code, message, path and source records."""

    code: str
    level: str
    message: str
    strength: float = 1.0
    hops: int = 0
    counterpart: str = ""
    nodes: tuple[PathNode, ...] = ()
    links: tuple[PathStep, ...] = ()
    sources: tuple[SourceRef, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RiskReport:
    """The outcome of one check: warnings, grade and sampling ratio."""

    key: str
    name: str
    kind: str
    as_of: dt.date
    hops: int
    grade: str
    sampling_ratio: float
    warnings: tuple[Warning, ...]
    records: tuple[SourceRef, ...]
    red_listed: bool
    method: str = "direct"
    capped: tuple[str, ...] = ()
    # store changes (write batches) the answer does not reflect yet: answered from the index of
    # an earlier version while the current one is built (records changed, links did not)
    behind: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON-able values."""
        return _plain(self)


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {f: _plain(getattr(value, f)) for f in value.__dataclass_fields__}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(slots=True)
class LinkHit:
    """The strongest walk from a punished party to the subject."""

    source: str
    strength: float
    nodes: tuple[str, ...]  # subject first, source last
    links: tuple[Link, ...]  # links[i] joins nodes[i] and nodes[i+1]
    src_first: tuple[bool, ...]  # links[i]'s (resolved) src is nodes[i]
    hubs: tuple[tuple[str, int], ...] = ()  # (key, degree) of hubs passed through


@dataclass(slots=True)
class PunishedSet:
    """Every party punished on a date, with the reasons."""

    as_of: dt.date
    reasons: dict[str, list[SourceReason]] = field(default_factory=dict)

    def keys(self) -> set[str]:
        """Return the punished party keys."""
        return set(self.reasons)


def black_list_types(catalog: Catalog) -> frozenset[str]:
    """Return the list types that trigger a mandatory measure: being on one is punishment."""
    return frozenset(t for m in catalog.measures if m.mandatory for t in m.list_types) | {COURT_LIST}


def punished_parties(view: View, as_of: dt.date, catalog: Catalog | None = None, *,
                     memo: dict[tuple[Any, ...], list[tuple[str, SourceReason]]] | None = None,
                     log: EntryLog | None = None) -> PunishedSet:
    """Return the parties punished on ``as_of``: subjects of black-list and court entries in
    force, and people reached by a mandatory measure (``memo`` keeps each entry's people
    between calls while the links stay the same, so a list change costs only its entry;
    ``log`` keeps the entries read, so a call reads only those stored since)."""
    catalog = catalog or load_catalog()
    black = black_list_types(catalog)
    book = ActionBook.load(view)
    names = _Names(view)
    out = PunishedSet(as_of)
    for entry in triggering_entries(view, catalog, log):
        status = judge(entry, as_of, book)
        if not status.active:
            continue
        lt = list_type_of(entry)
        attrs = entry.attrs or {}
        decision = str(attrs.get("decision_no") or attrs.get("case_no") or "")
        authority = str(attrs.get("authority") or attrs.get("court") or "")
        memo_key = (entry.id, as_of, status.state, status.since, status.until)
        if memo is not None and memo_key in memo:
            for key, reason in memo[memo_key]:
                out.reasons.setdefault(key, []).append(reason)
            continue
        found: list[tuple[str, SourceReason]] = []
        if lt in black:
            found.append((names.resolve(entry.subject), SourceReason("listed", entry.id, lt, decision, authority,
                                                                     entry.start)))
        per_person: dict[tuple[str, str, str], list[str]] = {}
        firm_of: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        for p in entry_punishments(view, entry, status, catalog, names=names):
            if p.role == "subject" or not p.mandatory or not p.active(as_of) or TO_VERIFY_FLAG in p.flags:
                continue  # (a responsibility nobody has confirmed warns nobody)
            k = (p.person, p.role, p.path[0].link_id if p.path else "")
            per_person.setdefault(k, []).append(p.measure_code)
            firm_of[k] = (p.firm, p.firm_name, p.role_zh)
        for k, codes in per_person.items():
            firm, firm_name, role_zh = firm_of[k]
            found.append((k[0], SourceReason(
                "reached", entry.id, lt, decision, authority, entry.start, firm, firm_name, k[1], role_zh,
                tuple(sorted(set(codes))))))
        if memo is not None:
            memo[memo_key] = found
        for key, reason in found:
            out.reasons.setdefault(key, []).append(reason)
    for reasons in out.reasons.values():
        reasons.sort(key=lambda r: (r.how, r.entry_id, r.role))
    return out


# -- subject lookup -------------------------------------------------------------------------
def direct_key(text: str) -> str | None:
    """Return the party key ``text`` names without a search (itself when a party key, ``org:``
    or ``per:`` and the code for a valid USCC or resident ID), or None: :func:`resolve_subject`
    then searches names and codes, which can be slow (callers may run it elsewhere)."""
    text = text.strip()
    if text.startswith(KEY_PREFIXES):
        return text
    code = normalise_code(text)
    if len(code) == 18 and "*" not in code:
        # a resident ID is checked only when the code is no USCC (as the USCC check wins anyway)
        prefix = "org:" if check_uscc(code).valid else "per:" if check_resident_id(code).valid else ""
        if prefix:
            return prefix + code
    return None


def resolve_subject(view: View, key: str) -> Party:
    """Return the party a party key, USCC, resident ID or name designates; an ambiguous name
    raises InvalidInput listing the candidates, an unknown one NotFound."""
    text = (key or "").strip()
    if not text:
        raise InvalidInput("请输入统一社会信用代码、身份证号码或名称 (give a party key, USCC, resident ID or name "
                           "to check)", field="key")
    if normalise_code(text) == NO_CODE:
        # the registers' "no code" marker: thousands of firms carry it, so it names none of them
        # (searching it listed ten at random, after a scan of every one)
        raise InvalidInput(f"{NO_CODE} 表示无统一社会信用代码,不能据此识别主体,请按名称或身份证号码核查 (the "
                           "no-code marker names no party; check by name or ID)", field="key")
    direct = direct_key(text)
    if direct is not None:
        party = view.party(direct)
        if party is None and direct.startswith("org:") and check_resident_id(direct[4:]).valid:
            party = view.party("per:" + direct[4:])  # digits valid as both: a person's ID after all
        if party is None:
            raise NotFound(f"没有该主体 (no party {text})" if direct == text else
                           f"没有代码为 {direct[4:]} 的主体 (no party with code {direct[4:]})")
        return party
    hits = view.search(text, limit=10)
    exact = [h for h in hits if h.how in ("exact", "code", "id")]
    chosen = exact if exact else [h for h in hits if h.score >= 90]
    if len(chosen) == 1 and (exact or len(hits) == 1):
        return chosen[0].party
    if not hits:
        raise NotFound(f"没有与 {text!r} 匹配的主体,请输入统一社会信用代码或身份证号码 (no party matches; give a "
                       "USCC or resident ID)")
    listing = "; ".join(f"{h.party.name} ({h.party.key}, {h.how} {h.score:g})" for h in (chosen or hits)[:10])
    raise InvalidInput(f"{text!r} 对应多个主体,请按代码核查其中之一 (ambiguous, candidates): {listing}", field="key")


# -- direct computation of link hits ----------------------------------------------------------
class _Ball:
    """The links within ``hops`` of a subject, loaded through the view, as undirected arcs."""

    def __init__(self, view: View, subject: str, as_of: dt.date, hops: int, cfg: RiskConfig) -> None:
        self.view = view
        self.resolved: dict[str, str] = {}
        self.arcs: dict[str, list[tuple[str, Link, bool]]] = {}
        self.degree: dict[str, int] = {}
        self.dist: dict[str, int] = {subject: 0}
        self.capped: set[str] = set()
        seen_links: set[str] = set()
        frontier = [subject]
        for d in range(hops):
            nxt: list[str] = []
            for x in frontier:
                links = view.links(x, as_of=as_of)
                self.degree[x] = len(links)
                if x != subject and len(links) > cfg.hard_cap:
                    self.capped.add(x)
                    continue
                for lk in links:
                    u, v = self.resolve(lk.src), self.resolve(lk.dst)
                    if u == v:
                        continue
                    other = v if u == x else u
                    if lk.id not in seen_links:
                        seen_links.add(lk.id)
                        self.arcs.setdefault(u, []).append((v, lk, True))
                        self.arcs.setdefault(v, []).append((u, lk, False))
                    if other not in self.dist:
                        self.dist[other] = d + 1
                        nxt.append(other)
            frontier = nxt

    def resolve(self, key: str) -> str:
        got = self.resolved.get(key)
        if got is None:
            got = self.view.resolve(key)
            self.resolved[key] = got
        return got


def direct_hits(
    view: View, subject: str, as_of: dt.date, hops: int, cfg: RiskConfig, sources: Iterable[str]
) -> tuple[list[LinkHit], set[str]]:
    """Return the strongest walk from each punished party in ``sources`` within ``hops`` of
    ``subject`` (computed through the view), and the hubs not passed through."""
    ball = _Ball(view, subject, as_of, hops, cfg)
    hits: list[LinkHit] = []
    for src in sorted(set(sources) & set(ball.dist)):
        if src == subject:
            continue
        hit = _walk_from(ball, src, subject, hops, cfg)
        if hit is not None:
            hits.append(hit)
    return hits, ball.capped


def _walk_from(ball: _Ball, src: str, subject: str, hops: int, cfg: RiskConfig) -> LinkHit | None:
    layer: dict[str, float] = {src: 1.0}
    preds: list[dict[str, tuple[str, Link, bool]]] = [{}]
    best: tuple[float, int] | None = None
    for h in range(1, hops + 1):
        new: dict[str, tuple[float, str, str, Link, bool]] = {}
        for y, val in layer.items():
            hub = False
            if h > 1:
                deg = ball.degree.get(y, 0)
                if deg > cfg.hard_cap:
                    continue
                hub = deg > cfg.soft_cap
            for z, lk, fwd in ball.arcs.get(y, ()):
                if z == src:
                    continue
                src_key, dst_key = (y, z) if fwd else (z, y)
                w = arc_weight(cfg, lk.kind, fwd, lk.ratio, is_org_key(src_key), is_org_key(dst_key))
                nv = val * step_factor(cfg, w, h, hub)
                if nv < cfg.min_strength:
                    continue
                tie = lk.id  # equal strengths: the smaller link id wins, as in the index
                old = new.get(z)
                if old is None or nv > old[0] or (nv == old[0] and tie < old[1]):
                    new[z] = (nv, tie, y, lk, fwd)
        layer = {z: t[0] for z, t in new.items()}
        preds.append({z: (t[2], t[3], t[4]) for z, t in new.items()})
        if subject in layer and (best is None or layer[subject] > best[0]):
            best = (layer[subject], h)
        if not layer:
            break
    if best is None:
        return None
    strength, h = best
    nodes = [subject]
    links: list[Link] = []
    src_first: list[bool] = []
    cur = subject
    for level in range(h, 0, -1):
        y, lk, fwd = preds[level][cur]
        links.append(lk)
        src_first.append(not fwd)
        nodes.append(y)
        cur = y
    hubs = tuple((n, ball.degree.get(n, 0)) for n in nodes[1:-1] if ball.degree.get(n, 0) > cfg.soft_cap)
    return LinkHit(src, strength, tuple(nodes), tuple(links), tuple(src_first), hubs)


# -- the check --------------------------------------------------------------------------------
def check(
    view: View,
    key: str,
    as_of: dt.date | None = None,
    hops: int = 3,
    *,
    catalog: Catalog | None = None,
    config: RiskConfig | None = None,
    index: Any = None,
    earlier: bool = False,
) -> RiskReport:
    """Return the risk report of the firm or person ``key`` (party key, USCC, resident ID or
    name) on ``as_of`` (today when None), looking ``hops`` links out.

    ``earlier``: ``index`` may be of an earlier store version (the caller knows only records
    changed since); the report then says by how many versions it is ``behind``."""
    if hops < 0 or hops > 6:
        raise InvalidInput("hops must be between 0 and 6", field="hops")
    as_of = as_of or dt.date.today()
    catalog = catalog or load_catalog()
    cfg = config or DEFAULT_CONFIG
    answered = index is not None and index.answers(view, as_of, hops, cfg, catalog, earlier=earlier)
    report = _check(view, key, as_of, hops, catalog, cfg, index if answered else None)
    if answered and earlier and index.version != view.version():
        return replace(report, behind=view.version() - index.version)
    return report


def _check(view: View, key: str, as_of: dt.date, hops: int, catalog: Catalog, cfg: RiskConfig,
           index: Any) -> RiskReport:
    """:func:`check` with ``index`` None unless it answers for these arguments."""
    answered = index is not None
    found = None
    if answered:
        direct = direct_key(key)
        found = index.own_party(view, direct) if direct is not None else None
        if found is not None and found[3]:
            # most parties have nothing near them: one look-up answers (most checks of approval desks)
            assert direct is not None
            return RiskReport(key=direct, name=found[2], kind=found[1], as_of=as_of, hops=hops, grade="A",
                              sampling_ratio=cfg.sampling_ratio("A"), warnings=(), records=(), red_listed=False,
                              method="index")
    if found is not None:
        # stored under its own key: that look-up gave the key, kind and name, all a report
        # reads of its subject, and the node (no second and third look-up of the same row)
        assert direct is not None
        subject = Party(direct, PartyKind(found[1]), found[2])
    else:
        subject = resolve_subject(view, key)
    own = True  # whether the subject's own records must be read
    parties_of = None
    warning_memo = None
    if answered:
        # a party's own key: no alias to follow
        node = found[0] if found is not None else index.node_of(view, subject.key, resolved=True)
        hits, capped = index.hits_of(view, subject.key, node=node)
        own = index.has_records(node)
        reasons = index.reasons
        book = index.book
        method = "index"
        parties_of = partial(index.path_parties, view)
        warning_memo = index.warning_memo
    else:
        punished = punished_parties(view, as_of, catalog)
        hits, capped = direct_hits(view, subject.key, as_of, hops, cfg, punished.keys())
        reasons = punished.reasons
        book = None
        method = "direct"
    return assemble(view, subject, as_of, hops, cfg, catalog, hits, capped, reasons, method, book, own_records=own,
                    parties_of=parties_of, warning_memo=warning_memo)


def assemble(
    view: View,
    subject: Party,
    as_of: dt.date,
    hops: int,
    cfg: RiskConfig,
    catalog: Catalog,
    hits: Sequence[LinkHit],
    capped: Iterable[str],
    reasons: dict[str, list[SourceReason]],
    method: str,
    book: ActionBook | None = None,
    *,
    own_records: bool = True,
    parties_of: Callable[[Iterable[str]], dict[str, Party]] | None = None,
    warning_memo: dict[Any, Any] | None = None,
) -> RiskReport:
    """Return the report from the subject's own records and its link hits (``book``: every
    repair and objection, when the caller holds them already; ``own_records`` False: the
    caller knows the subject has no list entry, court entry or penalty, so none is read;
    ``parties_of``: how to fetch the parties on the paths, ``view.parties`` by default;
    ``warning_memo``: the store version's memo of warning pieces, see :func:`_link_warning`)."""
    if own_records:
        warnings, refs, red, black = _own(view, subject, as_of, cfg, catalog, book)
    else:
        warnings, refs, red, black = [], [], False, False
    for r in reasons.get(subject.key, ()):
        if r.how == "reached":
            warnings.append(Warning(
                "R006", "高", f"本人作为{r.firm_name or r.firm}的{r.role_zh},因该主体被列入{r.list_type}"
                f"(决定文号 {r.decision_no or '无'},{r.start} 列入)受联合惩戒:{'、'.join(r.measures)}",
                counterpart=r.firm, sources=(SourceRef(r.entry_id, RecordKind.LIST_ENTRY.value if r.list_type != COURT_LIST
                                                         else RecordKind.COURT_DISHONEST.value, r.list_type,
                                                         r.decision_no, r.authority, r.start, "生效"),)))
            black = True
    ranked = sorted((h for h in hits if h.source != subject.key and not _derivative(h, reasons.get(h.source, ()))),
                    key=lambda h: (-h.strength, len(h.links), h.source))
    ranked = ranked[: cfg.max_link_warnings]
    keys = {n for h in ranked for n in h.nodes} - {subject.key}  # the subject is at hand
    parties = (parties_of or view.parties)(keys) if keys else {}
    parties[subject.key] = subject
    link_warnings = [_link_warning(cfg, h, parties, reasons.get(h.source, []), warning_memo) for h in ranked]
    warnings.extend(link_warnings)
    if red and (black or link_warnings):
        worst = "高" if black or any(w.level == "高" for w in link_warnings) else "中"
        against = [w.counterpart for w in link_warnings]
        what = "本主体同时受失信惩戒" if black else f"关联{len(against)}个失信主体"
        # named as people read them (the keys are the link warnings' counterparts)
        named = tuple(f"关联失信主体:{getattr(parties.get(k), 'name', '') or k}" for k in against)
        warnings.append(Warning("R020", worst, f"红黑名单冲突:本主体在红名单上,{what}",
                                sources=tuple(r for r in refs if RED_MARK in r.list_type), notes=named))
    order = {"高": 0, "中": 1, "低": 2}
    warnings.sort(key=lambda w: (order[w.level], -w.strength, w.code, w.counterpart))
    grade = "A"
    if warnings:
        grade = {"高": "D", "中": "C", "低": "B"}[warnings[0].level]
    return RiskReport(
        key=subject.key, name=subject.name, kind=subject.kind.value, as_of=as_of, hops=hops, grade=grade,
        sampling_ratio=cfg.sampling_ratio(grade), warnings=tuple(warnings), records=tuple(refs), red_listed=red,
        method=method, capped=tuple(sorted(capped)),
    )


def _derivative(hit: LinkHit, reasons: Sequence[SourceReason]) -> bool:
    """A person punished only through firms the path already passes (or the subject itself):
    the warning about that firm, or the subject's own records, already say it."""
    return bool(reasons) and all(r.how == "reached" and r.firm in hit.nodes for r in reasons)


def _own(view: View, subject: Party, as_of: dt.date, cfg: RiskConfig, catalog: Catalog,
         book: ActionBook | None) -> tuple[list[Warning], list[SourceRef], bool, bool]:
    records = list(view.records(subject.key, kinds=[RecordKind.LIST_ENTRY, RecordKind.COURT_DISHONEST,
                                                          RecordKind.PENALTY]))
    book = book if book is not None else ActionBook.for_entries(view, records)
    black_types = black_list_types(catalog)
    warnings: list[Warning] = []
    refs: list[SourceRef] = []
    red = black = False
    since = _years_before(as_of, cfg.penalty_years)
    for r in sorted(records, key=lambda r: (r.start or dt.date.min, r.id)):
        status = judge(r, as_of, book)
        attrs = r.attrs or {}
        lt = list_type_of(r) if r.kind != RecordKind.PENALTY else "行政处罚"
        ref = SourceRef(r.id, r.kind.value, lt, str(attrs.get("decision_no") or attrs.get("case_no") or ""),
                        str(attrs.get("authority") or attrs.get("court") or ""), r.start, status.state.label_zh)
        if status.state in (EntryState.NOT_LISTED, EntryState.REVOKED):
            # revoked (an objection upheld, 撤销): wrong information, as if never listed, so not
            # shown; repaired or expired entries stay in the history with their state
            continue
        refs.append(ref)
        if not status.active:
            continue
        pending = ";异议处理中" if status.pending_objections else ""
        if r.kind == RecordKind.PENALTY:
            if r.start is None or r.start < since:
                continue
            serious = _serious(attrs, cfg)
            warnings.append(Warning("R005", "中" if serious else "低",
                                    f"{r.start} 受行政处罚({attrs.get('penalty_type') or '处罚'}"
                                    f"{',罚款' + str(attrs.get('fine')) + '万元' if attrs.get('fine') else ''}),"
                                    f"决定文号 {ref.decision_no or '无'}{pending}", sources=(ref,)))
        elif RED_MARK in lt:
            red = True
        elif r.kind == RecordKind.COURT_DISHONEST:
            black = True
            warnings.append(Warning("R002", "高", f"本主体为失信被执行人(案号 {ref.decision_no or '无'},"
                                    f"{ref.authority},{r.start} 发布){pending}", sources=(ref,)))
        elif lt in black_types:
            black = True
            warnings.append(Warning("R001", "高", f"本主体被{ref.authority or '认定部门'}列入{lt}"
                                    f"(决定文号 {ref.decision_no or '无'},{r.start} 列入){pending}", sources=(ref,)))
        elif lt == ATTENTION_LIST:
            warnings.append(Warning("R003", "中", f"本主体被列入重点关注名单({r.start} 列入){pending}", sources=(ref,)))
        else:
            warnings.append(Warning("R004", "低", f"本主体被列入{lt or '名单'}({r.start} 列入){pending}",
                                    sources=(ref,)))
    return warnings, refs, red, black


def _serious(attrs: dict[str, Any], cfg: RiskConfig) -> bool:
    text = f"{attrs.get('penalty_type') or ''}{attrs.get('content') or ''}"
    if any(word in text for word in _SERIOUS_PENALTIES):
        return True
    try:
        return float(attrs.get("fine") or 0) >= cfg.serious_fine
    except (TypeError, ValueError):
        return False


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _link_warning(cfg: RiskConfig, hit: LinkHit, parties: dict[str, Party],
                  reasons: Sequence[SourceReason], memo: dict[Any, Any] | None = None) -> Warning:
    """The warning about ``hit``. ``memo`` (one store version's, from the risk index) keeps the
    pieces that do not depend on the subject: each party's path node, each link's step and
    each punished party's reasons, which recur in the answers of many subjects."""
    memo = {} if memo is None else memo
    if len(memo) > _WARNING_MEMO_LIMIT:
        memo.clear()  # a bound, not an LRU: refilled by the next answers
    nodes = tuple(_path_node(memo, k, parties) for k in hit.nodes)
    names = {node.key: node.name for node in nodes}
    steps: list[PathStep] = []
    chain = [names[hit.nodes[0]]]
    for i, lk in enumerate(hit.links):
        a, b = hit.nodes[i], hit.nodes[i + 1]
        step, label = _path_step(memo, lk, *((a, b) if hit.src_first[i] else (b, a)), names)
        steps.append(step)
        chain.append(f"—{label}—{names[b]}")
    code, why, sources = _source_part(memo, hit.source, names[hit.source], reasons)
    notes = tuple(f"经高连接度节点{names.get(k) or k}(关联{deg}个主体)关联,已降权" for k, deg in hit.hubs)
    message = f"{len(hit.links)}度关联:{''.join(chain)};{why}" + ("。" + ";".join(notes) if notes else "")
    return Warning(code, level_of(cfg, hit.strength), message, round(hit.strength, 6), len(hit.links), hit.source,
                   nodes, tuple(steps), sources, notes)


_WARNING_MEMO_LIMIT = 30_000
_LINK_LABELS_ZH = {kind: link_spec(kind).label_zh for kind in LinkKind}


def _path_node(memo: dict[Any, Any], key: str, parties: dict[str, Party]) -> PathNode:
    node = memo.get(("node", key))
    if node is None:
        p = parties.get(key)
        node = PathNode(key, p.name or key, PARTY_LABELS_ZH.get(p.kind, p.kind.value)) if p is not None else \
            PathNode(key, key, "")
        if p is not None:  # a party missing now may be read later: not remembered
            memo[("node", key)] = node
    return node


def _path_step(memo: dict[Any, Any], lk: Link, src: str, dst: str, names: dict[str, str]) -> tuple[PathStep, str]:
    """The step of ``lk`` between the parties it joins (the path shows the parties an
    unresolved end resolves to) and its label in the path's text."""
    got = memo.get(("step", lk.id, src, dst))
    if got is None:
        label_zh = _LINK_LABELS_ZH[LinkKind(lk.kind)]
        step = PathStep(lk.id, lk.kind, label_zh, lk.title, src, names[src], dst, names[dst], lk.start, lk.end,
                        lk.ratio)
        label = lk.title or label_zh
        if lk.kind == LinkKind.SHAREHOLDER and lk.ratio is not None:
            label += f"{lk.ratio:.0%}"
        got = memo[("step", lk.id, src, dst)] = (step, label)
    return got


def _source_part(memo: dict[Any, Any], source: str, name: str,
                 reasons: Sequence[SourceReason]) -> tuple[str, str, tuple[SourceRef, ...]]:
    """Why the punished party ``source`` counts (code, text) and the records it rests on."""
    got = memo.get(("source", source))
    if got is None:
        listed = [r for r in reasons if r.how == "listed"]
        if listed:
            r = listed[0]
            why = f"{name}被列入{r.list_type}(决定文号 {r.decision_no or '无'},{r.start} 列入)"
            code = "R010"
        elif reasons:
            r = reasons[0]
            why = (f"{name}作为{r.firm_name or r.firm}的{r.role_zh}受联合惩戒"
                   f"({r.list_type},决定文号 {r.decision_no or '无'})")
            code = "R011"
        else:
            why, code = f"{name}受联合惩戒", "R011"
        sources = tuple(SourceRef(r.entry_id, RecordKind.COURT_DISHONEST.value if r.list_type == COURT_LIST
                                  else RecordKind.LIST_ENTRY.value, r.list_type, r.decision_no, r.authority, r.start,
                                  "生效") for r in reasons)
        got = memo[("source", source)] = (code, why, sources)
    return got


def subject_kind_zh(party: Party) -> str:
    """Return the kind of a party in Chinese."""
    return PARTY_LABELS_ZH.get(party.kind, party.kind.value)


__all__ = [
    "DEFAULT_CONFIG", "LinkHit", "PathNode", "PunishedSet", "RiskConfig", "RiskReport", "SourceReason", "SourceRef",
    "Warning", "arc_weight", "assemble", "black_list_types", "check", "direct_hits", "direct_key", "level_of",
    "punished_parties",
    "resolve_subject", "step_factor"
]
