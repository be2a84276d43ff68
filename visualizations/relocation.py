"""Pictures of relocation cases: the linking subgraph of a case as a pyvis network.

Use :func:`case_subgraph` to cut the subgraph that links an old and a new firm (the shared
people and contacts named by the case's evidence, the new firm's representatives, a
branch's parent), :func:`case_network` to turn it into a pyvis network, and
:func:`case_page` for a standalone page. Pages never load anything from the network: the
vis-network script and style shipped inside the pyvis package are inlined (pyvis's own
template links a CDN and bootstrap, so it is not used).
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from typing import Any

from graph.model import Link, LinkKind, Party, PartyKind, Subgraph
from graph.schema import PARTY_LABELS_ZH, link_spec
from graph.store import View

COLOURS = {
    "old": "#c0392b",
    "new": "#e67e22",
    "person": "#2e86c1",
    "contact": "#7f8c8d",
    "org": "#8e44ad",
}


def case_subgraph(view: View, case: Any) -> Subgraph:
    """Return the parties and links that tie ``case.old`` to ``case.new``."""
    keys: dict[str, str] = {case.old: "old", case.new: "new"}
    for ev in case.evidence:
        for k in ev.parties:
            if k:
                keys.setdefault(k, "evidence")
    links: list[Link] = []
    seen: set[str] = set()
    for firm in (case.old, case.new):
        for lk in view.links(firm):
            other = lk.src if lk.dst == firm else lk.dst
            lead = firm == case.new and lk.kind in (LinkKind.LEGAL_REPRESENTATIVE, LinkKind.PRINCIPAL,
                                                     LinkKind.ACTUAL_CONTROLLER)  # fmt: skip
            if other in keys or lead:
                keys.setdefault(other, "context")
                if lk.id not in seen:
                    seen.add(lk.id)
                    links.append(lk)
    sub = Subgraph()
    parties = view.parties(keys)
    for k, role in keys.items():
        p = parties.get(k) or Party(k, _kind_of_key(k), "")
        sub.parties[k] = p
        sub.distance[k] = 0 if role in ("old", "new") else 1
    sub.links = [lk for lk in links if lk.src in sub.parties and lk.dst in sub.parties]
    return sub


def _kind_of_key(key: str) -> PartyKind:
    prefix = key.partition(":")[0]
    return {"org": PartyKind.ENTERPRISE, "per": PartyKind.PERSON, "tel": PartyKind.PHONE, "eml": PartyKind.EMAIL,
            "adr": PartyKind.ADDRESS}.get(prefix, PartyKind.UNRESOLVED)  # fmt: skip


def _mask(code: str) -> str:
    return code[:4] + "*" * 10 + code[-4:] if len(code) == 18 and code[:17].isdigit() else code


def case_network(sub: Subgraph, case: Any, *, height: str = "420px") -> Any:
    """Return a pyvis Network of the case subgraph (old firm red, new firm orange, people blue)."""
    from pyvis.network import Network

    net = Network(height=height, width="100%", directed=True)
    for key, p in sub.parties.items():
        if key == case.old:
            colour, shape, label = COLOURS["old"], "box", f"原企业\n{p.name}"
        elif key == case.new:
            colour, shape, label = COLOURS["new"], "box", f"新企业\n{p.name}"
        elif p.kind.is_contact:
            colour, shape, label = COLOURS["contact"], "diamond", p.name or key.partition(":")[2]
        elif p.kind.is_organisation:
            colour, shape, label = COLOURS["org"], "box", p.name
        else:
            colour, shape, label = COLOURS["person"], "ellipse", p.name or "未识别"
        title = f"{PARTY_LABELS_ZH.get(p.kind, p.kind.value)} {p.name}\n{_mask(p.code) or key}"
        net.add_node(key, label=label, title=title, color=colour, shape=shape,
                     font={"color": "#ffffff" if shape == "box" else "#222222"})  # fmt: skip
    for lk in sub.links:
        spec = link_spec(lk.kind)
        label = lk.title or spec.label_zh
        if lk.kind == LinkKind.SHAREHOLDER and lk.ratio is not None:
            label += f" {lk.ratio:.0%}"
        when = f"{lk.start or '?'} 至 {lk.end or '今'}"
        net.add_edge(lk.src, lk.dst, label=label, title=f"{spec.label_zh}: {when}",
                     dashes=lk.end is not None, color="#555555" if not spec.contact else "#999999")  # fmt: skip
    net.set_options(json.dumps(_OPTIONS))
    return net


_OPTIONS: dict[str, Any] = {
    "physics": {"solver": "barnesHut", "stabilization": {"enabled": True, "iterations": 300},
                "barnesHut": {"springLength": 160, "avoidOverlap": 0.4}},
    "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.6}}, "font": {"size": 11, "align": "middle"},
              "smooth": {"enabled": True, "type": "dynamic"}},
    "nodes": {"font": {"size": 13}, "margin": 8},
    "interaction": {"hover": True, "tooltipDelay": 150},
}  # fmt: skip


@cache
def vis_assets() -> tuple[str, str]:
    """Return (script, style) of vis-network as shipped inside the pyvis package."""
    lib = resources.files("pyvis").joinpath("templates/lib/vis-9.1.2")
    return lib.joinpath("vis-network.min.js").read_text(encoding="utf-8"), lib.joinpath(
        "vis-network.css"
    ).read_text(encoding="utf-8")


def _json(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/").replace("<!--", "<\\!--")


def network_payload(net: Any) -> dict[str, Any]:
    """Return the nodes, edges and options of a pyvis network as plain data."""
    nodes, edges, _heading, _height, _width, options = net.get_network_data()
    return {"nodes": nodes, "edges": edges, "options": json.loads(options)}


def network_div(dom_id: str, net: Any, *, height: str = "420px") -> str:
    """Return a container and the data of one network (drawn by :data:`DRAW_SCRIPT`)."""
    payload = _json(network_payload(net))
    return (f'<div class="net" id="{html.escape(dom_id)}" style="height:{height}"></div>'
            f'<script type="application/json" data-net="{html.escape(dom_id)}">{payload}</script>')  # fmt: skip


DRAW_SCRIPT = """
(function () {
  window.cgNetworks = {};
  function draw(el) {
    if (el.dataset.drawn) return;
    el.dataset.drawn = "1";
    var src = document.querySelector('script[data-net="' + el.id + '"]');
    var data = JSON.parse(src.textContent);
    var net = new vis.Network(el, {nodes: new vis.DataSet(data.nodes), edges: new vis.DataSet(data.edges)}, data.options);
    net.once("stabilizationIterationsDone", function () { net.setOptions({physics: false}); el.dataset.ready = "1"; });
    window.cgNetworks[el.id] = net;
  }
  var all = Array.prototype.slice.call(document.querySelectorAll("div.net"));
  var eager = all.slice(0, 20);
  eager.forEach(draw);
  if ("IntersectionObserver" in window) {
    var io = new IntersectionObserver(function (items) {
      items.forEach(function (it) { if (it.isIntersecting) { draw(it.target); io.unobserve(it.target); } });
    }, {rootMargin: "400px"});
    all.slice(20).forEach(function (el) { io.observe(el); });
  } else {
    all.slice(20).forEach(draw);
  }
})();
"""


def page_head(title: str, extra_css: str = "") -> str:
    """Return the <head> of a self-contained page with vis-network inlined."""
    js, css = vis_assets()
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{css}</style><style>{BASE_CSS}{extra_css}</style>"
        f"<script>{js}</script></head>"
    )


BASE_CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
       sans-serif; margin: 24px auto; max-width: 1100px; color: #222; line-height: 1.5; padding: 0 16px; }
h1 { font-size: 24px; } h2 { font-size: 19px; border-bottom: 2px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 16px; margin-bottom: 4px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ddd; padding: 4px 8px;
  text-align: left; vertical-align: top; font-size: 13px; }
th { background: #f5f5f5; }
.net { border: 1px solid #ddd; background: #fcfcfc; margin: 8px 0; }
.lvl-高 { color: #fff; background: #c0392b; padding: 1px 6px; border-radius: 3px; }
.lvl-中 { color: #fff; background: #e67e22; padding: 1px 6px; border-radius: 3px; }
.lvl-低 { color: #fff; background: #7f8c8d; padding: 1px 6px; border-radius: 3px; }
.bar { display: inline-block; height: 10px; background: #2e86c1; vertical-align: middle; }
.bar.neg { background: #c0392b; }
.case { margin: 28px 0; } .muted { color: #777; font-size: 12px; }
.charts svg { max-width: 100%; height: auto; }
"""


