"""Control view (股权穿透): shareholding chains from a firm up to its ultimate holders.

Use :func:`control_chains` for a firm: every chain of shareholdings that ends at a natural
person or at an organisation with no known shareholders, with the ratios multiplied along
the chain, and per ultimate holder the sum over all its chains (its look-through stake).
Declared actual controllers and beneficial owners are listed beside the computed ones.
Cross-holdings (A holds B holds A) are cut where a chain would revisit a firm.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from graph.model import LinkKind
from graph.store import View

MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Hop:
    """One shareholding on a chain: ``holder`` holds ``ratio`` of ``firm``."""

    holder: str
    holder_name: str
    firm: str
    firm_name: str
    ratio: float | None
    link_id: str
    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True, slots=True)
class Chain:
    """A chain from the firm up to an ultimate holder; ``ratio`` is the product (None when a
    ratio on the way is unknown)."""

    hops: tuple[Hop, ...]
    ratio: float | None
    cut: bool = False  # a cycle or the depth limit stopped it


@dataclass(frozen=True, slots=True)
class UltimateHolder:
    """A party at the top of one or more chains, with its look-through stake."""

    key: str
    name: str
    kind: str
    ratio: float  # summed over chains with known ratios
    chains: int
    unknown_ratio_chains: int


@dataclass(slots=True)
class ControlReport:
    """Chains, ultimate holders (largest first) and the declared controllers."""

    firm: str
    firm_name: str
    as_of: dt.date | None
    chains: list[Chain] = field(default_factory=list)
    holders: list[UltimateHolder] = field(default_factory=list)
    declared: list[Hop] = field(default_factory=list)


def control_chains(view: View, key: str, *, as_of: dt.date | None = None, max_depth: int = MAX_DEPTH) -> ControlReport:
    """Return the shareholding chains of firm ``key`` up to its ultimate holders on ``as_of``."""
    firm = view.party(key)
    if firm is None:
        from graph.store import NotFound

        raise NotFound(f"no party {key}")
    names: dict[str, str] = {firm.key: firm.name}
    report = ControlReport(firm.key, firm.name, as_of)

    def name_of(k: str) -> str:
        if k not in names:
            p = view.party(k)
            names[k] = p.name if p else k
        return names[k]

    holders_cache: dict[str, list] = {}

    def holders(k: str) -> list:
        if k not in holders_cache:
            holders_cache[k] = view.links(k, as_of=as_of, kinds=[LinkKind.SHAREHOLDER], direction="in")
        return holders_cache[k]

    def walk(current: str, path: tuple[Hop, ...], ratio: float | None, seen: frozenset[str]) -> None:
        above = holders(current)
        if not above:
            if path:
                report.chains.append(Chain(path, ratio))
            return
        for link in above:
            hop = Hop(link.src, name_of(link.src), current, name_of(current), link.ratio, link.id, link.start, link.end)
            product = None if ratio is None or link.ratio is None else ratio * link.ratio
            if link.src in seen or len(path) + 1 >= max_depth:
                report.chains.append(Chain((*path, hop), product, cut=True))
                continue
            walk(link.src, (*path, hop), product, seen | {link.src})

    walk(firm.key, (), 1.0, frozenset({firm.key}))
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0])
    for chain in report.chains:
        top = chain.hops[-1].holder
        entry = totals[top]
        entry[1] += 1
        if chain.ratio is None:
            entry[2] += 1
        else:
            entry[0] += chain.ratio
    parties = view.parties(totals)
    report.holders = sorted(
        (
            UltimateHolder(k, name_of(k), parties[k].kind.value if k in parties else "", round(v[0], 6), int(v[1]), int(v[2]))
            for k, v in totals.items()
        ),
        key=lambda h: (-h.ratio, h.key),
    )
    for link in view.links(firm.key, as_of=as_of, kinds=[LinkKind.ACTUAL_CONTROLLER, LinkKind.BENEFICIAL_OWNER],
                           direction="in"):
        report.declared.append(Hop(link.src, name_of(link.src), firm.key, firm.name, link.ratio, link.id, link.start,
                                   link.end))
    return report
