"""The embedded link index reads the alias map again exactly when it can have changed: after a
batch that put or dropped aliases or added parties, not after one that only added records (the
join takes about a second at 1M firms, and every list change, repair or objection is a batch)."""

from __future__ import annotations

from graph.backends.memory import open_store
from graph.model import Alias, Flag, LinkKind, Party, PartyKind
from tests.factories import firm, link, list_entry, namesakes, person

_ALIAS_JOIN = "FROM aliases a JOIN parties u"


def _linked_firms(store, key):
    return {lk.dst for lk in store.view().links(key, kinds=[LinkKind.SHAREHOLDER])}


def test_alias_map_is_read_again_only_when_it_can_have_changed(tmp_path):
    store = open_store(tmp_path / "s.sqlite")
    parties, links = namesakes(LinkKind.SHAREHOLDER, LinkKind.SHAREHOLDER)
    a, b, p, u = parties
    with store.writer() as w:
        w.put_parties(parties)
        w.put_links(links)
    assert _linked_firms(store, p.key) == {a.key}

    joins: list[str] = []
    store._read_conn().set_trace_callback(lambda sql: joins.append(sql) if _ALIAS_JOIN in sql else None)

    # aliases only (no new party): the index must follow, through the link index, not just SQL
    with store.writer() as w:
        w.put_aliases([Alias(u.key, p.key, "test")])
    assert _linked_firms(store, p.key) == {a.key, b.key}
    assert len(joins) == 1

    # a record only: nothing the alias map depends on changed, the join is not run
    with store.writer() as w:
        w.put_records([list_entry(a, "2024-01-01")])
    assert _linked_firms(store, p.key) == {a.key, b.key}
    assert len(joins) == 1

    # a resolution withdrawn
    with store.writer() as w:
        w.drop_aliases([u.key])
    assert _linked_firms(store, p.key) == {a.key}
    assert len(joins) == 2

    # an alias written before its party existed takes effect when the party is added
    late = Party("unr:late", PartyKind.UNRESOLVED, "张伟", flags=frozenset({Flag.NAME_ONLY}))
    with store.writer() as w:
        w.put_aliases([Alias(late.key, p.key, "test")])
    assert _linked_firms(store, p.key) == {a.key}
    assert len(joins) == 3
    with store.writer() as w:
        w.put_parties([late])
        w.put_links([link(LinkKind.SHAREHOLDER, late, b, "2019-01-01")])
    assert _linked_firms(store, p.key) == {a.key, b.key}
    assert len(joins) == 4
    store.close()


def test_a_store_without_the_marker_still_reads_the_map(tmp_path):
    """Stores written before the marker have none: the first view reads the map as before."""
    db = tmp_path / "s.sqlite"
    store = open_store(db)
    b, p = firm("洛阳市宏达建筑工程有限公司"), person("张伟")
    u = Party("unr:x", PartyKind.UNRESOLVED, "张伟", flags=frozenset({Flag.NAME_ONLY}))
    with store.writer() as w:
        w.put_parties([b, p, u])
        w.put_links([link(LinkKind.SHAREHOLDER, u, b, "2018-01-01")])
        w.put_aliases([Alias(u.key, p.key, "test")])
    store._write_conn.execute("DELETE FROM meta WHERE key = 'aliases_changed'")
    store.close()
    store = open_store(db)
    assert _linked_firms(store, p.key) == {b.key}
    store.close()
