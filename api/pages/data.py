"""What the investigator's pages show, assembled from the same functions the API answers with.

Every function takes the API context and returns plain values for a template or a JSON
answer; the profile, graph and path answers are the API's own (``api.routes``), with the
risk level of each party added from the risk index the API keeps (one index per date).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import replace
from typing import Any

from api.routes.common import ApiContext, day_of, jsonable, mask_json, party_out, role_out, today
from api.routes.graph import _graph, _paths
from api.routes.parties import _judged_records, _person, _subject
from api.routes.relocations import relocation_cases
from graph.model import LinkKind, PartyKind
from graph.schema import LINK_SCHEMA, PARTY_LABELS_ZH
from graph.store import CreditGraphError, InvalidInput, NotFound
from queries.control import control_chains
from queries.propagation import ban_alerts_of
from queries.relocation import region_name

LEVEL_ZH = {"高": "高风险", "中": "中风险", "低": "低风险", "": "未见风险"}
GRADE_ZH = {"A": "A 级(低风险)", "B": "B 级(一般)", "C": "C 级(较高)", "D": "D 级(高风险)"}
RECORD_ZH = {"list_entry": "名单", "penalty": "行政处罚", "court_dishonest": "失信被执行人", "change": "变更",
             "repair": "信用修复", "objection": "异议", "objection_resolution": "异议处理",
             "removal": "移出"}
LINK_KINDS_ZH = [(k.value, LINK_SCHEMA[k].label_zh) for k in LinkKind]
CHECK_HOPS = 3  # the API's default check


def region_label(code: str) -> str:
    """Return "<name> (<code>)" for a division code, or the code."""
    name = region_name(code) if code else ""
    return f"{name}({code})" if name else (code or "—")


def risk_levels(c: ApiContext, view: Any, keys: list[str], day: dt.date) -> dict[str, dict[str, Any]]:
    """Return per party key its risk level (高/中/低/""), grade and warning count on ``day``."""
    index = c.risk.index(view, day, CHECK_HOPS)
    out: dict[str, dict[str, Any]] = {}
    for k in keys:
        if k[:4] in ("tel:", "eml:", "adr:"):
            continue
        try:
            rep = c.risk.report(view, k, day, CHECK_HOPS, index)
        except CreditGraphError:
            continue
        out[k] = {"level": rep.warnings[0].level if rep.warnings else "", "grade": rep.grade,
                  "warnings": len(rep.warnings)}
    return out


# -- search ------------------------------------------------------------------------------------
def search(c: ApiContext, text: str, masked: bool, limit: int = 50) -> list[dict[str, Any]]:
    """Return search hits (name, code, ID; simplified or traditional) with kind, region, status and risk."""
    view = c.store.view()
    found = [h for h in view.search(text, limit=limit) if not h.party.kind.is_contact]
    resolved_of = view.resolve_many(h.party.key for h in found)
    # a masked or name-only mention resolved to a known person is that person, listed once
    people = view.parties({resolved for key, resolved in resolved_of.items() if resolved != key})
    hits = []
    shown: set[str] = set()
    for h in found:
        party = people.get(resolved_of[h.party.key])
        if party is not None and party.key != h.party.key:
            h = replace(h, party=party)
        if h.party.key not in shown:
            shown.add(h.party.key)
            hits.append(h)
    levels = risk_levels(c, view, [h.party.key for h in hits], today())
    rows = []
    for h in hits:
        p = h.party
        risk = levels.get(p.key, {"level": "", "grade": "", "warnings": 0})
        rows.append({"key": p.key, "name": p.name, "matched": h.matched, "how": h.how, "score": h.score,
                     "kind": p.kind.value, "kind_zh": PARTY_LABELS_ZH.get(p.kind, p.kind.value), "code": p.code,
                     "region": region_label(p.region) if p.region else "—", "status": p.status or "—",
                     "start": p.start, "person": p.kind in (PartyKind.PERSON, PartyKind.UNRESOLVED),
                     "level": risk["level"], "grade": risk["grade"], "warnings": risk["warnings"]})
    return mask_json(jsonable(rows)) if masked else rows


# -- profile -----------------------------------------------------------------------------------
def profile(c: ApiContext, key: str, day: dt.date) -> dict[str, Any]:
    """Return the profile of any party: the API's subject or person answer plus warnings and cases."""
    view = c.store.view()
    party = view.party(key)
    if party is None:
        raise NotFound(f"没有主体 {key}(no party {key})")
    key = party.key
    index = c.risk.index(view, day, CHECK_HOPS)
    if party.kind.is_organisation:
        data = _subject(c, key, day)
        data["type"] = "org"
    elif party.kind in (PartyKind.PERSON, PartyKind.UNRESOLVED):
        data = _person(c, key, day)
        data["type"] = "person"
        rep = c.risk.report(view, key, day, CHECK_HOPS, index).as_dict()
        data.update(grade=rep["grade"], sampling_ratio=rep["sampling_ratio"], warnings=rep["warnings"])
    else:  # a shared contact: the firms that use it
        links = view.links(key)
        parties = view.parties({k for lk in links for k in (lk.src, lk.dst)})
        data = {"party": party_out(party), "as_of": day, "names": [], "type": "contact",
                "roles": [role_out(lk, parties, day) for lk in links], "records": _judged_records(view, key, day),
                "grade": "", "sampling_ratio": None, "warnings": []}
    data["party"]["region_label"] = region_label(party.region)
    names_for_code = getattr(view, "names_for_code", None)
    clash = names_for_code(party.code) if names_for_code is not None and party.kind.is_organisation and party.code else []
    # one code given with several names: several firms shown as one (the data is wrong somewhere)
    data["code_clash"] = clash if len(clash) > 1 else []
    # a barred role taken while a market ban ran (禁入期内任职): the person's, or taken at this firm
    data["ban_alerts"] = jsonable(ban_alerts_of(view, key, day, catalog=c.risk.catalog)) \
        if party.kind.is_organisation or party.kind in (PartyKind.PERSON, PartyKind.UNRESOLVED) else []
    data["attrs"] = {k: v for k, v in (party.attrs or {}).items() if not str(k).startswith("_") and k in _SHOWN_ATTRS}
    data["level"] = data["warnings"][0]["level"] if data.get("warnings") else ""
    data["degree"] = view.degree(key)
    data["relocations"] = [case for case in (relocation_cases(view, None) or []) if key in (case.get("old"), case.get("new"))]
    return data


