"""Tests of graph.identifiers: USCC (GB 32100), organisation code (GB 11714), resident ID (GB 11643)."""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from graph.identifiers import (
    _ID_WEIGHTS,
    _ORG_WEIGHTS,
    _USCC_WEIGHTS,
    NO_CODE,
    REGISTRATION_AUTHORITIES,
    USCC_ALPHABET,
    IdCheck,
    UsccCheck,
    UsccParts,
    _reference_org_code_check_char,
    _reference_resident_id_check_char,
    _reference_uscc_check_char,
    check_resident_id,
    check_uscc,
    decode_uscc,
    is_masked,
    is_valid_resident_id,
    is_valid_uscc,
    make_resident_id,
    make_uscc,
    mask_resident_id,
    masked_matches,
    normalise_code,
    org_code_check_char,
    resident_id_check_char,
    revealed_pattern,
    uscc_check_char,
)

USCC = "91110000600037341L"  # GB 32100-2015 worked example
RESIDENT_ID = "11010519491231002X"  # GB 11643-1999 worked example
ID_ALPHABET = "0123456789X"
FULL_WIDTH = str.maketrans(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*",
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ＊",
)

# ---------------------------------------------------------------------------------------
# worked examples
# ---------------------------------------------------------------------------------------


def test_worked_examples_are_valid() -> None:
    assert check_uscc(USCC).valid
    assert is_valid_uscc(USCC)
    assert check_uscc(USCC).division == "110000"
    assert check_resident_id(RESIDENT_ID).valid
    assert is_valid_resident_id(RESIDENT_ID)


def test_worked_example_check_characters() -> None:
    assert uscc_check_char(USCC[:17]) == "L"
    assert org_code_check_char("60003734") == "1"
    assert resident_id_check_char(RESIDENT_ID[:17]) == "X"


def test_decode_worked_example() -> None:
    assert decode_uscc(USCC) == UsccParts(
        authority_code="9",
        authority="工商",
        type_code="1",
        organisation_type="企业",
        division="110000",
        organisation_code="600037341",
    )


@pytest.mark.parametrize("position", range(18))
def test_every_single_substitution_in_uscc_is_invalid(position: int) -> None:
    for ch in USCC_ALPHABET:
        if ch == USCC[position]:
            continue
        changed = USCC[:position] + ch + USCC[position + 1 :]
        result = check_uscc(changed)
        assert not result.valid, changed
        assert result.reason, changed


@pytest.mark.parametrize("position", range(18))
def test_every_single_substitution_in_resident_id_is_invalid(position: int) -> None:
    for ch in ID_ALPHABET:
        if ch == RESIDENT_ID[position]:
            continue
        changed = RESIDENT_ID[:position] + ch + RESIDENT_ID[position + 1 :]
        result = check_resident_id(changed)
        assert not result.valid, changed
        assert not result.masked
        assert result.reason, changed


# ---------------------------------------------------------------------------------------
# normalisation of the input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        USCC.lower(),
        USCC.translate(FULL_WIDTH),
        " 9111 0000 6000 3734 1L ",
        "91110000-600037341L",
        "\u30009111\u00a00000600037341l\t",
    ],
)
def test_uscc_input_is_normalised(raw: str) -> None:
    result = check_uscc(raw)
    assert result.valid
    assert result.code == USCC
    assert normalise_code(raw) == USCC


@pytest.mark.parametrize(
    "raw",
    [
        RESIDENT_ID.lower(),
        RESIDENT_ID.translate(FULL_WIDTH),
        "110105 19491231 002x",
        " 110105-19491231-002X ",
    ],
)
def test_resident_id_input_is_normalised(raw: str) -> None:
    result = check_resident_id(raw)
    assert result.valid
    assert result.number == RESIDENT_ID


# ---------------------------------------------------------------------------------------
# invalid inputs
# ---------------------------------------------------------------------------------------


