"""Offices export the same lists again and again: what a later export adds must count, and
nothing an earlier one said is lost (stored entries are never rewritten)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from graph.model import Flag, RecordKind
from ingest.pipeline import ingest_paths
from queries.propagation import propagate
from queries.status import EntryState, entry_status
from tests.factories import resident_id, uscc

FIRM = uscc(91001)
REP = resident_id(911)
LIST_HEADER = "名单类型,主体名称,统一社会信用代码,法定代表人,法定代表人证件号码,列入事由,认定部门,决定文号,列入日期,有效期至,移出日期,移出原因\n"
LISTED = f"严重失信主体名单,郑州市鑫源商贸有限公司,{FIRM},张三,{REP},拒不履行,郑州市发展和改革委员会,郑发改〔2021〕1号,2021-03-01,2026-01-01"


def _run(store, *paths: Path):
    return ingest_paths(store, [str(p) for p in paths], progress=False)


def _registration(tmp_path: Path) -> Path:
    path = tmp_path / "登记.csv"
    path.write_text("统一社会信用代码,名称,类型,法定代表人,法定代表人证件号码,成立日期\n"
                    f"{FIRM},郑州市鑫源商贸有限公司,有限责任公司,张三,{REP},2015-03-05\n", encoding="utf-8")
    return path


def test_a_removal_in_a_later_export_ends_the_entry_stored_before(store, tmp_path):
    first = tmp_path / "名单-1.csv"
    first.write_text(LIST_HEADER + LISTED + ",,\n", encoding="utf-8")
    later = tmp_path / "名单-2.csv"
    later.write_text(LIST_HEADER + LISTED + ",2023-06-01,信用修复\n", encoding="utf-8")
    _run(store, _registration(tmp_path), first)
    view = store.view()
    assert {p.person for p in propagate(view, dt.date(2023, 12, 1))} >= {"per:" + REP}
    _run(store, later)
    view = store.view()
    entry = view.records(kinds=[RecordKind.LIST_ENTRY])[0]
    status = entry_status(view, entry, dt.date(2023, 12, 1))
    assert status.state == EntryState.REPAIRED and status.since == dt.date(2023, 6, 1)
    assert propagate(view, dt.date(2023, 12, 1)) == []
    assert {p.person for p in propagate(view, dt.date(2023, 5, 31))} >= {"per:" + REP}
    # the earlier export loaded again changes nothing: the removal stays
    ingest_paths(store, [str(first)], progress=False, force=True)
    assert propagate(store.view(), dt.date(2023, 12, 1)) == []
    assert len(store.view().records(kinds=[RecordKind.REMOVAL])) == 1


def test_a_removal_given_with_the_listing_is_one_ending(store, tmp_path):
    both = tmp_path / "名单.csv"
    both.write_text(LIST_HEADER + LISTED + ",2023-06-01,撤销\n", encoding="utf-8")
    _run(store, _registration(tmp_path), both)
    view = store.view()
    entry = view.records(kinds=[RecordKind.LIST_ENTRY])[0]
    assert entry_status(view, entry, dt.date(2023, 7, 1)).state == EntryState.REVOKED
    assert propagate(view, dt.date(2023, 7, 1), include_ended=True) == []  # revoked: as if never punished


def test_joint_debtors_of_one_case_are_each_an_entry(store, tmp_path):
    court = tmp_path / "失信被执行人.csv"
    court.write_text("被执行人姓名/名称,身份证号码/组织机构代码,执行法院,案号,发布时间\n"
                     "王七,4127241980****0118,郑州市中级人民法院,(2022)豫01执9号,2022-05-01\n"
                     "王八,4127241980****0139,郑州市中级人民法院,(2022)豫01执9号,2022-05-01\n", encoding="utf-8")
    summary = _run(store, court)
    assert summary.loaded == 2
    entries = store.view().records(kinds=[RecordKind.COURT_DISHONEST])
    assert sorted(e.attrs["subject_name"] for e in entries) == ["王七", "王八"]


def test_a_court_debtor_firm_with_a_bad_check_character_is_a_flagged_firm(store, tmp_path):
    bad = FIRM[:-1] + ("0" if FIRM[-1] != "0" else "1")
    court = tmp_path / "失信被执行人.csv"
    court.write_text("被执行人姓名/名称,身份证号码/组织机构代码,法定代表人或者负责人姓名,执行法院,案号,发布时间\n"
                     f"北京坏码商贸有限公司,{bad},赵六,北京市第二中级人民法院,(2022)京02执7号,2022-05-01\n",
                     encoding="utf-8")
    _run(store, court)
    entry = store.view().records(kinds=[RecordKind.COURT_DISHONEST])[0]
    debtor = store.view().party(entry.subject)
    assert Flag.INVALID_CODE in debtor.flags and Flag.INVALID_ID not in debtor.flags
    assert debtor.code == bad


REG_HEADER = "统一社会信用代码,名称,类型,法定代表人,法定代表人证件号码,成立日期,注销日期,登记状态,住所\n"
OTHER = uscc(91002)
REP2 = resident_id(912)


def _legal_reps(view, key: str, on: dt.date) -> set[str]:
    from graph.model import LinkKind

    return {lk.src for lk in view.links(key, direction="in", as_of=on, kinds=[LinkKind.LEGAL_REPRESENTATIVE])}


def test_a_newer_registration_export_replaces_the_firm_whole(store, tmp_path):
    older = tmp_path / "登记-1.csv"
    older.write_text(REG_HEADER + f"{FIRM},郑州市鑫源商贸有限公司,有限责任公司,张三,{REP},2015-03-05,,存续,海淀区1号\n",
                     encoding="utf-8")
    newer = tmp_path / "登记-2.csv"
    newer.write_text(REG_HEADER + f"{FIRM},郑州市鑫源实业有限公司,有限责任公司,李四,{REP2},2015-03-05,2024-01-01,注销,"
                     "朝阳区2号\n", encoding="utf-8")
    changes = tmp_path / "变更.csv"
    changes.write_text("统一社会信用代码,变更事项,变更前内容,变更后内容,变更日期\n"
                       f"{OTHER},经营范围变更,批发,零售,2020-01-01\n", encoding="utf-8")
    _run(store, older)
    _run(store, newer)
    firm = store.view().party("org:" + FIRM)
    assert (firm.name, firm.status, firm.end) == ("郑州市鑫源实业有限公司", "注销", dt.date(2024, 1, 1))
    assert firm.attrs["rep_name"] == "李四" and firm.attrs["address"] == "朝阳区2号"
    assert _legal_reps(store.view(), "org:" + FIRM, dt.date(2023, 1, 1)) == {"per:" + REP2}
    _run(store, changes)  # an unrelated file re-derives nothing back
    assert _legal_reps(store.view(), "org:" + FIRM, dt.date(2023, 1, 1)) == {"per:" + REP2}
    assert store.view().party("org:" + FIRM).attrs["rep_name"] == "李四"


def test_two_rows_for_one_firm_in_one_file_the_last_wins_whole(store, tmp_path):
    both = tmp_path / "登记.csv"
    both.write_text(REG_HEADER + f"{FIRM},郑州市鑫源商贸有限公司,有限责任公司,张三,{REP},2015-03-05,,存续,海淀区1号\n"
                    f"{FIRM},郑州市鑫源实业有限公司,有限责任公司,李四,{REP2},2015-03-05,,存续,朝阳区2号\n",
                    encoding="utf-8")
    _run(store, both)
    view = store.view()
    firm = view.party("org:" + FIRM)
    assert (firm.name, firm.attrs["rep_name"]) == ("郑州市鑫源实业有限公司", "李四")
    assert _legal_reps(view, "org:" + FIRM, dt.date(2023, 1, 1)) == {"per:" + REP2}


def test_a_court_debtor_shop_given_by_its_owners_id_is_the_owner(store, tmp_path):
    """个体户 on a court list under the owner's ID (full or masked) is the owner, not a firm
    with a bad code, even though the name ends in 店."""
    court = tmp_path / "失信被执行人.csv"
    court.write_text("被执行人姓名/名称,身份证号码/组织机构代码,执行法院,案号,发布时间\n"
                     f"郑州市金水区老王五金店,{REP},郑州市金水区人民法院,(2023)豫0105执1号,2023-05-01\n",
                     encoding="utf-8")
    _run(store, court)
    [entry] = store.view().records(kinds=[RecordKind.COURT_DISHONEST])
    assert entry.subject == "per:" + REP
