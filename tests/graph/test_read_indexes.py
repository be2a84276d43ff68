"""The read-only indexes of the embedded store: put off to the end of a first load, kept for
a store that already holds parties, and rebuilt by the next opening after a killed load."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from graph.backends.memory import NoLinkIndex, open_store
from graph.backends.sqlite_schema import READ_INDEXES, drop_read_indexes
from graph.model import Party, PartyKind
from ingest.pipeline import ingest_paths

ROOT = Path(__file__).resolve().parents[2]
REGISTRATIONS = (
    "统一社会信用代码,名称,类型,法定代表人,成立日期,登记机关,住所\n"
    "91110000600037341L,北京甲乙科技有限公司,有限责任公司,张三,2015-03-02,北京市市场监督管理局,北京市朝阳区建国路1号\n"
)


def indexes(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        conn.close()


def test_a_first_load_builds_them_at_its_end(tmp_path):
    store = open_store(tmp_path / "s.sqlite")
    with store.deferred_read_indexes() as dropped:
        assert dropped
        assert not indexes(tmp_path / "s.sqlite") & set(READ_INDEXES)
        # opening the store meanwhile (a worker, a server) does not build them again
        open_store(tmp_path / "s.sqlite").close()
        assert not indexes(tmp_path / "s.sqlite") & set(READ_INDEXES)
        # nor does a second load: it finds the first one running and defers nothing
        other = open_store(tmp_path / "s.sqlite")
        with other.deferred_read_indexes() as also:
            assert not also
        other.close()
        assert not indexes(tmp_path / "s.sqlite") & set(READ_INDEXES)
    assert set(READ_INDEXES) <= indexes(tmp_path / "s.sqlite")
    store.close()


def test_workers_of_a_first_load_leave_them_to_its_end(tmp_path, monkeypatch):
    """Spawned workers open the store while the load runs: the indexes stay dropped until
    every worker is done, and are built after."""
    import ingest.pipeline as pipeline
    from ingest.demo import generate

    generate(tmp_path / "data", firms=500, seed=3, progress=False, xlsx=False)
    seen: list[set[str]] = []
    real = pipeline._ingest_in_workers

    def watched(*args, **kwargs):
        seen.append(indexes(tmp_path / "s.sqlite") & set(READ_INDEXES))
        real(*args, **kwargs)
        seen.append(indexes(tmp_path / "s.sqlite") & set(READ_INDEXES))

    monkeypatch.setattr(pipeline, "_ingest_in_workers", watched)
    store = open_store(tmp_path / "s.sqlite")
    summary = ingest_paths(store, [tmp_path / "data"], progress=False, workers=2)
    store.close()
    assert summary.loaded > 0 and not summary.failed
    assert seen == [set(), set()]
    assert set(READ_INDEXES) <= indexes(tmp_path / "s.sqlite")


def test_a_failed_drop_leaves_no_transaction_open(tmp_path):
    store = open_store(tmp_path / "s.sqlite")
    conn = store._write_conn
    reader = conn.execute("SELECT name FROM sqlite_master")  # a statement still running: DROP fails
    reader.fetchone()
    with pytest.raises(sqlite3.OperationalError):
        drop_read_indexes(conn)
    reader.close()
    assert not conn.in_transaction
    with store.writer() as w:  # the store still takes write batches
        w.put_parties([Party("org:91110000600037341L", PartyKind.ENTERPRISE, "甲")])
    store.close()


def test_a_store_with_parties_keeps_them(tmp_path):
    store = open_store(tmp_path / "s.sqlite")
    with store.writer() as w:
        w.put_parties([Party("org:91110000600037341L", PartyKind.ENTERPRISE, "甲")])
    with store.deferred_read_indexes() as dropped:
        assert not dropped
        assert set(READ_INDEXES) <= indexes(tmp_path / "s.sqlite")
    store.close()


def test_the_next_opening_after_a_killed_load_builds_them(tmp_path):
    # a process killed (SIGKILL) in the middle of a first load: it never reaches the end
    script = (f"import os, signal; from graph.backends.memory import NoLinkIndex, open_store; "
              f"store = open_store({str(tmp_path / 's.sqlite')!r}); load = store.deferred_read_indexes(); load.__enter__(); "
              f"os.kill(os.getpid(), signal.SIGKILL)")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=False)
    assert done.returncode == -signal.SIGKILL
    assert not indexes(tmp_path / "s.sqlite") & set(READ_INDEXES)
    open_store(tmp_path / "s.sqlite").close()
    assert set(READ_INDEXES) <= indexes(tmp_path / "s.sqlite")


def test_an_ingest_into_an_empty_store_ends_with_them_and_searches_by_code(tmp_path):
    data = tmp_path / "registrations.csv"
    data.write_text(REGISTRATIONS, encoding="utf-8")
    store = open_store(tmp_path / "s.sqlite")
    summary = ingest_paths(store, [data], progress=False)
    assert summary.loaded == 1
    assert set(READ_INDEXES) <= indexes(tmp_path / "s.sqlite")
    found = store._write_conn.execute(  # INDEXED BY fails unless the index exists and serves the query
        "SELECT key FROM parties INDEXED BY parties_code WHERE code = '91110000600037341L' AND code != ''").fetchall()
    assert found == [("org:91110000600037341L",)]
    store.close()


def test_an_ingest_never_builds_the_link_index(tmp_path):
    """Identity resolution at the end reads the tables only: the link index (14 s at 1M firms)
    is left to whoever traverses next."""
    data = tmp_path / "registrations.csv"
    data.write_text(REGISTRATIONS, encoding="utf-8")
    store = open_store(tmp_path / "s.sqlite")
    try:
        ingest_paths(store, [data], progress=False)
        assert store._index_version == -1
        view = store.view(traversal=False)
        assert view.party_names(["org:91110000600037341L"]) == {"org:91110000600037341L": "北京甲乙科技有限公司"}
        with pytest.raises(NoLinkIndex, match="traversal=False"):
            view.neighbourhood(["org:91110000600037341L"], hops=1)
        assert store.view().neighbourhood(["org:91110000600037341L"], hops=1).parties
    finally:
        store.close()