def test_no_code_placeholder() -> None:
    result = check_uscc(NO_CODE)
    assert result.no_code
    assert not result.valid
    assert result.division == ""
    assert check_uscc(NO_CODE.lower()).no_code
    assert not check_uscc(USCC).no_code


@pytest.mark.parametrize("raw", ["", USCC[:17], USCC + "0", "9111000060003734", "1" * 30])
def test_uscc_wrong_length(raw: str) -> None:
    result = check_uscc(raw)
    assert not result.valid
    assert "长度" in result.reason and "length" in result.reason


@pytest.mark.parametrize("bad", "IOSVZ")
@pytest.mark.parametrize("position", [0, 5, 10, 17])
def test_uscc_characters_outside_the_alphabet(bad: str, position: int) -> None:
    changed = USCC[:position] + bad + USCC[position + 1 :]
    result = check_uscc(changed)
    assert not result.valid
    assert bad in result.reason


@pytest.mark.parametrize("raw", ["91110000600037341!", "9111000060003734*L", "９１１１００００６０００３７３４１Ｏ"])
def test_uscc_other_bad_characters(raw: str) -> None:
    assert not check_uscc(raw).valid


def test_uscc_unknown_registration_authority() -> None:
    body = "110000600037341"
    code = "B1" + body[:15]
    code += uscc_check_char(code)
    result = check_uscc(code)
    assert not result.valid
    assert "登记管理部门" in result.reason


def test_uscc_with_bad_organisation_code_check() -> None:
    head = "91110000" + "60003734" + "2"  # organisation-code check should be 1
    code = head + uscc_check_char(head)
    result = check_uscc(code)
    assert not result.valid
    assert "组织机构代码" in result.reason


def test_decode_rejects_invalid_codes() -> None:
    with pytest.raises(ValueError, match="invalid USCC"):
        decode_uscc(USCC[:17] + "0")
    with pytest.raises(ValueError):
        decode_uscc(NO_CODE)


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491331002X",  # month 13
        "11010519490230002X",  # 30 February
        "11010519490001002X",  # month 00
        "110105194912320022",  # day 32
    ],
)
def test_resident_id_bad_birth_date(raw: str) -> None:
    result = check_resident_id(raw)
    assert not result.valid
    assert "出生日期" in result.reason


def test_resident_id_birth_date_in_the_future_or_too_old() -> None:
    future = make_resident_id("110105", dt.date(2030, 1, 1), 1)
    assert not check_resident_id(future, today=dt.date(2024, 1, 1)).valid
    assert check_resident_id(future, today=dt.date(2030, 1, 1)).valid
    assert not check_resident_id(make_resident_id("110105", dt.date(1860, 1, 1), 1)).valid


@pytest.mark.parametrize("raw", ["", RESIDENT_ID[:17], RESIDENT_ID + "1", "11010519491231002", "110105194912310"])
def test_resident_id_wrong_length(raw: str) -> None:
    result = check_resident_id(raw)
    assert not result.valid
    assert "length" in result.reason


@pytest.mark.parametrize(
    "raw",
    ["1101051949123100XX", "A1010519491231002X", "11010519491231002Y", "110105l9491231002X", "11010519491231002!"],
)
def test_resident_id_bad_characters(raw: str) -> None:
    result = check_resident_id(raw)
    assert not result.valid
    assert not result.masked


def test_resident_id_with_non_ascii_digits_is_invalid() -> None:
    # NFKC keeps Arabic-Indic digits and their code points are ≡ ASCII ones mod 11, so a naive
    # check accepted this as a second spelling of the same person.
    arabic = RESIDENT_ID.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert not check_resident_id(arabic).valid
    assert not check_resident_id(arabic[:4] + "*" * 10 + arabic[14:]).masked


# ---------------------------------------------------------------------------------------
# masked numbers
# ---------------------------------------------------------------------------------------


