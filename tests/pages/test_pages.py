"""The investigator's browser pages, driven in headless Chromium against the served app."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import opencc
import openpyxl

from graph.identifiers import check_resident_id, check_uscc
from tests.pages.conftest import Site, Watch, login, new_context

ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")


def _graph_ready(page: Any, graph: str = "g") -> None:
    page.wait_for_selector(f"#{graph}[data-ready='1']", state="attached")


def _ids(page: Any, what: str = "nodes", graph: str = "g") -> list[str]:
    return page.evaluate(f"() => window.cgGraphs['{graph}'].{what}.getIds()")  # type: ignore[no-any-return]


def _relocation(truth: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in truth["relocations"] if c["pattern"] == "same_person")


def _linked(truth: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in truth["linked_risk"] if c["via_kind"] == "person")


# -- login and the landing page ----------------------------------------------------------------
def test_login_with_an_api_key_opens_an_httponly_session(browser: Any, site: Site, tmp_path: Path) -> None:
    watch = Watch(site.base)
    ctx = new_context(browser, site, watch)
    page = ctx.new_page()
    page.goto(site.base + "/")
    page.get_by_role("link", name="进入调查工作台").click()
    page.wait_for_url("**/ui/login?next=*")  # pages need a session
    page.get_by_label("API 密钥").fill("cg_nope_nope")
    page.get_by_label("API 密钥").press("Enter")
    assert "API 密钥无效" in page.locator("#login-error").inner_text()
    page.get_by_label("API 密钥").fill(site.keys["investigator"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/ui/search")
    cookie = next(c for c in ctx.cookies() if c["name"] == "cg_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert site.keys["investigator"].split("_")[2] not in cookie["value"]  # the secret never travels again
    assert page.evaluate("() => document.cookie") == ""
    page.screenshot(path=str(tmp_path / "search-empty.png"))
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/ui/login")
    page.goto(site.base + "/ui/search?q=x")
    page.wait_for_url("**/ui/login?next=*")
    ctx.close()
    assert watch.outside() == [] and watch.errors == []


# -- search, profile, graph --------------------------------------------------------------------
def test_search_by_traditional_name_then_open_the_profile_and_its_graph(page: Any, site: Site, truth: dict[str, Any],
                                                                         tmp_path: Path) -> None:
    case = _linked(truth)
    traditional = opencc.OpenCC("s2t").convert(case["name"])
    assert traditional != case["name"]
    page.goto(site.base + "/ui/search")
    box = page.get_by_label(re.compile("名称"))
    box.fill(traditional)
    box.press("Enter")  # Enter submits
    row = page.locator(f"#results tr[data-key='org:{case['uscc']}']")
    assert row.count() == 1
    assert "高风险" in row.inner_text() or "中风险" in row.inner_text()
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
    row.get_by_role("link", name=case["name"]).click()
    page.wait_for_url(f"**/ui/party/org:{case['uscc']}")
    assert case["name"] in page.locator("h1").inner_text()
    assert page.locator(".warning").count() >= 1
    _graph_ready(page)
    nodes = _ids(page)
    assert f"org:{case['uscc']}" in nodes and f"per:{case['via']}" in nodes
    page.screenshot(path=str(tmp_path / "profile.png"), full_page=True)


def test_expand_a_node_adds_its_neighbours(page: Any, site: Site, truth: dict[str, Any], tmp_path: Path) -> None:
    case = _linked(truth)
    page.goto(f"{site.base}/ui/party/{case['uscc']}")
    _graph_ready(page)
    before = set(_ids(page))
    via = f"per:{case['via']}"
    button = page.locator(f"#g .cg-list tr[data-key='{via}'] button", has_text="展开")
    button.focus()
    page.keyboard.press("Enter")  # from the keyboard, through the node list
    page.wait_for_function(f"() => window.cgGraphs.g.nodes.length > {len(before)}")
    after = set(_ids(page))
    assert before < after
    # the punished person's own firm (the blacklisted one) is now on the drawing
    api = page.evaluate(f"() => fetch('/ui/api/graph/{via}?hops=1').then(r => r.json())")
    assert {n["id"] for n in api["nodes"]} <= after
    assert "新增" in page.locator("#g .cg-status").inner_text()
    page.screenshot(path=str(tmp_path / "expanded.png"))


def test_a_warning_path_is_highlighted(page: Any, site: Site, truth: dict[str, Any], tmp_path: Path) -> None:
    case = _linked(truth)
    page.goto(f"{site.base}/ui/graph/{case['uscc']}")
    _graph_ready(page)
    page.get_by_role("button", name="在关系图中高亮此路径").first.click()
    lit = page.locator("#g").get_attribute("data-highlighted") or ""
    assert lit
    edges = set(_ids(page, "edges"))
    assert set(lit.split(",")) <= edges
    page.screenshot(path=str(tmp_path / "highlight.png"))
    # on the profile the graph is 1 hop: a 2-hop path adds its far end, which must be drawn
    # inside the canvas once the layout has settled, and listed
    far = "() => (window.cgGraphs.g.warnings || []).findIndex(w => (w.nodes || []).length >= 3)"
    for other in truth["linked_risk"]:
        page.goto(f"{site.base}/ui/party/org:{other['uscc']}")
        _graph_ready(page)
        at = page.evaluate(far)
        if at >= 0:
            break
    assert at >= 0, "no planted firm has a warning 2 hops away"
    before = set(_ids(page))
    page.locator(f"button[data-warning='{at}'][data-graph='g']").click()
    page.wait_for_timeout(2000)
    assert set(page.evaluate("() => window.cgGraphs.g.highlighted.nodes")) - before
    outside = page.evaluate("""() => { const g = window.cgGraphs.g, box = g.network.body.container.getBoundingClientRect();
        return g.highlighted.nodes.filter(id => { const p = g.network.canvasToDOM(g.network.getPositions([id])[id]);
            return p.x < 0 || p.y < 0 || p.x > box.width || p.y > box.height; }); }""")
    assert outside == []


def test_filter_by_link_kind(page: Any, site: Site, tmp_path: Path) -> None:
    page.goto(f"{site.base}/ui/graph/{site.planted.time_firm}?hops=1")
    _graph_ready(page)
    shown = page.evaluate("() => window.cgGraphs.g.edgeView.length")
    nodes = page.evaluate("() => window.cgGraphs.g.nodeView.length")
    page.locator("#g fieldset.cg-kinds").get_by_label("法定代表人").uncheck()
    assert page.evaluate("() => window.cgGraphs.g.edgeView.length") == shown - 2
    # the node list and its count follow the filter (the two legal representatives drop out)
    left = page.evaluate("() => window.cgGraphs.g.nodeView.length")
    assert left < nodes and page.locator("#g .cg-list tbody tr").count() == left
    page.locator("#g fieldset.cg-kinds").get_by_label("法定代表人").check()
    assert page.evaluate("() => window.cgGraphs.g.edgeView.length") == shown


def test_as_of_redraw_drops_a_link_that_had_ended(page: Any, site: Site, tmp_path: Path) -> None:
    p = site.planted
    page.goto(f"{site.base}/ui/graph/{p.time_firm}?hops=1")
    _graph_ready(page)
    edges = _ids(page, "edges")
    assert p.old_rep_link in edges and p.new_rep_link in edges  # all periods: both, the old one dashed
    page.get_by_label("时点(只显示当日有效的关系)").fill("2022-01-01")
    page.get_by_label("时点(只显示当日有效的关系)").press("Enter")
    page.wait_for_function(f"() => window.cgGraphs.g.edges.get('{p.old_rep_link}') === null")
    assert p.new_rep_link in _ids(page, "edges")
    page.screenshot(path=str(tmp_path / "as-of-2022.png"))
    page.get_by_label("时点(只显示当日有效的关系)").fill("2018-01-01")
    page.get_by_role("button", name="按时点重绘").click()
    page.wait_for_function(f"() => window.cgGraphs.g.edges.get('{p.new_rep_link}') === null")
    assert p.old_rep_link in _ids(page, "edges")
    # the heading follows the redraw, and the level chosen in the address is the one selected
    nodes = page.evaluate("() => window.cgGraphs.g.nodes.length")
    page.wait_for_function(f"() => document.getElementById('g-summary').textContent.includes('{nodes} 个主体')")
    page.goto(f"{site.base}/ui/graph/{p.time_firm}?hops=4")
    assert page.locator("#g-hops").input_value() == "4"


def test_exports_csv_xlsx_and_png(page: Any, site: Site, tmp_path: Path) -> None:
    p = site.planted
    page.goto(f"{site.base}/ui/graph/{p.time_firm}?hops=1")
    _graph_ready(page)
    with page.expect_download() as got:
        page.get_by_role("link", name="主体 CSV").click()
    nodes_csv = tmp_path / "nodes.csv"
    got.value.save_as(nodes_csv)
    text = nodes_csv.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("主体标识,名称,类型")
    assert "时点测试贸易有限公司" in text and "钱旧法" in text and "孙新任" in text
    with page.expect_download() as got:
        page.get_by_role("link", name="关系 CSV").click()
    links_csv = tmp_path / "links.csv"
    got.value.save_as(links_csv)
    rows = links_csv.read_text(encoding="utf-8-sig").splitlines()
    assert any("法定代表人" in r and "2020-06-30" in r and "钱旧法" in r for r in rows)
    with page.expect_download() as got:
        page.get_by_role("link", name="Excel").click()
    book_path = tmp_path / "graph.xlsx"
    got.value.save_as(book_path)
    book = openpyxl.load_workbook(book_path, read_only=True)
    assert book.sheetnames == ["主体", "关系"]
    book.close()
    with page.expect_download() as got:
        page.get_by_role("button", name="PNG 图片").click()
    png = tmp_path / "graph.png"
    got.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_paths_between_two_planted_parties(page: Any, site: Site, truth: dict[str, Any], tmp_path: Path) -> None:
    case = _relocation(truth)
    page.goto(site.base + "/ui/paths")
    page.get_by_label("主体 A(名称、代码或证件号)").fill(case["old_uscc"])
    page.get_by_label("主体 B").fill(case["new_name"])  # by name: resolved through the search
    page.get_by_label("主体 B").press("Enter")
    page.wait_for_selector("#path-list")
    first = page.locator("#path-list > li").first.inner_text()
    assert case["old_name"] in first and case["new_name"] in first
    _graph_ready(page)
    nodes = _ids(page)
    assert f"org:{case['old_uscc']}" in nodes and f"org:{case['new_uscc']}" in nodes
    page.screenshot(path=str(tmp_path / "paths.png"), full_page=True)


def test_control_view_multiplies_ratios_along_chains(page: Any, site: Site, tmp_path: Path) -> None:
    p = site.planted
    page.goto(f"{site.base}/ui/control/{p.time_firm}")
    holders = page.locator("#holders").inner_text()
    assert "赵最终" in holders and "30%" in holders  # 60 % of the parent × 50 % of it
    assert "孙新任" in holders and "40%" in holders
    _graph_ready(page)
    assert {p.time_firm, p.holding, p.ultimate} <= set(_ids(page))
    page.screenshot(path=str(tmp_path / "control.png"), full_page=True)


def test_printable_case_summary(page: Any, site: Site, truth: dict[str, Any], tmp_path: Path) -> None:
    case = _linked(truth)
    page.goto(f"{site.base}/ui/party/{case['uscc']}")
    page.get_by_role("link", name="打印案情摘要").click()
    page.wait_for_url("**/ui/summary/**")
    assert "主体信用案情摘要" in page.locator("h1").inner_text()
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.locator(".toolbar").first.is_visible()
    page.pdf(path=str(tmp_path / "summary.pdf"))
    assert (tmp_path / "summary.pdf").stat().st_size > 10_000


def test_a_profile_with_200_links_render_time(page: Any, site: Site, tmp_path: Path) -> None:
    """Records (does not assert) how long a profile with 200 links takes to draw."""
    p = site.planted
    page.goto(site.base + "/ui/search")  # warm: the risk index and the vendor script are built/cached once
    start = time.perf_counter()
    page.goto(f"{site.base}/ui/party/{p.hub}")
    _graph_ready(page)
    wall = time.perf_counter() - start
    timing = page.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        return {response: nav.responseEnd, dom: nav.domContentLoadedEventEnd, drawn: window.cgGraphs.g.readyAt,
                nodes: window.cgGraphs.g.nodes.length, edges: window.cgGraphs.g.edges.length};
    }""")
    assert timing["nodes"] == p.hub_links + 1 and timing["edges"] == p.hub_links
    line = (f"profile with {timing['edges']} links: server+transfer {timing['response']:.0f} ms, DOM ready "
            f"{timing['dom']:.0f} ms, graph drawn {timing['drawn']:.0f} ms after navigation start "
            f"(wall {wall * 1000:.0f} ms incl. Playwright)")
    print(line)
    (tmp_path / "render-time.txt").write_text(line + "\n", encoding="utf-8")
    page.screenshot(path=str(tmp_path / "profile-200.png"))


