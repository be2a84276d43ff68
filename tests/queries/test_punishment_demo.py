"""On the demo set, end to end (generate → ingest → conclude): the generator's ground truth of
who must and must not be punished is matched exactly, and every planted linked-risk firm
is warned with a path that names the punished party."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import pytest

from graph.backends.memory import open_store
from ingest.demo import generate
from ingest.pipeline import ingest_paths
from queries.propagation import propagate
from queries.risk import check

MANDATORY_ROLES = {"legal_representative", "principal", "actual_controller"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("punish")
    generate(root / "data", firms=2000, seed=5, progress=False)
    store = open_store(root / "store.sqlite")
    ingest_paths(store, [root / "data"], progress=False)
    truth = json.loads((root / "data" / "ground_truth.json").read_text(encoding="utf-8"))
    yield store, truth
    store.close()


def _reached(view, on: dt.date) -> dict[str, set[str]]:
    """decision number → person IDs reached by a mandatory measure through a role."""
    out: dict[str, set[str]] = defaultdict(set)
    for p in propagate(view, on):
        if p.mandatory and p.role in MANDATORY_ROLES and p.person.startswith("per:"):
            out[p.decision_no].add(p.person[4:])
    return out


def test_who_must_and_must_not_be_punished_matches_the_truth(demo):
    store, truth = demo
    view = store.view()
    must: dict[str, set[str]] = defaultdict(set)
    for row in truth["punishment"]["must"]:
        must[row["decision_no"]].add(row["person_id"])
    must_not: dict[str, set[str]] = defaultdict(set)
    for row in truth["punishment"]["must_not"]:
        must_not[row["decision_no"]].add(row["person_id"])
    checked = 0
    for entry in truth["punishment"]["entries"]:
        # while the entry was in force: the day it was listed
        on = dt.date.fromisoformat(entry["list_date"])
        reached = _reached(view, on).get(entry["decision_no"], set())
        assert reached == must[entry["decision_no"]], entry
        assert not (reached & must_not[entry["decision_no"]]), entry
        checked += 1
    assert checked == len(truth["punishment"]["entries"]) > 10
    # shareholders below a measure's minimum ratio are reached by no measure of that entry
    for row in truth["punishment"]["must_not"]:
        if row["reason"] == "shareholder_below_ratio":
            entry = next(e for e in truth["punishment"]["entries"] if e["decision_no"] == row["decision_no"])
            on = dt.date.fromisoformat(entry["list_date"])
            assert not [
                p for p in propagate(view, on)
                if p.decision_no == row["decision_no"] and p.person == "per:" + row["person_id"]
            ], row


def test_entries_no_longer_in_force_punish_nobody_today(demo):
    store, truth = demo
    as_of = dt.date.fromisoformat(truth["generator"]["as_of"])
    reached = _reached(store.view(), as_of)
    for entry in truth["punishment"]["entries"]:
        if not entry["active"]:
            assert not reached.get(entry["decision_no"]), entry


def test_every_planted_linked_risk_firm_is_warned_and_explained(demo):
    store, truth = demo
    view = store.view()
    as_of = dt.date.fromisoformat(truth["generator"]["as_of"])
    assert len(truth["linked_risk"]) >= 10 and len(truth["red_black_conflicts"]) >= 3
    for case in truth["linked_risk"] + truth["red_black_conflicts"]:
        report = check(view, "org:" + case["uscc"], as_of=as_of)
        via = ("per:" if case["via_kind"] == "person" else "org:") + case["via"]
        explained = [w for w in report.warnings if any(n.key == via for n in w.nodes)]
        assert explained, (case, [w.message for w in report.warnings])
        assert all(w.message and w.level in ("高", "中", "低") for w in explained)
        assert report.grade in ("B", "C", "D")
    for case in truth["red_black_conflicts"]:
        report = check(view, "org:" + case["uscc"], as_of=as_of)
        assert any(w.code == "R020" for w in report.warnings), case
