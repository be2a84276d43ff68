"""Repair, objections and expiry are facts: they withdraw what was derived, and replay stays exact."""

from __future__ import annotations

import pytest

from graph.model import LinkKind, RecordKind
from graph.store import InvalidInput
from queries.actions import objection_record, repair_record, resolution_record
from queries.propagation import ban_alerts, propagate
from queries.risk import check
from queries.status import EntryState, entry_status
from tests.factories import d, firm, link, list_entry, person, write_graph


def _listed(store, **entry_attrs):
    a, other = firm("驻马店市恒通运输有限公司"), firm("驻马店市恒达运输有限公司")
    rep, boss = person("郭峰"), person("马超")
    entry = list_entry(a, "2021-06-01", **entry_attrs)
    write_graph(store, [a, other, rep, boss], [
        link(LinkKind.LEGAL_REPRESENTATIVE, rep, a, "2015-01-01"),
        link(LinkKind.ACTUAL_CONTROLLER, boss, a, "2015-01-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, rep, other, "2022-02-01"),
    ], [entry])
    return a, other, rep, boss, entry


def _add(store, *records):
    with store.writer() as w:
        w.put_records(records)


def test_repair_withdraws_everything_derived(store):
    a, other, rep, boss, entry = _listed(store)
    view = store.view()
    assert {p.person for p in propagate(view, d("2022-06-01"))} == {a.key, rep.key, boss.key}
    assert ban_alerts(view, d("2022-06-01"))
    assert check(view, other.key, d("2022-06-01")).grade == "D"
    _add(store, repair_record(entry, d("2022-04-01"), "驻马店市发展和改革委员会", "已整改"))
    view = store.view()
    status = entry_status(view, entry, d("2022-06-01"))
    assert status.state == EntryState.REPAIRED and status.since == d("2022-04-01") and "信用修复" in status.reason
    assert propagate(view, d("2022-06-01")) == []
    assert check(view, other.key, d("2022-06-01")).grade == "A"
    assert check(view, a.key, d("2022-06-01")).grade == "A"
    # history kept: the punishments ended on the repair date, and an earlier date replays them
    ended = [p for p in propagate(view, d("2022-06-01"), include_ended=True) if p.person == rep.key]
    assert ended and all(p.end == d("2022-04-01") and p.end_reason == "信用修复" for p in ended if p.measure_code == "M01")
    assert {p.person for p in propagate(view, d("2022-03-01"))} == {a.key, rep.key, boss.key}
    # the new role was taken during the ban, before the repair: the alert stands as history
    assert [x.new_firm for x in ban_alerts(view, d("2022-06-01"))] == [other.key]


def test_upheld_objection_withdraws_but_earlier_as_of_still_shows(store):
    a, other, rep, boss, entry = _listed(store)
    objection = objection_record(entry, d("2022-03-01"), "非本企业行为,系冒名登记")
    _add(store, objection)
    view = store.view()
    pending = entry_status(view, entry, d("2022-04-01"))
    assert pending.active and pending.pending_objections == (objection.id,) and "异议处理中" in pending.reason
    _add(store, resolution_record(objection, d("2022-05-01"), "upheld"))
    view = store.view()
    after = entry_status(view, entry, d("2022-06-01"))
    assert after.state == EntryState.REVOKED and after.since == d("2022-05-01")
    assert propagate(view, d("2022-06-01")) == []
    # wrongful punishment undone entirely: no history of it being served, no ban alerts
    assert propagate(view, d("2022-06-01"), include_ended=True) == []
    assert ban_alerts(view, d("2022-06-01")) == []
    assert check(view, other.key, d("2022-06-01")).grade == "A"
    # replay: on 2022-04-30 the objection was not yet decided, the entry was in force
    before = entry_status(view, entry, d("2022-04-30"))
    assert before.active
    assert {p.person for p in propagate(view, d("2022-04-30"))} == {a.key, rep.key, boss.key}
    assert check(view, other.key, d("2022-04-30")).grade == "D"


def test_rejected_objection_leaves_it_standing(store):
    a, other, rep, boss, entry = _listed(store)
    objection = objection_record(entry, d("2022-03-01"), "处罚过重")
    _add(store, objection, resolution_record(objection, d("2022-05-01"), "rejected"))
    view = store.view()
    status = entry_status(view, entry, d("2022-06-01"))
    assert status.active and status.pending_objections == ()
    assert {p.person for p in propagate(view, d("2022-06-01"))} == {a.key, rep.key, boss.key}


def test_expiry_ends_it(store):
    """有效期至 2023-06-01: in force through that day, expired from the next."""
    a, other, rep, boss, entry = _listed(store, period_end="2023-06-01", end="2023-06-01")
    view = store.view()
    assert entry_status(view, entry, d("2023-06-01")).active
    status = entry_status(view, entry, d("2023-06-02"))
    assert status.state == EntryState.EXPIRED and status.since == d("2023-06-02") and "2023-06-01" in status.reason
    assert propagate(view, d("2023-06-02")) == []
    assert {p.person for p in propagate(view, d("2023-06-01"))} == {a.key, rep.key, boss.key}
    m01 = next(p for p in propagate(view, d("2022-06-01")) if p.person == rep.key and p.measure_code == "M01")
    assert m01.end == d("2023-06-02")


def test_removal_and_not_yet_listed(store):
    a, other, rep, boss, entry = _listed(store, removed_on="2022-08-01", removal_reason="信用修复", end="2022-08-01")
    view = store.view()
    assert entry_status(view, entry, d("2021-01-01")).state == EntryState.NOT_LISTED
    assert entry_status(view, entry, d("2022-09-01")).state == EntryState.REPAIRED
    assert propagate(view, d("2021-01-01")) == []


def test_action_builders_validate():
    a = firm("校验有限公司")
    entry = list_entry(a, "2021-06-01")
    with pytest.raises(InvalidInput, match="before the listing"):
        repair_record(entry, d("2020-01-01"), "某委")
    with pytest.raises(InvalidInput, match="authority"):
        repair_record(entry, d("2022-01-01"), " ")
    obj = objection_record(entry, d("2022-01-01"), "理由")
    assert obj.kind == RecordKind.OBJECTION and obj.target == entry.id
    assert objection_record(entry, d("2022-01-01"), "理由").id == obj.id  # deterministic
    with pytest.raises(InvalidInput, match="upheld or rejected"):
        resolution_record(obj, d("2022-02-01"), "maybe")
    with pytest.raises(InvalidInput, match="not an objection"):
        resolution_record(entry, d("2022-02-01"), "upheld")
