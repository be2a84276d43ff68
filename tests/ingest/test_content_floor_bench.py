"""``bench/content_floor.py`` times writing a finished store's rows into fresh files: each of
its ways must write exactly those rows, with the indexes the store needs, or its figure
would be the floor of some smaller job."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest

from graph.backends.memory import open_store
from ingest.demo import generate
from ingest.pipeline import ingest_paths

_SPEC = importlib.util.spec_from_file_location("content_floor", Path(__file__).parents[2] / "bench" / "content_floor.py")
assert _SPEC is not None and _SPEC.loader is not None
floor = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(floor)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("content")
    generate(tmp / "data", firms=500, seed=11, progress=False)
    store = open_store(tmp / "store.sqlite")
    summary = ingest_paths(store, [tmp / "data"], progress=False, workers=1)
    store.close()
    return tmp / "store.sqlite", summary.rows


def _rows(path: Path, table: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    finally:
        conn.close()


def _indexes(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return {name: sql or "" for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")}
    finally:
        conn.close()


def test_input_rows_are_the_rows_the_ingest_read(finished):
    db, rows = finished
    assert floor.input_rows(db) == rows > 0


@pytest.mark.parametrize("driver", floor.available_drivers())
@pytest.mark.parametrize("variant", list(floor.VARIANTS))
def test_every_way_writes_every_row_of_the_store_with_its_unique_keys(finished, tmp_path, variant, driver):
    db, _ = finished
    content = floor.read_content(db)
    assert all(rows for table, (_, rows) in content.items() if table != "rejections")
    out = tmp_path / "copy.sqlite"
    steps = floor.write_content(content, str(out), variant, driver)
    assert all(seconds >= 0 for seconds in steps.values())
    assert {f"insert {t}" for t in floor.TABLES} <= set(steps)
    for table in floor.TABLES:
        assert _rows(out, table) == _rows(db, table), table
    # the trigram index finds the long names the store's finds
    conn = sqlite3.connect(out)
    try:
        match = "SELECT count(*) FROM names_fts WHERE names_fts MATCH '\"有限公司\"'"
        store = sqlite3.connect(db)
        try:
            expected = store.execute(match).fetchone()[0]
        finally:
            store.close()
        assert conn.execute(match).fetchone()[0] == expected > 0
        # unique keys hold: a second copy of a stored party is refused
        key = conn.execute("SELECT key FROM parties LIMIT 1").fetchone()[0]
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO parties(key, kind) VALUES (?, 'person')", (key,))
        fid = conn.execute("SELECT fid FROM links LIMIT 1").fetchone()[0]
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO links(fid, kind, src, dst) VALUES (?, 'director', 1, 2)", (fid,))
    finally:
        conn.close()
    indexes = _indexes(out)
    assert set(floor.READ_INDEXES) <= set(indexes)
    assert {"links_derived_dst", "links_derived_src", "records_subject"} <= set(indexes)


def test_bulk_schema_has_no_unique_key_while_rows_go_in():
    conn = sqlite3.connect(":memory:")
    conn.executescript(floor.bulk_ddl())
    conn.execute("INSERT INTO parties(key, kind) VALUES ('per:1', 'person')")
    conn.execute("INSERT INTO parties(key, kind) VALUES ('per:1', 'person')")  # refused by the store's schema
    conn.execute("INSERT INTO links(fid, kind, src, dst) VALUES ('a', 'director', 1, 2)")
    conn.execute("INSERT INTO links(fid, kind, src, dst) VALUES ('a', 'director', 1, 2)")
    assert conn.execute("SELECT count(*) FROM parties").fetchone()[0] == 2
    tables = ", ".join(f"'{t}'" for t in floor.TABLES)
    assert conn.execute(f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({tables})").fetchall() == []
