"""Identifier checks: USCC (GB 32100-2015), organisation code (GB 11714), resident ID (GB 11643).

Use :func:`check_uscc` / :func:`check_resident_id` to validate what a file says, and
:func:`masked_matches` to compare a court list's masked number with a full one.
All functions take the identifier as given and normalise it themselves (NFKC, upper case,
spaces removed), so ``９１１１…`` typed with full-width digits is still recognised.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Check-character fast paths. Every USCC in a file is new, so the lru_caches rarely help and
# the per-character Python of a generator ``sum`` dominated ingest. All three weighted sums
# are polynomials in a constant, which int(text, base) evaluates in C when base ≡ that
# constant (mod the check modulus) and int()'s digit value of each character is its value:
# - GB 32100: weight 3**i (i from the left) mod 31, and 34 ≡ 3 (mod 31): rename each
#   character to the int() digit of its GB value and read the text reversed in base 34;
# - GB 11714: weights (3, 7, 9, 10, 5, 8, 4, 2) are 2 * 2**(7 - i) mod 11, and 35 ≡ 2
#   (mod 11): 2 * int(body, 35), for 0-9 and A-Y (whose int() values are the GB values;
#   Z is not a base-35 digit and takes the reference path);
# - GB 11643: weights 2**(17 - i) mod 11, and 13 ≡ 2 (mod 11): 2 * int(first17, 13).
# The identities are tested (tests/graph/test_identifiers.py), and so is every fast path
# against its ``_reference_`` function.
_B36_DIGITS = string.digits + string.ascii_uppercase
_USCC_SET = frozenset(USCC_ALPHABET)
_USCC_AS_DIGITS = str.maketrans(USCC_ALPHABET, _B36_DIGITS[: len(USCC_ALPHABET)])
_BASE35_SET = frozenset(_B36_DIGITS[:35])

NO_CODE = "00000000000000000X"
"""Placeholder that individual businesses without a code carry: "no code", not invalid."""

MASK_CHARS = "*"
_MASK_SET = frozenset(MASK_CHARS)

# GB 32100-2015 table 1: registration authority (position 1) and organisation type (2).
REGISTRATION_AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {"1": "律师执业机构", "2": "公证处", "3": "基层法律服务所", "4": "司法鉴定机构", "5": "仲裁委员会", "9": "其他"},
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": ("旅游", {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地(大陆)代表机构", "9": "其他"}),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
}


# whitespace, hyphens, and the invisible characters that ride along when codes are copied
# from web pages and Word (zero-width spaces and joiners, BOM, soft hyphen, controls): a
# valid code with one inside is still that code
_DROP = re.compile("[\\s\\-\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u180e\x00-\x1f\x7f]+")


@lru_cache(maxsize=1 << 18)
def normalise_code(raw: str) -> str:
    """Return ``raw`` as NFKC, upper case, without whitespace, hyphens or invisible characters."""
    if not raw:
        return ""
    if raw.isascii() and raw.isalnum():  # the common case, kept cheap
        return raw.upper()
    return _DROP.sub("", unicodedata.normalize("NFKC", raw)).upper()


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a USCC.

    Raises ``KeyError`` for a character outside the alphabet and ``ValueError`` for a
    length other than 17, as :func:`_reference_uscc_check_char` does.
    """
    if len(first17) == 17 and _USCC_SET.issuperset(first17):
        return _uscc_check_char(first17)
    return _reference_uscc_check_char(first17)  # raises as it always did


