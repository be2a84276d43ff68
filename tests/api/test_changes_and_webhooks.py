"""Changes through the API (repair, objection, resolution, ingest) and the webhooks they trigger."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest

from api.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from graph.model import LinkKind, RecordKind
from tests.api.conftest import AS_OF, Live, Receiver


def _wait(pred: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.05)
    return pred()


def test_repair_objection_and_resolution(fresh: Any, truth: dict[str, Any]) -> None:
    live = fresh()
    black = next(e for e in truth["punishment"]["entries"] if e["active"] and e["list_type"] == "严重失信主体名单")
    view = live.store.view()
    entry = next(r for r in view.records("org:" + black["uscc"], kinds=[RecordKind.LIST_ENTRY])
                 if r.attrs.get("decision_no") == black["decision_no"])
    with live.client("investigator") as c:
        before = c.get(f"/api/v1/risk/{black['uscc']}").json()
        assert before["grade"] == "D"
        obj = c.post(f"/api/v1/records/{entry.id}/objections", json={"date": "2025-07-01", "claim": "认定有误"})
        assert obj.status_code == 201 and obj.json()["entry"]["state"] == "active"
        oid = obj.json()["record"]["id"]
        assert "异议处理中" in c.get(f"/api/v1/risk/{black['uscc']}").text
        res = c.post(f"/api/v1/objections/{oid}/resolution", json={"date": "2025-08-01", "outcome": "rejected"})
        assert res.status_code == 201 and res.json()["entry"]["state"] == "active"
        bad = c.post(f"/api/v1/list-entries/{entry.id}/repair", json={"date": "1999-01-01", "by": "发改委"})
        assert bad.status_code == 422 and bad.json()["field"] == "date"
        rep = c.post(f"/api/v1/list-entries/{entry.id}/repair", json={"date": "2025-09-01", "by": "发改委"})
        assert rep.status_code == 201 and rep.json()["entry"]["state"] == "repaired"
        after = c.get(f"/api/v1/risk/{black['uscc']}").json()  # the index follows the new store version
        assert not any(w["code"] == "R001" for w in after["warnings"])
        replay = c.get(f"/api/v1/risk/{black['uscc']}", params={"as_of": AS_OF}).json()
        assert any(w["code"] == "R001" for w in replay["warnings"])  # history kept
        wrong = c.post(f"/api/v1/objections/{entry.id}/resolution", json={"date": "2025-08-01", "outcome": "upheld"})
        assert wrong.status_code == 422 and wrong.json()["field"] == "objection_id"
        # what the entry's state no longer allows: refused, naming why
        again = c.post(f"/api/v1/list-entries/{entry.id}/repair", json={"date": "2025-10-01", "by": "发改委"})
        assert again.status_code == 409 and again.json()["field"] == "entry_id" and "2025-09-01" in again.text
        twice = c.post(f"/api/v1/objections/{oid}/resolution", json={"date": "2025-08-02", "outcome": "upheld"})
        assert twice.status_code == 409 and twice.json()["field"] == "objection_id"
        future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        ahead = c.post(f"/api/v1/records/{entry.id}/objections", json={"date": future, "claim": "再次异议"})
        assert ahead.status_code == 422 and ahead.json()["field"] == "date"
        early = c.post(f"/api/v1/records/{entry.id}/objections", json={"date": "1999-01-01", "claim": "再次异议"})
        assert early.status_code == 422 and early.json()["field"] == "date"
    with live.client("admin") as adm:
        changes = [r for r in adm.get("/api/v1/audit").json()["items"] if r["action"] == "change"]
    assert {r["endpoint"] for r in changes} >= {"/api/v1/list-entries/{entry_id}/repair",
                                                 "/api/v1/records/{record_id}/objections",
                                                 "/api/v1/objections/{objection_id}/resolution"}


def test_checks_while_the_index_catches_up_are_answered_at_once(fresh: Any) -> None:
    """Records written from outside the API (another process, such as ``creditgraph ingest``):
    the next check is answered at once from the index of the state just before, saying it is
    one change behind, while the new index builds in the background; then the new state is
    answered. A change of links waits for the new index instead. A change through the API is
    read by the next check of anyone (the writer waits for the index)."""
    from graph.model import PartyKind
    from tests.factories import link, list_entry

    live = fresh(webhooks_enabled=False)  # webhook processing after a change would build the index too
    view = live.store.view()
    with live.client("supervision_system") as c:
        firm = next(p for p in view.iter_parties([PartyKind.ENTERPRISE])
                    if p.code and c.get(f"/api/v1/risk/{p.code}").json()["grade"] == "A")
        entry = list_entry(firm, (dt.date.today() - dt.timedelta(days=30)).isoformat())
        with live.store.writer() as w:  # not through the API: nothing rebuilds the index now
            w.put_records([entry])
        first = c.get(f"/api/v1/risk/{firm.code}").json()
        assert first["behind"] == 1 and first["grade"] == "A"  # the state just before the entry
        after = _wait(lambda: (r := c.get(f"/api/v1/risk/{firm.code}").json())["behind"] == 0 and r)
        assert after["grade"] == "D" and any(w["code"] == "R001" for w in after["warnings"])
        batch = c.post("/api/v1/risk/check", json={"items": [{"key": firm.code}]}).json()
        assert batch["results"][0]["report"]["behind"] == 0 and batch["results"][0]["report"]["grade"] == "D"

        # links changed: no earlier index answers, the check waits for the new one
        other = next(p for p in view.iter_parties([PartyKind.ENTERPRISE]) if p.code and p.key != firm.key)
        with live.store.writer() as w:
            w.put_links([link(LinkKind.SHAREHOLDER, firm, other, "2020-01-01", ratio=0.6)])
        assert live.ctx.risk.earlier(live.store.view(), dt.date.today(), 3, lambda: None) is None
        linked = c.get(f"/api/v1/risk/{other.code}").json()
        assert linked["behind"] == 0 and any(w["counterpart"] == firm.key for w in linked["warnings"])

    # through the API: the writer waits, and the very next check reads the change
    with live.client("investigator") as c:
        rep = c.post(f"/api/v1/list-entries/{entry.id}/repair", json={"date": dt.date.today().isoformat(),
                                                                        "by": "发改委"})
        assert rep.status_code == 201, rep.text
    with live.client("supervision_system") as c:
        now = c.get(f"/api/v1/risk/{firm.code}").json()
        assert now["behind"] == 0 and not any(w["code"] == "R001" for w in now["warnings"])


def _pair(live: Live) -> tuple[Any, Any]:
    """Two firms sharing a legal representative, neither listed nor warned about the other."""
    view = live.store.view()
    today = dt.date.today()
    listed = {r.subject for r in view.records(kinds=[RecordKind.LIST_ENTRY, RecordKind.COURT_DISHONEST])}
    by_rep: dict[str, list[str]] = {}
    for lk in view.iter_links([LinkKind.LEGAL_REPRESENTATIVE]):
        if lk.active(today) and lk.dst.startswith("org:") and lk.src.startswith("per:"):
            by_rep.setdefault(lk.src, []).append(lk.dst)
    for firms in by_rep.values():
        clean = [f for f in sorted(set(firms)) if f not in listed]
        if len(clean) >= 2:
            x, y = view.party(clean[0]), view.party(clean[1])
            if x is not None and y is not None and y.region:
                return x, y
    raise AssertionError("no pair of firms with a shared legal representative")


def test_ingest_triggers_signed_webhooks_with_retry(fresh: Any, receiver: Receiver) -> None:
    live = fresh()
    x, y = _pair(live)
    with live.client("supervision_system") as sup, live.client("admin") as adm:
        by_key = sup.post("/api/v1/webhooks", json={"url": receiver.url + "?sub=key", "keys": [y.code],
                                                    "secret": "0123456789abcdef-key"})
        assert by_key.status_code == 201, by_key.text
        hook = by_key.json()
        assert hook["secret"] == "0123456789abcdef-key" and hook["keys"] == [y.key]
        by_region = adm.post("/api/v1/webhooks", json={"url": receiver.url + "?sub=region", "regions": [y.region[:4]]})
        assert by_region.status_code == 201 and len(by_region.json()["secret"]) >= 16
        assert [h["id"] for h in sup.get("/api/v1/webhooks").json()["items"]] == [hook["id"]]  # own only
        assert len(adm.get("/api/v1/webhooks").json()["items"]) == 2
        assert sup.post("/api/v1/webhooks", json={"url": "ftp://x", "keys": [y.code]}).status_code == 422
        assert sup.post("/api/v1/webhooks", json={"url": receiver.url, "regions": ["4x"]}).json()["field"] == "regions"
        row = ("严重失信主体名单", x.name, x.code, "", "", "", "拒不履行法定义务", "《测试条例》", "测试市发展和改革委员会",
               "测发改信用〔2025〕1号", "2025-01-02", "", "", "", "2024-12-01")
        header = "名单类型,主体名称,统一社会信用代码,证件号码,法定代表人,法定代表人证件号码,列入事由,认定依据,认定部门,决定文号,列入日期,有效期至,移出日期,移出原因,行为发生日期"
        csv = (header + "\n" + ",".join(row) + "\n" + "严重失信主体名单,坏行,12345,,,,,,,,2025-01-02,,,,\n").encode()
        up = adm.post("/api/v1/ingest", files={"files": ("new_list.csv", csv, "text/csv")})
        assert up.status_code == 200, up.text
        assert up.json()["summary"]["loaded"] >= 1 and up.json()["rejections"]
        got = receiver.wait(3)
        assert _wait(lambda: any(r["path"].endswith("sub=key") and r["answered"] == 200 for r in got)), got
        assert _wait(lambda: any(r["path"].endswith("sub=region") and r["answered"] == 200 for r in got)), got
        key_posts = [r for r in got if r["path"].endswith("sub=key")]
        first = got[0]
        assert first["answered"] == 503  # the receiver failed the first attempt; a retry followed
        for r in key_posts:
            assert verify_signature("0123456789abcdef-key", r["body"], r["headers"][SIGNATURE_HEADER])
            assert abs(int(r["headers"][TIMESTAMP_HEADER]) - time.time()) < 120
        payload = json.loads(key_posts[-1]["body"])
        assert payload["event"] == "warning" and payload["subject"]["key"] == y.key
        assert any(w["counterpart"] in (x.key,) or x.key in json.dumps(w, ensure_ascii=False) or
                   w["counterpart"].startswith("per:") for w in payload["warnings"])
        assert "**********" in key_posts[-1]["body"].decode()  # a supervision system's payload is masked
        deliveries = _wait(lambda: [d for d in sup.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"]
                                    if d["status"] == "delivered"])
        assert deliveries and deliveries[0]["last_status"] == 200
        retried = [d for d in (deliveries + adm.get(f"/api/v1/webhooks/{by_region.json()['id']}/deliveries")
                               .json()["items"]) if d["attempts"] == 2]
        assert retried
        attempts = live.ctx.webhooks.attempts(retried[0]["id"])
        assert [(a["attempt"], a["status"], a["error"]) for a in attempts] == [(1, 503, "HTTP 503"), (2, 200, "")]
        ids = {r["headers"]["X-Creditgraph-Delivery"] for r in got}
        assert len(ids) == len({(r["path"], r["headers"]["X-Creditgraph-Delivery"]) for r in got})
        # a push discloses its party as a read does: on the audit trail, under the subscriber
        pushes = [r for r in adm.get("/api/v1/audit", params={"limit": 500}).json()["items"]
                  if r["endpoint"] == "/api/v1/webhooks (push)"]
        assert any(r["key"] == y.key and r["who"] == hook["owner"] for r in pushes), pushes
        assert sup.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 200
        assert sup.get("/api/v1/webhooks").json()["items"] == []


def test_run_pending_now_and_give_up_after_max_attempts(fresh: Any, receiver: Receiver) -> None:
    live = fresh(webhooks_enabled=False, webhook_max_attempts=2, webhook_backoff_seconds=3600)
    receiver.statuses[:] = [500, 500, 500]
    x, y = _pair(live)
    svc = live.ctx.webhooks
    with live.client("supervision_system") as sup:
        hook = sup.post("/api/v1/webhooks", json={"url": receiver.url, "keys": [y.code]}).json()
    sub = {"id": hook["id"], "owner_role": "supervision_system"}
    did = svc.enqueue(sub, "warning", {"event": "warning", "subject": {"key": y.key}, "warnings": []})
    assert svc.run_pending_sync() == 1  # due now
    assert svc.run_pending_sync(force=False) == 0  # the retry is an hour away
    assert svc.run_pending_sync(force=True) == 1  # unless forced
    with live.client("supervision_system") as sup:
        d = next(d for d in sup.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"] if d["id"] == did)
    assert (d["status"], d["attempts"], d["last_status"], d["last_error"]) == ("failed", 2, 500, "HTTP 500")
    assert len(receiver.requests) == 2 and x.key != y.key


def test_tomorrows_index_is_built_before_midnight(fresh: Any) -> None:
    """The server builds the next day's risk index ahead of midnight (on clocks given here),
    reusing the link columns, so the first checks of a day do not wait for a build."""
    import threading

    from api.app import prebuild_each_day

    live = fresh(webhooks_enabled=False)
    risk = live.ctx.risk
    today = dt.date.today()
    tomorrow = today + dt.timedelta(days=1)
    first = risk.index(live.store.view(), today, 3)
    loops: list[tuple[threading.Thread, threading.Event]] = []

    def start(at: dt.time) -> None:
        stop = threading.Event()
        loop = threading.Thread(target=prebuild_each_day, args=(live.ctx.risk, live.store, stop),
                                kwargs={"now": lambda: dt.datetime.combine(today, at), "lead": dt.timedelta(minutes=10)})
        loop.start()
        loops.append((loop, stop))

    try:
        start(dt.time(23, 45))  # 15 minutes to midnight: it waits
        time.sleep(0.3)
        assert risk.ready(live.store.view(), tomorrow, 3) is None
        start(dt.time(23, 55))  # within the lead: it builds
        built = _wait(lambda: risk.ready(live.store.view(), tomorrow, 3))
        assert built is not None and built.as_of == tomorrow
        assert built.arrays is first.arrays  # the link columns carried over, not read again
        with live.client("supervision_system") as c:
            firm = next(p for p in live.store.view().iter_parties() if p.code and p.key.startswith("org:"))
            got = c.get(f"/api/v1/risk/{firm.code}", params={"as_of": tomorrow.isoformat()})
            assert got.status_code == 200 and got.json()["method"] == "index"
        assert risk.ready(live.store.view(), tomorrow, 3) is built  # answered from it, not rebuilt
    finally:
        for loop, stop in loops:
            stop.set()
            loop.join(5)
    assert not any(loop.is_alive() for loop, _ in loops)  # a stop ends the wait at once



def test_webhooks_go_to_public_addresses_only(fresh: Any) -> None:
    """A subscriber may not make the server POST party data to internal hosts (SSRF)."""
    live = fresh(webhook_allow_private=False)
    x, y = _pair(live)
    with live.client("supervision_system") as sup:
        for url in ("http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:8080/hook", "http://10.0.0.5/hook",
                    "http://localhost/hook", "ftp://example.org/hook"):
            refused = sup.post("/api/v1/webhooks", json={"url": url, "keys": [y.code]})
            assert refused.status_code == 422 and refused.json()["field"] == "url", (url, refused.text)


def test_a_delivery_goes_to_the_address_vetted_not_one_resolved_later(fresh: Any, receiver: Receiver,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the host resolves to a public address when checked and to loopback after.
    The delivery connects to the vetted address, naming the subscriber's host in the Host
    header (and, for https, in TLS), so a second resolution is never made."""
    import asyncio
    import socket

    import httpx

    real = socket.getaddrinfo
    asked: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        if host != "rebind.test":
            return real(host, port, *args, **kw)
        asked.append(host)
        address = "93.184.216.34" if len(asked) <= 2 else "127.0.0.1"  # the subscription's and the send's checks
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port)))]

    sent: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    async def post(self: Any, url: Any, **kw: Any) -> Any:
        # where the request would connect: recorded, then refused (no public network here)
        sent.append((str(url), dict(kw.get("headers") or {}), dict(kw.get("extensions") or {})))
        raise httpx.ConnectError("no public network in tests")

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(httpx.AsyncClient, "post", post)
    live = fresh(webhooks_enabled=False, webhook_allow_private=False)
    _, y = _pair(live)
    port = int(receiver.url.split(":")[2].split("/")[0])
    with live.client("supervision_system") as sup:
        hook = sup.post("/api/v1/webhooks", json={"url": f"http://rebind.test:{port}/hook", "keys": [y.code]})
        assert hook.status_code == 201, hook.text
    svc = live.ctx.webhooks
    svc.enqueue({"id": hook.json()["id"], "owner_role": "supervision_system"}, "warning",
                {"event": "warning", "subject": {"key": y.key}, "warnings": []})
    assert svc.run_pending_sync() == 1
    assert len(sent) == 1 and len(asked) == 2
    url, headers, extensions = sent[0]
    assert url == f"http://93.184.216.34:{port}/hook" and headers["Host"] == f"rebind.test:{port}", sent
    assert extensions == {} and receiver.requests == []
    from api.webhooks import pinned_request

    assert pinned_request("https://Bücher.example:8443/h?x=1", "2001:db8::1") == (
        "https://[2001:db8::1]:8443/h?x=1", "xn--bcher-kva.example:8443", {"sni_hostname": "xn--bcher-kva.example"})
    assert pinned_request("http://hooks.example/h", "93.184.216.34") == ("http://93.184.216.34/h", "hooks.example", {})
    assert pinned_request("https://[2606:4700::1]:8443/h", "2606:4700::1") == (
        "https://[2606:4700::1]:8443/h", "[2606:4700::1]:8443", {})  # an IP host: no SNI name, Host in brackets
    # a pinned request as the worker really sends it: to the address, the host named in Host
    monkeypatch.undo()
    target, host, extensions = pinned_request(f"http://hooks.example:{port}/hook", "127.0.0.1")

    async def send() -> None:
        async with httpx.AsyncClient() as client:
            await client.post(target, content=b"{}", headers={"Host": host}, extensions=extensions)

    asyncio.run(send())
    assert receiver.requests[-1]["headers"]["Host"] == f"hooks.example:{port}"