# -- roles, masking, audit ---------------------------------------------------------------------
def test_supervision_login_is_masked_and_cannot_open_profiles(browser: Any, site: Site, truth: dict[str, Any],
                                                             tmp_path: Path) -> None:
    watch = Watch(site.base)
    ctx = new_context(browser, site, watch)
    page = ctx.new_page()
    login(page, site, "supervision_system")
    person = _linked(truth)["via"]
    page.goto(f"{site.base}/ui/search?q={person}")
    text = page.locator("main").inner_text()
    assert person not in text and (person[:4] + "*" * 10 + person[-4:]) in text
    assert not [m for m in ID_LIKE.findall(page.content()) if check_resident_id(m).valid and not check_uscc(m).valid]
    resp = page.goto(f"{site.base}/ui/party/per:{person}")
    assert resp is not None and resp.status == 403
    firm = _linked(truth)["uscc"]
    resp = page.goto(f"{site.base}/ui/risk/{firm}")
    assert resp is not None and resp.status == 200
    assert "风险核查" in page.locator("h1").inner_text()
    assert not [m for m in ID_LIKE.findall(page.content()) if check_resident_id(m).valid and not check_uscc(m).valid]
    page.screenshot(path=str(tmp_path / "supervision-risk.png"), full_page=True)
    ctx.close()
    assert watch.outside() == [] and watch.errors == []


