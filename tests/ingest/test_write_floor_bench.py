"""``bench/sqlite_floor.py`` times the store's statements through a stand-in for its write
connection: the stand-in must change nothing the store does, and count what it runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from graph.backends.memory import open_store
from ingest.demo import generate
from ingest.pipeline import ingest_paths
from tests.stored_facts import stored_facts

_SPEC = importlib.util.spec_from_file_location("sqlite_floor", Path(__file__).parents[2] / "bench" / "sqlite_floor.py")
assert _SPEC is not None and _SPEC.loader is not None
floor = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(floor)


def test_timed_connection_stores_what_the_plain_one_does_and_counts_every_link_upsert(tmp_path):
    data = tmp_path / "data"
    generate(data, firms=500, seed=5, progress=False)
    rows, seconds, timed = floor.store_write_work(data, tmp_path / "timed.sqlite")
    plain = open_store(tmp_path / "plain.sqlite")
    summary = ingest_paths(plain, [data], progress=False, workers=1)
    plain.close()

    assert rows == summary.rows > 0
    assert seconds > 0
    facts = stored_facts(tmp_path / "timed.sqlite", mention_provenance=True)
    assert facts == stored_facts(tmp_path / "plain.sqlite", mention_provenance=True)
    link_upserts = sum(n for label, n in timed.rows.items() if label.startswith("INSERT INTO links("))
    stored = len(facts["links"])
    deleted = sum(n for label, n in timed.rows.items() if label.startswith("DELETE FROM links"))
    # every stored link went through the timed upsert; re-derived ones were upserted, then deleted
    assert link_upserts >= stored + deleted > 0
    assert timed.rows["COMMIT"] >= 1 and timed.seconds["COMMIT"] > 0


def test_driver_floor_measures_both_tables():
    plain, keyed = floor.driver_floor(2000)
    assert plain > 0 and keyed > 0


def test_link_table_probe_runs_all_three_tables_small():
    probe = floor.link_table_probe(parties=2000, stored=3000, timed=1000)
    assert set(probe) == {"store", "hashed ends", "lean", "hashing"}
    assert all(v > 0 for v in probe.values())


def test_hash63_is_a_non_negative_sqlite_integer_and_stable():
    values = [floor._hash63(f"per:{i}") for i in range(1000)]
    assert all(0 <= v < 2**63 for v in values)
    assert len(set(values)) == 1000
    assert floor._hash63("per:1") == floor._hash63("per:1")
