"""The eight spreadsheet layouts of DATA_FORMATS.md: columns, aliases, recognition by headers.

Use :func:`recognise` with a file's header row: it returns the layout and, for each
canonical column, the position it has in the file. A site may add aliases with a mapping
file (:func:`load_site_mapping`): JSON ``{"alias": "canonical column"}`` or
``{"layout": {"alias": "canonical column"}}``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from graph.store import InvalidInput
from ingest.normalise import to_simplified

# zero-width spaces and joiners, BOMs, soft hyphens: copied along with headers from web pages
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"))


@dataclass(frozen=True, slots=True)
class Column:
    """One canonical column: its name, the aliases accepted, whether it is required."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True, slots=True)
class Layout:
    """A file kind: its columns, in the order of DATA_FORMATS.md."""

    kind: str
    title_zh: str
    columns: tuple[Column, ...]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _c(name: str, *aliases: str, required: bool = False) -> Column:
    return Column(name, aliases, required)


REGISTRATIONS = Layout(
    "registrations",
    "登记基本信息",
    (
        _c("统一社会信用代码", "社会信用代码", "信用代码", "统一社会信用代码/注册号", required=True),
        _c("名称", "企业名称", "主体名称", "单位名称", required=True),
        _c("类型", "主体类型", "企业类型"),
        _c("法定代表人", "负责人", "经营者", "执行事务合伙人", "法定代表人/负责人"),
        _c("法定代表人证件号码", "负责人证件号码", "证件号码"),
        _c("注册资本", "注册资本(万元)"),
        _c("成立日期", "注册日期", required=True),
        _c("登记机关"),
        _c("登记状态", "经营状态"),
        _c("注销日期", "吊销日期"),
        _c("住所", "经营场所", "营业场所", "主要经营场所", "地址"),
        _c("经营范围"),
        _c("联系电话", "电话"),
        _c("电子邮箱", "邮箱"),
        _c("上级单位统一社会信用代码", "隶属企业统一社会信用代码", "总公司统一社会信用代码"),
    ),
)

SHAREHOLDERS = Layout(
    "shareholders",
    "股东及出资信息",
    (
        _c("统一社会信用代码", required=True),
        _c("股东", "股东名称", "发起人", required=True),
        _c("股东类型"),
        _c("证照/证件号码", "证件号码", "证照号码"),
        _c("认缴出资额", "认缴出资额(万元)"),
        _c("出资比例", "持股比例"),
        _c("起始日期", "登记日期", "出资日期"),
        _c("终止日期", "退出日期"),
    ),
)

OFFICERS = Layout(
    "officers",
    "主要人员",
    (
        _c("统一社会信用代码", required=True),
        _c("姓名", required=True),
        _c("证件号码"),
        _c("职务", required=True),
        _c("任职日期", "起始日期"),
        _c("离任日期", "终止日期"),
    ),
)

CONTROLLERS = Layout(
    "controllers",
    "实际控制人/受益所有人",
    (
        _c("统一社会信用代码", required=True),
        _c("姓名", "名称", required=True),
        _c("证件号码"),
        _c("类型", "控制类型", required=True),
        _c("控制比例", "持股比例"),
        _c("起始日期"),
        _c("终止日期"),
    ),
)

CHANGES = Layout(
    "changes",
    "变更信息",
    (
        _c("统一社会信用代码", required=True),
        _c("变更事项", required=True),
        _c("变更前内容"),
        _c("变更后内容"),
        _c("变更日期", required=True),
    ),
)

LIST_ENTRIES = Layout(
    "list_entries",
    "红黑名单",
    (
        _c("名单类型", required=True),
        _c("主体名称", "名称", "当事人名称", required=True),
        _c("统一社会信用代码"),
        _c("证件号码", "身份证号码"),
        _c("法定代表人", "负责人"),
        _c("法定代表人证件号码"),
        _c("列入事由", "失信行为", "列入原因", required=True),
        _c("认定依据", "依据"),
        _c("认定部门", "决定机关", "列入机关", required=True),
        _c("决定文号", "文号"),
        _c("列入日期", "认定日期", required=True),
        _c("有效期至", "惩戒期限至"),
        _c("移出日期"),
        _c("移出原因"),
        _c("行为发生日期", "失信行为发生日期", "违法行为发生日期"),
    ),
)

PENALTIES = Layout(
    "penalties",
    "行政处罚(双公示)",
    tuple(
        _c(name, required=name in {"行政相对人名称", "行政处罚决定书文号", "处罚决定日期", "处罚机关"})
        for name in (
            "行政相对人名称", "行政相对人类别", "统一社会信用代码", "工商注册号", "组织机构代码", "税务登记号",
            "事业单位证书号", "社会组织登记证号", "法定代表人", "法定代表人证件类型", "法定代表人证件号码", "证件类型",
            "证件号码", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据", "处罚类别", "处罚内容",
            "罚款金额(万元)", "没收违法所得、没收非法财物的金额(万元)", "暂扣或吊销证照名称及编号", "处罚决定日期",
            "处罚有效期", "公示截止期", "处罚机关", "处罚机关统一社会信用代码", "数据来源单位",
            "数据来源单位统一社会信用代码", "备注",
        )
    ),
)