def test_page_views_are_audited(page: Any, site: Site, truth: dict[str, Any]) -> None:
    firm = "org:" + _linked(truth)["uscc"]
    page.goto(f"{site.base}/ui/party/{firm}")
    _graph_ready(page)
    rows, _ = site.app.state.api.audit.query(key=firm, limit=20)
    endpoints = {r.endpoint for r in rows if r.role == "investigator" and r.status == 200}
    assert "/ui/party/{key:path}" in endpoints
    mine = [r for r in rows if r.endpoint.startswith("/ui/") and r.role == "investigator"]
    assert mine and all(r.who_name == "页面测试-investigator" and r.ip == "127.0.0.1" for r in mine)


def test_a_code_given_with_two_names_is_flagged_on_the_profile(page: Any, site: Site, truth: dict[str, Any]) -> None:
    """Two firms sharing one code are one party in the store: the profile must say so, not
    present them as one firm with a former name."""
    dup = truth["code_errors"]["duplicates"][0]
    page.goto(site.base + f"/ui/party/org:{dup['code']}")
    note = page.locator("[role=note]")
    assert note.count() == 1
    text = note.inner_text()
    assert "不同名称" in text and all(name in text for name in dup["names"])
    clean = _linked(truth)["uscc"]
    page.goto(site.base + f"/ui/party/org:{clean}")
    assert page.locator("[role=note]").count() == 0


