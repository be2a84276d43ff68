"""The risk worker (a second process answering today's checks) gives the server's own answers,
never an answer of another store version, and only costs speed when it is gone."""

from __future__ import annotations

import datetime as dt
import gc
import os
import platform
import shutil
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from api import malloc_arena
from api.malloc_arena import ARENAS_SETTING, one_arena_env, use_one_arena
from api.masking import mask_body
from api.risk_worker import _frame, _read_message, serve_checks
from api.routes.common import GIL_SWITCH_INTERVAL, dump
from graph.backends.memory import open_store
from graph.model import PartyKind
from graph.store import NotFound
from queries.risk import check, direct_key
from queries.risk_index import RiskIndex
from tests.api.conftest import Live
from tests.api.test_changes_and_webhooks import _wait


def _serving(live: Live) -> None:
    with live.client() as c:
        assert _wait(lambda: c.get("/healthz").json()["risk_worker"] == "serving", timeout=90)


def _own_answer(live: Live, code: str, masked: bool) -> bytes:
    """The answer the server computes itself for today (its index, no worker, no cache)."""
    view = live.store.view()
    day = dt.date.today()
    index = live.ctx.risk.index(view, day, 3)
    body = dump(check(view, code, day, 3, index=index))
    return mask_body(body) if masked else body


def _firms(live: Live) -> list[str]:
    return _firms_of(live.store)


def _firms_of(store: Any) -> list[str]:
    return sorted({p.code for p in store.view().iter_parties([PartyKind.ENTERPRISE])
                   if p.code and p.code != "00000000000000000X"})  # a code two firms share: once


def test_worker_answers_are_the_servers_own_byte_for_byte(fresh: Any) -> None:
    live = fresh(risk_worker=True, webhooks_enabled=False)
    _serving(live)
    firms = _firms(live)[:400]
    got: dict[tuple[str, str], bytes] = {}
    for role in ("supervision_system", "investigator"):
        with live.client(role) as c:
            for code in firms:
                r = c.get(f"/api/v1/risk/{code}")
                assert r.status_code == 200, r.text
                got[role, code] = r.content
    # every one with a valid code came from the worker (none was cached: each firm once per role);
    # an invalid code is searched for, by the server as before
    direct = [code for code in firms if direct_key(code) is not None]
    assert len(direct) < len(firms)  # the demo's invalid codes are among them
    assert live.ctx.worker.answered == 2 * len(direct)
    for (role, code), body in got.items():
        assert body == _own_answer(live, code, role == "supervision_system"), (role, code)
    assert any(b'"warnings":[]' not in body for body in got.values())  # warned firms among them
    # the worker's errors are the server's: an unknown (valid) code is a 404 with the same message
    unknown = "91110000600037341L"
    assert unknown not in firms
    with live.client("supervision_system") as c:
        r = c.get(f"/api/v1/risk/{unknown}")
    assert r.status_code == 404 and r.json()["code"] == "NotFound"
    try:
        check(live.store.view(), unknown, dt.date.today(), 3)
    except NotFound as exc:
        assert r.json()["message"] == str(exc)
    else:
        raise AssertionError("the unknown code was found")
    # ... and audited like any check
    audit = live.ctx.db.execute("SELECT COUNT(*) FROM audit WHERE endpoint = '/api/v1/risk/{key}'")[0][0]
    assert audit == 2 * len(firms) + 1


def test_a_change_is_answered_at_once_and_the_worker_catches_up(fresh: Any, truth: dict[str, Any]) -> None:
    """A repair through the API: the very next check reads it (the worker, still on the version
    before, does not answer); the worker then rebuilds and answers the new state."""
    from graph.model import RecordKind

    live = fresh(risk_worker=True, webhooks_enabled=False)
    _serving(live)
    view = live.store.view()
    today = dt.date.today()
    entry = next(r for r in view.records(kinds=[RecordKind.LIST_ENTRY])
                 if r.end is None and "失信" in str(r.attrs) and r.subject.startswith("org:")
                 and (r.start or today) <= today)
    code = entry.subject.removeprefix("org:")
    with live.client("supervision_system") as c:
        before = c.get(f"/api/v1/risk/{code}").json()
        assert any(w["code"] == "R001" for w in before["warnings"])
        answered = live.ctx.worker.answered
        assert answered == 1
        with live.client("investigator") as writer:
            rep = writer.post(f"/api/v1/list-entries/{entry.id}/repair", json={"date": today.isoformat(), "by": "发改委"})
            assert rep.status_code == 201, rep.text
        now = c.get(f"/api/v1/risk/{code}")
        assert not any(w["code"] == "R001" for w in now.json()["warnings"]) and now.json()["behind"] == 0
        assert now.content == _own_answer(live, code, True)
        _serving(live)  # on the new version
        other = next(f for f in _firms(live) if f != code)
        again = c.get(f"/api/v1/risk/{other}")
    assert live.ctx.worker.answered == answered + 1
    assert again.content == _own_answer(live, other, True)


