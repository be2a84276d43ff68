"""Data-quality report: invalid codes and IDs as given, code/name conflicts, unresolved masked IDs.

DOMAIN.md: wrong or duplicated codes must be detected and reported, never silently
dropped or merged, and the error/duplicate rate kept under 0.01% (002). Use
:func:`quality_report` on a view; every finding names the file and row it came from.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from graph.model import Flag, PartyKind
from graph.store import View
from graph.textkey import name_search_key

TARGET_ERROR_RATE = 0.0001  # 0.01 %, 002: "存量代码重错码率控制在0.01%以下"


@dataclass(frozen=True, slots=True)
class Finding:
    """One quality finding: what, the identifier exactly as given, names, where."""

    kind: str  # invalid_code | code_with_several_names | name_with_several_codes | invalid_id | unresolved_masked_id
    code: str
    names: tuple[str, ...]
    reason: str
    where: tuple[str, ...]  # "file:row"


@dataclass(slots=True)
class QualityReport:
    """Findings and the code error rate measured against the 0.01 % target."""

    findings: list[Finding] = field(default_factory=list)
    distinct_codes: int = 0
    codes_in_error: int = 0

    @property
    def error_rate(self) -> float:
        return self.codes_in_error / self.distinct_codes if self.distinct_codes else 0.0

    @property
    def meets_target(self) -> bool:
        return self.error_rate <= TARGET_ERROR_RATE

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready report."""
        counts: dict[str, int] = defaultdict(int)
        for f in self.findings:
            counts[f.kind] += 1
        return {
            "distinct_codes": self.distinct_codes,
            "codes_in_error": self.codes_in_error,
            "error_rate": self.error_rate,
            "target_rate": TARGET_ERROR_RATE,
            "meets_target": self.meets_target,
            "counts": dict(counts),
            "findings": [
                {"kind": f.kind, "code": f.code, "names": list(f.names), "reason": f.reason, "where": list(f.where)}
                for f in self.findings
            ],
        }


def quality_report(view: View, *, max_places: int = 20) -> QualityReport:
    """Return the data-quality report of everything ingested."""
    from graph.identifiers import check_resident_id, check_uscc

    report = QualityReport()
    invalid: dict[tuple[str, str], list[str]] = defaultdict(list)
    invalid_names: dict[tuple[str, str], set[str]] = defaultdict(set)
    names_of_code: dict[str, dict[str, str]] = defaultdict(dict)
    where_code: dict[str, list[str]] = defaultdict(list)
    codes_of_name: dict[str, set[str]] = defaultdict(set)
    display_name: dict[str, str] = {}
    valid_codes: set[str] = set()
    for obs in view.code_observations():
        place = f"{obs.source.file}:{obs.source.row}" if obs.source else ""
        if obs.kind == "uscc":
            if obs.valid:
                valid_codes.add(obs.normalised)
                if obs.name:
                    key = name_search_key(obs.name)
                    names_of_code[obs.normalised].setdefault(key, obs.name)
                    codes_of_name[key].add(obs.normalised)
                    display_name.setdefault(key, obs.name)
                if len(where_code[obs.normalised]) < max_places:
                    where_code[obs.normalised].append(place)
            elif not check_uscc(obs.code).no_code:
                invalid[("invalid_code", obs.code)].append(place)
                if obs.name:
                    invalid_names[("invalid_code", obs.code)].add(obs.name)
        elif obs.kind == "resident_id" and not obs.valid:
            check = check_resident_id(obs.code)
            if not check.masked:
                invalid[("invalid_id", obs.code)].append(place)
                if obs.name:
                    invalid_names[("invalid_id", obs.code)].add(obs.name)
    for (kind, code), places in sorted(invalid.items()):
        reason = (check_uscc(code) if kind == "invalid_code" else check_resident_id(code)).reason
        report.findings.append(
            Finding(kind, code, tuple(sorted(invalid_names[(kind, code)])), reason, tuple(places[:max_places]))
        )
    conflicted: set[str] = set()
    for code, names in sorted(names_of_code.items()):
        distinct = {_letters(k): v for k, v in names.items()}
        if len(distinct) < 2:
            continue
        # a firm that changed its name carries both names legitimately
        explained = _renamed(view, "org:" + code)
        if any(k not in explained for k in distinct):
            conflicted.add(code)
            report.findings.append(
                Finding("code_with_several_names", code, tuple(sorted(distinct.values())),
                        "同一代码对应多个名称 (one code used for several names)", tuple(where_code[code]))
            )
    for key, codes in sorted(codes_of_name.items()):
        if key in ("",):
            continue
        if len(codes) >= 2:
            conflicted.update(codes)
            report.findings.append(
                Finding("name_with_several_codes", ",".join(sorted(codes)), (display_name[key],),
                        "同一名称对应多个代码 (one name under several codes)",
                        tuple(p for c in sorted(codes) for p in where_code[c][:3]))
            )
    for party in view.iter_parties([PartyKind.UNRESOLVED]):
        if Flag.MASKED_ID in party.flags and view.resolve(party.key) == party.key:
            place = f"{party.source.file}:{party.source.row}" if party.source else ""
            report.findings.append(
                Finding("unresolved_masked_id", party.code, (party.name,),
                        "遮蔽证件号码无法唯一确定到人 (masked ID matches no person or several)", (place,))
            )
    invalid_codes = {code for (kind, code) in invalid if kind == "invalid_code"}
    report.distinct_codes = len(valid_codes) + len(invalid_codes)
    report.codes_in_error = len(invalid_codes) + len(conflicted)
    return report


def _letters(name_key: str) -> str:
    """Order-free form of a name key: "郑州鑫源商贸有限公司" and "鑫源商贸(郑州)有限公司" agree."""
    return "".join(sorted(name_key))


def _renamed(view: View, key: str) -> set[str]:
    """Name forms explained by the firm's own name-change records."""
    from graph.model import RecordKind

    out: set[str] = set()
    for rec in view.records(key, kinds=[RecordKind.CHANGE]):
        if "名称" in str(rec.attrs.get("item", "")):
            for side in ("before", "after"):
                if rec.attrs.get(side):
                    out.add(_letters(name_search_key(str(rec.attrs[side]))))
    return out