def test_a_barred_role_taken_during_a_ban_shows_on_both_profiles(page: Any, site: Site) -> None:
    from queries.propagation import ban_alerts

    alerts = ban_alerts(site.store.view())
    assert alerts, "the demo set plants no barred role taken during a ban"
    alert = alerts[0]
    for key in (alert.person, alert.new_firm):
        page.goto(site.base + f"/ui/party/{key}")
        box = page.locator("#ban-alerts + article[role=alert]")
        assert box.count() >= 1 and alert.new_firm_name in box.first.inner_text()


def test_bad_parameters_and_unknown_pages_are_chinese_pages_not_json(page: Any, site: Site, truth: dict[str, Any]) -> None:
    firm = _linked(truth)["uscc"]
    for path, title in ((f"/ui/graph/org:{firm}?hops=9", "参数有误"), (f"/ui/graph/org:{firm}?hops=abc", "参数有误"),
                        ("/ui/no-such-page", "未找到")):
        resp = page.goto(site.base + path)
        assert resp is not None and resp.status in (404, 422)
        assert "text/html" in resp.headers["content-type"], path
        assert page.locator("h1").inner_text() == title


def test_a_resolved_masked_mention_is_listed_as_its_person_once(page: Any, site: Site, truth: dict[str, Any]) -> None:
    case = next(m for m in truth["masked_ids"] if m["outcome"] == "resolve")
    page.goto(site.base + "/ui/search?q=" + case["masked"])
    rows = page.locator("#results tr[data-key]")
    keys = [rows.nth(i).get_attribute("data-key") for i in range(rows.count())]
    assert f"per:{case['expected_person_id']}" in keys
    assert len(keys) == len(set(keys)) and not any(k.startswith("unr:") for k in keys)


