"""Tests of ingest.facts fast paths: derived chains, officer titles and link kinds against
the straightforward implementations they replace."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from graph.model import Link, LinkKind, Party, PartyKind, Record, RecordKind, Source
from graph.schema import OFFICER_TITLES
from graph.store import fact_id
from ingest import facts
from ingest.facts import ADDRESS_CHANGE_ITEMS, LR_CHANGE_ITEMS, derive_chains, officer_kinds
from ingest.identity import person_identity
from ingest.normalise import clean_text, normalise_address, person_name_key

# ---------------------------------------------------------------------------------------
# derive_chains as it was written before the no-change fast path (the reference)
# ---------------------------------------------------------------------------------------


def _plain_chain(
    current: str, current_id: str, established: dt.date | None, changes: list[Record], source: Source | None
) -> list[facts._Holding]:
    holding = facts._Holding
    changes = sorted((c for c in changes if c.start is not None), key=lambda c: (c.start, c.id))
    if not changes:
        return [holding(current, current_id, established, None, source)] if current else []
    out: list[facts._Holding] = []
    first = changes[0]
    before = clean_text(first.attrs.get("before", ""))
    if before:
        out.append(holding(before, current_id if _plain_same(before, current) else "", established, first.start,
                           first.source))
    for i, c in enumerate(changes):
        after = clean_text(c.attrs.get("after", ""))
        end = changes[i + 1].start if i + 1 < len(changes) else None
        if after:
            out.append(holding(after, current_id if _plain_same(after, current) else "", c.start, end, c.source))
    if current and not _plain_same(out[-1].value if out else "", current):
        last = out[-1] if out else None
        if last is not None:
            out[-1] = holding(last.value, last.ident, last.start, last.start, last.source)
        out.append(holding(current, current_id, last.start if last else established, None, source))
    return [h for h in out if h.start is None or h.end is None or h.start < h.end]


def _plain_same(a: str, b: str) -> bool:
    return bool(a) and person_name_key(a) == person_name_key(b)


def _plain_derive_chains(
    firm: Party | None, firm_key: str, changes: list[Record]
) -> tuple[list[Party], dict[LinkKind, list[Link]]]:
    attrs = firm.attrs if firm is not None else {}
    established = firm.start if firm is not None else None
    source = firm.source if firm is not None else None
    rep_kind = LinkKind(attrs.get("rep_kind", LinkKind.LEGAL_REPRESENTATIVE.value))
    rep_changes = [c for c in changes if facts._change_class(c.attrs.get("item", "")) == "rep"]
    addr_changes = [c for c in changes if facts._change_class(c.attrs.get("item", "")) == "address"]
    parties: list[Party] = []
    links: dict[LinkKind, list[Link]] = {rep_kind: [], LinkKind.SHARED_ADDRESS: []}
    for h in _plain_chain(attrs.get("rep_name", ""), attrs.get("rep_id", ""), established, rep_changes, source):
        ident = person_identity(h.ident, h.value, firm_key)
        parties.append(Party(ident.key, ident.kind, h.value, ident.code, flags=ident.flags,
                             attrs={"context": ident.context} if ident.context else {}, source=h.source))
        links[rep_kind].append(
            Link(fact_id(rep_kind, ident.key, firm_key, h.start, h.end), rep_kind, ident.key, firm_key, h.start, h.end,
                 title="法定代表人" if rep_kind == LinkKind.LEGAL_REPRESENTATIVE else "负责人", source=h.source)
        )
    for h in _plain_chain(attrs.get("address", ""), "", established, addr_changes, source):
        value = normalise_address(h.value)
        if not value:
            continue
        key = "adr:" + value
        parties.append(Party(key, PartyKind.ADDRESS, value, source=h.source))
        links[LinkKind.SHARED_ADDRESS].append(
            Link(fact_id(LinkKind.SHARED_ADDRESS, firm_key, key, h.start, h.end), LinkKind.SHARED_ADDRESS, firm_key,
                 key, h.start, h.end, source=h.source)
        )
    return parties, links


def _full(result: tuple[list[Party], dict[LinkKind, list[Link]]]) -> object:
    """The result with what dataclass equality leaves out (Party.attrs) and the dict order."""
    parties, links = result
    return [(p, p.attrs) for p in parties], list(links.items())


FIRM = "org:91110000600037341L"
PEOPLE = ["张三", "李四", "王 五", "買買提·吐爾遜", "买买提.吐尔逊", ""]
IDS = ["", "11010519491231002X", "1101**********002X", "123"]
ADDRESSES = ["郑州市金水区花园路1号", "鄭州市金水區 花园路1号。", "", "  "]
dates = st.none() | st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2024, 12, 31))
items = st.sampled_from([*LR_CHANGE_ITEMS, *ADDRESS_CHANGE_ITEMS, "法定代表人变更", "住所变更", "经营范围", "名称"])


@st.composite
def firms(draw: st.DrawFn) -> Party | None:
    if draw(st.booleans()) and draw(st.booleans()):
        return None
    attrs = {
        "rep_name": draw(st.sampled_from(PEOPLE)),
        "rep_id": draw(st.sampled_from(IDS)),
        "address": draw(st.sampled_from(ADDRESSES)),
    }
    if draw(st.booleans()):
        attrs["rep_kind"] = draw(st.sampled_from([LinkKind.LEGAL_REPRESENTATIVE.value, LinkKind.PRINCIPAL.value]))
    attrs = {k: v for k, v in attrs.items() if v}
    return Party(FIRM, PartyKind.ENTERPRISE, "鑫源商贸有限公司", start=draw(dates), attrs=attrs,
                 source=Source("registrations.csv", draw(st.integers(1, 9)), "r"))


@st.composite
def change_lists(draw: st.DrawFn) -> list[Record]:
    out = []
    for n in range(draw(st.integers(0, 4))):
        item = draw(items)
        before = draw(st.sampled_from(PEOPLE + ADDRESSES))
        after = draw(st.sampled_from(PEOPLE + ADDRESSES))
        when = draw(dates)
        out.append(Record(fact_id(RecordKind.CHANGE, FIRM, item, before, after, when), RecordKind.CHANGE, FIRM,
                          when, None, {"item": item, "before": before, "after": after},
                          source=Source("changes.csv", n + 1, "r")))
    return out


@given(firms(), change_lists())
@example(None, [])
def test_derive_chains_matches_reference(firm: Party | None, changes: list[Record]) -> None:
    assert _full(derive_chains(firm, FIRM, changes)) == _full(_plain_derive_chains(firm, FIRM, changes))


@given(firms())
def test_derive_chains_without_changes_matches_reference(firm: Party | None) -> None:
    # the fast path most firms take
    assert _full(derive_chains(firm, FIRM, [])) == _full(_plain_derive_chains(firm, FIRM, []))


@given(st.sampled_from(PEOPLE), st.sampled_from(IDS), dates, change_lists())
def test_chain_matches_reference(current: str, current_id: str, established: dt.date | None,
                                 changes: list[Record]) -> None:
    source = Source("registrations.csv", 1, "r")
    assert facts._chain(current, current_id, established, changes, source) == \
        _plain_chain(current, current_id, established, changes, source)


def test_link_kind_is_the_enum_lookup() -> None:
    for kind in LinkKind:
        assert facts._link_kind(kind.value) is LinkKind(kind.value)
        assert facts._link_kind(kind) is kind
    with pytest.raises(ValueError, match="not a valid LinkKind"):
        facts._link_kind("no such kind")


@given(st.one_of(
    st.sampled_from(sorted(OFFICER_TITLES)),
    st.lists(st.sampled_from(sorted(OFFICER_TITLES)), min_size=1, max_size=3).flatmap(
        lambda parts: st.sampled_from(["兼", "、", "/", ","]).map(lambda sep: sep.join(parts))
    ),
    st.text(alphabet="董事长监总经理财务负责人兼、/, 其他", max_size=10),
))
def test_officer_kinds_match_reference(title: str) -> None:
    assert officer_kinds(title) == facts._reference_officer_kinds(title)
    assert facts._officer_kinds(title) == tuple(facts._reference_officer_kinds(title))