def test_two_clerks_resolving_one_objection_at_once_get_one_201_and_one_409(fresh: Any, truth: dict[str, Any],
                                                                           monkeypatch: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import api.routes.actions as actions

    checked = actions.check_action

    def slow_check(*args: Any, **kw: Any) -> None:  # widen the window between check and write
        checked(*args, **kw)
        time.sleep(0.3)

    monkeypatch.setattr(actions, "check_action", slow_check)
    live = fresh()
    black = next(e for e in truth["punishment"]["entries"] if e["active"] and e["list_type"] == "严重失信主体名单")
    entry = next(r for r in live.store.view().records("org:" + black["uscc"], kinds=[RecordKind.LIST_ENTRY])
                 if r.attrs.get("decision_no") == black["decision_no"])
    with live.client("investigator") as c:
        oid = c.post(f"/api/v1/records/{entry.id}/objections", json={"date": "2025-07-01", "claim": "认定有误"}).json()
    outcomes = ["upheld", "rejected"] * 4

    def resolve(outcome: str) -> int:
        with live.client("investigator") as c:
            return c.post(f"/api/v1/objections/{oid['record']['id']}/resolution",
                          json={"date": "2025-08-01", "outcome": outcome}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(resolve, outcomes))
    assert codes == [201] + [409] * 7


def test_a_clerk_at_the_api_and_one_at_the_cli_resolving_one_objection_record_one(fresh: Any, truth: dict[str, Any],
                                                                                    monkeypatch: Any) -> None:
    """The check and the write of an action share one write batch, across processes too: the
    CLI (another process) waits for the API's batch, then finds the objection resolved."""
    import subprocess
    import sys
    import threading

    import api.routes.actions as actions

    live = fresh(webhooks_enabled=False)

    def cli(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-c", "from api.cli import main; main()", *args,
                               "--db", str(live.store.path)], capture_output=True, text=True, timeout=120)
        return done, time.monotonic() - started

    # how long the CLI takes to reach its check here (imports, opening the store, one read)
    probe, startup = cli("resolve-objection", "no-such-objection", "--date", "2025-08-02", "--outcome", "rejected")
    assert probe.returncode != 0 and "no objection" in probe.stdout + probe.stderr
    checked = actions.check_action
    inside = threading.Event()

    def slow_check(*args: Any, **kw: Any) -> None:  # a window the CLI process starts and checks in
        checked(*args, **kw)
        inside.set()
        time.sleep(max(3.0, 3 * startup))

    monkeypatch.setattr(actions, "check_action", slow_check)
    black = next(e for e in truth["punishment"]["entries"] if e["active"] and e["list_type"] == "严重失信主体名单")
    entry = next(r for r in live.store.view().records("org:" + black["uscc"], kinds=[RecordKind.LIST_ENTRY])
                 if r.attrs.get("decision_no") == black["decision_no"])
    with live.client("investigator") as c:
        oid = c.post(f"/api/v1/records/{entry.id}/objections", json={"date": "2025-07-01", "claim": "认定有误"}
                     ).json()["record"]["id"]
    got: list[tuple[int, float]] = []

    def at_the_api() -> None:
        with live.client("investigator") as c:
            status = c.post(f"/api/v1/objections/{oid}/resolution", json={"date": "2025-08-01", "outcome": "upheld"}
                            ).status_code
        got.append((status, time.monotonic()))

    clerk = threading.Thread(target=at_the_api)
    clerk.start()
    assert inside.wait(30)
    cli_started = time.monotonic()
    second, _ = cli("resolve-objection", oid, "--date", "2025-08-02", "--outcome", "rejected")
    clerk.join(60)
    assert [status for status, _ in got] == [201]
    # the CLI reached its check while the API's batch was still open (else this proves nothing)
    assert cli_started + 1.5 * startup < got[0][1], (startup, got[0][1] - cli_started)
    assert second.returncode != 0 and "already resolved" in second.stdout + second.stderr, (second.stdout,
                                                                                             second.stderr)
    done = [r for r in live.store.view().records_targeting(oid) if r.kind == RecordKind.OBJECTION_RESOLUTION]
    assert [(r.start, r.attrs["outcome"]) for r in done] == [(dt.date(2025, 8, 1), "upheld")]

