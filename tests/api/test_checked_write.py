"""Actions are checked and written in one batch on every backend: one of several clerks wins."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from api.checked_write import write_checked
from graph.model import RecordKind
from graph.store import Conflict
from queries.actions import check_action, objection_record, resolution_record
from tests.factories import d, firm, list_entry, write_graph


def test_clerks_resolving_one_objection_at_once_record_one_resolution(store: Any) -> None:
    """Four threads resolve the same objection through :func:`write_checked`, each pausing
    between its check and its write: one resolution is stored, the others meet a Conflict.
    (The Bolt store takes its own lock only to commit, so this needs write_checked's.)"""
    subject = firm("郑州测试商贸有限公司")
    entry = list_entry(subject, "2024-03-01")
    objection = objection_record(entry, d("2024-05-01"), "认定有误")
    write_graph(store, [subject], records=[entry, objection])

    def clerk(outcome: str) -> str:
        def build(view: Any) -> Any:
            obj = view.record(objection.id)
            rec = resolution_record(obj, d("2024-06-01"), outcome)
            check_action(view, rec, d("2025-01-01"))
            time.sleep(0.2)  # a slow clerk: another may check meanwhile
            return rec

        try:
            write_checked(store, build)
        except Conflict:
            return "conflict"
        return "written"

    with ThreadPoolExecutor(4) as pool:
        results = sorted(pool.map(clerk, ["upheld", "rejected", "upheld", "rejected"]))
    assert results == ["conflict", "conflict", "conflict", "written"]
    stored = [r for r in store.view().records_targeting(objection.id) if r.kind == RecordKind.OBJECTION_RESOLUTION]
    assert len(stored) == 1
