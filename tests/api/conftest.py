"""Live servers for the API tests: uvicorn on a loopback port in a thread, a demo store, keys per role,
and a webhook receiver on loopback."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.auth import ApiSettings, create_key
from graph.backends.memory import open_store

AS_OF = "2025-06-30"  # the demo generator's reference date


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,000-firm demo data set (with ground_truth.json)."""
    from ingest.demo import generate

    out = tmp_path_factory.mktemp("demo") / "files"
    generate(out, firms=1000, progress=False, xlsx=False)
    return out


@pytest.fixture(scope="session")
def template_db(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo set ingested once; servers work on copies."""
    from ingest.pipeline import ingest_paths

    path = tmp_path_factory.mktemp("template") / "store.sqlite"
    store = open_store(path)
    ingest_paths(store, [str(demo_dir)], progress=False)
    store.close()
    return path


@pytest.fixture(scope="session")
def truth(demo_dir: Path) -> dict[str, Any]:
    """The demo set's ground truth."""
    return json.loads((demo_dir / "ground_truth.json").read_text(encoding="utf-8"))


@dataclass
class Live:
    """A running server: its URL, app, store and one key per role."""

    base: str
    app: Any
    store: Any
    server: uvicorn.Server
    thread: threading.Thread
    keys: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = None, **kw: Any) -> httpx.Client:
        headers = {"X-API-Key": self.keys[role]} if role else {}
        headers.update(kw.pop("headers", {}))
        return httpx.Client(base_url=self.base, headers=headers, timeout=60, **kw)

    @property
    def ctx(self) -> Any:
        return self.app.state.api

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.ctx.db.close()
        self.store.close()


def start_server(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Start uvicorn for ``app`` on a free loopback port in a thread; return it and its URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def launch(template: Path, folder: Path, **overrides: Any) -> Live:
    """Copy the template store into ``folder``, build the app over it and serve it."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "store.sqlite"
    shutil.copy(template, db)
    store = open_store(db)
    values: dict[str, Any] = {"db": str(db), "rate_per_second": 10_000.0, "rate_burst": 10_000,
                              "webhook_backoff_seconds": 0.2, "webhook_poll_seconds": 0.1, "prebuild_index": False,
                              "webhook_allow_private": True}  # the test receiver listens on loopback
    values.update(overrides)
    app = create_app(ApiSettings(**values), store=store)
    keys = {}
    for role in ("investigator", "supervision_system", "admin"):
        keys[role] = create_key(app.state.api.db, role, f"test-{role}")[1]
    server, thread, base = start_server(app)
    return Live(base, app, store, server, thread, keys)


@pytest.fixture(scope="module")
def live(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A server over a copy of the demo store (reads only: tests that write start their own)."""
    server = launch(template_db, tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


@pytest.fixture
def fresh(template_db: Path, tmp_path: Path) -> Iterator[Live]:
    """A server of its own over a fresh copy (for tests that write or change limits)."""
    servers: list[Live] = []
    yield _Factory(template_db, tmp_path, servers)  # type: ignore[misc]
    for s in servers:
        s.stop()


class _Factory:
    def __init__(self, template: Path, tmp: Path, servers: list[Live]) -> None:
        self.template, self.tmp, self.servers = template, tmp, servers

    def __call__(self, **overrides: Any) -> Live:
        s = launch(self.template, self.tmp / f"s{len(self.servers)}", **overrides)
        self.servers.append(s)
        return s


@dataclass
class Receiver:
    """A webhook receiver on loopback: answers with ``statuses`` in turn (then 200) and keeps requests."""

    url: str
    requests: list[dict[str, Any]]
    statuses: list[int]
    server: ThreadingHTTPServer

    def wait(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.requests


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback HTTP receiver whose first answer is 503."""
    got: list[dict[str, Any]] = []
    statuses = [503]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = statuses.pop(0) if statuses else 200
            got.append({"headers": dict(self.headers), "body": body, "answered": status, "path": self.path})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", got, statuses, server)
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