_SHOWN_ATTRS = {"type": "类型", "capital": "注册资本(万元)", "capital_currency": "注册资本币种", "authority": "登记机关",
                "scope": "经营范围",
                "address": "住所", "phone": "联系电话", "email": "电子邮箱", "legal_form": "组织形式",
                "industry": "行业"}
ATTR_LABELS = _SHOWN_ATTRS


# -- graph -------------------------------------------------------------------------------------
def graph(c: ApiContext, center: str, hops: int, as_of: dt.date | None, max_nodes: int,
          warnings: bool = False) -> dict[str, Any]:
    """Return the API's graph answer with a ``risk`` entry per node (and the centre's warnings)."""
    data = _graph(c, center, hops, as_of, max_nodes)
    view = c.store.view()
    day = day_of(as_of)
    levels = risk_levels(c, view, [n["id"] for n in data["nodes"]], day)
    for n in data["nodes"]:
        n["risk"] = levels.get(n["id"], {"level": "", "grade": "", "warnings": 0})
        n["region_label"] = region_label(n["region"]) if n["region"] else ""
    if warnings:
        index = c.risk.index(view, day, CHECK_HOPS)
        data["warnings"] = c.risk.report(view, data["center"], day, CHECK_HOPS, index).as_dict()["warnings"]
    return jsonable(data)


