"""The catalogue of joint-punishment measures (联合惩戒措施清单) and its validation.

Use :func:`load_catalog` to read ``queries/measures.json`` (shipped) or a site's own file.
Each measure says which list types trigger it, which roles it reaches (the subject itself
and the people holding a role in it, shareholders above a minimum ratio), whether it is
mandatory (强制性) or recommended (推荐性), its period and its legal basis. A catalogue
that does not validate raises :class:`graph.store.InvalidInput` naming the measure and the
field, so a site's edited file fails loudly at start rather than punishing the wrong people.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from graph.model import LinkKind
from graph.store import InvalidInput

DEFAULT_PATH = Path(__file__).with_name("measures.json")

SUBJECT = "subject"
"""The role "the listed subject itself"."""

PERSON_ROLES: dict[str, LinkKind] = {
    "legal_representative": LinkKind.LEGAL_REPRESENTATIVE,
    "principal": LinkKind.PRINCIPAL,
    "actual_controller": LinkKind.ACTUAL_CONTROLLER,
    "beneficial_owner": LinkKind.BENEFICIAL_OWNER,
    "responsible_practitioner": LinkKind.RESPONSIBLE_PRACTITIONER,
    "senior_manager": LinkKind.SENIOR_MANAGER,
    "director": LinkKind.DIRECTOR,
    "supervisor": LinkKind.SUPERVISOR,
    "shareholder": LinkKind.SHAREHOLDER,
}
"""Roles a measure may reach, besides the subject, and the link kind that carries each."""

RATIO_ROLES = frozenset({"shareholder", "actual_controller", "beneficial_owner"})
ROLES = frozenset(PERSON_ROLES) | {SUBJECT}

COURT_LIST = "失信被执行人"
"""List type given to court dishonesty records (RecordKind.COURT_DISHONEST)."""

_MEASURE_FIELDS = {"code", "name_zh", "nature", "market_ban", "list_types", "roles", "period", "basis", "source", "bars"}
_REQUIRED = _MEASURE_FIELDS - {"bars", "source"}
_NATURES = {"mandatory": True, "recommended": False, "强制性": True, "推荐性": False}


@dataclass(frozen=True, slots=True)
class RoleReach:
    """One role a measure reaches; shareholders (and controllers) only from ``min_ratio`` up.
    ``to_verify``: the measure reaches only those of the role directly responsible for the act
    (负有直接责任的董事、股东), which no file records: each is listed, marked for verification."""

    role: str
    min_ratio: float | None = None
    to_verify: bool = False

    @property
    def link_kind(self) -> LinkKind | None:
        """The link kind carrying this role (None for the subject itself)."""
        return PERSON_ROLES.get(self.role)


@dataclass(frozen=True, slots=True)
class Measure:
    """One joint-punishment measure."""

    code: str
    name_zh: str
    mandatory: bool
    market_ban: bool
    list_types: frozenset[str]
    roles: tuple[RoleReach, ...]
    period_years: int | None  # None: as long as the listing is in force
    basis: str
    source: str = ""
    bars: frozenset[str] = frozenset()  # roles a banned person must not take in another firm

    @property
    def nature_zh(self) -> str:
        """强制性 or 推荐性."""
        return "强制性" if self.mandatory else "推荐性"

    def reach(self, role: str) -> RoleReach | None:
        """Return how this measure reaches ``role``, or None when it does not."""
        for r in self.roles:
            if r.role == role:
                return r
        return None


@dataclass(frozen=True, slots=True)
class Catalog:
    """The measures of a catalogue file, with lookups by list type."""

    measures: tuple[Measure, ...]
    path: str = ""

    def for_list(self, list_type: str) -> tuple[Measure, ...]:
        """Return the measures a list type triggers (in catalogue order)."""
        return tuple(m for m in self.measures if list_type in m.list_types)

    @property
    def list_types(self) -> frozenset[str]:
        """Every list type that triggers at least one measure."""
        return frozenset(t for m in self.measures for t in m.list_types)

    def measure(self, code: str) -> Measure:
        """Return the measure with ``code``."""
        for m in self.measures:
            if m.code == code:
                return m
        raise InvalidInput(f"no measure {code!r} in the catalogue", field="measure_code")

    def reached_link_kinds(self) -> frozenset[LinkKind]:
        """Every link kind some measure reaches."""
        return frozenset(r.link_kind for m in self.measures for r in m.roles if r.link_kind is not None)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Return the validated catalogue at ``path`` (the shipped ``measures.json`` when None)."""
    if path is None:
        return _default()
    return _load(Path(path))


@cache
def _default() -> Catalog:
    return _load(DEFAULT_PATH)


def _load(p: Path) -> Catalog:
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read the measures catalogue {p}: {exc}", file=str(p)) from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"measures catalogue {p} is not valid JSON: {exc}", file=str(p)) from exc
    return parse_catalog(data, source=str(p))


