"""The relocation (易地开张) report for people: one self-contained HTML page in Chinese.

Use :func:`report_html` with the cases of a run: a summary, three charts (cases by pattern,
by region pair, over time; SVG with text as text), then every case with its facts, its
evidence as a waterfall and its linking graph. Nothing is loaded from the network.
"""

from __future__ import annotations

import datetime as dt
import html
from collections import Counter
from collections.abc import Sequence
from typing import Any

from graph.store import View
from visualizations.charts import bar_svg, timeline_svg
from visualizations.relocation import DRAW_SCRIPT, case_section, page_head


def _province(code: str) -> str:
    from queries.relocation import region_name

    if not code:
        return "未知"
    name = region_name(code[:2] + "0000")
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name or code[:2]


def report_html(
    view: View,
    cases: Sequence[Any],
    *,
    title: str = "严重失信企业易地开张线索报告",
    generated: dt.datetime | None = None,
    scope_note: str = "",
    stats: dict[str, Any] | None = None,
    max_graphs: int = 500,
) -> str:
    """Return the report page for ``cases`` (graphs for the first ``max_graphs`` cases)."""
    generated = generated or dt.datetime.now()
    levels = Counter(c.level for c in cases)
    regions = Counter(c.region for c in cases)
    summary = [
        ("生成时间", generated.strftime("%Y-%m-%d %H:%M")),
        ("范围", scope_note or "全部案例"),
        ("案例数", f"{len(cases)}(高 {levels.get('高', 0)} · 中 {levels.get('中', 0)} · 低 {levels.get('低', 0)})"),
        ("易地 / 原地", f"{regions.get('易地', 0)} / {regions.get('原地', 0)}"),
    ]
    for k, v in (stats or {}).items():
        summary.append((k, str(v)))
    parts = [page_head(title), f"<body><h1>{html.escape(title)}</h1>"]
    parts.append("<h2>概要</h2><table>" + "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary) + "</table>")  # fmt: skip
    parts.append(
        "<p class=\"muted\">阅读说明:每个案例给出原企业(被列入严重失信名单)与列入后新设立的企业,得分 0–1 "
        "由各项证据按\"噪声或\"逐项累加(瀑布表的\"贡献\"列之和即为得分);高 ≥ 0.85,中 ≥ 0.70。"
        "共用地址/电话被多家企业使用时按使用家数降权;仅有字号相同而无共同人员或专属联系方式的不构成案例。"
        "线索需人工核实后方可采取措施。</p>"
    )
    if cases:
        parts.append("<h2>统计图</h2><div class=\"charts\">")
        from queries.relocation import PATTERNS_ZH

        by_pattern = Counter(c.pattern for c in cases).most_common()
        parts.append(bar_svg([PATTERNS_ZH.get(p, p).split("(")[0] for p, _ in by_pattern], [n for _, n in by_pattern],
                             "按模式统计"))  # fmt: skip
        pairs = Counter(f"{_province(c.old_region)}→{_province(c.new_region)}" for c in cases).most_common(15)
        parts.append(bar_svg([p for p, _ in pairs], [n for _, n in pairs], "按登记地(省)迁移统计(前15)",
                             horizontal=True, colour="#8e44ad"))  # fmt: skip
        months = Counter(c.new_established.strftime("%Y-%m") for c in cases if c.new_established)
        if months:
            lo, hi = min(months), max(months)
            periods = _month_range(lo, hi)
            parts.append(timeline_svg(periods, [months.get(p, 0) for p in periods], "新企业成立时间分布(按月)"))
        parts.append("</div>")
        parts.append("<h2>案例清单</h2><table><tr><th>#</th><th>原企业</th><th>新企业</th><th>得分</th><th>等级</th>"
                     "<th>模式</th><th>地域</th></tr>")  # fmt: skip
        for i, c in enumerate(cases, 1):
            parts.append(f"<tr><td><a href=\"#case-{i}\">{i}</a></td><td>{html.escape(c.old_name)}</td>"
                         f"<td>{html.escape(c.new_name)}</td><td>{c.score:.2f}</td><td>{c.level}</td>"
                         f"<td>{html.escape(c.pattern_zh)}</td><td>{c.region}</td></tr>")  # fmt: skip
        parts.append("</table><h2>案例详情</h2>")
        for i, c in enumerate(cases, 1):
            parts.append(case_section(view, c, i, graph=i <= max_graphs))
    else:
        parts.append("<p>本次运行没有新的案例。</p>")
    parts.append(f"<script>{DRAW_SCRIPT}</script></body></html>")
    return "".join(parts)


def _month_range(lo: str, hi: str) -> list[str]:
    y, m = int(lo[:4]), int(lo[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= hi:
        out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out
