"""``View.linked`` (the bulk neighbour look-up identity resolution uses) names the same
parties as one ``links`` call per key would, aliases followed on both ends, on every backend."""

from __future__ import annotations

from graph.model import Alias, Flag, LinkKind, Party, PartyKind
from tests.factories import firm, link, namesakes, person


def test_linked_agrees_with_links(store):
    a, b = firm("郑州市鑫源商贸有限公司"), firm("洛阳市宏达建筑工程有限公司")
    p, q = person("张伟"), person("李娜")
    u = Party("unr:zhang-wei-in-a", PartyKind.UNRESOLVED, "张伟", flags=frozenset({Flag.NAME_ONLY}))
    with store.writer() as w:
        w.put_parties([a, b, p, q, u])
        w.put_links([
            link(LinkKind.LEGAL_REPRESENTATIVE, p, a, "2015-03-01", "2020-06-01"),
            link(LinkKind.DIRECTOR, q, a, "2016-01-01"),
            link(LinkKind.SHAREHOLDER, u, b, "2018-01-01", ratio=0.5),
            link(LinkKind.SHAREHOLDER, a, b, "2019-01-01", ratio=0.3),
        ])
        w.put_aliases([Alias(u.key, p.key, "test")])
    view = store.view()
    keys = [a.key, b.key, p.key, q.key, u.key, "org:nobody"]
    for direction in ("both", "in", "out"):
        bulk = view.linked(keys, direction=direction)
        for key in keys:
            me = (key, view.resolve(key))
            one_by_one = {lk.dst if lk.src in me else lk.src for lk in view.links(key, direction=direction)}
            assert bulk[key] == one_by_one, (key, direction)
    assert view.linked([b.key], direction="in")[b.key] == {p.key, a.key}  # the alias shows as the person


def test_linked_as_stored_follows_no_alias(store):
    parties, links = namesakes(LinkKind.DIRECTOR, LinkKind.SUPERVISOR)
    a, b, p, u = parties
    with store.writer() as w:
        w.put_parties(parties)
        w.put_links(links)
        w.put_aliases([Alias(u.key, p.key, "test")])
    view = store.view()
    keys = [a.key, b.key, p.key, u.key, "org:nobody"]
    assert view.linked(keys, direction="both", aliases=False) == {
        a.key: {p.key}, b.key: {u.key}, p.key: {a.key}, u.key: {b.key}, "org:nobody": set()}
    assert view.linked(keys, direction="in", aliases=False)[b.key] == {u.key}
    assert view.linked(keys, direction="out", aliases=False)[u.key] == {b.key}
    assert view.linked(keys, direction="in", aliases=False)[u.key] == set()
    # followed, the alias merges the two: the person is on both boards
    assert view.linked([p.key], direction="out")[p.key] == {a.key, b.key}
