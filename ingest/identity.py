"""Party keys from identifiers as they arrive: valid codes become keys, the rest stay unresolved.

The rules of DATA_FORMATS.md "Identity rules": one organisation node per valid USCC; one
person node per valid resident ID; a masked ID is never a key by itself; an invalid code
is kept as a flagged node (one per code as written, after normalisation) and reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from graph.identifiers import NO_CODE, check_resident_id, check_uscc, normalise_code, upgrade_resident_id
from graph.model import Flag, PartyKind
from graph.store import fact_id
from graph.textkey import name_search_key


@dataclass(frozen=True, slots=True)
class Identity:
    """The key a mention gets, the kind it implies, its flags and the code as normalised."""

    key: str
    kind: PartyKind
    flags: frozenset[Flag]
    code: str  # normalised identifier ("" when none)
    valid: bool
    reason: str = ""
    context: str = ""  # the firm a name-only person was named in


_NONE: frozenset[Flag] = frozenset()


@lru_cache(maxsize=1 << 17)
def org_identity(raw_code: str, name: str, kind: PartyKind = PartyKind.ENTERPRISE, operator: str = "") -> Identity:
    """Identity of an organisation named with ``raw_code`` (may be empty, invalid, or the no-code mark).

    Without a code the key is the name, and ``operator`` (the name of its legal representative or
    经营者, when the row gives one) with it: two 兰州拉面馆 run by different people in different
    cities are two shops, not one."""
    code = normalise_code(raw_code)
    check = check_uscc(code) if code else None
    if check is None or check.no_code:
        parts = ("org-name", name_search_key(name), *((name_search_key(operator),) if operator else ()))
        return Identity("unr:" + fact_id(*parts), kind, frozenset({Flag.NO_CODE}), code, False,
                        check.reason if check is not None else "无代码 (no code)")
    if check.valid:
        return Identity("org:" + code, kind, _NONE, code, True)
    return Identity("unr:" + fact_id("bad-code", code), kind, frozenset({Flag.INVALID_CODE}), code, False, check.reason)


@lru_cache(maxsize=1 << 17)
def person_identity(raw_id: str, name: str, context: str) -> Identity:
    """Identity of a natural person; without a usable ID the key is scoped to ``context`` (the firm)."""
    number = normalise_code(raw_id)
    pname = name_search_key(name)
    if len(number) == 15:
        number = upgrade_resident_id(number) or number  # a first-generation ID: the same person's 18 digits
    if not number:
        return Identity(
            "unr:" + fact_id("person-name", pname, context), PartyKind.UNRESOLVED, frozenset({Flag.NAME_ONLY}), "",
            False, "无证件号码 (no ID number)", context,
        )
    check = check_resident_id(number)
    if check.valid:
        return Identity("per:" + number, PartyKind.PERSON, _NONE, number, True)
    if check.masked:
        return Identity(
            "unr:" + fact_id("masked", number, pname), PartyKind.UNRESOLVED, frozenset({Flag.MASKED_ID}), number,
            False, check.reason,
        )
    return Identity(
        "unr:" + fact_id("bad-id", number, pname), PartyKind.UNRESOLVED, frozenset({Flag.INVALID_ID}), number, False,
        check.reason,
    )


def any_identity(raw: str, name: str, context: str, holder_type: str = "") -> Identity:
    """Identity of a holder that may be a person or an organisation (shareholders, controllers).

    The holder type column decides when given; otherwise an 18-character code that is a valid
    USCC is an organisation, a name ending in an organisational form is an organisation,
    anything else a person.
    """
    code = normalise_code(raw)
    is_person_type = "自然人" in holder_type
    is_org_type = bool(holder_type) and not is_person_type and holder_type not in ("其他",)
    if is_person_type:
        return person_identity(code, name, context)
    if is_org_type or (code and check_uscc(code).valid) or _looks_like_org(name):
        if code and not check_uscc(code).valid and check_resident_id(code).valid:
            return person_identity(code, name, context)
        return org_identity(code, name)
    return person_identity(code, name, context)


_ORG_ENDINGS = ("公司", "企业", "合伙", "中心", "合作社", "厂", "店", "行", "部", "所", "会", "院", "局", "委员会", "集团")


def _looks_like_org(name: str) -> bool:
    text = name.strip().rstrip(")）")
    return len(text) > 4 and any(text.endswith(e) or e + "(" in text for e in _ORG_ENDINGS)


def is_no_code(raw: str) -> bool:
    """True for the individual-business "no code" placeholder."""
    return normalise_code(raw) == NO_CODE
