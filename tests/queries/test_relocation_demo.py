"""Relocation detection on a 2,000-firm demo set (planted cases and hard negatives) and the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.commands.relocation import COMMANDS, detect
from graph.backends.memory import open_store
from graph.model import LinkKind, NameFact
from queries.relocation import META_KEY, detect_relocations
from tests.factories import firm, link, uscc


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from ingest.demo import generate
    from ingest.pipeline import ingest_paths

    root = tmp_path_factory.mktemp("reloc-demo")
    generate(root / "demo", firms=2000, progress=False)
    store = open_store(root / "demo.sqlite")
    ingest_paths(store, [str(root / "demo")], progress=False)
    store.close()
    truth = json.loads((root / "demo" / "ground_truth.json").read_text(encoding="utf-8"))
    return root / "demo.sqlite", truth


def test_planted_cases_found_and_hard_negatives_silent(demo):
    db, truth = demo
    store = open_store(db)
    try:
        cases = detect_relocations(store.view()).cases
    finally:
        store.close()
    found = {(c.old_uscc, c.new_uscc): c for c in cases}
    planted = {(r["old_uscc"], r["new_uscc"]): r for r in truth["relocations"]}
    hits = [k for k in planted if k in found]
    assert len(hits) / len(planted) >= 0.95
    assert len(hits) / len(found) >= 0.90
    fired = Counter(n["kind"] for n in truth["hard_negatives"] if (n["old_uscc"], n["other_uscc"]) in found)
    assert not fired
    expected = {"same_person": "same_person", "traditional": "same_person", "nominee": "nominee",
                "officer_leads": "officer_leads", "shared_contact_trade_name": "shared_contact_trade_name"}
    agree = sum(found[k].pattern == expected[planted[k]["pattern"]] for k in hits)
    assert agree / len(hits) >= 0.9
    regions = sum(found[k].region == planted[k]["region"] for k in hits)
    assert regions == len(hits)


def test_cli_since_last_across_runs(demo, tmp_path):
    db = tmp_path / "copy.sqlite"
    db.write_bytes(demo[0].read_bytes())
    assert [c.name for c in COMMANDS] == ["detect"]
    run = CliRunner()
    first = run.invoke(detect, ["relocations", "--db", str(db), "--since", "last", "--quiet"])
    assert first.exit_code == 0, first.output
    cases = json.loads(first.output)
    assert cases and {"old_uscc", "new_uscc", "score", "level", "pattern", "evidence"} <= set(cases[0])
    second = run.invoke(detect, ["relocations", "--db", str(db), "--since", "last", "--quiet"])
    assert second.exit_code == 0 and json.loads(second.output) == []
    store = open_store(db)
    try:
        meta = json.loads(store.view().meta(META_KEY))
        assert set(meta["cases"]) == {c["key"] for c in cases}
        # a new reopening appears: the next run reports exactly it
        old = cases[0]
        person = next(e["parties"][0] for e in old["evidence"] if e["feature"] == "shared_person")
        fresh = firm("深圳市再起贸易有限公司", uscc(division="440304"), start=old["listed_on"][:4] + "-12-30",
                     region="440304", trade_name="再起", industry="贸易")
        with store.writer("test") as w:
            w.put_parties([fresh])
            w.put_names([NameFact(fresh.key, fresh.name, fresh.start)])
            w.put_links([link(LinkKind.LEGAL_REPRESENTATIVE, person, fresh, fresh.start.isoformat())])
    finally:
        store.close()
    third = run.invoke(detect, ["relocations", "--db", str(db), "--since", "last", "--quiet"])
    assert third.exit_code == 0, third.output
    assert [(c["old_uscc"], c["new_uscc"]) for c in json.loads(third.output)] == [(old["old_uscc"], fresh.code)]
    dated = run.invoke(detect, ["relocations", "--db", str(db), "--since", "2099-01-01", "--quiet", "--no-record",
                                "--format", "csv"])  # fmt: skip
    assert dated.exit_code == 0 and dated.output.splitlines()[0].startswith("old_uscc,")
    assert len(dated.output.splitlines()) == 1
