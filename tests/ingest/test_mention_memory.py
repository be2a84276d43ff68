"""An ingest process remembers the mentions it wrote (``ingest.mention_memory``): as key tuples
while few, as digests past a bound, starting over only past a second one. Whatever it holds,
the store ends the same; what it remembers only saves writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.backends.memory import open_store
from graph.model import Flag, PartyKind
from ingest import pipeline
from ingest.demo import generate
from ingest.mention_memory import MentionMemory, mention_digest
from tests.stored_facts import stored_facts

PERSON = ("tok", "per:110105194912310020", PartyKind.PERSON, "张三", "110105194912310020", "", frozenset())


def test_tuples_while_few_then_digests_and_nothing_forgotten():
    memory = MentionMemory(tuple_limit=3)
    keys = [("tok", "name", f"per:{i}", "李四") for i in range(3)]
    memory.remember([memory.mark(k) for k in keys])
    assert not memory.digests
    assert memory.mark(keys[0]) == keys[0] and keys[0] in memory

    late = memory.mark(PERSON)  # made while tuples, remembered after the switch
    memory.remember([memory.mark(("tok", "name", "per:9", "王五"))])
    assert memory.digests
    memory.remember([late])
    assert all(memory.mark(k) in memory for k in [*keys, ("tok", "name", "per:9", "王五"), PERSON])
    assert memory.mark(("tok", "name", "per:10", "李四")) not in memory
    assert len(memory) == 5


def test_starts_over_only_past_the_digest_bound():
    memory = MentionMemory(tuple_limit=1, digest_limit=4)
    for i in range(5):
        memory.remember([memory.mark(("tok", "name", f"per:{i}", "赵六"))])
    assert memory.digests and len(memory) == 5
    memory.remember([memory.mark(("tok", "name", "per:5", "赵六"))])
    assert len(memory) == 1  # bounded: started over, then kept the new one
    assert memory.mark(("tok", "name", "per:5", "赵六")) in memory
    assert memory.mark(("tok", "name", "per:0", "赵六")) not in memory


def test_digest_tells_mentions_apart_and_ignores_flag_order():
    base = mention_digest(PERSON)
    assert len(base) == 16 and base == mention_digest(tuple(PERSON))
    changed = [PERSON[:3] + ("张三丰",) + PERSON[4:], PERSON[:2] + (PartyKind.UNRESOLVED,) + PERSON[3:],
               PERSON[:6] + (frozenset({Flag.INVALID_ID}),), ("tok2",) + PERSON[1:], PERSON[:4]]
    assert len({base, *(mention_digest(k) for k in changed)}) == 1 + len(changed)
    one_way = frozenset([Flag.INVALID_ID, Flag.NAME_ONLY])
    other_way = frozenset([Flag.NAME_ONLY, Flag.INVALID_ID])
    assert mention_digest(PERSON[:6] + (one_way,)) == mention_digest(PERSON[:6] + (other_way,))
    # the parts are joined with a separator: the count keeps different splits apart
    assert mention_digest(("a", "b")) != mention_digest(("a", "b", ""))


def _ingest(data: Path, db: Path, memory: MentionMemory, monkeypatch: pytest.MonkeyPatch) -> int:
    """Ingest with ``memory`` as the process's memory of mentions; the party upserts it ran."""
    monkeypatch.setattr(pipeline, "_PUT", memory)
    store = open_store(db)
    upserts = [0]

    def count(sql: str) -> None:
        upserts[0] += sql.startswith("INSERT INTO parties(")

    store._write_conn.set_trace_callback(count)
    pipeline.ingest_paths(store, [data], progress=False, workers=1, batch_rows=400)
    store._write_conn.set_trace_callback(None)
    store.close()
    return upserts[0]


def test_a_small_memory_turned_to_digests_stores_the_same_with_fewer_writes(tmp_path, monkeypatch):
    data = tmp_path / "data"
    generate(data, firms=500, seed=3, progress=False)
    kept = MentionMemory(tuple_limit=200)
    forgetful = MentionMemory(tuple_limit=200, digest_limit=200)  # keeps starting over, as before
    plain = _ingest(data, tmp_path / "plain.sqlite", MentionMemory(), monkeypatch)
    digests = _ingest(data, tmp_path / "digests.sqlite", kept, monkeypatch)
    again = _ingest(data, tmp_path / "forgetful.sqlite", forgetful, monkeypatch)
    assert kept.digests and len(kept) > 200
    stored = [stored_facts(tmp_path / f"{name}.sqlite", mention_provenance=True)
              for name in ("plain", "digests", "forgetful")]
    assert stored[0]["parties"] and stored[0]["names"]
    assert stored[0] == stored[1] == stored[2]
    assert plain == digests < again