def test_masked_court_list_number() -> None:
    masked = "1101**********002X"
    result = check_resident_id(masked)
    assert not result.valid
    assert result.masked
    assert is_masked(masked)
    assert not is_masked(RESIDENT_ID)
    assert masked_matches(masked, RESIDENT_ID)
    assert masked_matches(masked.lower().translate(FULL_WIDTH), RESIDENT_ID)
    assert not masked_matches(masked, "11020519491231002X")
    assert not masked_matches(masked, RESIDENT_ID[:17])
    assert mask_resident_id(RESIDENT_ID) == "1101**********002X"
    assert revealed_pattern(masked) == (
        (0, "1"),
        (1, "1"),
        (2, "0"),
        (3, "1"),
        (14, "0"),
        (15, "0"),
        (16, "2"),
        (17, "X"),
    )


def test_masked_number_with_bad_revealed_characters() -> None:
    result = check_resident_id("11A1**********002X")
    assert not result.valid
    assert not result.masked


def test_mask_of_short_value() -> None:
    assert mask_resident_id("1234") == "****"


# ---------------------------------------------------------------------------------------
# property tests
# ---------------------------------------------------------------------------------------

authorities = st.sampled_from(sorted(REGISTRATION_AUTHORITIES))
divisions = st.text(alphabet="0123456789", min_size=6, max_size=6)
org_bodies = st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8)
birth_dates = st.dates(min_value=dt.date(1870, 1, 1), max_value=dt.date.today())


@st.composite
def uscc_parts(draw: st.DrawFn) -> tuple[str, str, str, str]:
    authority = draw(authorities)
    org_type = draw(st.sampled_from(sorted(REGISTRATION_AUTHORITIES[authority][1])))
    return authority, org_type, draw(divisions), draw(org_bodies)


@given(uscc_parts())
def test_make_uscc_validates_and_decodes(parts: tuple[str, str, str, str]) -> None:
    authority, org_type, division, body = parts
    code = make_uscc(authority, org_type, division, body)
    assert len(code) == 18
    assert check_uscc(code).valid
    assert check_uscc(code.lower()).valid
    decoded = decode_uscc(code)
    assert decoded.authority_code == authority
    assert decoded.authority == REGISTRATION_AUTHORITIES[authority][0]
    assert decoded.type_code == org_type
    assert decoded.organisation_type == REGISTRATION_AUTHORITIES[authority][1][org_type]
    assert decoded.division == division == check_uscc(code).division
    assert decoded.organisation_code == body + org_code_check_char(body)