def evidence_table(case: Any) -> str:
    """Return the evidence of a case as an HTML table with a waterfall bar per feature."""
    rows = []
    total = 0.0
    for ev in case.evidence:
        total += ev.contribution
        width = int(round(abs(ev.contribution) * 200))
        cls = "bar neg" if ev.contribution < 0 else "bar"
        rows.append(
            f"<tr><td>{html.escape(FEATURES_ZH.get(ev.feature, ev.feature))}</td>"
            f"<td>{ev.contribution:+.3f}</td><td>{total:.3f}</td>"
            f"<td><span class=\"{cls}\" style=\"width:{width}px\"></span></td>"
            f"<td>{html.escape(ev.detail)}</td></tr>"
        )
    return ("<table class=\"evidence\"><tr><th>特征</th><th>贡献</th><th>累计</th><th></th><th>说明</th></tr>"
            + "".join(rows) + "</table>")  # fmt: skip


FEATURES_ZH = {
    "shared_person": "共同人员",
    "shared_phone": "共用电话",
    "shared_email": "共用邮箱",
    "shared_address": "共用地址",
    "trade_name": "字号",
    "same_industry": "同行业",
    "similar_scope": "经营范围相似",
    "old_ceased": "原企业注销/吊销",
    "branch_of_chain": "连锁分支机构",
    "no_direct_link": "无直接关联封顶",
}


