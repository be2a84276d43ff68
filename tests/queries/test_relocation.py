"""Relocation detection (易地开张) on hand-made graphs: signals, hard negatives, evidence, runs."""

from __future__ import annotations

import datetime as dt

import pytest

from graph.model import Alias, LinkKind, Party, PartyKind
from queries.relocation import (
    DEFAULT_CONFIG,
    detect_relocations,
    explain_pair,
    filter_since,
    new_since_last,
    run_meta,
    trade_key,
    trade_relation,
)
from tests.factories import d, firm, link, list_entry, person, uscc, write_graph


def _firm(name: str, trade: str, *, start: str, region: str = "410105", industry: str = "商贸", **attrs: object):
    return firm(name, uscc(division=region), start=start, region=region, trade_name=trade, industry=industry,
                scope=attrs.pop("scope", "日用百货、五金交电销售"), **attrs)


@pytest.fixture
def base(store):
    """A blacklisted firm A (listed 2020-06-01) with a legal rep, a controller, a supervisor and a phone."""
    a = _firm("郑州市鑫源商贸有限公司", "鑫源", start="2012-03-01")
    lr, boss, sup = person("张伟"), person("李强"), person("王芳")
    parties = [a, lr, boss, sup, Party("tel:13800000001", PartyKind.PHONE, "13800000001")]
    links = [
        link(LinkKind.LEGAL_REPRESENTATIVE, lr, a, "2012-03-01"),
        link(LinkKind.SHAREHOLDER, boss, a, "2012-03-01", ratio=0.7),
        link(LinkKind.ACTUAL_CONTROLLER, boss, a, "2012-03-01"),
        link(LinkKind.SUPERVISOR, sup, a, "2012-03-01"),
        link(LinkKind.SHARED_PHONE, a, "tel:13800000001", "2012-03-01"),
    ]
    entry = list_entry(a, "2020-06-01", act_date="2020-03-01")
    write_graph(store, parties, links, [entry])
    return {"a": a, "lr": lr, "boss": boss, "sup": sup, "entry": entry}


def _cases(store, **kw):
    return {c.new: c for c in detect_relocations(store.view(), **kw).cases}


def test_same_person_elsewhere_is_a_high_case_with_waterfall_evidence(store, base):
    b = _firm("武汉市鑫源贸易有限公司", "鑫源", start="2021-02-01", region="420102", industry="贸易")
    write_graph(store, [b], [link(LinkKind.LEGAL_REPRESENTATIVE, base["lr"], b, "2021-02-01")])
    case = _cases(store)[b.key]
    assert case.pattern == "same_person" and case.level == "高" and case.region == "易地"
    assert case.old_uscc == base["a"].code and case.new_uscc == b.code and case.score >= 0.85
    assert abs(sum(e.contribution for e in case.evidence) - case.score) < 1e-4
    person_ev = [e for e in case.evidence if e.feature == "shared_person"]
    assert person_ev and "张伟" in person_ev[0].detail and "法定代表人" in person_ev[0].detail
    assert person_ev[0].parties == (base["lr"].key,)
    assert any(e.feature == "trade_name" for e in case.evidence)
    assert case.as_dict()["evidence"][0]["feature"] == case.evidence[0].feature