@given(uscc_parts(), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_any_single_substitution_of_a_made_uscc_is_invalid(
    parts: tuple[str, str, str, str], position: int, ch: str
) -> None:
    code = make_uscc(*parts)
    assume(code[position] != ch)
    assert not check_uscc(code[:position] + ch + code[position + 1 :]).valid


@given(divisions, birth_dates, st.integers(-(10**6), 10**6))
def test_make_resident_id_validates(division: str, birth: dt.date, sequence: int) -> None:
    number = make_resident_id(division, birth, sequence)
    assert len(number) == 18
    assert number[6:14] == f"{birth:%Y%m%d}"
    result = check_resident_id(number)
    assert result.valid, result.reason
    assert check_resident_id(number.lower()).valid


@given(divisions, birth_dates, st.integers(0, 999), st.integers(0, 17), st.sampled_from(ID_ALPHABET))
def test_any_single_substitution_of_a_made_resident_id_is_invalid(
    division: str, birth: dt.date, sequence: int, position: int, ch: str
) -> None:
    number = make_resident_id(division, birth, sequence)
    assume(number[position] != ch)
    assert not check_resident_id(number[:position] + ch + number[position + 1 :]).valid


@given(
    divisions,
    birth_dates,
    st.integers(0, 999),
    st.sets(st.integers(0, 17), min_size=1),
    st.booleans(),
)
def test_masked_ids_never_validate_but_match_their_source(
    division: str, birth: dt.date, sequence: int, hidden: set[int], full_width: bool
) -> None:
    number = make_resident_id(division, birth, sequence)
    masked = "".join("*" if i in hidden else c for i, c in enumerate(number))
    if full_width:
        masked = masked.translate(FULL_WIDTH)
    result = check_resident_id(masked)
    assert not result.valid
    assert result.masked
    assert is_masked(masked)
    assert not is_valid_resident_id(masked)
    assert not is_valid_uscc(masked)
    assert masked_matches(masked, number)
    assert all(number[i] == c for i, c in revealed_pattern(masked))


@given(
    divisions,
    birth_dates,
    st.integers(0, 999),
    st.sets(st.integers(0, 17), min_size=1, max_size=17),
    st.data(),
)
def test_masked_ids_do_not_match_when_a_revealed_digit_differs(
    division: str, birth: dt.date, sequence: int, hidden: set[int], data: st.DataObject
) -> None:
    number = make_resident_id(division, birth, sequence)
    masked = "".join("*" if i in hidden else c for i, c in enumerate(number))
    revealed = sorted(set(range(18)) - hidden)
    position = data.draw(st.sampled_from(revealed))
    other = data.draw(st.sampled_from([c for c in ID_ALPHABET if c != number[position]]))
    different = number[:position] + other + number[position + 1 :]
    assert not masked_matches(masked, different)
    assert masked_matches(masked, number)


@given(uscc_parts(), st.sets(st.integers(0, 17), min_size=1))
def test_masked_usccs_never_validate(parts: tuple[str, str, str, str], hidden: set[int]) -> None:
    code = make_uscc(*parts)
    masked = "".join("*" if i in hidden else c for i, c in enumerate(code))
    assert not check_uscc(masked).valid
    assert masked_matches(masked, code)


@given(st.text(max_size=25))
def test_checks_never_raise(raw: str) -> None:
    uscc = check_uscc(raw)
    resident = check_resident_id(raw)
    if uscc.valid:
        assert len(uscc.code) == 18 and all(c in USCC_ALPHABET for c in uscc.code)
    assert not (resident.valid and resident.masked)
    if resident.valid:
        assert resident.number.isascii() and resident.number[:17].isdigit()


# ---------------------------------------------------------------------------------------
# fast paths against the straightforward implementations
# ---------------------------------------------------------------------------------------
# check_uscc / check_resident_id and the check characters are computed with int() in a
# chosen base (see the note in graph.identifiers); these tests hold them to the standards
# written out plainly, character by character, over generated input of every kind.

# characters that exercise every branch: the alphabet, letters it leaves out (I O S V Z),
# lower case, full-width forms, non-ASCII digits, the mask, separators and punctuation
ODD_CHARS = USCC_ALPHABET + "IOSVZ" + "abcxyz" + "０９ＡＬｌ" + "٣३" + "*＊" + " -_\u3000\t." + "中"
odd_text = st.text(alphabet=ODD_CHARS, max_size=22)


def _outcome(f: Callable[[str], object], text: str) -> object:
    """The value of ``f(text)`` or the type of the exception it raises."""
    try:
        return f(text)
    except Exception as exc:  # noqa: BLE001 - the exception type is what is compared
        return type(exc)


def _plain_uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _plain_org_code_check_char(body8: str) -> str:
    values = [ord(c) - 48 if c.isdigit() else ord(c) - 55 for c in body8]
    value = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def _plain_resident_id_check_char(first17: str) -> str:
    total = sum((ord(c) - 48) * pow(2, 17 - i, 11) for i, c in enumerate(first17))
    return "10X98765432"[total % 11]


def _plain_check_uscc(raw: str) -> UsccCheck:
    """check_uscc as it was written before the fast paths (the reference)."""
    code = normalise_code(raw)
    if code == NO_CODE:
        return UsccCheck(code, False, "无代码占位符 (no-code placeholder)", no_code=True)
    if len(code) != 18:
        return UsccCheck(code, False, f"长度应为18位,实为{len(code)}位 (length {len(code)}, expected 18)")
    bad = [c for c in code if c not in USCC_ALPHABET]
    if bad:
        return UsccCheck(code, False, f"含非法字符 {''.join(bad)} (characters outside the GB 32100 alphabet)")
    if code[0] not in REGISTRATION_AUTHORITIES:
        return UsccCheck(code, False, f"登记管理部门代码 {code[0]} 无效 (unknown registration authority)")
    expected = _plain_uscc_check_char(code[:17])
    if code[17] != expected:
        return UsccCheck(code, False, f"校验码应为 {expected} (check character should be {expected})")
    body = code[8:16]
    if any(not (c.isdigit() or "A" <= c <= "Z") for c in body):
        return UsccCheck(code, False, "组织机构代码含非法字符 (bad organisation code)")
    org_check = _plain_org_code_check_char(body)
    if code[16] != org_check:
        return UsccCheck(
            code, False, f"组织机构代码校验码应为 {org_check} (organisation-code check should be {org_check})"
        )
    return UsccCheck(code, True)


def _plain_check_resident_id(raw: str, today: dt.date) -> IdCheck:
    """check_resident_id as it was written before the fast paths (the reference)."""
    number = normalise_code(raw)
    if len(number) != 18:
        return IdCheck(number, False, f"长度应为18位,实为{len(number)}位 (length {len(number)}, expected 18)")
    if any(c == "*" for c in number):
        revealed_ok = number.isascii() and all(
            c.isdigit() or c == "*" or (i == 17 and c == "X") for i, c in enumerate(number)
        )
        if not revealed_ok:
            return IdCheck(number, False, "遮蔽号码含非法字符 (masked number with bad characters)")
        return IdCheck(number, False, "号码已遮蔽 (masked number)", masked=True)
    if not number.isascii() or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return IdCheck(number, False, "含非数字字符 (non-digit characters)")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return IdCheck(number, False, f"出生日期 {number[6:14]} 无效 (invalid birth date)")
    if birth.year < 1870 or birth > today:
        return IdCheck(number, False, f"出生日期 {number[6:14]} 不合理 (birth date out of range)")
    expected = _plain_resident_id_check_char(number[:17])
    if number[17] != expected:
        return IdCheck(number, False, f"校验码应为 {expected} (check digit should be {expected})")
    return IdCheck(number, True)


def test_weights_are_the_powers_the_fast_paths_rely_on() -> None:
    # GB 32100: 3**i mod 31 and 34 ≡ 3; GB 11714: 2 * 35**(7 - i) mod 11; GB 11643: 2 * 13**(16 - i) mod 11
    assert _USCC_WEIGHTS == tuple(pow(34, i, 31) for i in range(17))
    assert _ORG_WEIGHTS == tuple(2 * pow(35, 7 - i, 11) % 11 for i in range(8))
    assert _ID_WEIGHTS == tuple(2 * pow(13, 16 - i, 11) % 11 for i in range(17))


def test_uscc_alphabet_is_within_what_gb_11714_allows() -> None:
    # check_uscc relies on it to leave out the organisation-code character check
    assert set(USCC_ALPHABET) <= set(string.digits + string.ascii_uppercase)
    assert "Z" not in USCC_ALPHABET  # and the base-35 organisation check on it


check_char_cases = st.one_of(
    st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17),
    st.text(alphabet="0123456789", min_size=17, max_size=17),
    st.text(alphabet=string.digits + string.ascii_uppercase, min_size=8, max_size=8),
    st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8),
    st.text(alphabet=ODD_CHARS, min_size=8, max_size=8),
    st.text(alphabet=ODD_CHARS, min_size=17, max_size=17),
    odd_text,
)