def case_facts(case: Any) -> str:
    """Return the facts of a case (old and new firm, listing, region) as an HTML table."""
    from queries.relocation import region_name

    def row(label: str, value: Any) -> str:
        return f"<tr><th>{label}</th><td>{html.escape(str(value or '—'))}</td></tr>"

    return "<table>" + "".join([
        row("原企业", f"{case.old_name}({case.old_uscc})"),
        row("列入名单", f"{case.list_type} {case.decision_no} 列入日 {case.listed_on}"),
        row("原企业状态", f"{case.old_status or '—'} {case.old_end or ''}"),
        row("新企业", f"{case.new_name}({case.new_uscc})"),
        row("新企业成立日", case.new_established),
        row("登记地", f"{case.region}:{region_name(case.old_region) or case.old_region} → "
                     f"{region_name(case.new_region) or case.new_region}"),
    ]) + "</table>"  # fmt: skip


def case_section(view: View, case: Any, index: int, *, graph: bool = True) -> str:
    """Return one case as an HTML section: facts, evidence and (optionally) the graph."""
    head = (f"<h3 id=\"case-{index}\">案例 {index}:{html.escape(case.old_name)} → {html.escape(case.new_name)} "
            f"<span class=\"lvl-{case.level}\">{case.level}</span> 得分 {case.score:.2f}</h3>"
            f"<div class=\"muted\">模式:{html.escape(case.pattern_zh)}({case.pattern}) · {case.region}</div>")  # fmt: skip
    body = case_facts(case) + evidence_table(case)
    if graph:
        body += network_div(f"net-{index}", case_network(case_subgraph(view, case), case))
    return f"<section class=\"case\">{head}{body}</section>"


def case_page(view: View, case: Any) -> str:
    """Return a standalone page for one case (no network access needed to open it)."""
    title = f"易地开张线索:{case.old_name} → {case.new_name}"
    return (page_head(title) + f"<body><h1>{html.escape(title)}</h1>" + case_section(view, case, 1)
            + f"<script>{DRAW_SCRIPT}</script></body></html>")  # fmt: skip
