"""Differential test: the same demo set ingested into both backends gives the same answers.

The embedded backend is the reference. Both stores are filled by the real pipeline
(``ingest.pipeline.ingest_paths``) from the same files, then every read of the View
protocol is asked of both, for a sample of parties and days, and the answers compared
whole (parties with their attributes and sources, links with dates and ratios, records,
subgraphs, search hits, ...), not by count.

Run ids differ between the two stores (each ingest is its own run), so they are blanked
before comparing; lists whose order the contract leaves open are compared sorted.

The test run uses a small demo set made here. The same comparison on the 100k-firm demo
set is ``bench/differential.py`` (not a test: ingesting 100k firms over FalkorDB's Bolt
port takes hours)::

    .venv/bin/python bench/differential.py --data bench/out/demo-100000 --sample 400
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import asdict, is_dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from graph.backends.memory import open_store
from graph.model import LinkKind, PartyKind, RecordKind, Source
from ingest.pipeline import ingest_paths
from tests.bolt_server import empty_store

ROOT = Path(__file__).resolve().parents[2]
DAYS = [dt.date(2012, 6, 30), dt.date(2016, 1, 1), dt.date(2019, 7, 15), dt.date(2023, 3, 1)]


# -- making answers comparable -------------------------------------------------------------
def _plain(value: Any) -> Any:
    """``value`` as plain data with run ids blanked (each store ingested in its own run)."""
    if isinstance(value, Source):
        return (value.file, value.row)
    if is_dataclass(value) and not isinstance(value, type):
        fields = {f: getattr(value, f) for f in value.__dataclass_fields__}  # type: ignore[attr-defined]
        if "run" in fields and type(value).__name__ == "Rejection":
            fields["run"] = ""
        return (type(value).__name__, tuple(sorted((k, _plain(v)) for k, v in fields.items())))
    if isinstance(value, dict):
        return tuple(sorted((str(k), _plain(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return tuple(sorted(repr(_plain(v)) for v in value))
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "value") and not isinstance(value, str | int | float):  # enums
        return value.value
    return value


def _bag(values: Any) -> list[str]:
    """A list compared as a multiset (the contract leaves its order open)."""
    return sorted(repr(_plain(v)) for v in values)


def _subgraph(sub: Any) -> dict[str, Any]:
    return {
        "parties": _plain(sub.parties),
        "distance": _plain(sub.distance),
        "capped": sorted(sub.capped),
        "links": _bag(sub.links),
    }


def _hits(hits: list[Any]) -> list[tuple[Any, ...]]:
    """Code, id, exact and substring hits (ties in score may come in either order).

    Fuzzy hits are left out: the backends pick fuzzy candidates differently (the embedded
    one scores every name through its trigram index, the Bolt one the names sharing the
    rarest trigrams, capped), so their fuzzy tails differ; that gap is known and open.
    """
    return sorted((h.party.key, h.matched, h.score, h.how, repr(_plain(h.party))) for h in hits if h.how != "fuzzy")


def _names(facts: list[Any]) -> list[tuple[Any, ...]]:
    """Name facts by what they say (party, name, start, end), duplicates kept.

    The contract keeps one fact per party, name and start; which source row an undated name
    keeps depends on the order the workers wrote in, so sources are not compared.
    """
    return sorted([(n.party, n.name, n.start, n.end) for n in facts], key=repr)


# -- the questions ------------------------------------------------------------------------
def party_answers(view: Any, key: str, day: dt.date) -> dict[str, Any]:
    """Every per-party answer of the View protocol for ``key`` (and ``day``)."""
    party = view.party(key)
    out: dict[str, Any] = {
        "party": _plain(party),
        "resolve": view.resolve(key),
        "names": _names(view.names(key)),
        "links": _bag(view.links(key)),
        "links_as_of": _bag(view.links(key, as_of=day)),
        "links_out": _bag(view.links(key, direction="out")),
        "links_in_as_of": _bag(view.links(key, as_of=day, direction="in")),
        "links_shareholders": _bag(view.links(key, kinds=[LinkKind.SHAREHOLDER, LinkKind.LEGAL_REPRESENTATIVE])),
        "degree": view.degree(key),
        "records": _bag(view.records(key)),
        "records_as_of": _bag(view.records(key, as_of=day)),
        "records_listed": _bag(view.records(key, kinds=[RecordKind.LIST_ENTRY, RecordKind.PENALTY])),
        "hood_1": _subgraph(view.neighbourhood([key], 1)),
        "hood_3_as_of": _subgraph(view.neighbourhood([key], 3, as_of=day, max_degree=50)),
        "hood_2_shares": _subgraph(view.neighbourhood([key], 2, kinds=[LinkKind.SHAREHOLDER])),
    }
    ids = sorted(lk.id for lk in view.links(key))[:5]
    out["link"] = [_plain(view.link(i)) for i in ids]
    out["links_by_id"] = _plain(view.links_by_id(ids))
    for record in sorted(view.records(key), key=lambda r: r.id)[:3]:
        out[f"record:{record.id}"] = _plain(view.record(record.id))
        out[f"targeting:{record.id}"] = _bag(view.records_targeting(record.id))
    if party is not None and party.name:
        out["search_name"] = _hits(view.search(party.name))
    if party is not None and party.code:
        out["search_code"] = _hits(view.search(party.code))
    return out


def global_answers(view: Any, keys: list[str], full: bool) -> dict[str, Any]:
    """Answers about the whole store (``full``: every party and link, not only counts)."""
    out: dict[str, Any] = {
        "counts": view.counts(),
        "aliases": _bag(view.aliases()),
        "rejections": _bag(view.rejections()),
        "parties": _plain(view.parties(keys)),
        "resolve_many": view.resolve_many(keys),
        "meta_missing": view.meta("no-such-key"),
        "party_missing": view.party("org:NOSUCHPARTY000000"),
        "runs": [(len(r.summary.get("files", [])), r.summary.get("rows")) for r in view.runs()],  # type: ignore[arg-type]
        "unresolved": _bag(view.iter_parties([PartyKind.UNRESOLVED])),
    }
    names = sorted({p.name for p in view.parties(keys).values() if p.name})
    from graph.textkey import name_search_key

    out["parties_by_name"] = {
        k: sorted(p.key for p in v) for k, v in view.parties_by_name(name_search_key(n) for n in names).items()
    }
    if full:
        out["iter_parties"] = _bag(view.iter_parties())
        out["iter_links"] = _bag(view.iter_links())
        out["code_observations"] = _bag(view.code_observations())
    else:
        out["iter_links_kinds"] = len(list(view.iter_links([LinkKind.SHAREHOLDER])))
    return out


def _sample(view: Any, size: int, seed: int) -> list[str]:
    """Parties of every kind, high-degree ones included, plus unresolved ones (aliases)."""
    rng = random.Random(seed)
    by_kind: dict[str, list[str]] = {}
    for p in view.iter_parties():
        by_kind.setdefault(p.kind.value, []).append(p.key)
    keys: list[str] = []
    for _kind, members in sorted(by_kind.items()):
        share = max(3, size * len(members) // sum(len(m) for m in by_kind.values()))
        keys.extend(rng.sample(members, min(share, len(members))))
    keys.extend(a.unresolved for a in view.aliases()[:20])
    return list(dict.fromkeys(keys))


def _differences(reference: dict[str, Any], other: dict[str, Any]) -> list[str]:
    out = []
    for name in reference:
        mine, theirs = reference[name], other.get(name)
        if mine == theirs:
            continue
        if isinstance(mine, list) and isinstance(theirs, list):
            # long lists: what one side has and the other lacks, not the heads of both
            have_m, have_b = set(map(repr, mine)), set(map(repr, theirs))
            only_m = sorted(have_m - have_b)[:3]
            only_b = sorted(have_b - have_m)[:3]
            out.append(f"{name} ({len(mine)} vs {len(theirs)} items):\n  only memory: {str(only_m)[:1500]}\n"
                       f"  only bolt:   {str(only_b)[:1500]}")
        else:
            out.append(f"{name}:\n  memory: {str(mine)[:600]}\n  bolt:   {str(theirs)[:600]}")
    return out


def compare_stores(memory: Any, bolt: Any, *, sample: int, seed: int = 7, full: bool = True) -> list[str]:
    """Ask both stores every question; return the differences (empty when they agree)."""
    mview, bview = memory.view(), bolt.view()
    keys = _sample(mview, sample, seed)
    assert keys, "the reference store holds no parties: nothing would be compared"
    problems = [f"global {d}" for d in _differences(global_answers(mview, keys, full), global_answers(bview, keys, full))]
    rng = random.Random(seed)
    for key in keys:
        day = rng.choice(DAYS)
        diffs = _differences(party_answers(mview, key, day), party_answers(bview, key, day))
        problems.extend(f"{key} on {day}: {d}" for d in diffs)
        if len(problems) > 20:
            break
    return problems


def ingest_both(data: Path, tmp_path: Path, bolt_server: Any) -> tuple[Any, Any]:
    """Ingest ``data`` into a fresh store of each backend, with the same pipeline settings."""
    memory = open_store(tmp_path / "reference.sqlite")
    bolt = empty_store(bolt_server)
    for store in (memory, bolt):
        summary = ingest_paths(store, [data], progress=False, workers=1)
        assert summary.rows > 0 and not summary.failed
    return memory, bolt


# -- the tests ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ingest.demo import generate

    out = tmp_path_factory.mktemp("demo-500")
    generate(out, firms=500, progress=False, xlsx=False)
    return out


def test_backends_answer_alike_on_a_small_demo_set(small_demo, tmp_path, bolt_server):
    memory, bolt = ingest_both(small_demo, tmp_path, bolt_server)
    try:
        problems = compare_stores(memory, bolt, sample=40)
    finally:
        memory.close()
        bolt.close()
    assert not problems, "\n".join(problems[:20])


def test_a_difference_is_reported(small_demo, tmp_path):
    """The comparison can fail: two copies of one store, one party renamed in one of them."""
    import shutil

    reference = open_store(tmp_path / "a.sqlite")
    ingest_paths(reference, [small_demo], progress=False, workers=1)
    reference.close()
    shutil.copy(tmp_path / "a.sqlite", tmp_path / "b.sqlite")
    one, other = open_store(tmp_path / "a.sqlite"), open_store(tmp_path / "b.sqlite")
    try:
        assert not compare_stores(one, other, sample=20)
        firm = next(iter(other.view().iter_parties([PartyKind.ENTERPRISE])))
        with other.writer() as w:
            w.put_parties([replace(firm, name=firm.name + "X", attrs={**firm.attrs, "_primary": 9})])
        problems = compare_stores(one, other, sample=20)
    finally:
        one.close()
        other.close()
    assert any("iter_parties" in p for p in problems)


def test_plain_blanks_only_run_ids():
    """What the comparison ignores is narrow: run ids, nothing else."""
    a = Source("f.csv", 3, "run-a")
    assert _plain(a) == _plain(Source("f.csv", 3, "run-b"))
    assert _plain(a) != _plain(Source("f.csv", 4, "run-a"))
    assert asdict(a)["run"] == "run-a"
