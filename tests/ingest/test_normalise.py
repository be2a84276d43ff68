"""Tests of ingest.normalise: text, names, organisation-name splitting, dates, amounts, ratios, contacts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from graph import textkey
from graph.textkey import translate_guard
from ingest import normalise as nz
from ingest.normalise import (
    OrgNameParts,
    amount_currency,
    clean_text,
    name_key,
    normalise_address,
    normalise_email,
    normalise_phone,
    parse_amount,
    parse_date,
    parse_ratio,
    person_name_key,
    split_org_name,
    to_simplified,
)

FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")

# ---------------------------------------------------------------------------------------
# clean_text / to_simplified
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("", ""),
        ("   ", ""),
        ("鑫源商贸（郑州）有限公司", "鑫源商贸(郑州)有限公司"),
        ("ＡＢＣ１２３", "ABC123"),
        ("［甲］", "[甲]"),
        ("鑫源商貿(鄭州)有限公司", "鑫源商贸(郑州)有限公司"),
        ("  鑫源\u3000商贸\u00a0\u00a0有限公司\t\n", "鑫源 商贸 有限公司"),
        ("鑫源\u200b商贸", "鑫源商贸"),  # zero-width space inside a word: deleted, not a space
        ("鑫源 \u200b \ufeff 商贸", "鑫源 商贸"),  # part of a whitespace run: one space
        ("a\r\n\x0b\x0cb", "a b"),
        ("a\x00b\x7f", "ab"),
        ("嚴重失信", "严重失信"),
        ("實際控制人", "实际控制人"),
    ],
)
def test_clean_text(raw: str | None, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("鑫源商貿(鄭州)有限公司", "鑫源商贸(郑州)有限公司"),
        ("嚴重失信", "严重失信"),
        ("實際控制人", "实际控制人"),
        ("法定代表人", "法定代表人"),
        ("ABC 123", "ABC 123"),
        ("", ""),
        (None, ""),
    ],
)
def test_to_simplified(raw: str | None, expected: str) -> None:
    assert to_simplified(raw) == expected


def _ts_lines() -> list[tuple[str, str]]:
    path = Path(str(resources.files("opencc") / "dictionary" / "TSCharacters.txt"))
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, candidates = line.partition("\t")
        if len(key) == 1:
            pairs.append((key, candidates.split(" ")[0]))
    return pairs


TS_PAIRS = _ts_lines()


def test_ts_table_comes_from_opencc_dictionary() -> None:
    assert len(TS_PAIRS) > 4000
    from graph.textkey import ts_table

    assert len(ts_table()) > 2500 and ts_table()[ord("鄭")] == "郑"


@given(st.sampled_from(TS_PAIRS))
def test_to_simplified_takes_first_candidate(pair: tuple[str, str]) -> None:
    key, first = pair
    # A few lines chain (薴 → 苧 → 苎): the table follows them to the end.
    assert to_simplified(key) == to_simplified(first)
    assert to_simplified(to_simplified(key)) == to_simplified(key)


@given(st.text())
@example("e\u200b\u0301")  # deleting the zero-width space lets NFKC compose é
@example("a¨")  # NFKC gives a space and a combining mark
@example("薴")
def test_clean_text_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert all(not ch.isspace() or ch == " " for ch in once)


@given(st.text())
def test_to_simplified_is_idempotent_and_keeps_length(text: str) -> None:
    once = to_simplified(text)
    assert to_simplified(once) == once
    assert len(once) == len(text)


# ---------------------------------------------------------------------------------------
# name_key / person_name_key
# ---------------------------------------------------------------------------------------


def test_name_key_equates_variants_of_one_name() -> None:
    variants = [
        "鑫源商贸(郑州)有限公司",
        "鑫源商贸（郑州）有限公司",
        " 鑫源商貿（鄭州）有限公司 ",
        "鑫源 商贸【郑州】有限公司",
        "鑫源商贸〔郑州〕有限公司。",
        "“鑫源”商贸-郑州-有限公司",
        "鑫源·商贸,郑州;有限公司",
    ]
    assert {name_key(v) for v in variants} == {"鑫源商贸郑州有限公司"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ABC Trading Co., Ltd.", "abctradingcoltd"),
        ("ＡＢＣ科技", "abc科技"),
        ("鑫源•商贸", "鑫源商贸"),
        ("鑫源—商贸–有限公司", "鑫源商贸有限公司"),
        ("'鑫源' \"商贸\" 「有限」『公司』", "鑫源商贸有限公司"),
        (None, ""),
        ("", ""),
    ],
)
def test_name_key(raw: str | None, expected: str) -> None:
    assert name_key(raw) == expected


@given(st.text())
@example("e \u0301")
@example("e\u200b\u0301")
def test_name_key_properties(text: str) -> None:
    key = name_key(text)
    assert name_key(key) == key
    assert not any(ch.isspace() for ch in key)
    assert key == key.translate(nz._ASCII_LOWER)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("买买提·吐尔逊", "买买提吐尔逊"),
        ("买买提•吐尔逊", "买买提吐尔逊"),
        ("买买提・吐尔逊", "买买提吐尔逊"),
        ("买买提･吐尔逊", "买买提吐尔逊"),
        ("买买提.吐尔逊", "买买提吐尔逊"),
        ("买买提 · 吐尔逊", "买买提吐尔逊"),
        ("张 三", "张三"),
        ("張三", "张三"),
        ("\u3000张三\u00a0", "张三"),
        ("John SMITH", "johnsmith"),
        (None, ""),
    ],
)
def test_person_name_key(raw: str | None, expected: str) -> None:
    assert person_name_key(raw) == expected


@given(st.text())
def test_person_name_key_is_idempotent(text: str) -> None:
    key = person_name_key(text)
    assert person_name_key(key) == key
    assert not any(ch.isspace() or ch in "·•・" for ch in key)


# ---------------------------------------------------------------------------------------
# split_org_name
# ---------------------------------------------------------------------------------------

SPLITS = [
    # name, region, region_code, trade_name, industry, legal_form, branch
    ("郑州市鑫源商贸有限公司", "郑州市", "4101", "鑫源", "商贸", "有限公司", ""),
    ("鑫源商贸(郑州)有限公司", "郑州市", "4101", "鑫源", "商贸", "有限公司", ""),
    ("鑫源商贸（郑州）有限公司", "郑州市", "4101", "鑫源", "商贸", "有限公司", ""),
    ("河南省郑州市金水区鑫源商贸有限公司", "河南省郑州市金水区", "410105", "鑫源", "商贸", "有限公司", ""),
    ("北京鑫源科技发展有限公司", "北京市", "11", "鑫源", "科技发展", "有限公司", ""),
    ("鑫源(北京)信息技术股份有限公司", "北京市", "11", "鑫源", "信息技术", "股份有限公司", ""),
    ("上海鑫源餐饮管理有限公司浦东分公司", "上海市", "31", "鑫源", "餐饮管理", "有限公司", "浦东分公司"),
    ("郑州市金水区鑫源百货店", "郑州市金水区", "410105", "鑫源", "百货", "店", ""),
    ("新郑市鑫源种植专业合作社", "新郑市", "410184", "鑫源", "种植", "专业合作社", ""),
    ("鑫源建筑工程有限责任公司", "", "", "鑫源", "建筑工程", "有限责任公司", ""),
    ("深圳市鑫源投资合伙企业(有限合伙)", "深圳市", "4403", "鑫源", "投资", "合伙企业(有限合伙)", ""),
    ("深圳市鑫源投资合伙企业（有限合伙）", "深圳市", "4403", "鑫源", "投资", "合伙企业(有限合伙)", ""),
    ("鄭州市鑫源商貿有限公司", "郑州市", "4101", "鑫源", "商贸", "有限公司", ""),
    ("鑫源商貿（鄭州）有限公司", "郑州市", "4101", "鑫源", "商贸", "有限公司", ""),
    # more forms
    ("河南郑州鑫源商贸有限公司", "河南省郑州市", "4101", "鑫源", "商贸", "有限公司", ""),
    ("郑州市金水鑫源商贸有限公司", "郑州市金水区", "410105", "鑫源", "商贸", "有限公司", ""),
    ("鑫源(金水)商贸有限公司", "金水区", "410105", "鑫源", "商贸", "有限公司", ""),
    ("鑫源商贸集团有限公司", "", "", "鑫源", "商贸", "集团有限公司", ""),
    ("鑫源(集团)有限公司", "", "", "鑫源", "", "(集团)有限公司", ""),
    ("鑫源农业科技有限公司", "", "", "鑫源", "农业科技", "有限公司", ""),
    ("郑州鑫源电器行", "郑州市", "4101", "鑫源", "电器", "行", ""),
    ("鑫源商行", "", "", "鑫源", "", "商行", ""),
    ("鑫源律师事务所", "", "", "鑫源律师", "", "事务所", ""),
    ("郑州市鑫源商会", "郑州市", "4101", "鑫源", "", "商会", ""),
    ("鑫源个人独资企业", "", "", "鑫源", "", "个人独资企业", ""),
    ("鑫源投资(普通合伙)", "", "", "鑫源", "投资", "(普通合伙)", ""),
    ("中国工商银行股份有限公司郑州花园路支行", "", "", "中国工商银行", "", "股份有限公司", "郑州花园路支行"),
    ("鑫源餐饮有限公司万达广场分店", "", "", "鑫源", "餐饮", "有限公司", "万达广场分店"),
    ("南京市鼓楼区鑫源商贸有限公司", "南京市鼓楼区", "320106", "鑫源", "商贸", "有限公司", ""),
    ("延边鑫源商贸有限公司", "延边朝鲜族自治州", "2224", "鑫源", "商贸", "有限公司", ""),
    ("内蒙古鑫源农业科技有限公司", "内蒙古自治区", "15", "鑫源", "农业科技", "有限公司", ""),
    ("上海市浦东新区鑫源物流有限公司", "上海市浦东新区", "310115", "鑫源", "物流", "有限公司", ""),
    ("吉林鑫源有限公司", "吉林省", "22", "鑫源", "", "有限公司", ""),
    ("鑫源 商贸 有限公司", "", "", "鑫源", "商贸", "有限公司", ""),
    # a short region name with nothing after it is the trade name
    ("北京科技有限公司", "", "", "北京", "科技", "有限公司", ""),
    ("郑州市中原科技有限公司", "郑州市", "4101", "中原", "科技", "有限公司", ""),
    # district short names are not taken at the start (they collide with trade names)
    ("东方鑫源有限公司", "", "", "东方鑫源", "", "有限公司", ""),
    ("阿里巴巴(中国)网络技术有限公司", "", "", "阿里巴巴(中国)", "网络技术", "有限公司", ""),
    # nothing recognised: the trade name is the whole body
    ("张三", "", "", "张三", "", "", ""),
    ("ABC Trading Co., Ltd.", "", "", "ABC Trading Co., Ltd.", "", "", ""),
    ("", "", "", "", "", "", ""),
]


@pytest.mark.parametrize(("name", "region", "code", "trade", "industry", "form", "branch"), SPLITS)
def test_split_org_name(name: str, region: str, code: str, trade: str, industry: str, form: str, branch: str) -> None:
    parts = split_org_name(name)
    assert parts == OrgNameParts(
        region=region,
        region_code=code,
        trade_name=trade,
        industry=industry,
        legal_form=form,
        branch=branch,
        core=trade + industry,
    )


def test_org_name_parts_is_frozen_and_slotted() -> None:
    parts = split_org_name("郑州市鑫源商贸有限公司")
    assert not hasattr(parts, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        parts.trade_name = "x"  # type: ignore[misc]


def test_ambiguous_region_gets_no_code() -> None:
    parts = split_org_name("鼓楼区鑫源商贸有限公司")  # 鼓楼区 exists in Nanjing, Xuzhou, Fuzhou, Kaifeng
    assert (parts.region, parts.region_code, parts.trade_name) == ("鼓楼区", "", "鑫源")


def test_region_name_from_traditional_and_simplified_is_the_same() -> None:
    # 乾县 contains 乾, which opencc maps to 干: the region table is keyed the same way.
    assert split_org_name("乾縣鑫源商貿有限公司").region_code == "610424"
    assert split_org_name("乾县鑫源商贸有限公司").region_code == "610424"


def test_industry_and_form_lists_are_rich_enough() -> None:
    assert len(set(nz.INDUSTRY_WORDS)) >= 80
    assert len(nz.INDUSTRY_WORDS) == len(set(nz.INDUSTRY_WORDS))
    assert len(nz.LEGAL_FORMS) == len(set(nz.LEGAL_FORMS))
    assert {"有限责任公司", "股份有限公司", "有限公司", "集团有限公司", "合伙企业(有限合伙)", "个人独资企业"} <= set(
        nz.LEGAL_FORMS
    )


TRADE_CHARS = "鑫源恒瑞祥宏福盛达誉锦卓"
REGIONS = [  # (as written at the start, as written in brackets, code)
    ("郑州市", "郑州", "4101"),
    ("北京市", "北京", "11"),
    ("深圳市", "深圳", "4403"),
    ("河南省", "河南", "41"),
    ("金水区", "金水", "410105"),
]
INDUSTRIES = ["商贸", "科技发展", "信息技术", "餐饮管理", "建筑工程", "百货", "投资", "物流", "供应链管理"]
FORMS = ["有限公司", "有限责任公司", "股份有限公司", "集团有限公司", "合伙企业(有限合伙)", "个人独资企业"]


@given(
    trade=st.text(alphabet=TRADE_CHARS, min_size=2, max_size=4),
    region=st.sampled_from(REGIONS),
    industry=st.sampled_from(INDUSTRIES),
    form=st.sampled_from(FORMS),
    traditional=st.booleans(),
    full_width=st.booleans(),
)
def test_split_recovers_generated_names(
    trade: str,
    region: tuple[str, str, str],
    industry: str,
    form: str,
    traditional: bool,
    full_width: bool,
) -> None:
    prefix, short, code = region
    prefixed = prefix + trade + industry + form
    bracketed = f"{trade}{industry}({short}){form}"
    if traditional:
        prefixed = prefixed.replace("贸", "貿").replace("郑", "鄭").replace("发", "發")
        bracketed = bracketed.replace("贸", "貿").replace("郑", "鄭")
    if full_width:
        bracketed = bracketed.replace("(", "（").replace(")", "）")
    for name in (prefixed, bracketed):
        parts = split_org_name(name)
        assert (parts.region_code, parts.trade_name, parts.industry, parts.legal_form) == (
            code,
            trade,
            industry,
            form,
        ), name
        assert parts.core == trade + industry


# ---------------------------------------------------------------------------------------
# parse_date
# ---------------------------------------------------------------------------------------

MARCH_5 = dt.date(2021, 3, 5)


@pytest.mark.parametrize(
    "value",
    [
        "2021-03-05",
        "2021/3/5",
        "2021/03/05",
        "2021.3.5",
        "2021-3-5",
        "2021年3月5日",
        "2021年03月05日",
        " 2021 年 3 月 5 日 ",
        "20210305",
        "2021-03-05 00:00:00",
        "2021/3/5 0:00",
        "2021-03-05T08:30:00",
        "2021-03-05 08:30:00.123",
        "２０２１－０３－０５",
        "２０２１年３月５日",
        "２０２１０３０５",
        dt.date(2021, 3, 5),
        dt.datetime(2021, 3, 5, 17, 45),
        44260,
        44260.0,
        44260.75,
        "44260",
        "44260.5",
        "４４２６０",
        20210305,
        Decimal("44260"),
    ],
)
def test_parse_date_forms(value: object) -> None:
    assert parse_date(value) == MARCH_5


@pytest.mark.parametrize("value", [None, "", "  ", "-", "--", "—", "无", "/", "暂无", "NULL", "nan", float("nan")])
def test_parse_date_empty(value: object) -> None:
    assert parse_date(value) is None


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, dt.date(1900, 1, 1)),
        (59, dt.date(1900, 2, 28)),
        (61, dt.date(1900, 3, 1)),
        (43831, dt.date(2020, 1, 1)),
        (2958465, dt.date(9999, 12, 31)),
    ],
)
def test_parse_date_excel_serials(serial: int, expected: dt.date) -> None:
    assert parse_date(serial) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2021-13-40",
        "2021-02-30",
        "2021/13/5",
        "20211305",
        "2021年3月",
        "2021",
        "5/3/2021",
        "03-05-2021",
        "yesterday",
        "0001-01-01",
        "12345678",
        60,  # Excel's fictitious 1900-02-29
        0,
        -5,
        2958466,
        float("inf"),
        True,
        [2021, 3, 5],
    ],
)
def test_parse_date_rejects(value: object) -> None:
    with pytest.raises(ValueError) as info:
        parse_date(value)
    message = str(info.value)
    assert repr(value) in message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)  # Chinese reason
    assert "(" in message and ")" in message  # with the English one in brackets


def test_parse_date_error_message() -> None:
    with pytest.raises(ValueError, match=r"无法识别的日期 '2021-13-40' \(unrecognised date\)"):
        parse_date("2021-13-40")


def _excel_serial(d: dt.date) -> int:
    return (d - dt.date(1899, 12, 30)).days


TEXT_FORMS = [
    lambda d: d.isoformat(),
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}-{d.month}-{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}",
    lambda d: f"{d.isoformat()} 00:00:00",
    lambda d: f"{d.isoformat()}T12:34:56",
]


@given(
    d=st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(9999, 12, 31)),
    form=st.sampled_from(TEXT_FORMS),
    full_width=st.booleans(),
    padded=st.booleans(),
)
def test_parse_date_round_trips_every_text_form(d: dt.date, form, full_width: bool, padded: bool) -> None:
    text = form(d)
    if full_width:
        text = text.translate(FULL_WIDTH_DIGITS)
    if padded:
        text = f" {text}\u3000"
    assert parse_date(text) == d


@given(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)), st.floats(0, 0.999))
def test_parse_date_round_trips_excel_serials(d: dt.date, time_of_day: float) -> None:
    serial = _excel_serial(d)
    assert parse_date(serial) == d
    assert parse_date(serial + time_of_day) == d
    if 10000 <= serial <= 99999:
        assert parse_date(str(serial)) == d


@given(st.datetimes(min_value=dt.datetime(1800, 1, 1)))
def test_parse_date_of_datetime_objects(value: dt.datetime) -> None:
    assert parse_date(value) == value.date()
    assert parse_date(value.date()) == value.date()


# ---------------------------------------------------------------------------------------
# parse_amount / amount_currency
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "amount", "currency"),
    [
        ("100", 100.0, "CNY"),
        ("100.5", 100.5, "CNY"),
        ("1,000", 1000.0, "CNY"),
        ("1,000.25", 1000.25, "CNY"),
        ("100万", 100.0, "CNY"),
        ("100万元", 100.0, "CNY"),
        ("100万元人民币", 100.0, "CNY"),
        ("人民币100万元", 100.0, "CNY"),
        ("100 万元", 100.0, "CNY"),
        ("100万元整", 100.0, "CNY"),
        ("100(万元)", 100.0, "CNY"),
        ("100万美元", 100.0, "USD"),
        ("美元100万", 100.0, "USD"),
        ("50万欧元", 50.0, "EUR"),
        ("100万港币", 100.0, "HKD"),
        ("100 USD", 100.0, "USD"),
        ("1000元", 0.1, "CNY"),
        ("1000元人民币", 0.1, "CNY"),
        ("5000美元", 0.5, "USD"),
        ("1.5亿元", 15000.0, "CNY"),
        ("１００万元", 100.0, "CNY"),
        ("１，０００", 1000.0, "CNY"),
        ("1.5E+3", 1500.0, "CNY"),
        ("0", 0.0, "CNY"),
        (100, 100.0, "CNY"),
        (100.5, 100.5, "CNY"),
        (Decimal("12.5"), 12.5, "CNY"),
        ("¥100万", 100.0, "CNY"),
        ("￥100万元", 100.0, "CNY"),
        ("壹佰万元", 100.0, "CNY"),  # Chinese numerals, as on a licence
        ("一百五十万元人民币", 150.0, "CNY"),
        ("一千二百三十四万五千元", 1234.5, "CNY"),
        ("一亿二千万元", 12000.0, "CNY"),
        ("十万", 10.0, "CNY"),
        ("伍拾万美元", 50.0, "USD"),
    ],
)
def test_parse_amount(value: object, amount: float, currency: str) -> None:
    assert parse_amount(value) == pytest.approx(amount)
    assert amount_currency(value) == currency


@pytest.mark.parametrize("value", [None, "", " ", "-", "无", "/", float("nan")])
def test_parse_amount_empty(value: object) -> None:
    assert parse_amount(value) is None
    assert amount_currency(value) == ""


@pytest.mark.parametrize(
    "value", ["abc", "100万吨", "-5", "1.2.3", "人民币100万美元", "万元", "一百万吨", "万万", True, -1, float("inf"),
              [1]]
)
def test_parse_amount_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="金额") as info:
        parse_amount(value)
    assert repr(value) in str(info.value)
    assert "amount" in str(info.value) or "currenc" in str(info.value)


@given(st.integers(0, 10**9), st.sampled_from(["{:,}", "{}万", "{}万元", "{}万元人民币", "人民币{}万元", "{}"]))
def test_parse_amount_integer_round_trip(n: int, form: str) -> None:
    assert parse_amount(form.format(n)) == n


@given(st.integers(0, 10**9))
def test_parse_amount_yuan_is_converted_to_wan(n: int) -> None:
    assert parse_amount(f"{n}元") == pytest.approx(n / 10000)


# ---------------------------------------------------------------------------------------
# parse_ratio
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("60%", 0.6),
        ("60", 0.6),
        ("0.6", 0.6),
        ("60.00%", 0.6),
        ("６０％", 0.6),
        ("60 %", 0.6),
        ("100%", 1.0),
        ("100", 1.0),
        ("1", 1.0),  # up to 1 is a fraction
        ("0", 0.0),
        ("0%", 0.0),
        ("33.33%", 0.3333),
        ("5‰", 0.005),
        (60, 0.6),
        (0.25, 0.25),
    ],
)
def test_parse_ratio(value: object, expected: float) -> None:
    assert parse_ratio(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", [None, "", "-", "无"])
def test_parse_ratio_empty(value: object) -> None:
    assert parse_ratio(value) is None


@pytest.mark.parametrize("value", ["150", "101%", "-5%", "-0.1", "abc", "60%%", True, float("inf"), 100.5])
def test_parse_ratio_rejects(value: object) -> None:
    with pytest.raises(ValueError) as info:
        parse_ratio(value)
    assert repr(value) in str(info.value)


@given(st.integers(0, 10000))
def test_parse_ratio_percent_round_trip(hundredths: int) -> None:
    percent = hundredths / 100
    assert parse_ratio(f"{percent}%") == pytest.approx(percent / 100)
    if percent > 1:
        assert parse_ratio(f"{percent}") == pytest.approx(percent / 100)


@given(st.floats(0, 1))
def test_parse_ratio_fraction_round_trip(fraction: float) -> None:
    assert parse_ratio(repr(fraction)) == fraction
    assert parse_ratio(fraction) == fraction


# ---------------------------------------------------------------------------------------
# contacts and addresses
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("(+86)13812345678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0371-66661234", "037166661234"),
        ("(0371)66661234", "037166661234"),
        ("+86 371 6666 1234", "037166661234"),
        ("0371-66661234转801", "037166661234"),
        ("13812345678;13912345678", "13812345678"),
        ("13812345678、13912345678", "13812345678"),
        ("66661234", "66661234"),
        ("123", ""),
        ("无", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_phone(raw: str | None, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Foo.Bar@Example.COM ", "foo.bar@example.com"),
        ("ｆｏｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "foo@example.com"),
        ("foo @ example.com", "foo@example.com"),
        ("abc@qq。com", "abc@qq.com"),
        ("mailto:a@b.cn", "a@b.cn"),
        ("<a@b.cn>", "a@b.cn"),
        ("a@b.cn; c@d.cn", "a@b.cn"),
        ("no email", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_email(raw: str | None, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  河南省 郑州市 金水区 花园路 1号 。", "河南省郑州市金水区花园路1号"),
        ("，郑州市金水区（鑫源大厦）、", "郑州市金水区(鑫源大厦)"),
        ("鄭州市金水區花園路１號", "郑州市金水区花园路1号"),
        ("-/郑州市;", "郑州市"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_address(raw: str | None, expected: str) -> None:
    assert normalise_address(raw) == expected


# ---------------------------------------------------------------------------------------
# fast paths against the straightforward implementations
# ---------------------------------------------------------------------------------------
# clean_text and the name keys skip str.translate when a guard pattern finds nothing to
# translate; split_org_name remembers region steps and tries suffix lengths by the last
# character. These tests hold them to the plain versions over generated input.

# traditional, full-width, invisible, control, whitespace, bracket and punctuation characters
_ODD_TEXT = (
    "鑫源商貿鄭州發展有限公司嚴實際控制人張買提·•.．ＡＢＣａｂ１２３abcXYZ019 \u3000\u00a0\t\n\r\x0b\x1c"
    "\u200b\u200d\ufeff\u00ad\x00\x07\x7f()（）[]【】〔〕{}《》-—_/\\'\"，,。e\u0301\U00020000\U0002f800"
)
odd_text = st.text(alphabet=_ODD_TEXT, max_size=30) | st.text(max_size=30)


def _plain_clean_text(s: str | None) -> str:
    if not s:
        return ""
    if s.isascii():
        return " ".join(s.translate(nz._DELETE_ALWAYS).split())
    text = unicodedata.normalize("NFKC", s)
    # characters that are simplified too convert only in a text that is traditional otherwise
    traditional = any(ord(c) in nz._TS and ord(c) not in nz._AMBIGUOUS_TS for c in text)
    text = " ".join(text.translate(nz._CLEAN_TABLE if traditional else nz._CLEAN_KEEP_TABLE).split())
    return text if unicodedata.is_normalized("NFKC", text) else nz._renormalise(text, nz._clean_once)


def _plain_key(s: str | None, table: dict[int, str | None], once: Callable[[str], str]) -> str:
    if not s:
        return ""
    key = unicodedata.normalize("NFKC", s).translate(table)
    return key if key.isascii() or unicodedata.is_normalized("NFKC", key) else nz._renormalise(key, once)


def test_whitespace_is_every_character_isspace_accepts() -> None:
    assert nz._WHITESPACE == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


@pytest.mark.parametrize("table", ["_TS", "_CLEAN_TABLE", "_NAME_KEY_TABLE", "_PERSON_KEY_TABLE", "_SPLIT_TABLE"])
def test_translate_guards_find_every_character_their_table_maps(table: str) -> None:
    mapped = getattr(nz, table)
    guard = translate_guard(mapped)
    assert all(guard.search(chr(c)) for c in mapped)
    assert guard.search("\U00010000") and guard.search("\U0010ffff")  # beyond the BMP: always translated
    unmapped = [chr(c) for c in range(0x10000) if c not in mapped and not 0xD800 <= c < 0xE000]
    assert not guard.search("".join(unmapped))


@given(odd_text)
@example("鑫源\u200b商贸")
@example("e\u200b\u0301")
@example("於\U00010000")  # a character beyond the BMP does not make 於 traditional
def test_clean_text_matches_reference(text: str) -> None:
    assert clean_text(text) == _plain_clean_text(text)


@given(odd_text)
def test_name_keys_and_simplified_match_reference(text: str) -> None:
    assert name_key(text) == _plain_key(text, nz._NAME_KEY_TABLE, nz._name_key_once)
    assert person_name_key(text) == _plain_key(text, nz._PERSON_KEY_TABLE, nz._person_key_once)
    assert to_simplified(text) == text.translate(nz._TS)
    assert textkey.to_simplified(text) == text.translate(textkey.ts_table())


def _plain_match_regions(
    t: Any, text: str, context: str, bracketed: bool, keep: int
) -> tuple[int, list[tuple[str, str, bool, str]]]:
    """_match_regions as it was written before the step cache (the reference)."""
    pos, limit, found = 0, len(text) - keep, []
    while pos < limit:
        match = None
        for length in t.region_lengths.get(text[pos], ()):
            if length > limit - pos:
                continue
            key = text[pos : pos + length]
            readings = t.regions.get(key)
            if not readings:
                continue
            if context:
                cands = [r for r in readings if len(r.code) > len(context) and r.code.startswith(context)]
            elif bracketed:
                cands = list(readings)
            else:
                cands = [r for r in readings if not r.short or nz._short_at_start(r, key)]
            if cands:
                match = (length, cands)
                break
        if match is None:
            break
        length, cands = match
        if len(cands) > 1:
            top = min(len(r.code) for r in cands)
            cands = [r for r in cands if len(r.code) == top]
        code = nz._common_code([r.code for r in cands])
        matched = text[pos : pos + length]
        display = cands[0].name if len(cands) == 1 else matched
        found.append((display, code, all(r.short for r in cands), matched))
        pos += length
        if not code:
            break
        context = code
    return pos, found


def _plain_suffix(body: str, words: frozenset[str], keep: int) -> str:
    n = len(body)
    for length in sorted({len(w) for w in words}, reverse=True):
        if n - length >= keep and body[n - length :] in words:
            return body[n - length :]
    return ""


def _plain_split_org_name(name: str) -> OrgNameParts:
    """split_org_name as it was written before the fast paths (the reference)."""
    t = nz._tables()
    body = _plain_clean_text(name).translate(nz._SPLIT_TABLE)
    if " " in body and not body.isascii():
        body = nz._CJK_SPACE.sub("", body)
    branch = ""
    if body.endswith(nz.BRANCH_WORDS):
        m = t.branch.fullmatch(body)
        if m and m[1] and m[2]:
            body, branch = m[1], m[2]
    legal_form = _plain_suffix(body, t.forms, 1)
    if len(legal_form) == 1 and len(body) < 3:
        legal_form = ""
    if legal_form:
        body = body[: -len(legal_form)]
    consumed, regions = _plain_match_regions(t, body, "", False, 1)
    in_prefix = len(regions)
    body = body[consumed:]
    if "(" in body:
        for m in nz._BRACKETED.finditer(body):
            content = m[1]
            context = regions[-1][1] if regions else ""
            used, inner = _plain_match_regions(t, content, context, True, 0)
            if inner and used == len(content):
                regions.extend(inner)
                body = body[: m.start()] + body[m.end() :]
                break
    industry = ""
    while True:
        word = _plain_suffix(body, t.industries, 2 if industry else 0)
        if not word:
            break
        industry = word + industry
        body = body[: -len(word)]
    if not body and in_prefix == len(regions) and regions and regions[-1][2]:
        body = regions.pop()[3]
    region = "".join(r[0] for r in regions)
    region_code = next((r[1] for r in reversed(regions) if r[1]), "")
    return OrgNameParts(region, region_code, body, industry, legal_form, branch, body + industry)


_region_keys = st.deferred(lambda: st.sampled_from(sorted(nz._tables().regions)))
_name_piece = st.one_of(
    _region_keys,
    _region_keys.map(lambda k: f"({k})"),
    _region_keys.map(lambda k: f"【{k}】"),
    st.sampled_from(nz.INDUSTRY_WORDS),
    st.sampled_from(nz.LEGAL_FORMS),
    st.sampled_from(nz.BRANCH_WORDS),
    st.text(alphabet=TRADE_CHARS + "阿里巴巴白银東方金水鄭發 （）()[]〔〕ABCab1\u200b", min_size=1, max_size=4),
)


@given(st.lists(_name_piece, min_size=1, max_size=6).map("".join))
@example("河南省郑州市金水区鑫源商贸有限公司郑州分公司")
@example("鑫源商贸(鼓楼)有限公司")
@example("北京科技有限公司")
@example("吉林吉林市鑫源商贸有限公司")
def test_split_org_name_matches_reference(name: str) -> None:
    assert split_org_name(name) == _plain_split_org_name(name)



def test_region_step_cache_holds_what_the_reference_matches() -> None:
    t = nz._tables()
    for name in ["河南省郑州市金水区鑫源商贸有限公司", "鑫源商贸(鼓楼)有限公司", "吉林吉林市鑫源有限公司", "金水鑫源有限公司"]:
        split_org_name.__wrapped__(name)
    assert t.steps
    for (key, context, bracketed), step in t.steps.items():
        # matching the key alone tries the whole key first: its step, or a shorter region when it has none
        found = _plain_match_regions(t, key, context, bracketed, 0)[1]
        expected = found[0] if found and found[0][3] == key else None
        assert step == expected, (key, context, bracketed)


@given(odd_text)
def test_split_org_name_matches_reference_on_any_text(name: str) -> None:
    assert split_org_name(name) == _plain_split_org_name(name)


def test_simplified_text_keeps_characters_that_are_simplified_too() -> None:
    """乾 (乾坤, 乾县), the surnames 於 and 甯, 昇: standard simplified characters the
    character table would rewrite. A simplified name keeps them; a traditional one converts
    whole; comparison keys always convert, so both spellings still meet."""
    assert clean_text("北京乾坤商贸有限公司") == "北京乾坤商贸有限公司"
    assert clean_text("於梨华") == "於梨华" and clean_text("昇甯科技有限公司") == "昇甯科技有限公司"
    assert clean_text("上海宏達實業有限公司") == "上海宏达实业有限公司"
    assert clean_text("於梨華") == "于梨华"  # 華 says the text is traditional
    assert name_key("北京乾坤商贸有限公司") == name_key("北京干坤商贸有限公司")