@given(check_char_cases)
def test_uscc_check_char_matches_reference(text: str) -> None:
    assert _outcome(uscc_check_char, text) == _outcome(_reference_uscc_check_char, text)
    if len(text) == 17 and set(text) <= set(USCC_ALPHABET):
        assert uscc_check_char(text) == _plain_uscc_check_char(text)


@given(check_char_cases)
def test_org_code_check_char_matches_reference(text: str) -> None:
    assert _outcome(org_code_check_char, text) == _outcome(_reference_org_code_check_char, text)
    if len(text) == 8:
        assert org_code_check_char(text) == _plain_org_code_check_char(text)


@given(check_char_cases)
def test_resident_id_check_char_matches_reference(text: str) -> None:
    assert _outcome(resident_id_check_char, text) == _outcome(_reference_resident_id_check_char, text)
    if len(text) == 17:
        assert resident_id_check_char(text) == _plain_resident_id_check_char(text)


def _variants(code: str, data: st.DataObject) -> str:
    """``code`` as files write it: lower case, full-width, masked, a character changed…"""
    how = data.draw(st.sampled_from(["same", "lower", "full", "mask", "change", "cut", "grow", "spaced"]))
    if how == "lower":
        return code.lower()
    if how == "full":
        return code.translate(FULL_WIDTH)
    if how == "mask":
        hidden = data.draw(st.sets(st.integers(0, len(code) - 1), min_size=1))
        return "".join("*" if i in hidden else c for i, c in enumerate(code))
    if how == "change":
        position = data.draw(st.integers(0, len(code) - 1))
        return code[:position] + data.draw(st.sampled_from(ODD_CHARS)) + code[position + 1 :]
    if how == "cut":
        return code[: data.draw(st.integers(0, len(code) - 1))]
    if how == "grow":
        return code + data.draw(st.sampled_from(ODD_CHARS))
    if how == "spaced":
        return " ".join([code[:6], code[6:]])
    return code


