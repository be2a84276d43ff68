"""Rows to facts: one converter per layout.

Each converter takes a :class:`Row` (the cells by canonical column) and adds facts to a
:class:`Batch`. A row that cannot be used raises :class:`RowRejected` naming the column and
the reason; the pipeline records it and goes on with the next row.

Legal representatives and addresses change over time: the registration says who holds the
role now, change records (变更信息) say who held it before and when it changed. Both are
kept as facts (the party's registration attributes and CHANGE records) and the links are
derived from them per firm by :func:`derive_chains`, so the order in which files arrive
does not matter and re-deriving is idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graph.identifiers import check_resident_id, check_uscc, normalise_code
from graph.model import (
    CodeObservation,
    Flag,
    Link,
    LinkKind,
    NameFact,
    Party,
    PartyKind,
    Record,
    RecordKind,
    Source,
)
from graph.schema import officer_link_kind
from graph.store import fact_id
from ingest.identity import Identity, any_identity, org_identity, person_identity
from ingest.normalise import (
    amount_currency,
    clean_text,
    is_empty_mark,
    normalise_address,
    normalise_email,
    normalise_phone,
    parse_amount,
    parse_date,
    parse_ratio,
    person_name_key,
    split_org_name,
)

DERIVED = "registration+changes"

LR_CHANGE_ITEMS = ("法定代表人", "负责人", "经营者", "执行事务合伙人")
NAME_CHANGE_ITEMS = ("名称",)
ADDRESS_CHANGE_ITEMS = ("住所", "经营场所", "地址", "营业场所")


class RowRejected(Exception):
    """A row that cannot be used: which column and why."""

    def __init__(self, column: str, value: object, reason: str):
        super().__init__(reason)
        self.column = column
        self.value = "" if value is None else str(value)
        self.reason = reason


@dataclass(slots=True)
class Row:
    """One data row: cells by canonical column name, and where it came from."""

    cells: dict[str, Any]
    source: Source

    def text(self, column: str) -> str:
        """The cell as clean text ("" when missing or only a mark such as ``无`` or ``/``)."""
        value = self.cells.get(column)
        if value.__class__ is str:  # CSV cells: no conversion to make
            text = clean_text(value)
        elif value is None:
            return ""
        else:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            text = clean_text(str(value))
        return "" if len(text) <= 4 and is_empty_mark(text) else text

    def raw(self, column: str) -> str:
        """The cell exactly as given, as text ("" when only a mark such as ``无`` or ``/``)."""
        value = self.cells.get(column)
        if value.__class__ is str:  # CSV cells: no conversion to make
            text = value.strip()
        elif value is None:
            return ""
        elif isinstance(value, float) and value.is_integer():
            return str(int(value))
        else:
            text = str(value).strip()
        return "" if len(text) <= 4 and is_empty_mark(text) else text

    def required(self, column: str) -> str:
        """The cell as clean text; rejects the row when it is empty."""
        value = self.text(column)
        if not value:
            raise RowRejected(column, "", f"必填列为空 (required column {column} is empty)")
        return value

    def date(self, column: str, *, required: bool = False) -> dt.date | None:
        """The cell as a date; rejects the row when it cannot be read."""
        value = self.cells.get(column)
        try:
            parsed = parse_date(value)
        except ValueError as exc:
            raise RowRejected(column, value, str(exc)) from None
        if parsed is None and required:
            raise RowRejected(column, value, f"必填日期为空 (required date {column} is empty)")
        return parsed

    def ratio(self, column: str) -> float | None:
        """The cell as a ratio in [0, 1]; rejects the row when it cannot be read."""
        value = self.cells.get(column)
        try:
            return parse_ratio(value)
        except ValueError as exc:
            raise RowRejected(column, value, str(exc)) from None

    def currency(self, column: str) -> str:
        """The ISO code of the currency an amount cell names ("" for renminbi or empty)."""
        try:
            found = amount_currency(self.cells.get(column))
        except ValueError:
            return ""  # the amount itself rejects the row
        return "" if found == "CNY" else found

    def amount(self, column: str) -> float | None:
        """The cell as an amount in 万元; rejects the row when it cannot be read."""
        value = self.cells.get(column)
        try:
            return parse_amount(value)
        except ValueError as exc:
            raise RowRejected(column, value, str(exc)) from None


@dataclass(slots=True)
class Batch:
    """Facts gathered from a batch of rows, written in one transaction."""

    parties: list[Party] = field(default_factory=list)
    names: list[NameFact] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    observations: list[CodeObservation] = field(default_factory=list)
    chain_firms: set[str] = field(default_factory=set)  # firms whose derived links must be rebuilt

    def __len__(self) -> int:
        return len(self.parties) + len(self.links) + len(self.records)


# -- helpers --------------------------------------------------------------------------------


def _observe(batch: Batch, raw: str, ident: Identity, name: str, kind: str, source: Source) -> None:
    # the quality report needs every invalid identifier, and valid codes with the name they
    # came with (one code under several names); a valid code without a name tells it nothing
    if raw and (not ident.valid or (name and kind == "uscc")):
        batch.observations.append(CodeObservation(raw, ident.code, name, ident.valid, kind, source))


def _mention(batch: Batch, ident: Identity, name: str, source: Source, **attrs: Any) -> None:
    """A party as mentioned by another file (not its own registration)."""
    if not name and not attrs and ident.valid and ident.key.startswith("org:"):
        return  # nothing to add: the store makes a placeholder from the key when a link needs one
    if ident.context:
        attrs["context"] = ident.context
    batch.parties.append(
        Party(ident.key, ident.kind, name, ident.code, ident.code[2:8] if ident.key.startswith("org:") else "",
              flags=ident.flags, attrs=attrs, source=source)
    )
    if name:
        batch.names.append(NameFact(ident.key, name, None, None, source))


def _firm_identity(row: Row, column: str = "统一社会信用代码", name: str = "") -> tuple[str, Identity]:
    raw = row.raw(column)
    if not raw:
        raise RowRejected(column, "", f"必填列为空 (required column {column} is empty)")
    return raw, org_identity(raw, name)


def org_kind(type_text: str, code: str, name: str) -> PartyKind:
    """The party kind of an organisation from its type column, its code and its name."""
    if type_text:
        return _kind_of_type(type_text)
    return _kind_without_type(code, name)


@lru_cache(maxsize=4096)
def _kind_of_type(t: str) -> PartyKind:
    if "个体" in t:
        return PartyKind.INDIVIDUAL_BUSINESS
    if "合作社" in t:
        return PartyKind.COOPERATIVE
    if any(w in t for w in ("社会团体", "民办非企业", "基金会", "社会服务机构", "社会组织")):
        return PartyKind.SOCIAL_ORGANISATION
    if "事业单位" in t:
        return PartyKind.PUBLIC_INSTITUTION
    if any(w in t for w in ("机关", "政府")):
        return PartyKind.GOVERNMENT_AGENCY
    return PartyKind.ENTERPRISE


def _kind_without_type(code: str, name: str) -> PartyKind:
    if len(code) == 18 and check_uscc(code).valid:
        head = code[:2]
        if head == "92":
            return PartyKind.INDIVIDUAL_BUSINESS
        if head == "93":
            return PartyKind.COOPERATIVE
        if head[0] == "5":
            return PartyKind.SOCIAL_ORGANISATION
        if head == "11":
            return PartyKind.GOVERNMENT_AGENCY
        if head == "12":
            return PartyKind.PUBLIC_INSTITUTION
    if name.endswith("合作社"):
        return PartyKind.COOPERATIVE
    return PartyKind.ENTERPRISE


def _rep_kind(kind: PartyKind, name: str, type_text: str) -> LinkKind:
    """Legal representative for legal persons; principal (负责人/经营者) for branches,
    individual businesses and partnerships."""
    if kind == PartyKind.INDIVIDUAL_BUSINESS or "分公司" in name or "分支" in type_text or "合伙" in type_text:
        return LinkKind.PRINCIPAL
    return LinkKind.LEGAL_REPRESENTATIVE


_CONTACT_KINDS = {
    LinkKind.SHARED_PHONE: ("tel:", PartyKind.PHONE),
    LinkKind.SHARED_EMAIL: ("eml:", PartyKind.EMAIL),
    LinkKind.SHARED_ADDRESS: ("adr:", PartyKind.ADDRESS),
}


def _contact(batch: Batch, firm: str, kind: LinkKind, value: str, start: dt.date | None, source: Source) -> None:
    if not value:
        return
    prefix, pkind = _CONTACT_KINDS[kind]
    key = prefix + value
    batch.parties.append(Party(key, pkind, value, source=source))
    batch.links.append(Link(fact_id(kind, firm, key), kind, firm, key, start, None, source=source))


# -- converters ---------------------------------------------------------------------------


def registration(row: Row, batch: Batch) -> None:
    """登记基本信息: the firm itself, its legal representative, contacts, branch link."""
    name = row.required("名称")
    raw_code = row.raw("统一社会信用代码")
    if not raw_code:
        raise RowRejected("统一社会信用代码", "", "必填列为空 (required column 统一社会信用代码 is empty)")
    established = row.date("成立日期", required=True)
    ceased = row.date("注销日期")
    capital = row.amount("注册资本")
    type_text = row.text("类型")
    kind = org_kind(type_text, normalise_code(raw_code), name)
    ident = org_identity(raw_code, name, kind, row.text("法定代表人"))
    _observe(batch, raw_code, ident, name, "uscc", row.source)
    parts = split_org_name(name)
    status = row.text("登记状态")
    rep_name = row.text("法定代表人")
    rep_raw_id = row.raw("法定代表人证件号码")
    attrs: dict[str, Any] = {
        "_primary": 1,
        "type": type_text,
        "capital": capital,
        "capital_currency": row.currency("注册资本"),  # 100万美元 is 100 (万) in USD, not in 元
        "authority": row.text("登记机关"),
        "scope": row.text("经营范围"),
        "address": row.text("住所"),
        "phone": normalise_phone(row.raw("联系电话")),
        "email": normalise_email(row.raw("电子邮箱")),
        "trade_name": parts.trade_name,
        "industry": parts.industry,
        "legal_form": parts.legal_form,
        "name_region": parts.region,
        "rep_name": rep_name,
        "rep_id": normalise_code(rep_raw_id),
        "rep_kind": _rep_kind(kind, name, type_text).value,
    }
    attrs = {k: v for k, v in attrs.items() if v not in ("", None)}
    region = ident.code[2:8] if ident.valid else (parts.region_code or "")
    batch.parties.append(
        Party(ident.key, kind, name, ident.code or raw_code, region, established, ceased, status, ident.flags, attrs,
              row.source)
    )
    batch.names.append(NameFact(ident.key, name, established, None, row.source))
    if rep_name:
        rep = person_identity(rep_raw_id, rep_name, ident.key)
        _observe(batch, rep_raw_id, rep, rep_name, "resident_id", row.source)
        _mention(batch, rep, rep_name, row.source)
    batch.chain_firms.add(ident.key)
    _contact(batch, ident.key, LinkKind.SHARED_PHONE, attrs.get("phone", ""), established, row.source)
    _contact(batch, ident.key, LinkKind.SHARED_EMAIL, attrs.get("email", ""), established, row.source)
    parent_raw = row.raw("上级单位统一社会信用代码")
    if parent_raw:
        parent = org_identity(parent_raw, "")
        _observe(batch, parent_raw, parent, "", "uscc", row.source)
        _mention(batch, parent, "", row.source)
        batch.links.append(
            Link(fact_id(LinkKind.BRANCH_OF, ident.key, parent.key), LinkKind.BRANCH_OF, ident.key, parent.key,
                 established, ceased, source=row.source)
        )


def shareholder(row: Row, batch: Batch) -> None:
    """股东及出资信息: a shareholder link with ratio and amount."""
    raw_firm, firm = _firm_identity(row)
    holder_name = row.required("股东")
    raw_id = row.raw("证照/证件号码")
    holder = any_identity(raw_id, holder_name, firm.key, row.text("股东类型"))
    start, end = row.date("起始日期"), row.date("终止日期")
    ratio, amount = row.ratio("出资比例"), row.amount("认缴出资额")
    _observe(batch, raw_firm, firm, "", "uscc", row.source)
    _observe(batch, raw_id, holder, holder_name, "uscc" if holder.key.startswith("org:") else "resident_id", row.source)
    _mention(batch, firm, "", row.source)
    _mention(batch, holder, holder_name, row.source)
    batch.links.append(
        Link(fact_id(LinkKind.SHAREHOLDER, holder.key, firm.key, start), LinkKind.SHAREHOLDER, holder.key, firm.key,
             start, end, ratio, amount, row.text("股东类型"), row.source, row.currency("认缴出资额"))
    )


def officer(row: Row, batch: Batch) -> None:
    """主要人员: director, supervisor, manager (a combined title gives one link per role)."""
    raw_firm, firm = _firm_identity(row)
    name = row.required("姓名")
    title = row.required("职务")
    kinds = _officer_kinds(title)
    if not kinds:
        raise RowRejected("职务", title, f"无法识别的职务 '{title}' (unknown officer title)")
    raw_id = row.raw("证件号码")
    person = person_identity(raw_id, name, firm.key)
    start, end = row.date("任职日期"), row.date("离任日期")
    _observe(batch, raw_firm, firm, "", "uscc", row.source)
    _observe(batch, raw_id, person, name, "resident_id", row.source)
    _mention(batch, firm, "", row.source)
    _mention(batch, person, name, row.source)
    for kind in kinds:
        batch.links.append(
            Link(fact_id(kind, person.key, firm.key, start, title), kind, person.key, firm.key, start, end,
                 title=title, source=row.source)
        )


def officer_kinds(title: str) -> list[LinkKind]:
    """Every role a title names: "执行董事兼总经理" is a director and a senior manager."""
    return list(_officer_kinds(title))


@lru_cache(maxsize=4096)
def _officer_kinds(title: str) -> tuple[LinkKind, ...]:
    # a file holds a few dozen distinct titles: work each out once
    return tuple(_reference_officer_kinds(title))


def _reference_officer_kinds(title: str) -> list[LinkKind]:
    parts = [p for p in title.replace("、", "兼").replace("/", "兼").replace(",", "兼").split("兼") if p.strip()]
    kinds: list[LinkKind] = []
    for part in parts or [title]:
        kind = officer_link_kind(part)
        if kind is not None and kind not in kinds:
            kinds.append(kind)
    return kinds


def controller(row: Row, batch: Batch) -> None:
    """实际控制人 / 受益所有人."""
    raw_firm, firm = _firm_identity(row)
    name = row.required("姓名")
    type_text = row.required("类型")
    # "实际控制人、受益所有人" is both: the controller link is the one punishment follows
    kinds = [LinkKind.BENEFICIAL_OWNER] if "受益" in type_text else []
    if "实际控制" in type_text or ("控制" in type_text and not kinds):
        kinds.insert(0, LinkKind.ACTUAL_CONTROLLER)
    if not kinds:
        raise RowRejected("类型", type_text, f"类型应为 实际控制人 或 受益所有人 (got '{type_text}')")
    raw_id = row.raw("证件号码")
    holder = any_identity(raw_id, name, firm.key)
    start, end = row.date("起始日期"), row.date("终止日期")
    ratio = row.ratio("控制比例")
    _observe(batch, raw_firm, firm, "", "uscc", row.source)
    _observe(batch, raw_id, holder, name, "uscc" if holder.key.startswith("org:") else "resident_id", row.source)
    _mention(batch, firm, "", row.source)
    _mention(batch, holder, name, row.source)
    for kind in kinds:
        batch.links.append(
            Link(fact_id(kind, holder.key, firm.key, start), kind, holder.key, firm.key, start, end, ratio,
                 title=type_text, source=row.source)
        )


def change(row: Row, batch: Batch) -> None:
    """变更信息: kept as a CHANGE record; representative and address changes re-derive links."""
    raw_firm, firm = _firm_identity(row)
    item = row.required("变更事项")
    when = row.date("变更日期", required=True)
    before, after = row.text("变更前内容"), row.text("变更后内容")
    _observe(batch, raw_firm, firm, "", "uscc", row.source)
    _mention(batch, firm, "", row.source)
    batch.records.append(
        Record(fact_id(RecordKind.CHANGE, firm.key, item, before, after, when), RecordKind.CHANGE, firm.key, when,
               None, {"item": item, "before": before, "after": after, "date": when.isoformat() if when else None},
               source=row.source)
    )
    if any(w in item for w in NAME_CHANGE_ITEMS) and "名称" in item:
        if before:
            batch.names.append(NameFact(firm.key, before, None, when, row.source))
        if after:
            batch.names.append(NameFact(firm.key, after, when, None, row.source))
    if _change_class(item):
        batch.chain_firms.add(firm.key)


@lru_cache(maxsize=4096)  # a file holds a few dozen distinct change items
def _change_class(item: str) -> str:
    if any(w in item for w in LR_CHANGE_ITEMS):
        return "rep"
    if any(w in item for w in ADDRESS_CHANGE_ITEMS):
        return "address"
    return ""


def list_entry(row: Row, batch: Batch) -> None:
    """红黑名单: a list entry record about its subject."""
    list_type = row.required("名单类型")
    name = row.required("主体名称")
    reason = row.required("列入事由")
    authority = row.required("认定部门")
    listed = row.date("列入日期", required=True)
    period_end, removed = row.date("有效期至"), row.date("移出日期")
    act = row.date("行为发生日期")
    subject = _subject(row, batch, name, "统一社会信用代码", "证件号码")
    rep_name, rep_id = row.text("法定代表人"), row.raw("法定代表人证件号码")
    ends = [d for d in (period_end, removed) if d is not None]
    decision = row.text("决定文号")
    attrs = {
        "list_type": list_type, "subject_name": name, "reason": reason, "basis": row.text("认定依据"),
        "authority": authority, "decision_no": decision, "listed_on": _iso(listed), "period_end": _iso(period_end),
        "removed_on": _iso(removed), "removal_reason": row.text("移出原因"), "act_date": _iso(act),
        "legal_rep_name": rep_name, "legal_rep_id": normalise_code(rep_id),
    }
    if rep_name:
        rep = person_identity(rep_id, rep_name, subject.key)
        _observe(batch, rep_id, rep, rep_name, "resident_id", row.source)
        _mention(batch, rep, rep_name, row.source)
        attrs["legal_rep_key"] = rep.key
    entry_id = fact_id(RecordKind.LIST_ENTRY, subject.key, list_type, decision, listed)
    batch.records.append(
        Record(entry_id, RecordKind.LIST_ENTRY, subject.key, listed, min(ends) if ends else None,
               {k: v for k, v in attrs.items() if v}, source=row.source)
    )
    if removed is not None:
        # Offices export their lists again and again; an entry stored from an earlier export
        # (before its removal) is never rewritten, so the removal is also kept as an action on
        # it, which ends it whichever export came first (the same removal twice: one record).
        why = attrs["removal_reason"]
        batch.records.append(
            Record(fact_id(RecordKind.REMOVAL, entry_id, removed, why), RecordKind.REMOVAL, subject.key, removed,
                   None, {k: v for k, v in (("removal_reason", why), ("authority", authority)) if v}, target=entry_id,
                   source=row.source)
        )


def _subject(row: Row, batch: Batch, name: str, code_col: str, id_col: str) -> Identity:
    raw_code, raw_id = row.raw(code_col), row.raw(id_col)
    operator = row.text("法定代表人")  # keys an organisation without a code, with its name
    if raw_code and not (normalise_code(raw_code) == "00000000000000000X" and raw_id):
        ident = org_identity(raw_code, name, org_kind("", normalise_code(raw_code), name), operator)
        _observe(batch, raw_code, ident, name, "uscc", row.source)
    elif raw_id:
        ident = person_identity(raw_id, name, "")
        _observe(batch, raw_id, ident, name, "resident_id", row.source)
    else:
        ident = org_identity("", name, PartyKind.ENTERPRISE, operator)
    _mention(batch, ident, name, row.source)
    return ident


def penalty(row: Row, batch: Batch) -> None:
    """行政处罚 (双公示): a penalty record about the administrative counterpart."""
    name = row.required("行政相对人名称")
    decision = row.required("行政处罚决定书文号")
    decided = row.date("处罚决定日期", required=True)
    authority = row.required("处罚机关")
    valid_until, public_until = row.date("处罚有效期"), row.date("公示截止期")
    fine = row.amount("罚款金额(万元)")
    confiscated = row.amount("没收违法所得、没收非法财物的金额(万元)")
    category = row.text("行政相对人类别")
    if "自然人" in category:
        subject = _subject(row, batch, name, "__none__", "证件号码")
    else:
        subject = _subject(row, batch, name, "统一社会信用代码", "证件号码")
    attrs = {
        "decision_no": decision, "subject_name": name, "category": category, "violation_type": row.text("违法行为类型"),
        "facts": row.text("违法事实"), "basis": row.text("处罚依据"), "penalty_type": row.text("处罚类别"),
        "content": row.text("处罚内容"), "fine": fine, "confiscated": confiscated, "authority": authority,
        "licence": row.text("暂扣或吊销证照名称及编号"), "valid_until": _iso(valid_until), "public_until": _iso(public_until),
        "legal_rep_name": row.text("法定代表人"), "data_source": row.text("数据来源单位"), "note": row.text("备注"),
    }
    batch.records.append(
        Record(fact_id(RecordKind.PENALTY, subject.key, decision), RecordKind.PENALTY, subject.key, decided,
               valid_until, {k: v for k, v in attrs.items() if v not in ("", None)}, source=row.source)
    )


def court_dishonest(row: Row, batch: Batch) -> None:
    """失信被执行人: a court dishonesty record (persons usually with masked IDs)."""
    name = row.required("被执行人姓名/名称")
    court = row.required("执行法院")
    case_no = row.required("案号")
    published = row.date("发布时间", required=True)
    filed = row.date("立案时间")
    raw = row.raw("身份证号码/组织机构代码")
    code = normalise_code(raw)
    rep_name = row.text("法定代表人或者负责人姓名")
    if len(code) == 18 and (check_uscc(code).valid or ("*" not in code and not check_resident_id(code).valid
                                                      and (rep_name or _org_name(name)))):
        # a valid USCC, or an organisation's (it has a legal representative, or a firm's name)
        # with a bad check character: kept as the flagged code it is; a person's ID (a 个体户's
        # owner, masked or not) stays a person's
        subject = org_identity(code, name, PartyKind.ENTERPRISE, rep_name)
        _observe(batch, raw, subject, name, "uscc", row.source)
        _mention(batch, subject, name, row.source)
    elif code and len(code) in (9, 10) and (rep_name or _org_name(name)):
        # an old organisation code (GB 11714, e.g. 60003734-1): resolved to the USCC embedding it
        org_code = code.replace("-", "")
        subject = Identity("unr:" + fact_id("org-code", org_code), PartyKind.UNRESOLVED, frozenset({Flag.NO_CODE}),
                           org_code, False)
        _mention(batch, subject, name, row.source, org_code=org_code, debtor="organisation")
    elif code or not _org_name(name):
        subject = person_identity(code, name, "court:" + case_no if not code else "")
        _observe(batch, raw, subject, name, "resident_id", row.source)
        _mention(batch, subject, name, row.source)
    else:
        subject = org_identity("", name, PartyKind.ENTERPRISE, rep_name)
        _mention(batch, subject, name, row.source)
    attrs = {
        "case_no": case_no, "court": court, "province": row.text("省份"), "basis_no": row.text("执行依据文号"),
        "filed_on": _iso(filed), "basis_unit": row.text("做出执行依据单位"), "obligation": row.text("生效法律文书确定的义务"),
        "performance": row.text("被执行人的履行情况"), "situation": row.text("失信被执行人行为具体情形"),
        "legal_rep_name": rep_name, "subject_name": name, "id_as_published": raw,
    }
    # one case may name several debtors (joint debtors): one entry each
    batch.records.append(
        Record(fact_id(RecordKind.COURT_DISHONEST, case_no, subject.key), RecordKind.COURT_DISHONEST, subject.key,
               published, None, {k: v for k, v in attrs.items() if v}, source=row.source)
    )


def _org_name(name: str) -> bool:
    return len(name) > 4 and any(w in name for w in ("公司", "企业", "合作社", "中心", "厂", "店", "集团", "事务所"))


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


CONVERTERS: dict[str, Callable[[Row, Batch], None]] = {
    "registrations": registration,
    "shareholders": shareholder,
    "officers": officer,
    "controllers": controller,
    "changes": change,
    "list_entries": list_entry,
    "penalties": penalty,
    "court_dishonest": court_dishonest,
}


# -- derived links ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Holding:
    value: str
    ident: str  # resident ID for representatives, "" otherwise
    start: dt.date | None
    end: dt.date | None
    source: Source | None


def _chain(current: str, current_id: str, established: dt.date | None, changes: list[Record],
           source: Source | None) -> list[_Holding]:
    """Holders over time from the registration's current holder and the change records."""
    if not changes:  # most firms: the registration's holder since establishment
        return [_Holding(current, current_id, established, None, source)] if current else []
    changes = sorted((c for c in changes if c.start is not None), key=lambda c: (c.start, c.id))
    if not changes:
        return [_Holding(current, current_id, established, None, source)] if current else []
    out: list[_Holding] = []
    first = changes[0]
    before = clean_text(first.attrs.get("before", ""))
    if before:
        out.append(_Holding(before, current_id if _same(before, current) else "", established, first.start, first.source))
    for i, c in enumerate(changes):
        after = clean_text(c.attrs.get("after", ""))
        end = changes[i + 1].start if i + 1 < len(changes) else None
        if after:
            out.append(_Holding(after, current_id if _same(after, current) else "", c.start, end, c.source))
    if current and not _same(out[-1].value if out else "", current):
        # the registration is newer than the last change we know of
        last = out[-1] if out else None
        if last is not None:
            out[-1] = _Holding(last.value, last.ident, last.start, last.start, last.source)
        out.append(_Holding(current, current_id, last.start if last else established, None, source))
    return [h for h in out if h.start is None or h.end is None or h.start < h.end]


