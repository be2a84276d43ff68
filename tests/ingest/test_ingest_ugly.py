"""Ugly input as users send it: encodings, traditional characters, full-width brackets,
Excel date cells, every date form, empty and duplicate rows, masked IDs, bad check
characters, unknown headers. Everything valid loads; every rejected row says why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from graph.model import Flag, LinkKind, PartyKind, RecordKind
from ingest.layouts import load_site_mapping
from ingest.pipeline import ingest_paths
from tests.factories import resident_id, uscc

A = uscc(90001)
B = uscc(90002, division="110105")
C = uscc(90003, division="310101")
P = resident_id(501)
Q = resident_id(502)
R = resident_id(503)
BAD = A[:-1] + ("0" if A[-1] != "0" else "1")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def run(store, *paths, **kw):
    return ingest_paths(store, [str(p) for p in paths], progress=False, **kw)


def ingested(store, path: Path, text: str):
    """Write ``text`` to ``path``, ingest it, and return a view of the store."""
    run(store, write(path, text))
    return store.view()


def registrations(tmp_path: Path) -> Path:
    return write(
        tmp_path / "登记.csv",
        "统一社会信用代码, 名称 ,类型,法定代表人,法定代表人证件号码,注册资本（万元）,成立日期,登记状态,住所,联系电话,电子邮箱\n"
        f"{A},郑州市鑫源商贸有限公司,有限责任公司,李四,{Q},100万元,2015/3/5,存续,河南省郑州市金水区花园路1号,13800138000,x@a.cn\n"
        f"{B},鑫源商贸（北京）有限公司,有限责任公司,张三,{P},50,2021年3月5日,存续,北京市朝阳区建国路2号,+86 138-0013-8000,\n"
        ",,,,,,,,,,\n"
        f"{BAD},坏代码商贸有限公司,,,,,20190101,,,,\n"
        f"{C},上海宏達實業有限公司,有限责任公司,王五,{R},1000,2018-07-01,存续,上海市黄浦区南京东路3号,,\n"
        f"{C},上海宏達實業有限公司,有限责任公司,王五,{R},1000,2018-07-01,存续,上海市黄浦区南京东路3号,,\n"
        f"{uscc(90004)},无日期有限公司,,,,,,存续,,,\n",
    )


def test_every_valid_row_loads_and_every_rejection_has_a_reason(store, tmp_path):
    reg = registrations(tmp_path)
    summary = run(store, reg)
    f = summary.files[0]
    assert (f.kind, f.rows, f.loaded, f.rejected, f.empty, f.duplicates) == ("registrations", 7, 4, 1, 1, 1)
    view = store.view()
    assert view.party("org:" + A).name == "郑州市鑫源商贸有限公司"
    # full-width brackets became ASCII, traditional became simplified
    assert view.party("org:" + B).name == "鑫源商贸(北京)有限公司"
    assert view.party("org:" + C).name == "上海宏达实业有限公司"
    assert view.party("org:" + A).start == dt.date(2015, 3, 5)
    assert view.party("org:" + B).start == dt.date(2021, 3, 5)
    assert view.party("org:" + A).attrs["capital"] == 100
    # the invalid code is kept as a flagged party, not dropped
    bad = [h.party for h in view.search("坏代码商贸有限公司")]
    assert bad and Flag.INVALID_CODE in bad[0].flags and bad[0].code == BAD
    [rej] = view.rejections()
    assert (rej.row, rej.column) == (8, "成立日期") and "成立日期" in rej.reason  # line 8 of the file
    # the same phone written two ways is one shared contact
    phones = view.links("org:" + B, kinds=[LinkKind.SHARED_PHONE])
    assert [lk.dst for lk in phones] == ["tel:13800138000"]
    assert len(view.links("tel:13800138000")) == 2


def test_gb18030_bom_and_every_date_form(store, tmp_path):
    registrations(tmp_path)
    gbk = write(
        tmp_path / "officers_gbk.csv",
        "统一社会信用代码,姓名,证件号码,职务,任职日期,离任日期\n"
        f"{A},张三,{P},执行董事兼总经理,2015-03-05,2020/6/1\n"
        f"{A},赵六,{resident_id(504)},监事,2015年3月5日,\n"
        f"{A},钱七,{resident_id(505)},财务负责人,20150305,\n"
        f"{A},孙八,{resident_id(506)},董事,2015.3.5,\n"
        f"{A},周九,{resident_id(507)},董事,2015-13-45,\n",
        encoding="gb18030",
    )
    bom = write(
        tmp_path / "shareholders_bom.csv",
        "统一社会信用代码,股东,股东类型,证照/证件号码,认缴出资额(万元),出资比例,起始日期\n"
        f"{A},张三,自然人股东,{P},60,60%,2015-03-05\n"
        f"{A},北京鑫源商贸有限公司,企业法人,{B},30,0.3,2021-04-01\n"
        f"{A},李四,自然人股东,{Q},10,10,2015-03-05\n"
        f"{A},吴十,自然人股东,{resident_id(508)},1,150%,2015-03-05\n",
        encoding="utf-8-sig",
    )
    summary = run(store, registrations(tmp_path), gbk, bom)
    by_kind = {f.kind: f for f in summary.files}
    assert by_kind["officers"].encoding == "gb18030" and by_kind["shareholders"].encoding == "utf-8-sig"
    assert (by_kind["officers"].loaded, by_kind["officers"].rejected) == (4, 1)
    assert (by_kind["shareholders"].loaded, by_kind["shareholders"].rejected) == (3, 1)
    view = store.view()
    firm = "org:" + A
    # "执行董事兼总经理" is a director and a senior manager
    roles = {(lk.kind, lk.src) for lk in view.links(firm, kinds=[LinkKind.DIRECTOR, LinkKind.SENIOR_MANAGER])}
    assert (LinkKind.DIRECTOR, "per:" + P) in roles and (LinkKind.SENIOR_MANAGER, "per:" + P) in roles
    starts = {lk.src: lk.start for lk in view.links(firm, kinds=[LinkKind.SUPERVISOR, LinkKind.SENIOR_MANAGER])}
    assert set(starts.values()) == {dt.date(2015, 3, 5)}
    ratios = sorted(lk.ratio for lk in view.links(firm, kinds=[LinkKind.SHAREHOLDER]))
    assert ratios == pytest.approx([0.1, 0.3, 0.6])
    corporate = view.links("org:" + B, direction="out", kinds=[LinkKind.SHAREHOLDER])
    assert [lk.dst for lk in corporate] == [firm]
    reasons = {(r.file.endswith("officers_gbk.csv"), r.row, r.column) for r in view.rejections()}
    assert (True, 6, "任职日期") in reasons  # rows as the files number them: the header is row 1
    assert (False, 5, "出资比例") in reasons


def test_excel_date_cells_and_traditional_headers(store, tmp_path):
    import xlsxwriter

    path = tmp_path / "名單.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    headers = ["名单类型", "主体名称", "统一社会信用代码", "列入事由", "认定部门", "决定文号", "列入日期", "有效期至"]
    ws.write_row(0, 0, headers)
    ws.write_row(1, 0, ["嚴重失信主體名單", "鄭州市鑫源商貿有限公司", A, "拒不履行法定義務", "鄭州市發改委", "鄭發改〔2021〕1號"])
    ws.write_datetime(1, 6, dt.datetime(2021, 2, 1), date_fmt)
    ws.write_datetime(1, 7, dt.datetime(2024, 2, 1), date_fmt)
    ws.write_row(2, 0, ["重点关注名单", "洛阳某公司", uscc(90010), "原因", "洛阳市发改委", "文号2"])
    ws.write_number(2, 6, 44300)  # a date typed as a serial number
    wb.close()
    summary = run(store, path)
    assert summary.files[0].kind == "list_entries" and summary.files[0].loaded == 2
    entries = store.view().records("org:" + A, kinds=[RecordKind.LIST_ENTRY])
    assert [(e.start, e.end, e.attrs["list_type"]) for e in entries] == [
        (dt.date(2021, 2, 1), dt.date(2024, 2, 1), "严重失信主体名单")
    ]
    other = store.view().records("org:" + uscc(90010), kinds=[RecordKind.LIST_ENTRY])
    assert other[0].start == dt.date(2021, 4, 14)


def test_masked_ids_resolve_only_when_unique(store, tmp_path):
    registrations(tmp_path)
    twin = resident_id(509)  # same name as P, different ID
    officers = write(
        tmp_path / "officers.csv",
        "统一社会信用代码,姓名,证件号码,职务\n"
        f"{A},张三,{P},董事\n"
        f"{C},李娜,{twin},监事\n"
        f"{C},李娜,{twin[:6]}{'1' if twin[6] != '1' else '2'}{twin[7:]},董事\n",
    )
    court = write(
        tmp_path / "court.csv",
        "被执行人姓名/名称,身份证号码/组织机构代码,执行法院,案号,发布时间\n"
        f"张三,{P[:4]}**********{P[-4:]},郑州中院,(2021)豫01执1号,2021-05-01\n"
        f"李娜,{twin[:4]}**********{twin[-4:]},上海一中院,(2021)沪01执2号,2021-05-02\n"
        f"无名氏,{P[:10]}****{P[-4:]},郑州中院,(2021)豫01执3号,2021-05-03\n",
    )
    summary = run(store, registrations(tmp_path), officers, court)
    view = store.view()
    r = summary.resolution
    assert (r.masked, r.masked_resolved, r.masked_unmatched) == (3, 2, 1)
    [zhang] = view.records("per:" + P, kinds=[RecordKind.COURT_DISHONEST])
    assert zhang.attrs["case_no"] == "(2021)豫01执1号"
    # 李娜's masked number fits two people (the second ID is invalid but the first six and
    # the last four digits agree only with the valid one) — exactly one valid person matches
    assert view.records("per:" + twin, kinds=[RecordKind.COURT_DISHONEST])
    unresolved = [p for p in view.iter_parties([PartyKind.UNRESOLVED]) if Flag.MASKED_ID in p.flags]
    assert [p.name for p in unresolved if view.resolve(p.key) == p.key] == ["无名氏"]


def test_ambiguous_masked_id_stays_unresolved(store, tmp_path):
    p1 = resident_id(601, birth="1975-06-01")
    p2 = p1[:10] + "0101" + p1[14:17]
    from graph.identifiers import resident_id_check_char

    p2 = p2 + resident_id_check_char(p2)
    masked = p1[:4] + "*" * 10 + p1[-4:]
    if p2[-4:] != p1[-4:]:
        p2 = None
    officers = write(
        tmp_path / "officers.csv",
        "统一社会信用代码,姓名,证件号码,职务\n" + f"{A},陈明,{p1},董事\n" + (f"{B},陈明,{p2},董事\n" if p2 else f"{B},陈明,{p1[:4]}0000000000{p1[-4:]},董事\n"),
    )
    court = write(
        tmp_path / "court.csv",
        "被执行人姓名/名称,身份证号码/组织机构代码,执行法院,案号,发布时间\n" f"陈明,{masked},郑州中院,(2021)豫01执9号,2021-05-01\n",
    )
    summary = run(store, officers, court)
    if p2:
        assert summary.resolution.masked_ambiguous == 1
        assert store.view().records("per:" + p1, kinds=[RecordKind.COURT_DISHONEST]) == []
    else:
        assert summary.resolution.masked_resolved == 1


def test_unknown_headers_name_the_missing_columns(store, tmp_path):
    bad = write(tmp_path / "weird.csv", "统一社会信用代码,公司名字,开业时间\n" f"{A},某公司,2020-01-01\n")
    good = registrations(tmp_path)
    summary = run(store, bad, good)
    failed = [f for f in summary.files if f.status == "failed"]
    assert len(failed) == 1 and failed[0].path.endswith("weird.csv")
    assert "名称" in failed[0].error and "成立日期" in failed[0].error and "weird.csv" in failed[0].error
    # the other file still loaded
    assert store.view().party("org:" + A) is not None


def test_site_mapping_adds_aliases(store, tmp_path):
    mapping = write(tmp_path / "mapping.json", '{"registrations": {"公司名字": "名称", "开业时间": "成立日期"}}')
    odd = write(tmp_path / "odd.csv", "统一社会信用代码,公司名字,开业时间\n" f"{A},郑州市鑫源商贸有限公司,2020-01-01\n")
    summary = run(store, odd, mapping=load_site_mapping(mapping))
    assert summary.files[0].loaded == 1
    assert store.view().party("org:" + A).start == dt.date(2020, 1, 1)


def test_bad_mapping_file_is_a_clear_error(tmp_path):
    from graph.store import InvalidInput

    bad = write(tmp_path / "m.json", '{"registrations": {"x": "不存在的列"}}')
    with pytest.raises(InvalidInput, match="不存在的列"):
        load_site_mapping(bad)


def test_reingest_changes_nothing(store, tmp_path):
    reg = registrations(tmp_path)
    run(store, reg)
    before = store.view().counts()
    again = run(store, reg)
    assert again.files[0].status == "skipped"
    assert store.view().counts() == before
    forced = run(store, reg, force=True)
    assert forced.files[0].status == "loaded"
    assert store.view().counts() == before


def test_legal_representative_history_from_changes_in_either_order(store, tmp_path):
    changes = write(
        tmp_path / "changes.csv",
        "统一社会信用代码,变更事项,变更前内容,变更后内容,变更日期\n"
        f"{A},法定代表人变更,张三,李四,2020-06-01\n"
        f"{A},名称变更,郑州鑫源贸易有限公司,郑州市鑫源商贸有限公司,2016-01-01\n",
    )
    officers = write(tmp_path / "officers.csv", "统一社会信用代码,姓名,证件号码,职务\n" f"{A},张三,{P},董事\n")
    # changes first, registration later: the result must be the same as the other order
    run(store, changes, officers)
    run(store, registrations(tmp_path))
    view = store.view()
    firm = "org:" + A

    def rep(day: str) -> list[str]:
        return [lk.src for lk in view.links(firm, as_of=dt.date.fromisoformat(day), kinds=[LinkKind.LEGAL_REPRESENTATIVE])]

    assert rep("2019-01-01") == ["per:" + P]  # 张三 resolved through the officers file
    assert rep("2021-01-01") == ["per:" + Q]
    assert rep("2014-01-01") == []
    assert view.search("郑州鑫源贸易")[0].party.key == firm


def test_empty_file_and_unsupported_type(store, tmp_path):
    empty = write(tmp_path / "empty.csv", "")
    text = write(tmp_path / "notes.doc", "x")
    summary = run(store, empty, text)
    assert [f.status for f in summary.files] == ["failed", "failed"]
    assert "empty" in summary.files[0].error and "unsupported" in summary.files[1].error


REG_HEADER = "统一社会信用代码,名称,成立日期,住所\n"


def _reg_lines(*codes: str) -> str:
    return "".join(f"{c},测试{i}商贸有限公司,2021-03-05,北京\n" for i, c in enumerate(codes))


def test_a_stray_quote_loses_one_row_not_the_rest(store, tmp_path):
    a, b, c, e = uscc(90011), uscc(90012), uscc(90013), uscc(90014)
    bad = write(tmp_path / "quote.csv", REG_HEADER + _reg_lines(a) + f'{b},"乙有限公司,2021-03-05,北京\n'
                + _reg_lines(c, e) + f'{uscc(90015)},"北京\n海淀",2021-03-05,"多行\n住所"\n')
    summary = run(store, bad)
    f = summary.files[0]
    assert (f.rows, f.loaded, f.rejected) == (5, 4, 1)
    view = store.view()
    assert all(view.party("org:" + k) is not None for k in (a, c, e, uscc(90015)))
    assert view.party("org:" + uscc(90015)).attrs["address"] == "多行 住所"  # a quoted field may span lines
    [rej] = view.rejections()
    assert rej.row == 3 and "引号未闭合" in rej.reason and b in rej.value


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_bytes_the_encoding_cannot_read_reject_their_row_only(store, tmp_path, encoding):
    a, b, c = uscc(90021), uscc(90022), uscc(90023)
    head = (REG_HEADER + _reg_lines(a)).encode(encoding)
    broken = f"{b},乙有限公司,2021-03-05,".encode(encoding) + b"\x80\xff" + "海淀\n".encode(encoding)
    path = tmp_path / f"bad-{encoding}.csv"
    path.write_bytes(head + broken + _reg_lines(c).encode(encoding))
    summary = run(store, path)
    f = summary.files[0]
    assert (f.status, f.rows, f.loaded, f.rejected) == ("loaded", 3, 2, 1)
    [rej] = store.view().rejections()
    assert (rej.row, rej.column) == (3, "住所") and "80 ff" in rej.value and "编码错误" in rej.reason
    assert store.view().party("org:" + c) is not None


def test_a_utf8_file_with_one_gbk_cell_keeps_its_other_rows(store, tmp_path):
    a, b = uscc(90031), uscc(90032)
    path = tmp_path / "mixed.csv"
    path.write_bytes((REG_HEADER + _reg_lines(a)).encode() + f"{b},乙有限公司,2021-03-05,".encode() + "北京".encode("gbk") + b"\n")
    summary = run(store, path)
    assert (summary.files[0].encoding, summary.loaded, summary.rejected) == ("utf-8", 1, 1)


def test_a_failure_mid_file_reports_what_was_stored(store, tmp_path, monkeypatch):
    """Rows converted after the last committed batch were never stored: the summary must not
    count them as loaded."""
    import ingest.pipeline as pipeline
    from graph.store import InvalidInput

    codes = [uscc(91000 + i) for i in range(25)]
    path = write(tmp_path / "big.csv", REG_HEADER + _reg_lines(*codes))
    real = pipeline.open_table

    def failing(p):
        table = real(p)
        rows = table.rows

        def broken():
            for n, cells in rows:
                if n == 18:
                    raise InvalidInput(f"{p}: data row 18: malformed CSV", file=str(p), row=18)
                yield n, cells
        table.rows = broken()
        return table

    monkeypatch.setattr(pipeline, "open_table", failing)
    summary = run(store, path, batch_rows=5)
    f = summary.files[0]
    assert f.status == "failed" and (f.rows, f.loaded) == (15, 15)
    assert sum(1 for c in codes if store.view().party("org:" + c) is not None) == 15


def test_marks_for_nothing_are_empty_cells_not_parties(store, tmp_path):
    """无, / and —— in a name, ID or address cell mean "nothing here": they must not become a
    person called 无 or an address 无 that ties every firm that wrote it."""
    a, b = uscc(90041), uscc(90042, division="110105")
    path = write(tmp_path / "登记.csv", "统一社会信用代码,名称,法定代表人,法定代表人证件号码,成立日期,住所,联系电话\n"
                 f"{a},甲商贸有限公司,无,/,2021-03-05,无,——\n{b},乙商贸有限公司,——,无,2021-03-05,/,无\n")
    summary = run(store, path)
    assert summary.loaded == 2
    view = store.view()
    assert view.links("org:" + a) == [] and view.links("org:" + b) == []
    assert view.party("adr:无") is None and store.view().counts()["parties"] == 2


def test_zero_width_characters_inside_codes_and_ids(store, tmp_path):
    """Codes copied from web pages carry zero-width spaces and BOMs: still the same code."""
    a, p = uscc(90051), resident_id(551)
    view = ingested(store, tmp_path / "登记.csv", "统一社会信用代码,名称,法定代表人,法定代表人证件号码,成立日期\n"
                    f"{a[:6]}\u200b{a[6:]},甲商贸有限公司,张三,\ufeff{p[:9]}\u200c{p[9:]},2021-03-05\n")
    assert view.party("org:" + a) is not None and view.party("per:" + p) is not None


def test_an_eight_digit_number_in_a_workbook_is_a_date(store, tmp_path):
    import xlsxwriter

    a = uscc(90061)
    path = tmp_path / "登记.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["统一社会信用代码", "名称", "成立日期"])
    ws.write_row(1, 0, [a, "甲商贸有限公司"])
    ws.write_number(1, 2, 20210305)
    wb.close()
    summary = run(store, path)
    assert (summary.loaded, summary.rejected) == (1, 0)
    assert store.view().party("org:" + a).start == dt.date(2021, 3, 5)


def test_a_fully_masked_id_is_no_evidence(store, tmp_path):
    registrations(tmp_path)
    officers = write(tmp_path / "officers.csv", f"统一社会信用代码,姓名,证件号码,职务\n{A},张三,{P},董事\n")
    court = write(tmp_path / "court.csv", "被执行人姓名/名称,身份证号码/组织机构代码,执行法院,案号,发布时间\n"
                  "张三,******************,郑州中院,(2021)豫01执8号,2021-05-01\n"
                  f"张三,{P[:4]}**********{P[-4:]},郑州中院,(2021)豫01执9号,2021-05-02\n")
    summary = run(store, registrations(tmp_path), officers, court)
    r = summary.resolution
    assert (r.masked, r.masked_resolved, r.masked_unmatched) == (2, 1, 1)
    [mine] = store.view().records("per:" + P, kinds=[RecordKind.COURT_DISHONEST])
    assert mine.attrs["case_no"] == "(2021)豫01执9号"


def test_headers_in_traditional_characters_or_with_invisible_characters(store, tmp_path):
    a = uscc(90071)
    path = write(tmp_path / "登記.csv", "統一社會信用代碼,名稱,成立日期,\u200b住所\n"
                 f"{a},甲商贸有限公司,2021-03-05,北京市海淀区\n")
    summary = run(store, path)
    assert (summary.files[0].kind, summary.loaded) == ("registrations", 1)
    assert store.view().party("org:" + a).attrs["address"] == "北京市海淀区"


def test_a_period_without_end_is_an_open_listing_not_a_bad_row(store, tmp_path):
    a = uscc(90081)
    path = write(tmp_path / "名单.csv", "名单类型,主体名称,统一社会信用代码,列入事由,认定部门,列入日期,有效期至\n"
                 f"严重失信主体名单,甲商贸有限公司,{a},拒不履行,郑州市发展和改革委员会,2021-03-01,长期\n")
    summary = run(store, path)
    assert (summary.loaded, summary.rejected) == (1, 0)
    [entry] = store.view().records(kinds=[RecordKind.LIST_ENTRY])
    assert entry.end is None and "period_end" not in entry.attrs


def test_controller_and_beneficial_owner_in_one_cell_gives_both_links(store, tmp_path):
    a = uscc(90091)
    view = ingested(store, tmp_path / "实际控制人.csv", "统一社会信用代码,姓名,证件号码,类型,起始日期\n"
                    f"{a},张三,{P},实际控制人、受益所有人,2020-01-01\n{uscc(90092)},李四,{Q},受益所有人,2020-01-01\n"
                    f"{uscc(90093)},王五,{R},实际控制人,2020-01-01\n")
    assert {lk.kind for lk in view.links("org:" + a)} == {LinkKind.ACTUAL_CONTROLLER, LinkKind.BENEFICIAL_OWNER}
    assert {lk.kind for lk in view.links("org:" + uscc(90092))} == {LinkKind.BENEFICIAL_OWNER}
    assert {lk.kind for lk in view.links("org:" + uscc(90093))} == {LinkKind.ACTUAL_CONTROLLER}


def test_a_capital_in_another_currency_keeps_its_currency(store, tmp_path):
    a, b = uscc(90101), uscc(90102)
    view = ingested(store, tmp_path / "登记.csv", "统一社会信用代码,名称,注册资本,成立日期\n"
                    f"{a},甲商贸有限公司,100万美元,2021-03-05\n{b},乙商贸有限公司,100万元,2021-03-05\n")
    assert (view.party("org:" + a).attrs["capital"], view.party("org:" + a).attrs["capital_currency"]) == (100.0, "USD")
    assert "capital_currency" not in view.party("org:" + b).attrs


def test_a_shareholding_in_another_currency_keeps_its_currency(store, tmp_path):
    """100万美元 subscribed is stored as 100 with USD, not shown as 100万 renminbi."""
    a = uscc(90111)
    view = ingested(store, tmp_path / "股东.csv", "统一社会信用代码,股东,股东类型,证照/证件号码,认缴出资额,出资比例,起始日期\n"
                    f"{a},张三,自然人股东,{P},100万美元,60%,2021-03-05\n{a},李四,自然人股东,{Q},30万元,40%,2021-03-05\n")
    got = {lk.src: (lk.amount, lk.currency) for lk in view.links("org:" + a, kinds=[LinkKind.SHAREHOLDER])}
    assert got == {"per:" + P: (100.0, "USD"), "per:" + Q: (30.0, "")}


def test_shops_without_a_code_are_told_apart_by_who_runs_them(store, tmp_path):
    """00000000000000000X: two 兰州拉面馆 run by different people are two shops; a penalty
    naming the operator reaches the right one."""
    reg = write(tmp_path / "登记.csv", "统一社会信用代码,名称,类型,经营者,成立日期,住所\n"
                "00000000000000000X,兰州拉面馆,个体工商户,马一,2019-03-05,兰州市城关区\n"
                "00000000000000000X,兰州拉面馆,个体工商户,马二,2020-05-01,深圳市福田区\n")
    pen = write(tmp_path / "处罚.csv", "行政相对人名称,行政相对人类别,统一社会信用代码,法定代表人,行政处罚决定书文号,"
                "处罚类别,处罚决定日期,处罚机关\n"
                "兰州拉面馆,个体工商户,00000000000000000X,马二,深福市监罚〔2021〕9号,罚款,2021-06-01,深圳市福田区市场监督管理局\n")
    summary = run(store, reg, pen)
    assert summary.loaded == 3
    view = store.view()
    shops = [p for p in view.iter_parties() if p.name == "兰州拉面馆"]
    assert len(shops) == 2
    by_address = {p.attrs.get("address"): p for p in shops}
    [penalty] = view.records(kinds=[RecordKind.PENALTY])
    assert penalty.subject == by_address["深圳市福田区"].key


def test_a_first_generation_fifteen_digit_id_is_the_same_person(store, tmp_path):
    registrations(tmp_path)
    old = P[:6] + P[8:17]  # the 15-digit form: no century, no check digit
    court = write(tmp_path / "court.csv", "被执行人姓名/名称,身份证号码/组织机构代码,执行法院,案号,发布时间\n"
                  f"李四,{old},郑州中院,(2005)郑执7号,2005-05-01\n")
    run(store, registrations(tmp_path), court)
    [entry] = store.view().records(kinds=[RecordKind.COURT_DISHONEST])
    assert entry.subject == "per:" + P


def test_a_column_given_twice_under_two_names_takes_the_filled_cell(store, tmp_path):
    a, b = uscc(90111), uscc(90112)
    path = write(tmp_path / "登记.csv", "统一社会信用代码,名称,企业名称,成立日期\n"
                 f"{a},无,甲商贸有限公司,2021-03-05\n{b},乙商贸有限公司,乙商贸(旧)有限公司,2021-03-05\n")
    summary = run(store, path)
    assert (summary.loaded, summary.rejected) == (2, 0)
    view = store.view()
    assert view.party("org:" + a).name == "甲商贸有限公司" and view.party("org:" + b).name == "乙商贸有限公司"



def test_rows_are_named_as_the_file_numbers_them(store, tmp_path):
    """Title rows above the header, blank lines, a record spanning lines: a rejection names
    the line or sheet row the sender sees."""
    import xlsxwriter

    a, b = uscc(90121), uscc(90122)
    csv_path = write(tmp_path / "登记.csv", "\n\n" + REG_HEADER + f'{a},甲商贸有限公司,2021-03-05,"北京\n海淀"\n'
                     f"{b},乙商贸有限公司,2021-02-30,北京\n")
    xlsx_path = tmp_path / "登记.xlsx"
    wb = xlsxwriter.Workbook(str(xlsx_path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["某市企业登记信息表"])
    ws.write_row(2, 0, ["统一社会信用代码", "名称", "成立日期"])
    ws.write_row(3, 0, [uscc(90123), "丙商贸有限公司", "2021-03-05"])
    ws.write_row(4, 0, [uscc(90124), "丁商贸有限公司", "2021-02-30"])
    wb.close()
    run(store, csv_path, xlsx_path)
    got = {(r.file.rsplit(".", 1)[-1], r.row) for r in store.view().rejections()}
    assert got == {("csv", 6), ("xlsx", 5)}
    assert store.view().party("org:" + a).source.row == 4


def test_a_stray_quote_in_the_last_column_and_a_real_multi_line_cell(store, tmp_path):
    """The quote may open in the last column (the row keeps its width); a genuine address over
    two lines in a short row (a trailing comma) is no unclosed quote."""
    a, b, c, e = uscc(90131), uscc(90132), uscc(90133), uscc(90134)
    bad = write(tmp_path / "last.csv", REG_HEADER + _reg_lines(a) + f'{b},乙有限公司,2021-03-05,"北京\n'
                + _reg_lines(c, e))
    summary = run(store, bad)
    assert (summary.rows, summary.loaded, summary.rejected) == (4, 3, 1)
    assert all(store.view().party("org:" + k) is not None for k in (a, c, e))
    fine = write(tmp_path / "multi.csv", REG_HEADER + f'{uscc(90135)},甲有限公司,2021-03-05,"北京市\n朝阳区",\n'
                 f"{uscc(90136)},乙有限公司,2021-03-05,上海,\n")
    summary = run(store, fine)
    assert (summary.rows, summary.loaded, summary.rejected) == (2, 2, 0)
    assert store.view().party("org:" + uscc(90135)).attrs["address"] == "北京市 朝阳区"


def test_a_period_ending_9999_12_31_is_no_end(store, tmp_path):
    from queries.risk import check

    a = uscc(90141)
    path = write(tmp_path / "名单.csv", "名单类型,主体名称,统一社会信用代码,列入事由,认定部门,列入日期,有效期至\n"
                 f"严重失信主体名单,甲商贸有限公司,{a},拒不履行,郑州市发展和改革委员会,2021-01-01,9999-12-31\n")
    run(store, path)
    assert "R001" in [w.code for w in check(store.view(), "org:" + a, dt.date(2025, 1, 1)).warnings]


def test_columns_no_layout_knows_are_reported_not_dropped_silently(store, tmp_path):
    path = write(tmp_path / "登记.csv", "统一社会信用代码,名称,成立日期,内部编号,住所\n"
                 f"{uscc(90151)},甲商贸有限公司,2021-03-05,A-17,北京\n")
    summary = run(store, path)
    assert summary.files[0].ignored_columns == ["内部编号"] and summary.loaded == 1
