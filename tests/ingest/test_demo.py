"""The demo generator writes the documented layouts and plants scenarios its ground truth describes."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from graph.identifiers import check_resident_id, check_uscc, is_valid_uscc
from ingest.demo import (
    HARD_NEGATIVE_KINDS,
    HEADERS,
    RELOCATION_PATTERNS,
    DemoSummary,
    generate,
)

GBK_ALIASES = {"企业名称": "名称", "注册资本（万元）": "注册资本", "经营状态": "登记状态"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoSummary, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo2k")
    summary = generate(out, firms=2000, seed=11, progress=False)
    truth = json.loads(summary.ground_truth.read_text(encoding="utf-8"))
    return summary, truth


def parse_date(text: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    for pattern in (r"(\d{4})-(\d{1,2})-(\d{1,2})", r"(\d{4})/(\d{1,2})/(\d{1,2})", r"(\d{4})年(\d{1,2})月(\d{1,2})日",
                    r"(\d{4})(\d{2})(\d{2})"):  # fmt: skip
        m = re.fullmatch(pattern, text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def read_csv(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[list[str]]]:
    with open(path, encoding=encoding, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def records(out: Path, *names: str) -> list[dict[str, str]]:
    """Non-empty rows of the given files as dicts keyed by canonical header."""
    result = []
    for name in names:
        encoding = {"registrations_gbk.csv": "gb18030", "officers_bom.csv": "utf-8-sig"}.get(name, "utf-8")
        header, rows = read_csv(out / name, encoding)
        header = [GBK_ALIASES.get(h, h) for h in header]
        for row in rows:
            if any(cell.strip() for cell in row):
                result.append(dict(zip(header, row, strict=True)))
    return result


def list_rows(out: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = records(out, "list_entries.csv")
    wb = openpyxl.load_workbook(out / "list_entries_extra.xlsx", read_only=True)
    sheet = wb.active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    wb.close()
    header = [str(h) for h in values[0]]
    for row in values[1:]:
        rows.append(dict(zip(header, row, strict=True)))
    return rows


def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return parse_date(value or "")


def test_files_have_the_documented_headers(demo: tuple[DemoSummary, dict[str, Any]]) -> None:
    summary, _ = demo
    out = summary.out_dir
    for name in ("registrations.csv", "shareholders.csv", "officers.csv", "controllers.csv", "changes.csv",
                 "list_entries.csv", "penalties.csv", "court_dishonest.csv"):  # fmt: skip
        header, rows = read_csv(out / name)
        assert tuple(header) == HEADERS[name], name
        assert rows, name
    assert len(HEADERS["penalties.csv"]) == 30
    header, _ = read_csv(out / "officers_bom.csv", "utf-8-sig")
    assert tuple(header) == HEADERS["officers_bom.csv"]
    assert (out / "officers_bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert not (out / "officers.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    wb = openpyxl.load_workbook(out / "list_entries_extra.xlsx", read_only=True)
    sheet = wb.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    wb.close()
    assert tuple(rows[0]) == HEADERS["list_entries_extra.xlsx"]
    assert 0 < len(rows) - 1 < 5000
    assert any(isinstance(v, dt.datetime) for row in rows[1:] for v in row)
    assert {p.name for p in summary.files} == set(HEADERS)
    for path in summary.files:
        assert summary.rows[path.name] > 0
    assert summary.ground_truth.exists()


def test_gbk_file_is_gb18030(demo: tuple[DemoSummary, dict[str, Any]]) -> None:
    summary, truth = demo
    raw = (summary.out_dir / "registrations_gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    assert "企业名称" in text.splitlines()[0]
    assert truth["ugly"]["moved_rows"]["registrations_gbk.csv"] == len(text.splitlines()) - 1


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", firms=1000, seed=3, progress=False)
    b = generate(tmp_path / "b", firms=1000, seed=3, progress=False)
    c = generate(tmp_path / "c", firms=1000, seed=4, progress=False, xlsx=False)
    names = sorted(p.name for p in a.files) + ["ground_truth.json"]
    for name in names:
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes(), name
    assert (a.out_dir / "registrations.csv").read_bytes() != (c.out_dir / "registrations.csv").read_bytes()
    assert not (c.out_dir / "list_entries_extra.xlsx").exists()


def test_scenario_counts_at_2000_firms(demo: tuple[DemoSummary, dict[str, Any]]) -> None:
    _, truth = demo
    patterns = Counter(r["pattern"] for r in truth["relocations"])
    assert all(patterns[p] >= 4 for p in RELOCATION_PATTERNS), patterns
    assert {r["region"] for r in truth["relocations"]} == {"易地", "原地"}
    kinds = Counter(r["kind"] for r in truth["hard_negatives"])
    assert all(kinds[k] >= 4 for k in HARD_NEGATIVE_KINDS), kinds
    reasons = Counter(r["reason"] for r in truth["punishment"]["must_not"])
    assert all(reasons[r] >= 2 for r in ("left_before_act", "joined_after", "shareholder_below_ratio")), reasons
    assert truth["punishment"]["removed"]
    links = Counter(r["link"] for r in truth["linked_risk"])
    assert len(links) == 3
    assert truth["red_black_conflicts"]
    outcomes = Counter(r["outcome"] for r in truth["masked_ids"])
    assert outcomes["resolve"] and outcomes["ambiguous"] and outcomes["no_match"]
    assert truth["code_errors"]["invalid"] and truth["code_errors"]["duplicates"]


def test_relocated_firms_open_after_the_listing(demo: tuple[DemoSummary, dict[str, Any]]) -> None:
    summary, truth = demo
    out = summary.out_dir
    reg = {r["统一社会信用代码"]: r for r in records(out, "registrations.csv", "registrations_gbk.csv")}
    listed = {r["决定文号"]: r for r in list_rows(out)}
    for case in truth["relocations"]:
        entry = listed[case["decision_no"]]
        assert entry["统一社会信用代码"] == case["old_uscc"]
        assert entry["名单类型"] == "严重失信主体名单"
        list_day = as_date(entry["列入日期"])
        new_est = parse_date(reg[case["new_uscc"]]["成立日期"])
        assert list_day is not None and new_est is not None
        assert list_day < new_est <= list_day + dt.timedelta(days=3 * 366), case
        divisions_differ = case["old_uscc"][2:8] != case["new_uscc"][2:8]
        assert case["region"] == ("易地" if divisions_differ else "原地")
        assert case["new_uscc"] != case["old_uscc"]
    # the same person or an officer of the old firm leads the new one
    for case in truth["relocations"]:
        if case["pattern"] in ("same_person", "traditional", "officer_leads"):
            assert reg[case["new_uscc"]]["法定代表人证件号码"] == case["shared_persons"][0]["person_id"]
        if case["pattern"] == "traditional":
            assert reg[case["new_uscc"]]["名称"] == case["new_name"] != case["old_name"]
    for neg in truth["hard_negatives"]:
        assert neg["other_uscc"] in reg and neg["old_uscc"] in reg
        if neg["kind"] == "chain_branch":
            assert reg[neg["other_uscc"]]["上级单位统一社会信用代码"] == neg["parent_uscc"]
        if neg["kind"] == "agency_address":
            assert reg[neg["other_uscc"]]["住所"] == reg[neg["old_uscc"]]["住所"] == neg["shared_address"]
            assert neg["firms_at_address"] > 50


def test_must_persons_held_the_role_on_the_act_date(demo: tuple[DemoSummary, dict[str, Any]]) -> None:
    summary, truth = demo
    out = summary.out_dir
    reg = {r["统一社会信用代码"]: r for r in records(out, "registrations.csv", "registrations_gbk.csv")}
    changes: dict[str, list[tuple[dt.date, str, str]]] = defaultdict(list)
    for r in records(out, "changes.csv"):
        if r["变更事项"] == "法定代表人变更":
            day = parse_date(r["变更日期"])
            if day is not None:
                changes[r["统一社会信用代码"]].append((day, r["变更前内容"], r["变更后内容"]))
    ids: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in records(out, "officers.csv", "officers_bom.csv"):
        ids[r["统一社会信用代码"]].add((r["姓名"], r["证件号码"]))
    for r in reg.values():
        ids[r["统一社会信用代码"]].add((r["法定代表人"], r["法定代表人证件号码"]))
    controllers: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in records(out, "controllers.csv"):
        controllers[r["统一社会信用代码"]].append(r)
    holders: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in records(out, "shareholders.csv"):
        holders[r["统一社会信用代码"]].append(r)
    entries = {e["decision_no"]: e for e in truth["punishment"]["entries"]}
    listed = {r["决定文号"]: r for r in list_rows(out)}

    def legal_rep_on(uscc: str, day: dt.date) -> str:
        for when, before, _after in sorted(changes[uscc]):
            if when > day:
                return before
        return reg[uscc]["法定代表人"]

    def controls_on(uscc: str, person_id: str, day: dt.date) -> bool:
        for r in controllers[uscc]:
            if r["类型"] == "实际控制人" and r["证件号码"] == person_id:
                start, end = parse_date(r["起始日期"]), parse_date(r["终止日期"])
                if (start is None or start <= day) and (end is None or day < end):
                    return True
        return False

    assert truth["punishment"]["must"]
    for must in truth["punishment"]["must"]:
        entry = entries[must["decision_no"]]
        row = listed[must["decision_no"]]
        act_cell = as_date(row["行为发生日期"]) or as_date(row["列入日期"])
        assert act_cell is not None and act_cell.isoformat() == entry["act_date"] == must["act_date"]
        assert check_resident_id(must["person_id"]).valid
        if must["role"] == "法定代表人":
            assert legal_rep_on(must["uscc"], act_cell) == must["name"], must
            assert (must["name"], must["person_id"]) in ids[must["uscc"]], must
        else:
            assert must["role"] == "实际控制人"
            assert controls_on(must["uscc"], must["person_id"], act_cell), must
    changed_around_act = 0
    for not_ in truth["punishment"]["must_not"]:
        act = dt.date.fromisoformat(not_["act_date"])
        if not_["reason"] in ("left_before_act", "joined_after") and not_["role"] == "法定代表人":
            assert legal_rep_on(not_["uscc"], act) != not_["name"]
            changed_around_act += 1
        elif not_["reason"] == "left_before_act":
            assert not controls_on(not_["uscc"], not_["person_id"], act)
        else:
            row = next(r for r in holders[not_["uscc"]] if r["证照/证件号码"] == not_["person_id"])
            assert row["出资比例"] in ("3%", "3", "0.03")
    assert changed_around_act >= 10
    for removed in truth["punishment"]["removed"]:
        row = listed[removed["decision_no"]]
        assert as_date(row["移出日期"]) == dt.date.fromisoformat(removed["removed_on"])
        assert row["移出原因"] == removed["reason"]


def test_code_errors_are_real(demo: tuple[DemoSummary, dict[str, Any]]) -> None:
    summary, truth = demo
    out = summary.out_dir
    files: dict[str, list[list[str]]] = {}

    def row_of(name: str, number: int) -> list[str]:
        if name not in files:
            encoding = {"registrations_gbk.csv": "gb18030", "officers_bom.csv": "utf-8-sig"}.get(name, "utf-8")
            files[name] = read_csv(out / name, encoding)[1]
        return files[name][number - 2]  # rows as the file numbers them: the header is row 1

    for err in truth["code_errors"]["invalid"]:
        assert not check_uscc(err["code"]).valid
        assert is_valid_uscc(err["valid_code"])
        assert row_of(err["file"], err["row"])[0] == err["code"]
    for dup in truth["code_errors"]["duplicates"]:
        assert is_valid_uscc(dup["code"])
        names = [row_of(r["file"], r["row"])[1] for r in dup["rows"]]
        assert all(row_of(r["file"], r["row"])[0] == dup["code"] for r in dup["rows"])
        assert len(set(names)) == 2 and set(names) == set(dup["names"])
    for must in truth["punishment"]["must"]:
        assert is_valid_uscc(must["uscc"])


def test_ugly_rows_are_where_the_truth_says(demo: tuple[DemoSummary, dict[str, Any]]) -> None:
    summary, truth = demo
    out = summary.out_dir
    ugly = truth["ugly"]
    # rows as the files number them: the header is row 1, data row i is rows[i - 2]
    for name, numbers in ugly["empty_rows"].items():
        rows = read_csv(out / name)[1]
        assert all(not any(cell.strip() for cell in rows[n - 2]) for n in numbers)
    for name, numbers in ugly["duplicate_rows"].items():
        rows = read_csv(out / name)[1]
        assert all(rows[n - 2] in rows[: n - 2] for n in numbers)
    assert ugly["rejected"]
    for rej in ugly["rejected"]:
        header, rows = read_csv(out / rej["file"])
        value = rows[rej["row"] - 2][header.index(rej["column"])]
        assert value == "" or parse_date(value) is None
    for name, count in ugly["expected_loaded_rows"].items():
        assert count <= truth["files"][name]["rows"]
    assert sum(ugly["traditional_rows"].values()) > 0
    assert set(ugly["date_formats"]["registrations.csv"]) == {"iso", "slash", "cn", "compact"}
    assert set(ugly["ratio_formats"]["shareholders.csv"]) == {"percent", "number", "fraction"}
    assert set(ugly["amount_formats"]["registrations.csv"]) == {"plain", "wan", "wan_rmb"}


def test_masked_ids_resolve_as_recorded(demo: tuple[DemoSummary, dict[str, Any]]) -> None:
    summary, truth = demo
    out = summary.out_dir
    people: dict[str, set[str]] = defaultdict(set)
    for r in records(out, "registrations.csv", "registrations_gbk.csv"):
        people[r["法定代表人"]].add(r["法定代表人证件号码"])
    for r in records(out, "officers.csv", "officers_bom.csv", "controllers.csv"):
        people[r["姓名"]].add(r["证件号码"])
    for r in records(out, "shareholders.csv"):
        people[r["股东"]].add(r["证照/证件号码"])
    court = {r["案号"]: r for r in records(out, "court_dishonest.csv")}
    for case in truth["masked_ids"]:
        row = court[case["case_no"]]
        assert row["身份证号码/组织机构代码"] == case["masked"] and "*" in case["masked"]
        found = sorted(
            n for n in people[case["name"]]
            if len(n) == 18 and "*" not in n and all(a in "*" or a == b for a, b in zip(case["masked"], n, strict=True))
        )  # fmt: skip
        if case["outcome"] == "resolve":
            assert found == [case["expected_person_id"]]
        elif case["outcome"] == "ambiguous":
            assert len(found) >= 2 and case["expected_person_id"] is None
        else:
            assert found == [] and case["expected_person_id"] is None


def test_linked_risk_links_exist(demo: tuple[DemoSummary, dict[str, Any]]) -> None:
    summary, truth = demo
    out = summary.out_dir
    reg = {r["统一社会信用代码"]: r for r in records(out, "registrations.csv", "registrations_gbk.csv")}
    punished = {m["person_id"] for m in truth["punishment"]["must"]}
    blacklisted = {e["uscc"] for e in truth["punishment"]["entries"]}
    holders = defaultdict(list)
    for r in records(out, "shareholders.csv"):
        holders[r["统一社会信用代码"]].append(r)
    for link in truth["linked_risk"]:
        assert link["uscc"] not in blacklisted
        if link["link"] == "legal_rep_is_punished_person":
            assert reg[link["uscc"]]["法定代表人证件号码"] == link["via"] in punished
        elif link["link"] == "blacklisted_shareholder_ge_25pct":
            assert link["via"] in blacklisted
            assert any(r["证照/证件号码"] == link["via"] for r in holders[link["uscc"]])
        else:
            assert link["via"] in punished
    conflicts = {c["uscc"] for c in truth["red_black_conflicts"]}
    red = {r["统一社会信用代码"] for r in list_rows(out) if r["名单类型"] == "红名单"}
    assert conflicts and conflicts <= red


def test_small_firm_counts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, firms=100, progress=False)


def test_every_written_identifier_is_valid_unless_planted(demo: tuple[DemoSummary, dict[str, Any]]) -> None:
    summary, truth = demo
    out = summary.out_dir
    planted = {e["code"] for e in truth["code_errors"]["invalid"]}
    for r in records(out, "registrations.csv", "registrations_gbk.csv"):
        if parse_date(r["成立日期"]) is None:  # a planted rejected row
            continue
        assert is_valid_uscc(r["统一社会信用代码"]) or r["统一社会信用代码"] in planted
        assert check_resident_id(r["法定代表人证件号码"]).valid
    for r in records(out, "officers.csv", "officers_bom.csv", "controllers.csv"):
        assert r["证件号码"] == "" or check_resident_id(r["证件号码"]).valid
        assert is_valid_uscc(r["统一社会信用代码"]) or r["统一社会信用代码"] in planted
    for r in records(out, "shareholders.csv"):
        number = r["证照/证件号码"]
        assert check_resident_id(number).valid if r["股东类型"] == "自然人股东" else is_valid_uscc(number)
    assert summary.persons > summary.firms  # about two people per firm, many with several roles
