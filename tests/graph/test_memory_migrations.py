"""Stores written by earlier versions open cleanly: the trigram index moves from a trigger to
per-batch indexing, and duplicated undated names are merged."""

from __future__ import annotations

import sqlite3

from graph.backends.memory import open_store
from graph.model import NameFact
from tests.factories import firm


def test_an_older_store_is_migrated_on_open(tmp_path):
    db = str(tmp_path / "old.sqlite")
    store = open_store(db)
    a = firm("郑州市鑫源商贸有限公司", start="2015-03-01")
    with store.writer() as w:
        w.put_parties([a])
        w.put_names([NameFact(a.key, a.name, a.start)])
    store.close()
    # what an earlier version left behind: the per-row trigger and the same undated name
    # twice (NULL starts never conflicted), both indexed
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("""CREATE TRIGGER names_ai AFTER INSERT ON names WHEN length(new.nkey) >= 4 BEGIN
                    INSERT INTO names_fts(rowid, nkey) VALUES (new.id, new.nkey); END""")
    conn.execute("DELETE FROM meta WHERE key = 'undated_names'")  # an older store has no such note
    for _ in range(2):
        conn.execute("INSERT INTO names(party, name, nkey, start) VALUES (?, '郑州鑫源商贸', '郑州鑫源商贸', NULL)", (a.key,))
    conn.close()

    store = open_store(db)
    view = store.view()
    assert [n.name for n in view.names(a.key)] == ["郑州鑫源商贸", a.name]
    assert [h.party.key for h in view.search("鑫源商贸")][:1] == [a.key]
    store.close()
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'names_ai'").fetchone()[0] == 0
    conn.execute("INSERT INTO names_fts(names_fts) VALUES ('integrity-check')")  # raises when corrupt
    fts = conn.execute("SELECT count(*) FROM names_fts WHERE names_fts MATCH '鑫源商贸'").fetchone()[0]
    assert fts == 2  # the registered name and one copy of the undated one


def test_a_store_from_before_link_currencies_gets_the_column(tmp_path):
    """Links stored before links had a currency read as renminbi; new ones keep theirs."""
    from dataclasses import replace

    from graph.model import LinkKind
    from tests.factories import link, person, write_graph

    db = str(tmp_path / "old.sqlite")
    store = open_store(db)
    holder, a, b = person("约翰"), firm("上海外资测试有限公司"), firm("郑州测试有限公司")
    old = replace(link(LinkKind.SHAREHOLDER, holder, a, "2020-01-01"), amount=50.0)
    write_graph(store, [holder, a, b], [old])
    store.close()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("ALTER TABLE links DROP COLUMN currency")  # as an earlier version made the table
    conn.close()
    store = open_store(db)
    try:
        new = replace(link(LinkKind.SHAREHOLDER, holder, b, "2021-01-01"), amount=100.0, currency="USD")
        write_graph(store, [], [new])
        got = {lk.dst: (lk.amount, lk.currency) for lk in store.view().links(holder.key)}
        assert got == {a.key: (50.0, ""), b.key: (100.0, "USD")}
    finally:
        store.close()


def test_reads_use_the_memory_map_unless_it_is_turned_off(tmp_path, monkeypatch):
    from graph.backends.memory import MMAP_SETTING, READ_MMAP_BYTES, open_store

    def mapped(name: str) -> int:
        store = open_store(tmp_path / name)
        try:
            return int(store.view().conn.execute("PRAGMA mmap_size").fetchone()[0])
        finally:
            store.close()

    monkeypatch.delenv(MMAP_SETTING, raising=False)
    on = mapped("on.sqlite")
    assert 0 < on <= READ_MMAP_BYTES  # SQLite lowers it to its own maximum
    monkeypatch.setenv(MMAP_SETTING, "0")
    assert mapped("off.sqlite") == 0
