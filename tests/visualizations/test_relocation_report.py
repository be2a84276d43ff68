"""The relocation report and case pages: self-contained HTML, checked in headless Chromium offline."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.commands.relocation import detect
from graph.backends.memory import open_store
from graph.model import LinkKind
from queries.relocation import detect_relocations
from tests.factories import firm, link, list_entry, person, uscc, write_graph
from visualizations.relocation import case_page, case_subgraph


def _store(tmp_path: Path) -> str:
    db = tmp_path / "report.sqlite"
    store = open_store(db)
    parties, links, records = [], [], []
    for i in range(3):
        a = firm(f"郑州市鑫源{i}商贸有限公司", uscc(division="410105"), start="2012-01-01", trade_name=f"鑫源{i}",
                 industry="商贸")
        b = firm(f"武汉市鑫源{i}贸易有限公司", uscc(division="420102"), start=f"202{i + 1}-03-01", region="420102",
                 trade_name=f"鑫源{i}", industry="贸易")
        p = person(f"张{i}")
        parties += [a, b, p]
        links += [link(LinkKind.LEGAL_REPRESENTATIVE, p, a, "2012-01-01"),
                  link(LinkKind.LEGAL_REPRESENTATIVE, p, b, f"202{i + 1}-03-01")]
        records.append(list_entry(a, "2020-06-01"))
    write_graph(store, parties, links, records)
    store.close()
    return str(db)


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "headless Chromium is needed: apt-get install chromium fonts-noto-cjk"
    return exe


OFFLINE = ["--headless", "--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND",
           "--proxy-server=127.0.0.1:9", "--virtual-time-budget=8000"]


def test_html_report_is_self_contained_and_draws_offline(tmp_path):
    db = _store(tmp_path)
    out = tmp_path / "report.html"
    res = CliRunner().invoke(detect, ["relocations", "--db", db, "--format", "html", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    text = out.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # nothing fetched from anywhere
    assert "严重失信企业易地开张线索报告" in text and "按模式统计" in text
    svgs = re.findall(r"<svg.*?</svg>", text, flags=re.S)
    assert len(svgs) == 3 and all("<text" in s for s in svgs)  # text kept as text (svg.fonttype none)
    assert "原班人马" in svgs[0]
    dom = subprocess.run([_chromium(), *OFFLINE, "--dump-dom", out.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert dom.count('class="net"') == 3
    assert dom.count('data-ready="1"') == 3 and dom.count("<canvas") >= 3  # every graph drawn and laid out
    shot = tmp_path / "report.png"
    subprocess.run([_chromium(), *OFFLINE, "--window-size=1200,1800", f"--screenshot={shot}", out.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000


def test_case_page_and_subgraph(tmp_path):
    db = _store(tmp_path)
    store = open_store(db)
    try:
        view = store.view()
        case = detect_relocations(view).cases[0]
        sub = case_subgraph(view, case)
        assert {case.old, case.new} <= set(sub.parties) and len(sub.links) == 2
        page = case_page(view, case)
    finally:
        store.close()
    path = tmp_path / "case.html"
    path.write_text(page, encoding="utf-8")
    dom = subprocess.run([_chromium(), *OFFLINE, "--dump-dom", path.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert 'data-ready="1"' in dom and case.new_name in dom


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_empty_store_runs(tmp_path, fmt):
    db = tmp_path / "empty.sqlite"
    open_store(db).close()
    res = CliRunner().invoke(detect, ["relocations", "--db", str(db), "--format", fmt, "--quiet"])
    assert res.exit_code == 0, res.output
