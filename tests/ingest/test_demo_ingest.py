"""The demo set, ingested once, checked against the generator's ground truth: every row
loaded or rejected as planted, every invalid code and every code with two names reported
by the quality report exactly as written, every masked ID resolved only when it should."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graph.backends.memory import open_store
from graph.model import RecordKind
from ingest.demo import generate
from ingest.pipeline import ingest_paths


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("demo")
    generate(root / "data", firms=2000, seed=11, progress=False)
    store = open_store(root / "store.sqlite")
    summary = ingest_paths(store, [root / "data"], progress=False)
    truth = json.loads((root / "data" / "ground_truth.json").read_text(encoding="utf-8"))
    yield root, store, summary, truth
    store.close()


def test_rows_loaded_and_rejected_as_planted(demo):
    _, store, summary, truth = demo
    ugly = truth["ugly"]
    by_name = {Path(f.path).name: f for f in summary.files}
    assert {n: f.loaded for n, f in by_name.items()} == ugly["expected_loaded_rows"]
    assert {n: f.rejected for n, f in by_name.items()} == ugly["expected_rejected_rows"]
    assert {n: f.encoding for n, f in by_name.items() if n.endswith(".csv")} == {
        n: e for n, e in ugly["encodings"].items() if n.endswith(".csv")
    }
    got = {(Path(r.file).name, r.row, r.column) for r in store.view().rejections()}
    assert got == {(r["file"], r["row"], r["column"]) for r in ugly["rejected"]}
    assert all(r.reason for r in store.view().rejections())
    empties = {n: f.empty for n, f in by_name.items() if f.empty}
    assert empties == {n: len(rows) for n, rows in ugly["empty_rows"].items() if rows}


def _quality_json(root: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; main()", "quality", "--db", str(root / "store.sqlite"),
         "--format", "json"],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)


def test_quality_lists_every_invalid_code_as_written_and_every_code_with_two_names(demo):
    root, _, _, truth = demo
    report = _quality_json(root)
    invalid = {f["code"] for f in report["findings"] if f["kind"] == "invalid_code"}
    assert invalid == {e["code"] for e in truth["code_errors"]["invalid"]}
    places = {w for f in report["findings"] if f["kind"] == "invalid_code" for w in f["where"]}
    for e in truth["code_errors"]["invalid"]:
        assert any(p.endswith(f"{e['file']}:{e['row']}") for p in places), e
    doubled = {f["code"]: set(f["names"]) for f in report["findings"] if f["kind"] == "code_with_several_names"}
    assert set(doubled) == {d["code"] for d in truth["code_errors"]["duplicates"]}
    for d in truth["code_errors"]["duplicates"]:
        assert set(d["names"]) <= doubled[d["code"]]
    assert report["codes_in_error"] >= len(invalid) + len(doubled)
    assert report["error_rate"] == pytest.approx(report["codes_in_error"] / report["distinct_codes"])


def test_masked_court_ids_resolve_only_when_unique(demo):
    _, store, _, truth = demo
    view = store.view()
    by_case = {
        r.attrs["case_no"]: r for r in view.records(kinds=[RecordKind.COURT_DISHONEST])
    }
    checked = 0
    for m in truth["masked_ids"]:
        record = by_case[m["case_no"]]
        resolved = view.resolve(record.subject)
        if m["outcome"] == "resolve":
            assert resolved == "per:" + m["expected_person_id"], m
        else:
            assert resolved == record.subject and resolved.startswith("unr:"), m
        checked += 1
    assert checked == len(truth["masked_ids"]) > 0


def test_legal_representatives_at_act_date_match_the_truth(demo):
    import datetime as dt

    from graph.model import LinkKind

    _, store, _, truth = demo
    view = store.view()
    reps = (LinkKind.LEGAL_REPRESENTATIVE, LinkKind.PRINCIPAL)
    for row in truth["punishment"]["must"]:
        if row["role"] != "法定代表人":
            continue
        day = dt.date.fromisoformat(row["act_date"])
        held = {lk.src for lk in view.links("org:" + row["uscc"], as_of=day, kinds=reps)}
        assert "per:" + row["person_id"] in held, row
    for row in truth["punishment"]["must_not"]:
        if row["reason"] in ("left_before_act", "joined_after"):
            day = dt.date.fromisoformat(row["act_date"])
            held = {lk.src for lk in view.links("org:" + row["uscc"], as_of=day, kinds=reps)}
            assert "per:" + row["person_id"] not in held, row
