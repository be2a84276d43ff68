"""Headless Chromium against the served app: uvicorn on a loopback port over the 1,000-firm demo
store plus a few hand-made parties (a firm whose legal representative changed, a shareholding
chain, a firm with 200 links), one browser per module, logged in through the login form."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from api.auth import ApiSettings, create_key
from graph.backends.memory import open_store
from graph.model import LinkKind
from tests.api.conftest import demo_dir, start_server, template_db, truth  # noqa: F401 - fixtures reused here
from tests.factories import firm, link, person, write_graph

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@dataclass
class Planted:
    """The hand-made parties and the links the tests look for."""

    time_firm: str
    old_rep_link: str
    new_rep_link: str
    holding: str
    ultimate: str
    hub: str
    hub_links: int


@dataclass
class Site:
    """The served app: URL, app, store, one key per role, the planted parties."""

    base: str
    app: Any
    store: Any
    server: Any
    thread: Any
    planted: Planted
    keys: dict[str, str] = field(default_factory=dict)


def plant(store: Any) -> Planted:
    """Write the hand-made graph: legal representative changed on 2020-06-30, a 60 % × 50 % chain,
    and a firm with 200 links (the render-time case)."""
    f = firm("时点测试贸易有限公司", start="2012-03-01")
    old, new = person("钱旧法"), person("孙新任")
    parent = firm("控股母公司实业有限公司", start="2008-01-01")
    top = person("赵最终")
    old_rep = link(LinkKind.LEGAL_REPRESENTATIVE, old, f, "2012-03-01", "2020-06-30")
    new_rep = link(LinkKind.LEGAL_REPRESENTATIVE, new, f, "2020-06-30")
    links = [old_rep, new_rep, link(LinkKind.SHAREHOLDER, parent, f, "2012-03-01", ratio=0.6),
             link(LinkKind.SHAREHOLDER, new, f, "2020-06-30", ratio=0.4),
             link(LinkKind.SHAREHOLDER, top, parent, "2008-01-01", ratio=0.5)]
    hub = firm("百联众创科技有限公司", start="2016-05-01")
    people = [person(f"股东{i:03d}") for i in range(200)]
    for i, p in enumerate(people):
        if i < 150:
            links.append(link(LinkKind.SHAREHOLDER, p, hub, "2016-05-01", ratio=round(1 / 150, 4)))
        else:
            kind = (LinkKind.DIRECTOR, LinkKind.SUPERVISOR, LinkKind.SENIOR_MANAGER)[i % 3]
            links.append(link(kind, p, hub, f"{2016 + i % 8}-01-01", None if i % 4 else f"{2024}-01-01"))
    write_graph(store, [f, old, new, parent, top, hub, *people], links)
    return Planted(f.key, old_rep.id, new_rep.id, parent.key, top.key, hub.key, 200)


@pytest.fixture(scope="module")
def site(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:  # noqa: F811
    """The app over a copy of the demo store with the planted parties, served on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("pages")
    db = folder / "store.sqlite"
    shutil.copy(template_db, db)
    store = open_store(db)
    planted = plant(store)
    settings = ApiSettings(db=str(db), rate_per_second=10_000.0, rate_burst=10_000, prebuild_index=False,
                           webhooks_enabled=False)
    app = create_app(settings, store=store)
    keys = {role: create_key(app.state.api.db, role, f"页面测试-{role}")[1]
            for role in ("investigator", "supervision_system", "admin")}
    server, thread, base = start_server(app)
    yield Site(base, app, store, server, thread, planted, keys)
    server.should_exit = True
    thread.join(timeout=30)
    app.state.api.db.close()
    store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (no downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Watch:
    """Requests and script errors seen by a browser context."""

    base: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def outside(self) -> list[str]:
        """Requests to anything but the served app (data: and blob: URLs stay in the page)."""
        return [u for u in self.requests if not u.startswith((self.base + "/", "data:", "blob:"))]


def new_context(browser: Any, site: Site, watch: Watch) -> Any:
    """A browser context (zh-CN, laptop screen) that records every request and script error."""
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}, accept_downloads=True)
    ctx.on("request", lambda r: watch.requests.append(r.url))
    ctx.on("page", lambda page: page.on("pageerror", lambda e: watch.errors.append(str(e))))
    return ctx


def login(page: Any, site: Site, role: str) -> None:
    """Log in through the form: type the key, press Enter."""
    page.goto(site.base + "/ui/login")
    page.get_by_label("API 密钥").fill(site.keys[role])
    page.get_by_label("API 密钥").press("Enter")
    page.wait_for_url("**/ui/search")


@pytest.fixture(scope="module")
def watch(site: Site) -> Watch:
    """Everything the investigator's browser requested in this module."""
    return Watch(site.base)


@pytest.fixture(scope="module")
def investigator(browser: Any, site: Site, watch: Watch) -> Iterator[Any]:
    """A logged-in investigator's browser context (one login for the module)."""
    ctx = new_context(browser, site, watch)
    page = ctx.new_page()
    login(page, site, "investigator")
    page.close()
    yield ctx
    ctx.close()


@pytest.fixture
def page(investigator: Any, watch: Watch) -> Iterator[Any]:
    """A fresh tab of the investigator; afterwards: no request left 127.0.0.1, no script error."""
    p = investigator.new_page()
    p.set_default_timeout(20_000)
    yield p
    p.close()
    assert watch.outside() == []
    assert watch.errors == []
