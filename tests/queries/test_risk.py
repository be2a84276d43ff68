"""Risk warnings across linked entities: grading, hubs, red/black conflicts, and the index agreeing."""

from __future__ import annotations

import gc
import random

import pytest

from graph.model import Alias, Flag, LinkKind, Party, PartyKind, RecordKind
from graph.store import InvalidInput, NotFound
from queries.risk import RiskConfig, check
from queries.risk_index import RiskIndex, RiskIndexCache, graph_arrays
from tests.factories import d, firm, link, list_entry, person, record, write_graph

ON = d("2022-06-01")


def _contact(kind: PartyKind, key: str, name: str) -> Party:
    return Party(key, kind, name)


def test_grades_by_link_strength(store):
    black = firm("郑州市黑名单商贸有限公司")
    shared_rep, director = person("共同法人"), person("共同董事")
    strong, medium, weak, clean = (firm("强关联有限公司"), firm("中关联有限公司"), firm("弱关联有限公司"),
                                   firm("无关联有限公司"))
    addr = _contact(PartyKind.ADDRESS, "adr:郑州市金水区农业路1号", "郑州市金水区农业路1号")
    write_graph(store, [black, shared_rep, director, strong, medium, weak, clean, addr], [
        link(LinkKind.DIRECTOR, shared_rep, black, "2016-01-01", title="董事"),
        link(LinkKind.LEGAL_REPRESENTATIVE, shared_rep, strong, "2016-01-01"),
        link(LinkKind.DIRECTOR, director, black, "2016-01-01", title="董事"),
        link(LinkKind.DIRECTOR, director, medium, "2016-01-01", title="董事"),
        link(LinkKind.SHARED_ADDRESS, black, addr, "2016-01-01"),
        link(LinkKind.SHARED_ADDRESS, weak, addr, "2016-01-01"),
    ], [list_entry(black, "2021-06-01", decision_no="郑发改信〔2021〕7号")])
    view = store.view()
    rep = check(view, black.code, ON)
    assert rep.grade == "D" and rep.sampling_ratio == 0.20 and rep.warnings[0].code == "R001"
    assert rep.warnings[0].sources[0].decision_no == "郑发改信〔2021〕7号"
    s = check(view, strong.key, ON)
    w = next(x for x in s.warnings if x.counterpart == black.key)
    assert (w.code, w.level, w.hops) == ("R010", "中", 2)  # legal rep of S is a director of the blacklisted firm
    assert [n.key for n in w.nodes] == [strong.key, shared_rep.key, black.key]
    assert [(st.kind, st.src, st.dst) for st in w.links] == [
        (LinkKind.LEGAL_REPRESENTATIVE, shared_rep.key, strong.key), (LinkKind.DIRECTOR, shared_rep.key, black.key)]
    assert w.sources[0].decision_no == "郑发改信〔2021〕7号"
    m = check(view, medium.key, ON)
    assert next(x for x in m.warnings if x.counterpart == black.key).level == "中"
    assert m.grade == "C" and m.sampling_ratio == 0.10
    wk = check(view, weak.key, ON)
    assert [(x.level, x.code) for x in wk.warnings] == [("低", "R010")] and wk.grade == "B"
    assert "住所" in wk.warnings[0].message
    c = check(view, clean.key, ON)
    assert c.warnings == () and c.grade == "A" and c.sampling_ratio == 0.03