def test_a_dead_worker_costs_speed_not_answers(fresh: Any) -> None:
    live = fresh(risk_worker=True, webhooks_enabled=False)
    _serving(live)
    firms = _firms(live)[:50]
    live.ctx.worker._proc.kill()
    with live.client() as c:
        assert _wait(lambda: c.get("/healthz").json()["risk_worker"] == "stopped", timeout=30)
    with live.client("supervision_system") as c:
        for code in firms:
            r = c.get(f"/api/v1/risk/{code}")
            assert r.status_code == 200 and r.content == _own_answer(live, code, True)
    assert live.ctx.worker.answered == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_worker_allocates_from_one_malloc_arena(fresh: Any) -> None:
    # a new thread's first allocation in a fresh arena stalled a 1M server for ~200 ms (see
    # api.malloc_arena); the worker builds its indexes on threads, so it starts with one arena
    live = fresh(risk_worker=True, webhooks_enabled=False)
    _serving(live)
    environ = Path(f"/proc/{live.ctx.worker._proc.pid}/environ").read_bytes().split(b"\0")
    want = malloc_arena._PRESET or "1"  # an operator's value is kept
    assert f"{ARENAS_SETTING}={want}".encode() in environ
    assert os.environ.get(ARENAS_SETTING) == malloc_arena._PRESET  # the server's own environment as it was


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_one_arena_is_asked_of_glibc_unless_the_operator_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(malloc_arena, "_PRESET", "4")
    assert use_one_arena() is False
    with one_arena_env():
        assert os.environ.get(ARENAS_SETTING) is None  # not set by us: the child inherits the operator's
    monkeypatch.setattr(malloc_arena, "_PRESET", None)
    monkeypatch.delenv(ARENAS_SETTING, raising=False)
    assert use_one_arena() is True
    with one_arena_env():
        assert os.environ[ARENAS_SETTING] == "1"
    assert ARENAS_SETTING not in os.environ


def test_checks_get_the_gil_back_soon_while_an_index_builds(live: Live) -> None:
    # a rebuild thread held the GIL a whole default switch interval (5 ms) each time a check's
    # SQLite call let go of it: checks during a repair had a p99 of ~450 ms at 1M (90 at 0.2 ms)
    with live.client() as c:
        assert c.get("/healthz").status_code == 200
    assert sys.getswitchinterval() == pytest.approx(GIL_SWITCH_INTERVAL)


def test_the_worker_is_off_unless_asked_for(live: Live) -> None:
    with live.client() as c:
        assert c.get("/healthz").json()["risk_worker"] == "off"
    assert live.ctx.worker is None


def test_the_worker_builds_tomorrows_index_before_midnight(template_db: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """On a clock given here: at 23:55 the worker builds the next day's index; past midnight it
    says it serves the new day at once, from that index (no build after midnight), and answers."""
    db = tmp_path / "store.sqlite"
    shutil.copy(template_db, db)
    store = open_store(db)
    version = store.view().version()
    code = _firms_of(store)[0]
    store.close()
    today = dt.date.today()
    tomorrow = today + dt.timedelta(days=1)
    clock = [dt.datetime.combine(today, dt.time(23, 55))]
    built: list[tuple[dt.date, dt.datetime]] = []  # (as_of, the clock then) of every index build
    real = RiskIndex.build.__func__  # type: ignore[attr-defined]

    def counted(cls: Any, view: Any, as_of: dt.date, *args: Any, **kwargs: Any) -> Any:
        built.append((as_of, clock[0]))
        return real(cls, view, as_of, *args, **kwargs)

    monkeypatch.setattr(RiskIndex, "build", classmethod(counted))
    thresholds = gc.get_threshold()
    ours, theirs = socket.socketpair()
    ours.settimeout(60)
    worker = threading.Thread(target=serve_checks, args=(theirs, str(db), lambda: clock[0]), daemon=True)
    worker.start()
    try:
        assert _read_message(ours) == ("serving", (version, today.toordinal()))
        assert _wait(lambda: any(day == tomorrow for day, _ in built), timeout=60)
        clock[0] = dt.datetime.combine(tomorrow, dt.time(0, 0, 30))
        assert _read_message(ours) == ("serving", (version, tomorrow.toordinal()))
        assert [at for day, at in built if day == tomorrow] == [dt.datetime.combine(today, dt.time(23, 55))]
        ours.sendall(_frame([(1, code, tomorrow.toordinal(), 3, False, version)]))
        kind, answers = _read_message(ours)
        assert kind == "answers" and answers[0][0] == 1 and answers[0][1][0] == "ok"
        assert orjson.loads(answers[0][1][2])["as_of"] == tomorrow.isoformat()
    finally:
        ours.sendall(_frame(None))
        worker.join(timeout=30)
        ours.close()
        gc.set_threshold(*thresholds)
    assert not worker.is_alive()
