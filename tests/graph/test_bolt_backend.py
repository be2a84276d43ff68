"""What the Bolt backend must get right beyond the contract: the faults of FalkorDB's Bolt port
it works around (quotes pasted into Cypher, 4 KiB statements, six-decimal floats, GOODBYE)."""

from __future__ import annotations

import pytest

from graph.model import LinkKind, NameFact, Party, PartyKind
from tests.bolt_server import empty_store
from tests.factories import firm, link, person


@pytest.fixture
def bolt(bolt_server):
    s = empty_store(bolt_server)
    yield s
    s.close()


def test_quotes_and_backslashes_are_values_not_cypher(bolt):
    nasty = "O'Brien\\' }) DETACH DELETE (n) //\\t"
    p = Party(key="unr:quote", kind=PartyKind.UNRESOLVED, name=nasty, attrs={"note": "it's \\ \"quoted\""})
    keep = firm("郑州市鑫源商贸有限公司")
    with bolt.writer() as w:
        w.put_parties([keep, p])
        w.put_names([NameFact(p.key, p.name)])
    view = bolt.view()
    got = view.party(p.key)
    assert got.name == nasty and got.attrs == {"note": "it's \\ \"quoted\""}
    assert view.party(keep.key) is not None
    assert view.names(p.key)[0].name == nasty


def test_batches_larger_than_one_statement(bolt):
    firms = [firm(f"大批量写入测试第{i}号有限公司", region="410105") for i in range(400)]
    boss = person("张伟")
    links = [link(LinkKind.SHAREHOLDER, boss, f, "2015-01-01", ratio=1 / 3) for f in firms]
    with bolt.writer() as w:
        w.put_parties([boss, *firms])
        w.put_names([NameFact(x.key, x.name, x.start) for x in firms])
        w.put_links(links)
    view = bolt.view()
    assert view.counts()["parties"] == 401 and view.counts()["links"] == 400
    assert len(view.parties(f.key for f in firms)) == 400
    sub = view.neighbourhood([boss.key], 1)
    assert len(sub.parties) == 401
    assert view.link(links[7].id).ratio == 1 / 3  # exact, not six decimals
    assert view.search("第123号")[0].party.key == firms[123].key


def test_stores_open_and_close_one_after_another(bolt_server):
    for _ in range(3):  # a GOODBYE would leave the next connection hanging on FalkorDB 4.16
        s = empty_store(bolt_server)
        assert s.view().version() >= 0
        s.close()


def test_dialect_is_detected(bolt_server):
    from graph.backends.bolt import open_bolt_store

    s = open_bolt_store(bolt_server.uri, bolt_server.user, bolt_server.password, bolt_server.database)
    try:
        assert s.dialect.name in ("neo4j", "falkordb")
        if bolt_server.dialect:
            assert s.dialect.name == bolt_server.dialect
    finally:
        s.close()


def test_a_lease_held_elsewhere_waits_and_one_left_by_a_dead_holder_runs_out(bolt):
    import time

    from graph.backends import cypher as cy
    from graph.store import StoreUnavailable

    # another process holds the lease for a minute: waiting for it gives up with a clear error
    assert bolt.execute(cy.LEASE_TAKE, name="actions", me="elsewhere", ttl_ms=60_000) == [["elsewhere"]]
    with pytest.raises(StoreUnavailable, match="actions"):
        with bolt.exclusive("actions", wait=0.3):
            pass
    # a holder that died: its lease runs out after its time, and the next one takes it
    assert bolt.execute(cy.LEASE_TAKE, name="repairs", me="died", ttl_ms=400) == [["died"]]
    t = time.monotonic()
    with bolt.exclusive("repairs", wait=10):
        held = bolt.query("MATCH (l:CgLease {name: 'repairs'}) RETURN l.holder")[0][0]
    assert held != "died" and time.monotonic() - t >= 0.3
    # given back on leaving the block: taken again at once
    with bolt.exclusive("repairs", wait=0.5):
        pass


def test_giving_back_a_lease_never_hides_what_the_block_did(bolt, monkeypatch):
    from graph.backends import cypher as cy
    from graph.store import StoreUnavailable

    real = bolt.execute

    def flaky(statement, **params):
        if statement == cy.LEASE_FREE:
            raise StoreUnavailable("the graph server went away")
        return real(statement, **params)

    monkeypatch.setattr(bolt, "execute", flaky)
    with pytest.raises(ValueError, match="the block's own error"):
        with bolt.exclusive("actions", ttl=0.5, wait=1):
            raise ValueError("the block's own error")
    with bolt.exclusive("actions", ttl=0.5, wait=5):  # the lease left behind runs out; no error
        pass
