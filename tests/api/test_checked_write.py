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


_CLERK = """
import json, sys, time
from api.checked_write import write_checked
from graph.model import RecordKind
from graph.store import Conflict
from queries.actions import check_action, resolution_record
from tests.factories import d

where, objection_id, outcome, start = json.loads(sys.argv[1])
if "path" in where:
    from graph.backends.memory import open_store
    store = open_store(where["path"])
else:
    from graph.backends.bolt import open_bolt_store
    store = open_bolt_store(where["uri"], where["user"], where["password"], where["database"], dialect=where["dialect"])


def build(view):
    rec = resolution_record(view.record(objection_id), d("2024-06-01"), outcome)
    check_action(view, rec, d("2025-01-01"))
    time.sleep(0.5)  # a slow clerk: the other process checks meanwhile, unless kept out
    return rec


time.sleep(max(0.0, start - time.time()))  # both processes check at the same moment
try:
    write_checked(store, build)
    print("written")
except Conflict:
    print("conflict")
store.close()
"""


def test_clerks_in_two_processes_record_one_resolution(store: Any, request: Any) -> None:
    """Two processes (a server and the CLI, or two servers) resolve the same objection at the
    same moment: one resolution is stored, the other process meets a Conflict. The Bolt store
    needs its lease on the graph for this: its write batch locks only to commit."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    subject = firm("郑州测试商贸有限公司")
    entry = list_entry(subject, "2024-03-01")
    objection = objection_record(entry, d("2024-05-01"), "认定有误")
    write_graph(store, [subject], records=[entry, objection])
    if hasattr(store, "path"):
        where: dict[str, Any] = {"path": str(store.path)}
    else:
        server = request.getfixturevalue("bolt_server")
        where = {"uri": server.uri, "user": server.user, "password": server.password, "database": server.database,
                 "dialect": server.dialect}
    start = time.time() + 4.0  # both interpreters up and connected by then
    root = Path(__file__).resolve().parents[2]
    clerks = [subprocess.Popen([sys.executable, "-c", _CLERK, json.dumps([where, objection.id, outcome, start])],
                               cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for outcome in ("upheld", "rejected")]
    outs = [c.communicate(timeout=60) for c in clerks]
    assert all(c.returncode == 0 for c in clerks), [o[1][-2000:] for o in outs]
    assert sorted(o[0].strip() for o in outs) == ["conflict", "written"]
    stored = [r for r in store.view().records_targeting(objection.id) if r.kind == RecordKind.OBJECTION_RESOLUTION]
    assert len(stored) == 1