@given(uscc_parts(), st.data())
def test_check_uscc_matches_reference_on_made_codes(parts: tuple[str, str, str, str], data: st.DataObject) -> None:
    raw = _variants(make_uscc(*parts), data)
    assert check_uscc(raw) == _plain_check_uscc(raw)


@given(st.one_of(odd_text, st.text(max_size=20), st.just(NO_CODE), st.text(alphabet=USCC_ALPHABET, min_size=18, max_size=18)))
def test_check_uscc_matches_reference_on_any_text(raw: str) -> None:
    assert check_uscc(raw) == _plain_check_uscc(raw)


@given(divisions, birth_dates, st.integers(0, 999), st.data())
def test_check_resident_id_matches_reference_on_made_ids(
    division: str, birth: dt.date, sequence: int, data: st.DataObject
) -> None:
    raw = _variants(make_resident_id(division, birth, sequence), data)
    today = dt.date.today()
    assert check_resident_id(raw, today) == _plain_check_resident_id(raw, today)


@given(st.one_of(odd_text, st.text(max_size=20), st.text(alphabet="0123456789X*", min_size=18, max_size=18)))
def test_check_resident_id_matches_reference_on_any_text(raw: str) -> None:
    today = dt.date.today()
    assert check_resident_id(raw, today) == _plain_check_resident_id(raw, today)


def test_a_first_generation_id_upgrades_to_its_eighteen_digits() -> None:
    from graph.identifiers import upgrade_resident_id

    assert upgrade_resident_id("110105491231002") == "11010519491231002X"  # the GB 11643 worked example
    assert upgrade_resident_id(" 110105-491231-002 ") == "11010519491231002X"
    assert upgrade_resident_id("110105491331002") is None  # month 13
    assert upgrade_resident_id("11010519491231002X") is None and upgrade_resident_id("1101054912310") is None


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(1999, 12, 31)), st.integers(0, 999))
def test_upgrading_the_fifteen_digit_form_gives_back_the_id(birth: dt.date, seq: int) -> None:
    from graph.identifiers import make_resident_id, upgrade_resident_id

    full = make_resident_id("410105", birth, seq)
    assert upgrade_resident_id(full[:6] + full[8:17]) == full
