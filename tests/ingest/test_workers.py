"""Ingest in worker processes: the same store as one file after another, and the collector's
rhythm inside a worker (once per batch, not as allocations count up)."""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path

import pytest

import ingest.pipeline as pipeline
from graph.backends.memory import open_store
from graph.model import Source
from ingest.demo import generate
from ingest.layouts import recognise
from ingest.pipeline import FileSummary, ingest_paths
from ingest.readers import open_table
from tests.stored_facts import FACT_TABLES, stored_facts


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-800")
    generate(out, firms=800, seed=5, progress=False, xlsx=False)
    return out


def test_two_workers_store_what_one_process_stores(demo, tmp_path, monkeypatch):
    """Files shared by row ranges between two spawned workers, batches of 500 rows taking
    turns at the store: the same facts as one process reading file after file."""
    one = open_store(tmp_path / "one.sqlite")
    ingest_paths(one, [demo], progress=False, workers=1, batch_rows=500)
    one.close()
    monkeypatch.setattr(pipeline, "SPLIT_ROWS", 1000)  # ranges are cut in this (parent) process
    two = open_store(tmp_path / "two.sqlite")
    summary = ingest_paths(two, [demo], progress=False, workers=2, batch_rows=500)
    two.close()
    assert not summary.failed
    assert [f for f in summary.files if f.rows > 1000], "no file was shared: the ranges were not exercised"
    assert sum(f.lock_held for f in summary.files) > 0 and all(f.lock_held >= 0 for f in summary.files)
    expected, got = stored_facts(tmp_path / "one.sqlite"), stored_facts(tmp_path / "two.sqlite")
    assert all(expected[t] for t in ("parties", "names", "links", "records", "aliases", "code_observations"))
    for table in FACT_TABLES:
        missing = set(expected[table]) - set(got[table])
        extra = set(got[table]) - set(expected[table])
        assert not missing and not extra, f"{table}: missing {sorted(missing, key=repr)[:3]}, extra {sorted(extra, key=repr)[:3]}"


def test_the_fact_comparison_sees_a_difference(demo, tmp_path):
    store = open_store(tmp_path / "a.sqlite")
    ingest_paths(store, [demo / "officers.csv"], progress=False, workers=1)
    store.close()
    before = stored_facts(tmp_path / "a.sqlite")
    conn = sqlite3.connect(tmp_path / "a.sqlite")
    with conn:
        conn.execute("UPDATE links SET title = title || 'x' WHERE id = (SELECT max(id) FROM links)")
    conn.close()
    assert stored_facts(tmp_path / "a.sqlite")["links"] != before["links"]


def test_a_file_calls_between_batches_once_per_full_batch(demo, tmp_path):
    path = demo / "officers.csv"
    table = open_table(path)
    recognised = recognise(table.headers, file=str(path))
    store = open_store(tmp_path / "s.sqlite")
    calls: list[int] = []
    fs = FileSummary(str(path), kind=recognised.layout.kind)
    try:
        pipeline._ingest_file(store, store.start_run("t"), path, fs, table, recognised, batch_rows=700,
                              progress=False, force=False, between_batches=lambda: calls.append(fs.rows))
    finally:
        store.close()
    assert fs.status == "loaded" and fs.rows > 1400
    assert calls == [700 * (i + 1) for i in range(fs.rows // 700)]


def test_collect_young_frees_a_batch_cycle_with_automatic_collection_off():
    class Node:
        def __init__(self) -> None:
            self.me = self
            self.source = Source("f.csv", 1, "r")

    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        Node()  # a cycle: reference counting alone never frees it
        assert sum(isinstance(o, Node) for o in gc.get_objects(generation=0)) == 1
        pipeline._collect_young()
        assert not any(isinstance(o, Node) for o in gc.get_objects())
    finally:
        if was:
            gc.enable()


def test_a_worker_remembers_mentions_across_its_tasks(tmp_path, monkeypatch):
    """A person named in two files a worker takes one after the other is written by the
    first task only: what a task wrote is remembered for the rest of the run, not per
    opening of the store (every task opens its own)."""
    header = "统一社会信用代码,姓名,证件号码,职务,任职日期\n"
    person = "王建国,110105198002020013"
    (tmp_path / "a.csv").write_text(header + f"9111010570000001X6,{person},董事,2015-03-05\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text(header + f"911101057000000286,{person},监事,2016-04-06\n", encoding="utf-8")
    db = str(tmp_path / "s.sqlite")
    store = open_store(db)
    run = store.start_run("t")
    store.close()
    skipped: list[set[str]] = []
    real = pipeline._not_yet_put

    def watched(token, parties):
        out, fresh, stored = real(token, parties)
        skipped.append(stored)
        return out, fresh, stored

    monkeypatch.setattr(pipeline, "_not_yet_put", watched)
    frozen = gc.isenabled()
    try:
        for name in ("a.csv", "b.csv"):
            done = pipeline._worker_ingest(
                (db, str(tmp_path / name), "officers", None, run, 100, False, False, None, 0, None, None, None))
            assert done.status == "loaded" and done.loaded == 1
    finally:  # a worker freezes what it holds and turns automatic collection off
        gc.unfreeze()
        if frozen:
            gc.enable()
    assert skipped == [set(), {"per:110105198002020013"}]
    assert len(stored_facts(tmp_path / "s.sqlite")["links"]) == 2