def merged_graph(c: ApiContext, center: str, hops: int, as_of: dt.date | None, max_nodes: int,
                 expanded: list[str], kinds: set[str] | None) -> dict[str, Any]:
    """Return the graph as the page shows it: the centre's neighbourhood, each expanded node's
    neighbours, links of the chosen kinds, and the nodes they touch (the centre always)."""
    base = _graph(c, center, hops, as_of, max_nodes)
    nodes = {n["id"]: n for n in base["nodes"]}
    links = {lk["id"]: lk for lk in base["links"]}
    for k in expanded[:200]:
        try:
            more = _graph(c, k, 1, as_of, max_nodes)
        except CreditGraphError:
            continue
        for n in more["nodes"]:
            nodes.setdefault(n["id"], n)
        for lk in more["links"]:
            links.setdefault(lk["id"], lk)
    kept = [lk for lk in links.values() if kinds is None or lk["kind"] in kinds]
    touched = {base["center"]} | {k for lk in kept for k in (lk["source"], lk["target"])}
    return jsonable({"center": base["center"], "as_of": as_of, "nodes": [n for k, n in nodes.items() if k in touched],
                     "links": kept})


NODE_COLUMNS = [("id", "主体标识"), ("label", "名称"), ("kind_zh", "类型"), ("code", "统一社会信用代码/证件号码"),
                ("region", "登记地代码"), ("distance", "距中心(度)"), ("start", "成立/起始日期"), ("end", "注销/终止日期")]
LINK_COLUMNS = [("id", "关系标识"), ("source", "起点"), ("source_name", "起点名称"), ("label_zh", "关系"),
                ("title", "职务"), ("target", "终点"), ("target_name", "终点名称"), ("ratio", "比例"),
                ("start", "起始日期"), ("end", "终止日期")]


def _link_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    names = {n["id"]: n["label"] for n in data["nodes"]}
    return [{**lk, "source_name": names.get(lk["source"], ""), "target_name": names.get(lk["target"], "")}
            for lk in data["links"]]


def export_csv(data: dict[str, Any], what: str) -> bytes:
    """Return the nodes or links as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    columns, rows = (NODE_COLUMNS, data["nodes"]) if what == "nodes" else (LINK_COLUMNS, _link_rows(data))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([zh for _, zh in columns])
    for r in rows:
        w.writerow(["" if r.get(k) is None else r.get(k) for k, _ in columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def export_xlsx(data: dict[str, Any]) -> bytes:
    """Return the nodes and links as one workbook with two sheets."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#EEF2F7"})
    for title, columns, rows in (("主体", NODE_COLUMNS, data["nodes"]), ("关系", LINK_COLUMNS, _link_rows(data))):
        sheet = book.add_worksheet(title)
        for j, (_, zh) in enumerate(columns):
            sheet.write(0, j, zh, bold)
            sheet.set_column(j, j, 22)
        for i, r in enumerate(rows, start=1):
            for j, (k, _) in enumerate(columns):
                v = r.get(k)
                if v is not None:
                    sheet.write(i, j, v)
        sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()


# -- paths and control -------------------------------------------------------------------------
def resolve_party(c: ApiContext, text: str, field: str) -> tuple[str, str]:
    """Return (party key, how it was found) for a code, ID, party key or name (best search hit)."""
    from api.routes.common import party_key

    raw = (text or "").strip()
    if not raw:
        raise InvalidInput("请填写主体(名称、统一社会信用代码或身份证号)", field=field)
    try:
        return party_key(raw, field), ""
    except InvalidInput:
        pass
    hits = [h for h in c.store.view().search(raw, limit=5) if not h.party.kind.is_contact]
    if not hits:
        raise NotFound(f"未找到与“{raw}”匹配的主体")
    return hits[0].party.key, f"按名称匹配为 {hits[0].party.name}"