def test_nominee_officer_and_shared_contact_patterns(store, base):
    nominee_firm = _firm("洛阳市华联商贸有限公司", "华联", start="2021-05-01", region="410302")
    officer_firm = _firm("郑州市金水区宏达科技有限公司", "宏达", start="2022-01-01", industry="科技")
    contact_firm = _firm("鑫源商贸(开封)有限公司", "鑫源", start="2021-09-01", region="410205")
    stranger, fresh = person("赵敏"), person("孙丽")
    write_graph(store, [nominee_firm, officer_firm, contact_firm, stranger, fresh], [
        link(LinkKind.LEGAL_REPRESENTATIVE, stranger, nominee_firm, "2021-05-01"),
        link(LinkKind.SHAREHOLDER, base["boss"], nominee_firm, "2021-05-01", ratio=0.6),
        link(LinkKind.LEGAL_REPRESENTATIVE, base["sup"], officer_firm, "2022-01-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, fresh, contact_firm, "2021-09-01"),
        link(LinkKind.SUPERVISOR, base["sup"], contact_firm, "2021-09-01"),
        link(LinkKind.SHARED_PHONE, contact_firm, "tel:13800000001", "2021-09-01"),
    ])
    cases = _cases(store)
    assert cases[nominee_firm.key].pattern == "nominee"
    assert cases[officer_firm.key].pattern == "officer_leads" and cases[officer_firm.key].region == "原地"
    assert cases[contact_firm.key].pattern == "shared_contact_trade_name"
    phone = [e for e in cases[contact_firm.key].evidence if e.feature == "shared_phone"]
    assert phone and "13800000001" in phone[0].detail


def test_hard_negatives_stay_silent(store, base):
    pre = _firm("郑州市早设商贸有限公司", "早设", start="2016-01-01")
    common = _firm("广州市鑫源商贸有限公司", "鑫源", start="2021-03-01", region="440106")
    twin = person("张伟")  # same name, another ID
    namesake = _firm("郑州市同名商贸有限公司", "同名", start="2021-04-01")
    parent = _firm("河南鑫源商贸有限公司", "鑫源", start="2005-01-01", region="410100")
    branch = _firm("河南鑫源商贸有限公司郑州金水分公司", "鑫源", start="2021-06-01")
    agency = Party("adr:郑州市金水区商务中心8层801室", PartyKind.ADDRESS, "郑州市金水区商务中心8层801室")
    crowd = [_firm(f"郑州市代办{i}号商贸有限公司", f"代办{i}", start="2021-01-10", industry="咨询") for i in range(30)]
    heads = [person(f"员工{i}") for i in range(len(crowd) + 3)]
    links = [
        link(LinkKind.LEGAL_REPRESENTATIVE, base["lr"], pre, "2016-01-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, heads[0], common, "2021-03-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, twin, namesake, "2021-04-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, heads[1], parent, "2005-01-01"),
        link(LinkKind.PRINCIPAL, heads[2], branch, "2021-06-01"),
        link(LinkKind.BRANCH_OF, branch, parent, "2021-06-01"),
        link(LinkKind.SHARED_ADDRESS, base["a"], agency.key, "2012-03-01"),
    ]
    for f, h in zip(crowd, heads[3:], strict=False):
        links += [link(LinkKind.LEGAL_REPRESENTATIVE, h, f, "2021-01-10"), link(LinkKind.SHARED_ADDRESS, f, agency.key,
                                                                                 "2021-01-10")]
    write_graph(store, [pre, common, twin, namesake, parent, branch, agency, *crowd, *heads], links)
    assert _cases(store) == {}
    view = store.view()
    # scored anyway, each stays far below the threshold, and says why
    common_case = explain_pair(view, base["a"].key, common.key)
    assert common_case is not None and common_case.score <= DEFAULT_CONFIG.no_link_cap
    assert any(e.feature == "no_direct_link" for e in common_case.evidence)
    branch_case = explain_pair(view, base["a"].key, branch.key)
    assert branch_case is not None and any(e.feature == "branch_of_chain" and e.contribution < 0
                                           for e in branch_case.evidence)
    agency_case = explain_pair(view, base["a"].key, crowd[0].key)
    assert agency_case is not None and agency_case.score < 0.2
    assert [e.contribution for e in agency_case.evidence if e.feature == "shared_address"][0] < 0.02
    assert explain_pair(view, base["a"].key, pre.key) is None  # existed before the listing


def test_alias_resolved_person_counts_as_the_same_person(store, base):
    b = _firm("许昌市恒通商贸有限公司", "恒通", start="2022-02-01", region="411002")
    masked = Party("unr:masked-zhangwei", PartyKind.UNRESOLVED, "张伟", code="4101**********1234")
    write_graph(store, [b, masked], [link(LinkKind.LEGAL_REPRESENTATIVE, masked, b, "2022-02-01")])
    assert _cases(store) == {}
    with store.writer("test") as w:
        w.put_aliases([Alias(masked.key, base["lr"].key, "masked id")])
    case = _cases(store)[b.key]
    assert case.pattern == "same_person"


def test_window_and_revoked_listing(store, base):
    late = _firm("郑州市迟设商贸有限公司", "迟设", start="2024-01-01")
    write_graph(store, [late], [link(LinkKind.LEGAL_REPRESENTATIVE, base["lr"], late, "2024-01-01")])
    assert late.key not in _cases(store)  # 3.5 years after the listing
    from dataclasses import replace

    assert late.key in _cases(store, config=replace(DEFAULT_CONFIG, window_years=4))
    other = _firm("郑州市撤销商贸有限公司", "撤销", start="2022-01-01")
    x = _firm("郑州市被撤商贸有限公司", "被撤", start="2010-01-01")
    px = person("周杰")
    write_graph(store, [other, x, px], [link(LinkKind.LEGAL_REPRESENTATIVE, px, x, "2010-01-01"),
                                        link(LinkKind.LEGAL_REPRESENTATIVE, px, other, "2022-01-01")],
                [list_entry(x, "2021-01-01", removed_on="2021-03-01", removal_reason="撤销")])
    assert other.key not in _cases(store)


def test_since_and_last_run_helpers(store, base):
    b = _firm("武汉市鑫源贸易有限公司", "鑫源", start="2021-02-01", region="420102")
    write_graph(store, [b], [link(LinkKind.LEGAL_REPRESENTATIVE, base["lr"], b, "2021-02-01")])
    cases = detect_relocations(store.view()).cases
    assert filter_since(cases, dt.date(2021, 2, 1)) == cases and filter_since(cases, dt.date(2021, 2, 2)) == []
    meta = run_meta(cases, dt.date(2025, 1, 1), 0.6)
    assert cases[0].key in meta
    assert new_since_last(cases, {cases[0].key}) == []


def test_trade_names():
    assert trade_key("鑫源") == trade_key("鑫源") and trade_key("華聯") == "华联"
    assert trade_relation("鑫源", "鑫源") == "same"
    assert trade_relation("鑫源", "鑫达") == "one_char"
    assert trade_relation("宏达兴", "宏达") == "one_char"
    assert trade_relation("鑫源", "华联") == ""


def test_generic_adapter_agrees_with_embedded(store, base):
    b = _firm("武汉市鑫源贸易有限公司", "鑫源", start="2021-02-01", region="420102")
    write_graph(store, [b], [link(LinkKind.LEGAL_REPRESENTATIVE, base["lr"], b, "2021-02-01")])
    from queries import relocation

    view = store.view()

    class Plain:  # only the View protocol, no embedded index
        def __getattr__(self, name):
            if name in ("index", "conn"):
                raise AttributeError(name)
            return getattr(view, name)

    generic = relocation.detect_relocations(Plain()).cases
    embedded = relocation.detect_relocations(view).cases
    assert [(c.key, c.score, c.pattern) for c in generic] == [(c.key, c.score, c.pattern) for c in embedded]


# -- the ban's own span: a listing that stopped being in force bans nothing after ----------------


def _reopened(store, base, founded: str):
    """The legal rep of A founds B elsewhere on ``founded``."""
    b = _firm("武汉市鑫源贸易有限公司", "鑫源", start=founded, region="420102", industry="贸易")
    write_graph(store, [b], [link(LinkKind.LEGAL_REPRESENTATIVE, base["lr"], b, founded)])
    return b


@pytest.mark.parametrize("how", ["repaired", "expired", "removed"])
def test_a_firm_founded_after_the_listing_stopped_is_no_relocation(store, how):
    from queries.actions import repair_record

    a = _firm("郑州市鑫源商贸有限公司", "鑫源", start="2012-03-01")
    lr = person("张伟")
    # 有效期至 2020-12-31: in force through that day, as the repair and removal on 2021-01-01 leave it
    ends = {"repaired": {}, "expired": {"period_end": "2020-12-31", "end": "2020-12-31"},
            "removed": {"removed_on": "2021-01-01", "removal_reason": "信用修复", "end": "2021-01-01"}}[how]
    entry = list_entry(a, "2020-06-01", act_date="2020-03-01", **ends)
    write_graph(store, [a, lr], [link(LinkKind.LEGAL_REPRESENTATIVE, lr, a, "2012-03-01")], [entry])
    if how == "repaired":
        with store.writer() as w:
            w.put_records([repair_record(entry, d("2021-01-01"), "郑州市发展和改革委员会")])
    base = {"lr": lr}
    during = _reopened(store, base, "2020-12-31")  # the last day in force
    after = _firm("开封市鑫源贸易有限公司", "鑫源", start="2021-01-01", region="410205", industry="贸易")
    write_graph(store, [after], [link(LinkKind.LEGAL_REPRESENTATIVE, lr, after, "2021-01-01")])
    cases = _cases(store, as_of=d("2023-01-01"))
    assert during.key in cases and after.key not in cases
    assert explain_pair(store.view(), a.key, after.key, as_of=d("2023-01-01")) is None


def test_a_firm_founded_on_the_listing_day_counts_as_ban_alerts_do(store, base):
    same_day = _reopened(store, base, "2020-06-01")
    case = _cases(store)[same_day.key]
    assert case.pattern == "same_person"
    assert explain_pair(store.view(), base["a"].key, same_day.key).score == case.score


def test_a_role_given_up_long_before_the_act_is_no_tie(store):
    """A former legal rep who left six years before the act is not one of the responsible
    people; one who stepped down a few months before it still is (at a reduced strength)."""
    a = _firm("郑州市鑫源商贸有限公司", "鑫源", start="2010-03-01")
    long_gone, just_left, now = person("张伟"), person("王芳"), person("李娜")
    entry = list_entry(a, "2020-06-01", act_date="2020-03-01")
    b = _firm("武汉市长江物流有限公司", "长江", start="2021-02-01", region="420102", industry="物流")
    c = _firm("洛阳市恒达物流有限公司", "恒达", start="2021-02-01", region="410302", industry="物流")
    write_graph(store, [a, long_gone, just_left, now, b, c], [
        link(LinkKind.LEGAL_REPRESENTATIVE, long_gone, a, "2010-03-01", "2014-01-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, just_left, a, "2014-01-01", "2019-12-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, now, a, "2019-12-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, long_gone, b, "2021-02-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, just_left, c, "2021-02-01"),
    ], [entry])
    cases = _cases(store, keep_below=True)
    assert b.key not in cases
    tie = next(e for e in cases[c.key].evidence if e.feature == "shared_person")
    assert tie.parties == (just_left.key,) and tie.strength < 0.9