def test_shared_legal_rep_is_strong_and_the_person_is_reached(store):
    black, s = firm("许昌市失信建设有限公司"), firm("许昌市新开建设有限公司")
    p = person("同一法人")
    write_graph(store, [black, s, p], [
        link(LinkKind.LEGAL_REPRESENTATIVE, p, black, "2015-01-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, p, s, "2021-09-01"),
    ], [list_entry(black, "2021-06-01")])
    rep = check(store.view(), s.key, ON)
    assert rep.grade == "D"
    codes = {(w.code, w.counterpart): w.level for w in rep.warnings}
    assert codes[("R010", black.key)] == "高" and codes[("R011", p.key)] == "高"
    person_rep = check(store.view(), p.code, ON)
    assert person_rep.warnings[0].level == "高" and {w.code for w in person_rep.warnings} >= {"R006", "R010"}


def test_high_degree_node_is_down_weighted_and_said_so(store):
    black = firm("郑州市被列入有限公司")
    agent = firm("郑州市代理记账有限公司")
    crowd = [firm(f"代理客户{i}号有限公司") for i in range(12)]
    write_graph(store, [black, agent, *crowd], [
        link(LinkKind.SHAREHOLDER, agent, black, "2016-01-01", ratio=0.3),
        *[link(LinkKind.SHAREHOLDER, agent, c, "2016-01-01", ratio=0.3) for c in crowd],
    ], [list_entry(black, "2021-06-01")])
    cfg = RiskConfig(soft_cap=10)
    rep = check(store.view(), crowd[0].key, ON, config=cfg)
    w = next(x for x in rep.warnings if x.counterpart == black.key)
    assert w.notes and "高连接度节点" in w.notes[0] and "已降权" in w.notes[0] and agent.name in w.notes[0]
    assert w.level == "低"
    plain = check(store.view(), crowd[0].key, ON)  # under the default cap the agent is an ordinary holder
    assert next(x for x in plain.warnings if x.counterpart == black.key).strength > w.strength
    hard = check(store.view(), crowd[0].key, ON, config=RiskConfig(soft_cap=5, hard_cap=10))
    assert all(x.counterpart != black.key for x in hard.warnings) and agent.key in hard.capped


def test_red_listed_firm_tied_to_blacklisted_one_shows_the_conflict(store):
    red, black = firm("诚信示范有限公司"), firm("严重失信有限公司")
    p = person("双面人")
    write_graph(store, [red, black, p], [
        link(LinkKind.LEGAL_REPRESENTATIVE, p, red, "2015-01-01"),
        link(LinkKind.ACTUAL_CONTROLLER, p, black, "2015-01-01"),
    ], [list_entry(red, "2020-01-01", list_type="诚信典型红名单"), list_entry(black, "2021-06-01")])
    rep = check(store.view(), red.key, ON)
    assert rep.red_listed
    conflict = next(w for w in rep.warnings if w.code == "R020")
    assert "红黑名单冲突" in conflict.message and conflict.level == "高" and f"关联失信主体:{black.name}" in conflict.notes
    assert conflict.sources and "红名单" in conflict.sources[0].list_type
    # before the blacklisting there is no conflict
    assert all(w.code != "R020" for w in check(store.view(), red.key, d("2021-01-01")).warnings)


def test_own_records_penalties_and_attention_list(store):
    a = firm("周口市小额处罚有限公司")
    write_graph(store, [a], [], [
        record(RecordKind.PENALTY, a, "2021-01-10", decision_no="周市监罚〔2021〕1号", penalty_type="罚款", fine=2.0),
        record(RecordKind.PENALTY, a, "2015-01-10", decision_no="周市监罚〔2015〕1号", penalty_type="吊销营业执照"),
        list_entry(a, "2022-01-01", list_type="重点关注名单"),
    ])
    rep = check(store.view(), a.key, ON)
    assert [(w.code, w.level) for w in rep.warnings] == [("R003", "中"), ("R005", "低")]
    assert rep.grade == "C"


def test_a_revoked_entry_is_not_shown_a_repaired_one_is_history(store):
    """An upheld objection means the listing was wrong: the report does not show it at all. A
    repaired one ends its warnings but stays in the history with its state (DOMAIN.md 5, 6)."""
    from queries.actions import objection_record, repair_record, resolution_record

    a, b = firm("驻马店市恒通运输有限公司"), firm("驻马店市恒达运输有限公司")
    wrong, repaired = list_entry(a, "2021-06-01"), list_entry(b, "2021-06-01")
    write_graph(store, [a, b], [], [wrong, repaired])
    objection = objection_record(wrong, d("2021-09-01"), "冒名登记")
    with store.writer() as w:
        w.put_records([objection, resolution_record(objection, d("2022-01-01"), "upheld"),
                       repair_record(repaired, d("2022-01-01"), "驻马店市发展和改革委员会")])
    view = store.view()
    assert list(check(view, a.key, ON).records) == [] and check(view, a.key, ON).grade == "A"
    assert [r.status for r in check(view, b.key, ON).records] == ["信用修复"] and check(view, b.key, ON).grade == "A"
    # before the objection was upheld, the entry was in force and shown
    assert [r.status for r in check(view, a.key, d("2021-12-01")).records] == ["生效"]


def test_key_forms_and_ambiguity(store):
    a, b = firm("郑州市鑫源商贸有限公司"), firm("洛阳市鑫源商贸有限公司")
    p = person("张伟")
    write_graph(store, [a, b, p], [], [])
    view = store.view()
    assert check(view, a.code, ON).key == a.key
    assert check(view, p.code, ON).key == p.key
    assert check(view, "郑州市鑫源商贸有限公司", ON).key == a.key
    with pytest.raises(InvalidInput) as err:
        check(view, "鑫源商贸", ON)
    assert a.key in str(err.value) and b.key in str(err.value)
    with pytest.raises(NotFound):
        check(view, "org:nope", ON)


def test_the_no_code_marker_names_nobody(store):
    """00000000000000000X stands for "no code" in the registers: many firms carry it, so a
    check by it is refused at once, saying how to check instead (it used to search every such
    firm and list ten of them)."""
    shops = [Party(f"org:shop{i}", PartyKind.INDIVIDUAL_BUSINESS, f"兰州拉面馆{i}", "00000000000000000X")
             for i in range(3)]
    write_graph(store, shops, [], [])
    for given in ("00000000000000000X", " 00000000000000000x ", "０００００００００００００００００Ｘ"):
        with pytest.raises(InvalidInput, match="无统一社会信用代码") as err:
            check(store.view(), given, ON)
        assert err.value.field == "key" and "org:shop" not in str(err.value)
    assert check(store.view(), "兰州拉面馆1", ON).key == "org:shop1"  # by name it is found


def _random_graph(store, seed: int = 11, firms: int = 160, persons: int = 220):
    rng = random.Random(seed)
    fs = [firm(f"随机{i}号商贸有限公司", start="2010-01-01") for i in range(firms)]
    ps = [person(f"人员{i}") for i in range(persons)]
    addrs = [_contact(PartyKind.ADDRESS, f"adr:测试路{i}号", f"测试路{i}号") for i in range(6)]
    phones = [_contact(PartyKind.PHONE, f"tel:1380000{i:04d}", f"1380000{i:04d}") for i in range(10)]
    masked = [Party(f"unr:m{i}", PartyKind.UNRESOLVED, ps[i].name, ps[i].code[:4] + "*" * 10 + ps[i].code[-4:],
                    flags=frozenset({Flag.MASKED_ID})) for i in range(5)]
    years = ["2012-01-01", "2015-06-01", "2018-03-01", "2020-01-01", "2021-09-01", None]
    links = []
    for f in fs:
        rep = rng.choice(ps + masked)
        links.append(link(LinkKind.LEGAL_REPRESENTATIVE, rep, f, rng.choice(years[:4]),
                          rng.choice([None, None, "2021-01-01", "2023-01-01"])))
        for _ in range(rng.randint(0, 3)):
            kind = rng.choice([LinkKind.DIRECTOR, LinkKind.SUPERVISOR, LinkKind.SENIOR_MANAGER, LinkKind.SHAREHOLDER,
                               LinkKind.ACTUAL_CONTROLLER])
            holder = rng.choice(ps) if kind != LinkKind.SHAREHOLDER or rng.random() < 0.7 else rng.choice(fs)
            if holder.key == f.key:
                continue
            ratio = round(rng.choice([0.01, 0.04, 0.1, 0.2, 0.3, 0.6]), 2) if kind == LinkKind.SHAREHOLDER else None
            links.append(link(kind, holder, f, rng.choice(years[:5]), rng.choice([None, None, "2022-01-01"]),
                              ratio=ratio, title=kind.value))
        if rng.random() < 0.5:
            links.append(link(LinkKind.SHARED_ADDRESS, f, rng.choice(addrs), "2010-01-01"))
        if rng.random() < 0.3:
            links.append(link(LinkKind.SHARED_PHONE, f, rng.choice(phones), "2010-01-01"))
        if rng.random() < 0.05:
            links.append(link(LinkKind.BRANCH_OF, f, rng.choice(fs), "2014-01-01"))
    records = []
    for f in rng.sample(fs, 14):
        records.append(list_entry(f, rng.choice(["2019-01-01", "2021-03-01", "2021-06-01"]),
                                  rng.choice(["严重失信主体名单", "严重违法失信企业名单", "重点关注名单"]),
                                  act_date=rng.choice(["", "2018-06-01", "2020-06-01"])))
    for f in rng.sample(fs, 5):
        records.append(record(RecordKind.COURT_DISHONEST, f, "2021-02-01", case_no=f"(2021)豫01执{f.code[-4:]}号"))
    for p in rng.sample(ps, 3):
        records.append(list_entry(p, "2021-01-01", "失信联合惩戒对象名单"))
    for f in rng.sample(fs, 4):
        records.append(list_entry(f, "2020-01-01", "诚信典型红名单"))
    write_graph(store, [*fs, *ps, *addrs, *phones, *masked], links, records)
    with store.writer() as w:
        w.put_aliases([Alias(masked[0].key, ps[0].key, "test"), Alias(masked[1].key, ps[1].key, "test")])
    return fs, ps, addrs, phones, masked


@pytest.mark.parametrize("hops", [2, 3])
def test_index_and_direct_computation_agree(store, hops):
    fs, ps, addrs, phones, masked = _random_graph(store)
    view = store.view()
    cfg = RiskConfig(soft_cap=12)  # the address nodes become hubs, so down-weighting is covered
    index = RiskIndex.build(view, ON, hops, config=cfg)
    assert index.label_count() > 0
    compared = warned = 0
    for party in [*fs, *ps, *addrs, *phones[:3], *masked]:
        direct = check(view, party.key, ON, hops, config=cfg).as_dict()
        fast = check(view, party.key, ON, hops, config=cfg, index=index).as_dict()
        assert fast.pop("method") == "index" and direct.pop("method") == "direct"
        assert fast == direct, party.key
        compared += 1
        warned += bool(direct["warnings"])
    assert compared == len(fs) + len(ps) + len(addrs) + 3 + len(masked) and warned > compared // 4
    # any backend can feed the index through iter_links: same answers
    generic = RiskIndex.build(view, ON, hops, config=cfg, arrays=graph_arrays(_GenericOnly(view)))
    for party in fs[:40]:
        assert (check(view, party.key, ON, hops, config=cfg, index=generic).as_dict()
                == check(view, party.key, ON, hops, config=cfg, index=index).as_dict())


class _GenericOnly:
    """A view without the embedded column index (as another backend would be)."""

    def __init__(self, view):
        self._view = view

    def __getattr__(self, name):
        if name in ("index", "conn"):
            raise AttributeError(name)
        return getattr(self._view, name)


def test_index_is_rebuilt_after_a_list_change(store):
    fs, ps, *_ = _random_graph(store, seed=3, firms=60, persons=80)
    cache = RiskIndexCache(3)
    first = cache.get(store.view(), ON)
    assert cache.get(store.view(), ON) is first
    target = next(f for f in fs if check(store.view(), f.key, ON).grade == "A")
    with store.writer() as w:
        w.put_records([list_entry(target, "2022-05-01")])
    second = cache.get(store.view(), ON)
    assert second is not first
    if hasattr(store.view(), "index"):  # the embedded column index tells when links changed: CSR reused
        assert second.arrays is first.arrays
    fast = check(store.view(), target.key, ON, index=second)
    assert fast.method == "index" and fast.grade == "D"
    assert fast.as_dict() | {"method": "direct"} == check(store.view(), target.key, ON).as_dict()


def test_a_build_collects_only_young_objects_and_freezes_what_the_process_holds(store):
    # collections of the older generations during a first build walked the whole heap (~1 s at 1M)
    _random_graph(store, seed=5, firms=30, persons=40)
    held = [[i] for i in range(100)]  # long-lived objects made before the build (as a link index)
    seen: list[tuple[int, ...]] = []
    original = RiskIndex.build

    def build(*args, **kwargs):
        seen.append(gc.get_threshold())
        return original(*args, **kwargs)

    try:
        RiskIndex.build = build  # type: ignore[method-assign]
        RiskIndexCache(3).get(store.view(), ON)
    finally:
        RiskIndex.build = original  # type: ignore[method-assign]
    assert seen and seen[0][1] > 10**8
    tracked = {id(o) for o in gc.get_objects()}
    assert not any(id(h) in tracked for h in held)


def test_new_links_rebuild_the_columns_and_agree_with_the_direct_computation(store):
    """After links are added, the index's columns are rebuilt keeping the titles already read
    (only later rows are read); paths through old and new links read as the stored facts."""
    fs, ps, *_ = _random_graph(store, seed=5, firms=80, persons=100)
    cache = RiskIndexCache(3)
    first = cache.get(store.view(), ON)
    warned = [f for f in fs if check(store.view(), f.key, ON).warnings]
    newcomer = person("新来人员")
    added = [link(LinkKind.DIRECTOR, newcomer, warned[0], "2020-01-01", title="独立董事(新任)"),
             link(LinkKind.SHAREHOLDER, newcomer, fs[-1], "2019-05-01", ratio=0.35, title="自然人股东(新)")]
    write_graph(store, [newcomer], added, [])
    second = cache.get(store.view(), ON)
    if hasattr(store.view(), "index"):  # the embedded columns: rebuilt, earlier codes kept
        assert second.arrays is not first.arrays
        assert second.arrays.titles[: len(first.arrays.titles)] == first.arrays.titles
        assert {"独立董事(新任)", "自然人股东(新)"} <= set(second.arrays.titles)
    view = store.view()
    shown = set()
    for party in [*fs, *ps, newcomer]:
        fast = check(view, party.key, ON, index=second).as_dict()
        direct = check(view, party.key, ON).as_dict()
        assert fast.pop("method") == "index" and direct.pop("method") == "direct"
        assert fast == direct, party.key
        shown.update(step["title"] for w in fast["warnings"] for step in w["links"])
    assert "独立董事(新任)" in shown and len(shown) > 3  # titles old and new are on the paths compared


def test_rebuilds_read_only_new_entries_and_agree_with_a_fresh_build(store, monkeypatch):
    """A cache's rebuilds after list changes read only the entries stored since the last
    (where the backend numbers records) and punish exactly as an index built from nothing."""
    from queries.actions import repair_record
    from queries.propagation import ENTRY_KINDS

    fs, ps, *_ = _random_graph(store, seed=5, firms=60, persons=80)
    read: list[int] = []
    if hasattr(store.view(), "records_after"):
        real = type(store.view()).records_after

        def counting(self, mark, kinds):
            got = real(self, mark, kinds)
            read.append(len(got[0]))
            return got

        monkeypatch.setattr(type(store.view()), "records_after", counting)
    cache = RiskIndexCache(3)
    cache.get(store.view(), ON)
    before = len(store.view().records(kinds=list(ENTRY_KINDS)))
    added = [list_entry(f, f"2022-05-0{i + 1}") for i, f in enumerate(fs[:3])]
    for entry in added:
        with store.writer() as w:
            w.put_records([entry])
        built = cache.get(store.view(), ON)
        fresh = RiskIndex.build(store.view(), ON, 3)
        assert built.source_keys == fresh.source_keys and built.reasons == fresh.reasons
    with store.writer() as w:
        w.put_records([repair_record(added[0], d("2022-06-01"), "发改委")])
    built = cache.get(store.view(), ON)
    fresh = RiskIndex.build(store.view(), ON, 3)
    assert added[0].subject not in fresh.reasons or all(r.entry_id != added[0].id for r in fresh.reasons[added[0].subject])
    assert built.source_keys == fresh.source_keys and built.reasons == fresh.reasons
    if read:  # the embedded store: everything once, then one entry per list change, none for the repair
        assert read == [before, 1, 1, 1, 0]


def test_index_marks_skip_only_what_would_find_nothing(store):
    """Hubs over hard_cap are not passed through, and most parties are answered from the index's
    marks alone (nothing within hops, no records): every answer still equals the direct one."""
    fs, ps, addrs, phones, masked = _random_graph(store, seed=11)
    view = store.view()
    cfg = RiskConfig(soft_cap=8, hard_cap=14)
    index = RiskIndex.build(view, ON, 3, config=cfg)
    capped = quiet = shortcut = 0
    one_step = index.arrays.plain_party is not None  # the embedded backend
    for party in [*fs, *ps, *addrs, *masked]:
        direct = check(view, party.key, ON, 3, config=cfg).as_dict()
        fast = check(view, party.key, ON, 3, config=cfg, index=index).as_dict()
        assert fast.pop("method") == "index" and direct.pop("method") == "direct"
        assert fast == direct, party.key
        capped += bool(direct["capped"])
        node = index.node_of(view, view.resolve(party.key), resolved=True)
        is_quiet = node >= 0 and not index.reached[node] and not index.near_hub[node] and not index.has_records(node)
        if is_quiet:
            quiet += 1
            assert direct["grade"] == "A" and not direct["warnings"] and not direct["records"]
        # the one-look-up answer: exactly the quiet parties stored under their own key (an
        # alias is resolved by the full look-up), where the backend offers the look-up
        own = index.own_party(view, party.key)
        answered = (own[1], own[2]) if own is not None and own[3] else None
        assert own is None or own[0] == node  # the look-up also gives the node a marked party's check uses
        expected = one_step and is_quiet and view.resolve(party.key) == party.key
        assert (answered is not None) == expected, party.key
        if answered is not None:
            shortcut += 1
            assert answered == (direct["kind"], direct["name"])
    assert capped > 0 and quiet > 0 and (shortcut > 0) == one_step  # every kind of party was compared
    assert {view.resolve(m.key) for m in masked[:2]} == {ps[0].key, ps[1].key}  # the aliases were among them
