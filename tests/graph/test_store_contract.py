"""The GraphStore contract: every backend must pass this suite unchanged.

The ``store`` fixture (tests/conftest.py) is parametrised over the backends, so a new
backend joins by adding its name there.
"""

from __future__ import annotations

import pytest

from graph.model import Alias, Flag, LinkKind, NameFact, Party, PartyKind, RecordKind, Rejection, Source
from tests.factories import d, firm, link, person, record


def _small_graph(store):
    a = firm("郑州市鑫源商贸有限公司", start="2015-03-01")
    b = firm("洛阳市宏达建筑工程有限公司", start="2016-05-01", region="410302")
    c = firm("开封市恒信科技有限公司", start="2012-01-01", region="410202")
    p = person("张伟")
    q = person("李娜")
    r = person("王芳")
    links = [
        link(LinkKind.LEGAL_REPRESENTATIVE, p, a, "2015-03-01", "2020-06-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, q, a, "2020-06-01"),
        link(LinkKind.SHAREHOLDER, p, b, "2016-05-01", ratio=0.6),
        link(LinkKind.DIRECTOR, r, b, "2018-01-01", title="董事"),
        link(LinkKind.SHAREHOLDER, b, c, "2019-01-01", ratio=0.3),
    ]
    with store.writer("run-1") as w:
        w.put_parties([a, b, c, p, q, r])
        w.put_names([NameFact(x.key, x.name, x.start) for x in (a, b, c, p, q, r)])
        w.put_links(links)
    return a, b, c, p, q, r, links


def test_parties_round_trip(store):
    a, b, c, p, q, r, _ = _small_graph(store)
    view = store.view()
    got = view.party(a.key)
    assert got is not None
    assert (got.name, got.kind, got.code, got.start, got.region) == (a.name, PartyKind.ENTERPRISE, a.code, d("2015-03-01"), "410105")
    assert got.source is not None and got.source.file == "factories.py"
    assert view.party("org:nope") is None
    assert set(view.parties([a.key, p.key, "x"])) == {a.key, p.key}
    assert view.party_names([a.key, p.key, "x"]) == {a.key: a.name, p.key: p.name}
    assert {x.key for x in view.iter_parties([PartyKind.PERSON])} == {p.key, q.key, r.key}


def test_links_as_of_and_direction(store):
    a, b, c, p, q, r, _ = _small_graph(store)
    view = store.view()
    reps = view.links(a.key, kinds=[LinkKind.LEGAL_REPRESENTATIVE])
    assert {lk.src for lk in reps} == {p.key, q.key}
    assert [lk.src for lk in view.links(a.key, as_of=d("2019-01-01"), kinds=[LinkKind.LEGAL_REPRESENTATIVE])] == [p.key]
    assert [lk.src for lk in view.links(a.key, as_of=d("2020-06-01"), kinds=[LinkKind.LEGAL_REPRESENTATIVE])] == [q.key]
    assert [lk.src for lk in view.links(a.key, as_of=d("2014-01-01"))] == []
    out = view.links(b.key, direction="out")
    assert [(lk.kind, lk.dst) for lk in out] == [(LinkKind.SHAREHOLDER, c.key)]
    into = view.links(b.key, direction="in")
    assert {lk.src for lk in into} == {p.key, r.key}
    share = next(lk for lk in out)
    assert share.ratio == pytest.approx(0.3)
    assert view.degree(b.key) == 3
    assert view.link(share.id) == share


def test_a_foreign_currency_amount_keeps_its_currency(store):
    """100万美元 subscribed is 100 in USD, not 100万 renminbi; renminbi amounts name no currency."""
    from dataclasses import replace

    from tests.factories import write_graph

    holder, usd_firm, cny_firm = person("约翰"), firm("上海外资测试有限公司"), firm("郑州内资测试有限公司")
    usd = replace(link(LinkKind.SHAREHOLDER, holder, usd_firm, "2020-01-01", ratio=0.5), amount=100.0, currency="USD")
    cny = replace(link(LinkKind.SHAREHOLDER, holder, cny_firm, "2020-01-01", ratio=0.5), amount=30.0)
    write_graph(store, [holder, usd_firm, cny_firm], [usd, cny])
    view = store.view()
    got = {lk.dst: lk for lk in view.links(holder.key)}
    assert (got[usd_firm.key].amount, got[usd_firm.key].currency) == (100.0, "USD")
    assert (got[cny_firm.key].amount, got[cny_firm.key].currency) == (30.0, "")
    assert view.link(usd.id) == got[usd_firm.key]
    assert [lk.currency for lk in view.iter_links() if lk.id == usd.id] == ["USD"]
    # the same link read again with its currency (a store filled before links had one) takes
    # it; a currency once stored is kept
    write_graph(store, [], [replace(cny, currency="HKD")])
    write_graph(store, [], [replace(usd, currency="EUR")])
    after = {lk.dst: lk.currency for lk in store.view().links(holder.key)}
    assert after == {usd_firm.key: "USD", cny_firm.key: "HKD"}


def test_neighbourhood_hops_and_as_of(store):
    a, b, c, p, q, r, _ = _small_graph(store)
    view = store.view()
    one = view.neighbourhood([a.key], 1)
    assert set(one.parties) == {a.key, p.key, q.key}
    assert one.distance[a.key] == 0 and one.distance[p.key] == 1
    two = view.neighbourhood([a.key], 2)
    assert set(two.parties) == {a.key, p.key, q.key, b.key}
    three = view.neighbourhood([a.key], 3)
    assert set(three.parties) == {a.key, p.key, q.key, b.key, r.key, c.key}
    # on 2021-01-01 p no longer represents a, so a reaches only q
    then = view.neighbourhood([a.key], 3, as_of=d("2021-01-01"))
    assert set(then.parties) == {a.key, q.key}
    only_shares = view.neighbourhood([c.key], 3, kinds=[LinkKind.SHAREHOLDER])
    assert set(only_shares.parties) == {c.key, b.key, p.key}
    assert all(lk.kind == LinkKind.SHAREHOLDER for lk in only_shares.links)


def test_neighbourhood_caps_high_degree_nodes(store):
    hub = firm("某某代理记账有限公司")
    firms = [firm(f"企业{i}号有限公司") for i in range(30)]
    target = firms[0]
    far = person("赵六")
    with store.writer() as w:
        w.put_parties([hub, *firms, far])
        w.put_links([link(LinkKind.SHAREHOLDER, hub, f, "2010-01-01") for f in firms])
        w.put_links([link(LinkKind.DIRECTOR, far, firms[5], "2011-01-01")])
    view = store.view()
    capped = view.neighbourhood([target.key], 3, max_degree=10)
    assert hub.key in capped.capped
    assert far.key not in capped.parties
    assert set(capped.parties) == {target.key, hub.key}
    uncapped = view.neighbourhood([target.key], 3)
    assert far.key in uncapped.parties


def test_writer_is_atomic(store):
    a = firm("原子性测试有限公司")
    with pytest.raises(RuntimeError), store.writer() as w:
        w.put_parties([a])
        raise RuntimeError("boom")
    assert store.view().party(a.key) is None
    with store.writer() as w:
        w.put_parties([a])
    assert store.view().party(a.key) is not None


def test_writes_are_idempotent(store):
    *parties, links = _small_graph(store)
    before = store.view().counts()
    with store.writer() as w:
        w.put_parties(parties)
        w.put_names([NameFact(x.key, x.name, x.start) for x in parties])
        w.put_links(links)
    assert store.view().counts() == before
    assert len(store.view().links(parties[0].key)) == 2


def test_an_undated_name_is_kept_once(store):
    # two files mention a firm by the same name without a date: one name, not two
    a, *_ = _small_graph(store)
    for run in ("run-2", "run-3"):
        with store.writer(run) as w:
            w.put_names([NameFact(a.key, "郑州鑫源", None)])
    names = [n.name for n in store.view().names(a.key)]
    assert names.count("郑州鑫源") == 1
    assert names[0] == "郑州鑫源"  # undated names first, then by date
    assert a.key in [h.party.key for h in store.view().search("郑州鑫源")]


def test_a_name_written_in_the_last_batch_is_searchable(store):
    _small_graph(store)
    b = firm("南阳市卧龙区永顺物流有限公司", start="2021-01-01")
    with store.writer() as w:
        w.put_parties([b])
        w.put_names([NameFact(b.key, b.name, b.start)])
    assert [h.party.key for h in store.view().search("永顺物流")][:1] == [b.key]


def test_closing_a_link_by_a_later_fact(store):
    a, b, c, p, q, r, links = _small_graph(store)
    view = store.view()
    assert [lk.src for lk in view.links(b.key, as_of=d("2023-01-01"), kinds=[LinkKind.DIRECTOR])] == [r.key]
    closed = link(LinkKind.DIRECTOR, r, b, "2018-01-01", "2022-01-01", title="董事")
    with store.writer() as w:
        w.put_links([closed])
    view = store.view()
    assert view.links(b.key, as_of=d("2023-01-01"), kinds=[LinkKind.DIRECTOR]) == []
    assert [lk.src for lk in view.links(b.key, as_of=d("2021-01-01"), kinds=[LinkKind.DIRECTOR])] == [r.key]
    with store.writer() as w:
        w.close_link(links[2].id, d("2021-01-01"))
    assert store.view().links(p.key, as_of=d("2022-01-01"), kinds=[LinkKind.SHAREHOLDER]) == []


def test_replace_links_rederives(store):
    a = firm("派生测试有限公司")
    p, q = person("甲"), person("乙")
    first = [link(LinkKind.LEGAL_REPRESENTATIVE, p, a, "2010-01-01")]
    second = [
        link(LinkKind.LEGAL_REPRESENTATIVE, p, a, "2010-01-01", "2015-01-01", title="x"),
        link(LinkKind.LEGAL_REPRESENTATIVE, q, a, "2015-01-01"),
    ]
    with store.writer() as w:
        w.put_parties([a, p, q])
        w.replace_links([a.key], "registration", first)
    assert [lk.src for lk in store.view().links(a.key, as_of=d("2016-01-01"))] == [p.key]
    with store.writer() as w:
        w.replace_links([a.key], "registration", second)
    view = store.view()
    assert [lk.src for lk in view.links(a.key, as_of=d("2016-01-01"))] == [q.key]
    assert [lk.src for lk in view.links(a.key, as_of=d("2012-01-01"))] == [p.key]
    assert len(view.links(a.key)) == 2
    with store.writer() as w:
        w.replace_links([a.key], "registration", second)
    assert store.view().links(a.key) == view.links(a.key)
    with store.writer() as w:
        w.replace_links([a.key], "registration", [])
    assert store.view().links(a.key) == []


def test_records_and_targets(store):
    a, b, *_ = _small_graph(store)
    entry = record(RecordKind.LIST_ENTRY, a, "2021-01-01", "2024-01-01", list_type="严重失信主体名单")
    repair = record(RecordKind.REPAIR, a, "2022-01-01", target=entry.id, by="市发改委")
    with store.writer() as w:
        w.put_records([entry, repair])
    view = store.view()
    assert view.record(entry.id) == entry
    assert view.record(entry.id).attrs["list_type"] == "严重失信主体名单"
    assert [r.id for r in view.records(a.key, kinds=[RecordKind.LIST_ENTRY])] == [entry.id]
    assert view.records(a.key, kinds=[RecordKind.LIST_ENTRY], as_of=d("2020-01-01")) == []
    assert view.records(a.key, kinds=[RecordKind.LIST_ENTRY], as_of=d("2024-01-01")) == []
    assert [r.id for r in view.records_targeting(entry.id)] == [repair.id]
    # the subjects of records of some kinds, as stored
    assert view.record_subjects([RecordKind.PENALTY]) == set() == view.record_subjects([])
    with store.writer() as w:
        w.put_records([record(RecordKind.LIST_ENTRY, a, "2023-01-01", list_type="经营异常名录"),
                       record(RecordKind.PENALTY, b, "2023-02-01")])
    view = store.view()
    assert view.record_subjects([RecordKind.LIST_ENTRY]) == {a.key}
    assert view.record_subjects([RecordKind.LIST_ENTRY, RecordKind.PENALTY]) == {a.key, b.key}


def test_search_by_code_id_and_name(store):
    a, b, c, p, q, r, _ = _small_graph(store)
    view = store.view()
    assert view.search(a.code)[0].party.key == a.key
    assert view.search(p.code)[0].party.key == p.key
    assert view.search("鑫源商贸")[0].party.key == a.key
    # traditional input finds the simplified name
    assert view.search("鑫源商貿")[0].party.key == a.key
    assert view.search("鄭州市鑫源商貿有限公司")[0].party.key == a.key
    # fuzzy: one character wrong
    assert a.key in [h.party.key for h in view.search("郑州市鑫元商贸有限公司")]
    assert view.search("") == []


def test_search_masked_code(store):
    a, b, c, p, q, r, _ = _small_graph(store)
    masked = p.code[:4] + "*" * 10 + p.code[-4:]
    assert p.key in [h.party.key for h in store.view().search(masked)]


def test_a_placeholder_takes_the_provenance_of_the_first_fact_that_describes_it(store):
    a, b, *_ = _small_graph(store)
    later = firm("厦门市鹭岛贸易有限公司")  # first seen only as the end of a link
    with store.writer() as w:
        w.put_links([link(LinkKind.SHAREHOLDER, a, later.key, "2020-01-01", ratio=0.2)])
    assert store.view().party(later.key).source is None
    described = Party(later.key, PartyKind.ENTERPRISE, later.name, later.code, source=Source("名单.csv", 7, "run-9"))
    with store.writer("run-9") as w:
        w.put_parties([described])
    stored = store.view().party(later.key)
    assert (stored.name, stored.source) == (later.name, Source("名单.csv", 7, "run-9"))


def test_search_by_an_invalid_code_finds_the_party_that_carries_it(store):
    _small_graph(store)
    bad = "91410105MA44XYZ01B"  # wrong check characters: a party known only by the code as written
    u = Party(key="unr:bad-code-1", kind=PartyKind.UNRESOLVED, name="某某商贸", code=bad, flags=frozenset({Flag.INVALID_CODE}))
    with store.writer() as w:
        w.put_parties([u])
    assert [h.party.key for h in store.view().search(bad.lower())] == [u.key]
    assert [h.party.key for h in store.view().search(bad[:6] + "*" * 8 + bad[-4:])] == [u.key]


def test_aliases_merge_unresolved_into_known(store):
    a, b, c, p, q, r, _ = _small_graph(store)
    from graph.model import Party

    unknown = Party(key="unr:court-1", kind=PartyKind.UNRESOLVED, name="张伟", code=p.code[:4] + "*" * 10 + p.code[-4:],
                    flags=frozenset({Flag.MASKED_ID}))
    court = record(RecordKind.COURT_DISHONEST, unknown, "2022-01-01", case_no="(2022)豫01执1号")
    with store.writer() as w:
        w.put_parties([unknown])
        w.put_records([court])
    view = store.view()
    assert view.party("unr:court-1").kind == PartyKind.UNRESOLVED
    with store.writer() as w:
        w.put_aliases([Alias("unr:court-1", p.key, "masked ID and name match one person")])
    view = store.view()
    assert view.resolve("unr:court-1") == p.key
    assert view.party("unr:court-1").key == p.key
    assert [x.id for x in view.records(p.key, kinds=[RecordKind.COURT_DISHONEST])] == [court.id]


def test_rejections_files_meta_runs(store):
    run = store.start_run("test")
    with store.writer(run) as w:
        w.put_rejections([Rejection("a.csv", 3, "统一社会信用代码", "123", "长度应为18位")])
        w.put_rejections([Rejection("a.csv", 3, "统一社会信用代码", "123", "长度应为18位")])
        w.mark_file("abc", "a.csv", "registrations", 10, "partial")
        w.put_meta("last_detection", "2026-01-01")
    store.finish_run(run, {"rows": 10})
    view = store.view()
    assert len(view.rejections()) == 1 and view.rejections()[0].run == run
    assert view.file_status("abc") == "partial" and view.file_status("zzz") is None
    assert view.meta("last_detection") == "2026-01-01"
    assert view.runs()[-1].summary == {"rows": 10}
    assert view.counts()["rejections"] == 1


def test_party_merge_keeps_primary(store):
    from dataclasses import replace

    a = firm("郑州市鑫源商贸有限公司")
    mention = replace(a, name="鑫源商贸", kind=PartyKind.ENTERPRISE, attrs={}, start=None, region="")
    with store.writer() as w:
        w.put_parties([mention])
    with store.writer() as w:
        w.put_parties([a])
    with store.writer() as w:
        w.put_parties([mention])
    got = store.view().party(a.key)
    assert got.name == a.name and got.start == a.start and got.region == a.region


def test_version_grows(store):
    v0 = store.view().version()
    with store.writer() as w:
        w.put_parties([firm("版本测试有限公司")])
    assert store.view().version() > v0