def parse_catalog(data: Any, *, source: str = "") -> Catalog:
    """Return the validated catalogue held in ``data`` (the parsed JSON document)."""
    if not isinstance(data, dict) or not isinstance(data.get("measures"), list):
        raise InvalidInput(f"{source or 'catalogue'}: expected an object with a list 'measures'", field="measures",
                           file=source)
    measures: list[Measure] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["measures"]):
        m = _measure(raw, i, source)
        if m.code in seen:
            raise InvalidInput(f"measure {m.code}: duplicate code", field="code", file=source)
        seen.add(m.code)
        measures.append(m)
    return Catalog(tuple(measures), source)


def _fail(name: str, field: str, what: str, source: str) -> InvalidInput:
    where = f"{source}: " if source else ""
    return InvalidInput(f"{where}measure {name}: field {field!r} {what}", field=field, file=source)


def _measure(raw: Any, i: int, source: str) -> Measure:
    name = f"#{i + 1}"
    if not isinstance(raw, dict):
        raise _fail(name, "measures", "must be an object", source)
    if isinstance(raw.get("code"), str) and raw["code"].strip():
        name = raw["code"].strip()
    unknown = sorted(set(raw) - _MEASURE_FIELDS)
    if unknown:
        raise _fail(name, unknown[0], f"is unknown (allowed: {', '.join(sorted(_MEASURE_FIELDS))})", source)
    missing = sorted(_REQUIRED - set(raw))
    if missing:
        raise _fail(name, missing[0], "is missing", source)
    for f in ("code", "name_zh", "basis"):
        if not isinstance(raw[f], str) or not raw[f].strip():
            raise _fail(name, f, "must be non-empty text", source)
    if raw["nature"] not in _NATURES:
        raise _fail(name, "nature", f"must be mandatory or recommended, not {raw['nature']!r}", source)
    if not isinstance(raw["market_ban"], bool):
        raise _fail(name, "market_ban", "must be true or false", source)
    lists = raw["list_types"]
    if not isinstance(lists, list) or not lists or not all(isinstance(t, str) and t.strip() for t in lists):
        raise _fail(name, "list_types", "must be a non-empty list of list-type names", source)
    roles = _roles(raw["roles"], name, source)
    period = _period(raw["period"], name, source)
    person_roles = frozenset(r.role for r in roles if r.role != SUBJECT)
    bars_raw = raw.get("bars")
    if bars_raw is None:
        bars = person_roles if raw["market_ban"] else frozenset()
    else:
        if not isinstance(bars_raw, list) or not all(isinstance(b, str) for b in bars_raw):
            raise _fail(name, "bars", "must be a list of roles", source)
        bad = [b for b in bars_raw if b not in PERSON_ROLES]
        if bad:
            raise _fail(name, "bars", f"names an unknown role {bad[0]!r} (known: {', '.join(sorted(PERSON_ROLES))})",
                        source)
        if not raw["market_ban"]:
            raise _fail(name, "bars", "only applies to market bans (market_ban: true)", source)
        bars = frozenset(bars_raw)
    src = raw.get("source", "")
    if not isinstance(src, str):
        raise _fail(name, "source", "must be text", source)
    return Measure(
        code=raw["code"].strip(), name_zh=raw["name_zh"].strip(), mandatory=_NATURES[raw["nature"]],
        market_ban=raw["market_ban"], list_types=frozenset(t.strip() for t in lists), roles=roles,
        period_years=period, basis=raw["basis"].strip(), source=src, bars=bars,
    )


def _roles(raw: Any, name: str, source: str) -> tuple[RoleReach, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail(name, "roles", "must be a non-empty list", source)
    out: list[RoleReach] = []
    for item in raw:
        min_ratio = None
        to_verify = False
        if isinstance(item, dict):
            extra = sorted(set(item) - {"role", "min_ratio", "to_verify"})
            if extra:
                raise _fail(name, "roles", f"entry has unknown field {extra[0]!r}", source)
            role = item.get("role")
            to_verify = item.get("to_verify", False)
            if not isinstance(to_verify, bool):
                raise _fail(name, "roles", f"to_verify of {role!r} must be true or false", source)
            min_ratio = item.get("min_ratio")
            if min_ratio is not None:
                if isinstance(min_ratio, bool) or not isinstance(min_ratio, int | float) or not 0 <= min_ratio <= 1:
                    raise _fail(name, "roles", f"min_ratio of {role!r} must be a number in [0, 1]", source)
                if role not in RATIO_ROLES:
                    raise _fail(name, "roles", f"min_ratio does not apply to role {role!r}", source)
                min_ratio = float(min_ratio)
        else:
            role = item
        if role not in ROLES:
            raise _fail(name, "roles", f"names an unknown role {role!r} (known: {', '.join(sorted(ROLES))})", source)
        if any(r.role == role for r in out):
            raise _fail(name, "roles", f"names role {role!r} twice", source)
        out.append(RoleReach(role, min_ratio, to_verify))
    return tuple(out)


def _period(raw: Any, name: str, source: str) -> int | None:
    if raw == "list":
        return None
    years = raw.get("years") if isinstance(raw, dict) and set(raw) == {"years"} else raw
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 100:
        raise _fail(name, "period", f'must be "list" or {{"years": N}} with N a whole number of years, not {raw!r}',
                    source)
    return years