def paths(c: ApiContext, a: str, b: str, max_hops: int, as_of: dt.date | None) -> dict[str, Any]:
    """Return the API's paths answer plus the union of their nodes and links for the drawing."""
    data = jsonable(_paths(c, a, b, max_hops, as_of, 20))
    nodes: dict[str, dict[str, Any]] = {}
    links: dict[str, dict[str, Any]] = {}
    for p in data["paths"]:
        for n in p["nodes"]:
            nodes.setdefault(n["key"], {"id": n["key"], "label": n["name"], "kind_zh": n["kind"]})
        for step in p["steps"]:
            for lk in step:
                links.setdefault(lk["id"], lk)
    view = c.store.view()
    parties = view.parties(nodes)
    levels = risk_levels(c, view, list(nodes), day_of(as_of))
    for k, n in nodes.items():
        p = parties.get(k)
        n["kind"] = p.kind.value if p else ""
        n["distance"] = 0 if k in (data["source"], data["target"]) else 1
        n["risk"] = levels.get(k, {"level": "", "grade": "", "warnings": 0})
    data["graph"] = {"center": data["source"], "target": data["target"], "nodes": list(nodes.values()),
                     "links": list(links.values())}
    return data


def control(c: ApiContext, key: str, as_of: dt.date | None) -> dict[str, Any]:
    """Return the control view: chains with multiplied ratios, ultimate holders, declared controllers,
    and a drawing of the shareholding tree."""
    view = c.store.view()
    rep = control_chains(view, key, as_of=as_of)
    nodes: dict[str, dict[str, Any]] = {rep.firm: {"id": rep.firm, "label": rep.firm_name, "distance": 0}}
    links: dict[str, dict[str, Any]] = {}
    for chain in rep.chains:
        for depth, hop in enumerate(chain.hops, start=1):
            nodes.setdefault(hop.holder, {"id": hop.holder, "label": hop.holder_name, "distance": depth})
            links.setdefault(hop.link_id, {"id": hop.link_id, "source": hop.holder, "target": hop.firm,
                                           "kind": "shareholder", "label_zh": "股东", "title": "", "ratio": hop.ratio,
                                           "start": hop.start, "end": hop.end})
    for hop in rep.declared:
        nodes.setdefault(hop.holder, {"id": hop.holder, "label": hop.holder_name, "distance": 1})
    parties = view.parties(nodes)
    levels = risk_levels(c, view, list(nodes), day_of(as_of))
    for k, n in nodes.items():
        p = parties.get(k)
        n["kind"] = p.kind.value if p else ""
        n["kind_zh"] = PARTY_LABELS_ZH.get(p.kind, "") if p else ""
        n["risk"] = levels.get(k, {"level": "", "grade": "", "warnings": 0})
    declared_links: list[dict[str, Any]] = [{"id": h.link_id, "source": h.holder, "target": h.firm, "kind": "actual_controller",
                       "label_zh": "实际控制人/受益所有人", "title": "", "ratio": h.ratio, "start": h.start, "end": h.end}
                      for h in rep.declared]
    for lk in declared_links:
        links.setdefault(str(lk["id"]), lk)
    return jsonable({
        "firm": rep.firm, "firm_name": rep.firm_name, "as_of": as_of,
        "holders": [{"key": h.key, "name": h.name, "kind_zh": PARTY_LABELS_ZH.get(PartyKind(h.kind), h.kind)
                     if h.kind else "", "ratio": h.ratio, "chains": h.chains, "unknown": h.unknown_ratio_chains}
                    for h in rep.holders],
        "chains": [{"ratio": ch.ratio, "cut": ch.cut,
                    "hops": [{"holder": h.holder, "holder_name": h.holder_name, "firm": h.firm, "firm_name": h.firm_name,
                              "ratio": h.ratio, "start": h.start, "end": h.end} for h in ch.hops]}
                   for ch in sorted(rep.chains, key=lambda ch: -(ch.ratio or 0))],
        "declared": [{"holder": h.holder, "holder_name": h.holder_name, "ratio": h.ratio, "start": h.start,
                      "end": h.end} for h in rep.declared],
        "graph": {"center": rep.firm, "nodes": list(nodes.values()), "links": list(links.values())},
    })