COURT_DISHONEST = Layout(
    "court_dishonest",
    "失信被执行人",
    (
        _c("被执行人姓名/名称", "被执行人", "姓名/名称", required=True),
        _c("身份证号码/组织机构代码", "证件号码"),
        _c("法定代表人或者负责人姓名", "法定代表人"),
        _c("执行法院", required=True),
        _c("省份"),
        _c("执行依据文号"),
        _c("立案时间"),
        _c("案号", required=True),
        _c("做出执行依据单位"),
        _c("生效法律文书确定的义务"),
        _c("被执行人的履行情况"),
        _c("失信被执行人行为具体情形"),
        _c("发布时间", required=True),
    ),
)

LAYOUTS: dict[str, Layout] = {
    lay.kind: lay
    for lay in (REGISTRATIONS, SHAREHOLDERS, OFFICERS, CONTROLLERS, CHANGES, LIST_ENTRIES, PENALTIES, COURT_DISHONEST)
}

_SPACES = re.compile(r"\s+")


def header_key(text: object) -> str:
    """Return a header as compared: NFKC (full-width brackets become ASCII), simplified
    characters (統一社會信用代碼 is 统一社会信用代码), no spaces, invisible characters or '*'."""
    value = unicodedata.normalize("NFKC", "" if text is None else str(text))
    return to_simplified(_SPACES.sub("", value).replace("*", "").translate(_INVISIBLE))


@dataclass(slots=True)
class Recognised:
    """A layout matched to a header row: canonical column → position in the row."""

    layout: Layout
    positions: dict[str, int]
    unknown_headers: list[str] = field(default_factory=list)
    # a column given twice under two of its names (名称 and 企业名称): the other positions, read
    # when the first one's cell is empty
    alternates: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SiteMapping:
    """Aliases a site adds: global ones, and per-layout ones."""

    common: dict[str, str] = field(default_factory=dict)
    per_layout: dict[str, dict[str, str]] = field(default_factory=dict)


def load_site_mapping(path: str | Path | None) -> SiteMapping:
    """Read a site mapping file (JSON); raise InvalidInput naming the file when it is wrong."""
    if path is None:
        return SiteMapping()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: cannot read the site mapping file: {exc}", file=str(path)) from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: the mapping must be a JSON object", file=str(path))
    common: dict[str, str] = {}
    per_layout: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in LAYOUTS:
                raise InvalidInput(f"{path}: unknown layout {key!r}; known: {', '.join(LAYOUTS)}", file=str(path))
            names = {c.name for c in LAYOUTS[key].columns}
            for alias, canonical in value.items():
                if canonical not in names:
                    raise InvalidInput(
                        f"{path}: {key}.{alias} maps to {canonical!r}, which is not a column of {key}", file=str(path)
                    )
            per_layout[key] = {header_key(a): str(c) for a, c in value.items()}
        elif isinstance(value, str):
            common[header_key(key)] = value
        else:
            raise InvalidInput(f"{path}: value of {key!r} must be a column name or an object", file=str(path))
    return SiteMapping(common, per_layout)


def _match(layout: Layout, headers: list[str], mapping: SiteMapping) -> Recognised:
    lookup: dict[str, str] = {}
    for col in layout.columns:
        lookup[header_key(col.name)] = col.name
        for alias in col.aliases:
            lookup.setdefault(header_key(alias), col.name)
    names = {c.name for c in layout.columns}
    for alias, canonical in mapping.common.items():
        if canonical in names:
            lookup.setdefault(alias, canonical)
    for alias, canonical in mapping.per_layout.get(layout.kind, {}).items():
        lookup[alias] = canonical
    positions: dict[str, int] = {}
    unknown: list[str] = []
    alternates: dict[str, list[int]] = {}
    for i, raw in enumerate(headers):
        key = header_key(raw)
        column = lookup.get(key)
        if column is None:
            if key:
                unknown.append(str(raw))
        elif column not in positions:
            positions[column] = i
        else:
            alternates.setdefault(column, []).append(i)
    return Recognised(layout, positions, unknown, alternates)


def recognise(headers: list[str], *, file: str, kind: str | None = None, mapping: SiteMapping | None = None) -> Recognised:
    """Return the layout whose required columns are all present (most columns matched wins).

    Raises InvalidInput naming the missing required columns of the closest layout when none fits.
    """
    mapping = mapping or SiteMapping()
    if kind is not None:
        if kind not in LAYOUTS:
            raise InvalidInput(f"{file}: unknown kind {kind!r}; known: {', '.join(LAYOUTS)}", file=file, field="kind")
        candidates = [_match(LAYOUTS[kind], headers, mapping)]
    else:
        candidates = [_match(lay, headers, mapping) for lay in LAYOUTS.values()]
    complete = [c for c in candidates if all(r in c.positions for r in c.layout.required)]
    if complete:
        # most required columns matched first (the more specific layout), then most columns
        complete.sort(key=lambda c: (len(c.layout.required), len(c.positions)), reverse=True)
        return complete[0]
    best = max(candidates, key=lambda c: (sum(r in c.positions for r in c.layout.required), len(c.positions)))
    missing = [r for r in best.layout.required if r not in best.positions]
    shown = ", ".join(str(h) for h in headers[:12]) + (" …" if len(headers) > 12 else "")
    raise InvalidInput(
        f"{file}: 无法识别表头 (unrecognised header row). Closest layout: {best.layout.kind} "
        f"({best.layout.title_zh}); missing required columns 缺少必填列: {', '.join(missing)}. Headers found: {shown}",
        file=file,
        field=",".join(missing),
    )