def _same(a: str, b: str) -> bool:
    return bool(a) and person_name_key(a) == person_name_key(b)


# LinkKind(value) goes through EnumMeta.__call__; a dict look-up gives the same member
_LINK_KINDS: dict[str, LinkKind] = {k.value: k for k in LinkKind}


def _link_kind(value: str) -> LinkKind:
    kind = _LINK_KINDS.get(value)
    return kind if kind is not None else LinkKind(value)  # raises for unknown values, as before


def _classify_changes(changes: list[Record]) -> tuple[list[Record], list[Record]]:
    """The representative changes and the address changes, each in the order given."""
    rep: list[Record] = []
    address: list[Record] = []
    for c in changes:
        cls = _change_class(c.attrs.get("item", ""))
        if cls == "rep":
            rep.append(c)
        elif cls == "address":
            address.append(c)
    return rep, address


def derive_chains(firm: Party | None, firm_key: str, changes: list[Record]) -> tuple[list[Party], dict[LinkKind, list[Link]]]:
    """Return the people mentioned and the links (by kind) derived for one firm from its
    registration attributes and its change records."""
    attrs = firm.attrs if firm is not None else {}
    established = firm.start if firm is not None else None
    source = firm.source if firm is not None else None
    rep_kind = _link_kind(attrs.get("rep_kind", LinkKind.LEGAL_REPRESENTATIVE.value))
    # most firms have no change records: skip classifying them (same chains, see _chain)
    rep_changes, addr_changes = _classify_changes(changes) if changes else ([], [])
    parties: list[Party] = []
    links: dict[LinkKind, list[Link]] = {rep_kind: [], LinkKind.SHARED_ADDRESS: []}
    title = "法定代表人" if rep_kind == LinkKind.LEGAL_REPRESENTATIVE else "负责人"
    for h in _chain(attrs.get("rep_name", ""), attrs.get("rep_id", ""), established, rep_changes, source):
        ident = person_identity(h.ident, h.value, firm_key)
        parties.append(Party(ident.key, ident.kind, h.value, ident.code, flags=ident.flags,
                             attrs={"context": ident.context} if ident.context else {}, source=h.source))
        links[rep_kind].append(
            Link(fact_id(rep_kind, ident.key, firm_key, h.start, h.end), rep_kind, ident.key, firm_key, h.start, h.end,
                 title=title, source=h.source)
        )
    for h in _chain(attrs.get("address", ""), "", established, addr_changes, source):
        value = normalise_address(h.value)
        if not value:
            continue
        key = "adr:" + value
        parties.append(Party(key, PartyKind.ADDRESS, value, source=h.source))
        links[LinkKind.SHARED_ADDRESS].append(
            Link(fact_id(LinkKind.SHARED_ADDRESS, firm_key, key, h.start, h.end), LinkKind.SHARED_ADDRESS, firm_key,
                 key, h.start, h.end, source=h.source)
        )
    return parties, links