def test_pages_fit_a_phone_screen(browser: Any, site: Site, truth: dict[str, Any]) -> None:
    """At 390 px (a phone) no page scrolls sideways: the menu wraps under the brand with each
    entry on one line, facts stack, wide tables scroll inside themselves."""
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    try:
        page = ctx.new_page()
        login(page, site, "investigator")
        firm = truth["linked_risk"][0]["uscc"]
        for path in ("/ui/search?q=郑州", f"/ui/party/org:{firm}", f"/ui/risk?key={firm}", f"/ui/graph/org:{firm}",
                     "/ui/relocations"):
            page.goto(site.base + path)
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
            heights = page.eval_on_selector_all("header.top nav a", "els => els.map(e => e.getBoundingClientRect().height)")
            assert heights and max(heights) < 40, (path, heights)  # one line each, not a letter a line
    finally:
        ctx.close()


def test_the_graph_legend_shows_every_node_shape() -> None:
    """Each shape the graph draws (graph.js SHAPES) has its own legend entry, and the dashed
    outline of unresolved parties is explained (the legend once gave one diamond for phone,
    e-mail and address, which the graph draws as diamond, triangle and square)."""
    root = Path(__file__).resolve().parents[2]
    script = (root / "api" / "static" / "graph.js").read_text(encoding="utf-8")
    shapes = dict(re.findall(r"(\w+): \"(box|ellipse|diamond|triangle|square|dot|star)\"",
                             script[script.index("var SHAPES"):script.index("};", script.index("var SHAPES"))]))
    legend = (root / "api" / "templates" / "_macros.html").read_text(encoding="utf-8")
    legend = legend[legend.index('<div class="legend"'):]
    legend = legend[:legend.index("</div>")]
    css = {"box": "sh-box", "ellipse": "sh-ell", "diamond": "sh-dia", "triangle": "sh-tri", "square": "sh-sq"}
    entries = dict(re.findall(r'<i class="([\w -]+)"[^>]*></i>([^<]+)</span>', legend))
    for kind, shape in shapes.items():
        assert any(css[shape] in cls.split() for cls in entries), (kind, shape, entries)
    assert {"电话", "邮箱", "地址"} <= set(entries.values()) and any("sh-dash" in c for c in entries)
    stylesheet = (root / "api" / "static" / "ui.css").read_text(encoding="utf-8")
    for cls in {c for c in " ".join(entries).split() if c.startswith("sh-")}:
        assert f".legend .{cls}" in stylesheet, cls