def _uscc_check_char(first17: str) -> str:
    # 17 characters of USCC_ALPHABET only (the caller has checked): see the note on the tables
    total = int(first17.translate(_USCC_AS_DIGITS)[::-1], 34)
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _reference_uscc_check_char(first17: str) -> str:
    """The GB 32100 check character written as the standard states it (kept for the tests
    and for the error cases of :func:`uscc_check_char`)."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _org_char_value(c: str) -> int:
    if c.isdigit():
        return ord(c) - 48
    return ord(c) - 55  # A=10 … Z=35


def org_code_check_char(body8: str) -> str:
    """Return the GB 11714 check character for an 8-character organisation code body."""
    if len(body8) == 8 and _BASE35_SET.issuperset(body8):
        return _ORG_CHECK[2 * int(body8, 35) % 11]  # see the note on the tables
    # Z, lower case, non-ASCII digits, wrong length: the reference keeps their old values/errors
    return _reference_org_code_check_char(body8)


def _reference_org_code_check_char(body8: str) -> str:
    """The GB 11714 check character written as the standard states it, for any characters."""
    total = sum(_org_char_value(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    return _ORG_CHECK[total % 11]


def _org_check_of_remainder(remainder: int) -> str:
    value = 11 - remainder
    if value == 10:
        return "X"
    if value == 11:
        return "0"
    return str(value)


# the GB 11714 check character by (weighted sum mod 11): "0X987654321"
_ORG_CHECK = "".join(_org_check_of_remainder(r) for r in range(11))


@dataclass(frozen=True, slots=True)
class UsccCheck:
    """The verdict on one USCC: ``valid`` and, when not, ``reason`` (in Chinese and English)."""

    code: str
    valid: bool
    reason: str = ""
    no_code: bool = False

    @property
    def division(self) -> str:
        return self.code[2:8] if self.valid else ""


@lru_cache(maxsize=1 << 18)
def check_uscc(raw: str) -> UsccCheck:
    """Validate a unified social credit code: length, alphabet, both check characters."""
    code = normalise_code(raw)
    if code == NO_CODE:
        return UsccCheck(code, False, "无代码占位符 (no-code placeholder)", no_code=True)
    if len(code) != 18:
        return UsccCheck(code, False, f"长度应为18位,实为{len(code)}位 (length {len(code)}, expected 18)")
    if not _USCC_SET.issuperset(code):
        bad = "".join([c for c in code if c not in _USCC_VALUE])
        return UsccCheck(code, False, f"含非法字符 {bad} (characters outside the GB 32100 alphabet)")
    if code[0] not in REGISTRATION_AUTHORITIES:
        return UsccCheck(code, False, f"登记管理部门代码 {code[0]} 无效 (unknown registration authority)")
    expected = _uscc_check_char(code[:17])  # length and alphabet checked above
    if code[17] != expected:
        return UsccCheck(code, False, f"校验码应为 {expected} (check character should be {expected})")
    # No separate "bad organisation code" character check: the alphabet check above admits
    # only 0-9 and A-Z, which is all GB 11714 allows (tests/graph/test_identifiers.py holds
    # the alphabet to that).
    org_check = org_code_check_char(code[8:16])
    if code[16] != org_check:
        return UsccCheck(
            code, False, f"组织机构代码校验码应为 {org_check} (organisation-code check should be {org_check})"
        )
    return UsccCheck(code, True)


def is_valid_uscc(raw: str) -> bool:
    """True when ``raw`` is a valid USCC."""
    return check_uscc(raw).valid


@dataclass(frozen=True, slots=True)
class UsccParts:
    """The decoded fields of a valid USCC."""

    authority_code: str
    authority: str
    type_code: str
    organisation_type: str
    division: str
    organisation_code: str  # 9 characters, e.g. 60003734-1 without the hyphen


def decode_uscc(raw: str) -> UsccParts:
    """Return the registration authority, organisation type, division and organisation code."""
    result = check_uscc(raw)
    if not result.valid:
        raise ValueError(f"invalid USCC {raw!r}: {result.reason}")
    code = result.code
    authority, types = REGISTRATION_AUTHORITIES[code[0]]
    return UsccParts(
        authority_code=code[0],
        authority=authority,
        type_code=code[1],
        organisation_type=types.get(code[1], "未知"),
        division=code[2:8],
        organisation_code=code[8:17],
    )


def make_uscc(authority: str, org_type: str, division: str, body8: str) -> str:
    """Build a valid USCC from its parts (used by the demo generator and tests)."""
    head = authority + org_type + division + body8 + org_code_check_char(body8)
    return head + uscc_check_char(head)


@dataclass(frozen=True, slots=True)
class IdCheck:
    """The verdict on one resident ID number."""

    number: str
    valid: bool
    reason: str = ""
    masked: bool = False


def resident_id_check_char(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits."""
    if len(first17) == 17 and first17.isascii() and first17.isdigit():
        return _ID_CHECK[2 * int(first17, 13) % 11]  # see the note on the tables
    return _reference_resident_id_check_char(first17)  # other characters, or raises as it did


