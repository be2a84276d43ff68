"""Chains planned before the write lock: the rows made in advance are stored when the plan
still holds, and a firm whose inputs another writer changed meanwhile is derived again."""

from __future__ import annotations

import datetime as dt
import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

from graph.backends.memory import EmbeddedStore, open_store
from graph.identifiers import make_resident_id, make_uscc
from graph.model import Source
from ingest.derive_plan import apply_derive, plan_derive
from ingest.facts import Batch, Row, change, registration

FIRM = make_uscc("9", "1", "110105", "70000001")
NEW_REP = make_resident_id("110105", dt.date(1980, 2, 2), 12)


def _registration(batch: Batch, address: str = "北京市朝阳区建国路1号", row: int = 2) -> None:
    registration(Row({"统一社会信用代码": FIRM, "名称": "北京测试科技有限公司", "成立日期": "2015-03-05", "法定代表人": "王建国",
                      "法定代表人证件号码": NEW_REP, "住所": address}, Source("reg.csv", row, "r")), batch)


def _rep_change(batch: Batch) -> None:
    change(Row({"统一社会信用代码": FIRM, "变更事项": "法定代表人变更", "变更前内容": "李旧", "变更后内容": "王建国",
                "变更日期": "2020-06-01"}, Source("chg.csv", 2, "r")), batch)


def _put(w: Any, batch: Batch) -> None:
    w.put_parties(batch.parties)
    w.put_names(batch.names)
    w.put_links(batch.links)
    w.put_records(batch.records)


def _derived(path: Path) -> set[tuple[Any, ...]]:
    """Every derived link as stored, with its provenance; every party, with its own; and the
    deletions logged for the link index: where rows made before the lock could differ."""
    conn = sqlite3.connect(path)
    try:
        links = conn.execute("""SELECT 'link', l.fid, l.kind, a.key, b.key, l.start, l.end, l.title, l.origin, s.path,
                                       l.row, l.run
                                FROM links l JOIN parties a ON a.id = l.src JOIN parties b ON b.id = l.dst
                                LEFT JOIN sources s ON s.id = l.srcfile WHERE l.origin != ''""").fetchall()
        parties = conn.execute("""SELECT 'party', p.key, p.kind, p.name, p.code, p.region, p.start, p.end, p.status,
                                         p.flags, p.attrs, p.primary_rank, s.path, p.row, p.run
                                  FROM parties p LEFT JOIN sources s ON s.id = p.src""").fetchall()
        deleted = conn.execute("SELECT 'deleted', count(*) FROM link_mutations WHERE what = 'delete'").fetchall()
        return set(links) | set(parties) | set(deleted)
    finally:
        conn.close()


def _load(store: EmbeddedStore, *, planned: bool, change_meanwhile: bool, spy: list[str]) -> None:
    """A registration batch whose chains are planned before the lock; another writer may
    commit a change record of the firm between the plan and the batch's transaction."""
    batch = Batch()
    _registration(batch)
    plan = plan_derive(store.committed_reads(), batch, partial(store.prepare_derived, "r")) if planned else None
    if change_meanwhile:
        other = Batch()
        _rep_change(other)
        with store.writer("r") as w:
            _put(w, other)
    with store.writer("r") as w:
        _put(w, batch)
        original = w.put_prepared_derived

        def watched(*args: Any) -> None:
            spy.append("prepared rows")
            original(*args)

        w.put_prepared_derived = watched  # type: ignore[method-assign]
        apply_derive(w, batch, plan)


def _planned_and_under_lock(tmp_path: Path, *, change_meanwhile: bool) -> tuple[list[str], set[tuple[Any, ...]]]:
    """Load the batch twice, with a plan and without one (derived under the lock); return
    what the planned load stored its chains with, and the derived links of both (equal)."""
    planned, under_lock = open_store(tmp_path / "a.sqlite"), open_store(tmp_path / "b.sqlite")
    used: list[str] = []
    _load(planned, planned=True, change_meanwhile=change_meanwhile, spy=used)
    _load(under_lock, planned=False, change_meanwhile=change_meanwhile, spy=[])
    planned.close()
    under_lock.close()
    got = _derived(tmp_path / "a.sqlite")
    assert got == _derived(tmp_path / "b.sqlite")
    return used, got


def test_a_plan_that_holds_stores_its_prepared_rows(tmp_path: Path) -> None:
    used, got = _planned_and_under_lock(tmp_path, change_meanwhile=False)
    assert used == ["prepared rows"]
    assert {row[2] for row in got if row[0] == "link"} == {"legal_representative", "shared_address"}


def test_a_firm_changed_meanwhile_is_derived_again(tmp_path: Path) -> None:
    used, got = _planned_and_under_lock(tmp_path, change_meanwhile=True)
    assert used == []  # stale: the rows made before the lock were not stored
    # the change record committed meanwhile is in the chain: 李旧 until 2020-06-01, then 王建国
    reps = sorted((row[5], row[6]) for row in got if row[0] == "link" and row[2] == "legal_representative")
    assert reps == [(dt.date(2015, 3, 5).toordinal(), dt.date(2020, 6, 1).toordinal()),
                    (dt.date(2020, 6, 1).toordinal(), None)]


def _write(store: EmbeddedStore, batch: Batch, *, planned: bool) -> None:
    plan = plan_derive(store.committed_reads(), batch, partial(store.prepare_derived, "r")) if planned else None
    with store.writer("r") as w:
        _put(w, batch)
        apply_derive(w, batch, plan)


def test_derived_again_over_stored_links_planned_or_not(tmp_path: Path) -> None:
    """Registration, then a change record, then a newer registration with another address:
    each batch derives the firm again over the links the one before stored (kept ones keep
    their row, stale ones are deleted), planned before the lock or not."""
    for name, planned in (("a.sqlite", True), ("b.sqlite", False)):
        store = open_store(tmp_path / name)
        try:
            for fill in (_registration, _rep_change, partial(_registration, address="北京市海淀区中关村大街9号", row=3)):
                batch = Batch()
                fill(batch)
                _write(store, batch, planned=planned)
        finally:
            store.close()
    got = _derived(tmp_path / "a.sqlite")
    assert got == _derived(tmp_path / "b.sqlite")
    addresses = {row[4] for row in got if row[0] == "link" and row[2] == "shared_address"}
    assert addresses == {"adr:北京市海淀区中关村大街9号"}  # the first address's link was replaced
    assert ("deleted", 2) in got  # that link, and the representative's open-ended one before the change