def _reference_resident_id_check_char(first17: str) -> str:
    """The GB 11643 check character written as the standard states it."""
    total = sum((ord(c) - 48) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_masked(raw: str) -> bool:
    """True when the identifier hides characters with ``*``."""
    return any(c in MASK_CHARS for c in normalise_code(raw))


@lru_cache(maxsize=1 << 18)
def check_resident_id(raw: str, today: dt.date | None = None) -> IdCheck:
    """Validate an 18-digit resident ID: digits, birth date, check digit. Masked IDs are
    reported as ``masked`` (never valid: they are not a key)."""
    number = normalise_code(raw)
    if len(number) != 18:
        return IdCheck(number, False, f"长度应为18位,实为{len(number)}位 (length {len(number)}, expected 18)")
    if not _MASK_SET.isdisjoint(number):
        revealed_ok = number.isascii() and all(
            c.isdigit() or c in MASK_CHARS or (i == 17 and c == "X") for i, c in enumerate(number)
        )
        if not revealed_ok:
            return IdCheck(number, False, "遮蔽号码含非法字符 (masked number with bad characters)")
        return IdCheck(number, False, "号码已遮蔽 (masked number)", masked=True)
    # isascii: str.isdigit() also accepts e.g. Arabic-Indic digits, which NFKC keeps and whose
    # code points happen to pass the mod-11 check, giving a second key for the same person.
    if not number.isascii() or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return IdCheck(number, False, "含非数字字符 (non-digit characters)")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return IdCheck(number, False, f"出生日期 {number[6:14]} 无效 (invalid birth date)")
    if birth.year < 1870 or birth > (today or dt.date.today()):
        return IdCheck(number, False, f"出生日期 {number[6:14]} 不合理 (birth date out of range)")
    expected = resident_id_check_char(number[:17])
    if number[17] != expected:
        return IdCheck(number, False, f"校验码应为 {expected} (check digit should be {expected})")
    return IdCheck(number, True)


def upgrade_resident_id(raw: str) -> str | None:
    """The 18-digit form of a 15-digit first-generation resident ID (GB 11643-1989: area,
    birth date as YYMMDD in the 1900s, sequence; no check digit), or None when ``raw`` is not one.

    Old court and penalty records still carry them; the 18-digit number is the same person's."""
    number = normalise_code(raw)
    if len(number) != 15 or not number.isascii() or not number.isdigit():
        return None
    try:
        dt.date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return None
    head = number[:6] + "19" + number[6:]
    return head + resident_id_check_char(head)


def is_valid_resident_id(raw: str) -> bool:
    """True when ``raw`` is a full, valid resident ID."""
    return check_resident_id(raw).valid


def make_resident_id(division: str, birth: dt.date, sequence: int) -> str:
    """Build a valid resident ID (demo generator and tests)."""
    head = f"{division}{birth:%Y%m%d}{sequence % 1000:03d}"
    return head + resident_id_check_char(head)


def masked_matches(masked: str, full: str) -> bool:
    """True when every revealed character of ``masked`` equals ``full`` at that position."""
    m, f = normalise_code(masked), normalise_code(full)
    if len(m) != len(f):
        return False
    return all(a in MASK_CHARS or a == b for a, b in zip(m, f, strict=True))


def mask_resident_id(number: str, keep_head: int = 4, keep_tail: int = 4) -> str:
    """Mask a resident ID for callers that may not see it, e.g. ``4101**********1234``."""
    n = normalise_code(number)
    if len(n) <= keep_head + keep_tail:
        return "*" * len(n)
    return n[:keep_head] + "*" * (len(n) - keep_head - keep_tail) + n[-keep_tail:]


def revealed_pattern(masked: str) -> tuple[tuple[int, str], ...]:
    """Return the (position, character) pairs a masked number reveals."""
    return tuple((i, c) for i, c in enumerate(normalise_code(masked)) if c not in MASK_CHARS)
