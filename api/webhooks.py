"""Webhooks: supervision systems subscribe to keys or regions and receive new warnings as signed POSTs.

After a change made through the API (repair, objection, resolution, ingest) :meth:`WebhookService.process_change`
computes the warnings of every subscribed key, and of the parties in a subscribed region
(division code prefix) near the parties that became punished, against what each
subscription has already seen; what is new is queued as a delivery. A background asyncio
task (:meth:`WebhookService.worker`) POSTs due deliveries with httpx and retries failures
with exponential backoff; every attempt is recorded. :meth:`WebhookService.run_pending`
(or ``run_pending_sync``) delivers what is pending now, for tests and operators.

Each POST carries the raw JSON body, ``X-Creditgraph-Signature: sha256=<hex>`` (HMAC-SHA256
of the raw body with the subscription's secret), ``X-Creditgraph-Timestamp`` (Unix seconds
of the attempt), ``X-Creditgraph-Event`` and ``X-Creditgraph-Delivery`` (the delivery id,
the same on every retry: receivers de-duplicate with it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from api.audit import AuditLog
from api.auth import ADMIN, ApiDatabase, ApiSettings, Principal, now_iso
from api.routes.common import RiskService, dump, mask_json, party_key
from graph.model import PartyKind
from graph.store import CreditGraphError, InvalidInput, NotFound

SIGNATURE_HEADER = "X-Creditgraph-Signature"
TIMESTAMP_HEADER = "X-Creditgraph-Timestamp"
MAX_REGION_CANDIDATES = 5000


def sign(secret: str, body: bytes) -> str:
    """Return the signature header value for ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    """True when ``header`` is the signature of ``body`` with ``secret`` (for receivers)."""
    return hmac.compare_digest(sign(secret, body), header or "")


def fingerprint(warning: dict[str, Any]) -> str:
    """What makes a warning the same warning: code, counterpart and source records."""
    sources = ",".join(sorted(s.get("record_id", "") for s in warning.get("sources", [])))
    return f"{warning.get('code')}|{warning.get('counterpart', '')}|{sources}"


class WebhookService:
    """Subscriptions, change processing and delivery."""

    def __init__(self, db: ApiDatabase, settings: ApiSettings, risk: RiskService, store: Any) -> None:
        self.db = db
        self.settings = settings
        self.risk = risk
        self.store = store
        self._sources: set[str] | None = None
        self._change_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._relocations_seen: set[str] | None = None

    # -- subscriptions ----------------------------------------------------------------------
    def subscribe(self, principal: Principal, url: str, keys: list[str], regions: list[str], events: list[str],
                  secret: str | None) -> dict[str, Any]:
        """Create a subscription; the current warnings of its keys are its baseline (not sent)."""
        check_url(url, allow_private=self.settings.webhook_allow_private)
        norm = []
        for i, k in enumerate(keys):
            norm.append(party_key(k, f"keys[{i}]"))
        wid = "wh_" + secrets.token_hex(6)
        secret = secret or secrets.token_urlsafe(24)
        created = now_iso()
        view = self.store.view()
        day = dt.date.today()
        index = self.risk.index(view, day, 3)
        state = []
        for k in dict.fromkeys(norm):
            try:
                report = self.risk.report(view, k, day, 3, index)
            except NotFound:
                state.append((wid, k, "[]"))
                continue
            fps = sorted(fingerprint(w) for w in report.as_dict()["warnings"])
            state.append((wid, report.key, orjson.dumps(fps).decode()))
        if self._sources is None:
            self._sources = set(index.reasons)
        self.db.execute("INSERT INTO webhooks(id, owner, owner_role, url, secret, keys, regions, events, created) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (wid, principal.id, principal.role, url, secret, orjson.dumps(norm).decode(),
                         orjson.dumps(regions).decode(), orjson.dumps(events).decode(), created))
        if state:
            self.db.executemany("INSERT OR REPLACE INTO webhook_state(webhook, key, fingerprints) VALUES (?, ?, ?)",
                                state)
        out = self._row(self.db.execute(f"SELECT {_COLS} FROM webhooks WHERE id = ?", (wid,))[0])
        out["secret"] = secret
        return out

    def list_for(self, principal: Principal) -> list[dict[str, Any]]:
        """Return the caller's live subscriptions (an admin sees all)."""
        if principal.role == ADMIN:
            rows = self.db.execute(f"SELECT {_COLS} FROM webhooks WHERE deleted IS NULL ORDER BY created")
        else:
            rows = self.db.execute(f"SELECT {_COLS} FROM webhooks WHERE deleted IS NULL AND owner = ? ORDER BY created",
                                   (principal.id,))
        return [self._row(r) for r in rows]

    def _owned(self, principal: Principal, wid: str) -> dict[str, Any]:
        rows = self.db.execute(f"SELECT {_COLS} FROM webhooks WHERE id = ? AND deleted IS NULL", (wid,))
        if not rows or (principal.role != ADMIN and rows[0][1] != principal.id):
            raise NotFound(f"no webhook {wid} of yours")
        return self._row(rows[0])

    def delete(self, principal: Principal, wid: str) -> dict[str, Any]:
        """Stop a subscription (its delivery history is kept)."""
        row = self._owned(principal, wid)
        self.db.execute("UPDATE webhooks SET deleted = ? WHERE id = ?", (now_iso(), wid))
        return row

    def deliveries(self, principal: Principal, wid: str, limit: int = 100) -> list[dict[str, Any]]:
        """Return a subscription's deliveries, newest first."""
        self._owned(principal, wid)
        rows = self.db.execute(
            "SELECT id, webhook, event, status, attempts, last_status, last_error, created, delivered FROM deliveries "
            "WHERE webhook = ? ORDER BY created DESC, id DESC LIMIT ?", (wid, limit))
        keys = ("id", "webhook", "event", "status", "attempts", "last_status", "last_error", "created", "delivered")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def attempts(self, delivery: str) -> list[dict[str, Any]]:
        """Return every attempt of a delivery."""
        rows = self.db.execute("SELECT attempt, at, status, error, ms FROM delivery_attempts WHERE delivery = ? "
                               "ORDER BY attempt", (delivery,))
        return [dict(zip(("attempt", "at", "status", "error", "ms"), r, strict=True)) for r in rows]

    @staticmethod
    def _row(r: tuple[Any, ...]) -> dict[str, Any]:
        return {"id": r[0], "owner": r[1], "owner_role": r[2], "url": r[3], "keys": orjson.loads(r[5]),
                "regions": orjson.loads(r[6]), "events": orjson.loads(r[7]), "created": r[8], "secret": None}

    def _live(self) -> list[tuple[Any, ...]]:
        return self.db.execute(f"SELECT {_COLS} FROM webhooks WHERE deleted IS NULL")

    # -- changes ----------------------------------------------------------------------------
    def prime(self) -> None:
        """Remember who is punished now (before a change), when anyone subscribed."""
        if self._sources is None and self._live():
            index = self.risk.index(self.store.view(), dt.date.today(), 3)
            self._sources = set(index.reasons)

    def process_change(self, reason: str) -> int:
        """Compute new warnings (and relocation cases) for the subscriptions after a change and
        queue their deliveries; return how many were queued. Also builds the new risk index."""
        with self._change_lock:
            view = self.store.view()
            day = dt.date.today()
            index = self.risk.index(view, day, 3)
            now_sources = set(index.reasons)
            before = self._sources if self._sources is not None else now_sources
            self._sources = now_sources
            subs = [self._row(r) | {"_secret": r[4]} for r in self._live()]
            if not subs:
                return 0
            newly = now_sources - before
            candidates: dict[str, str] = {}  # key -> region
            if newly and any(s["regions"] for s in subs):
                sub = view.neighbourhood(sorted(newly), 3, as_of=day, max_degree=self.risk_hard_cap(index))
                for k, p in sub.parties.items():
                    if p.kind.is_organisation or p.kind == PartyKind.PERSON:
                        candidates[k] = p.region or ""
                    if len(candidates) >= MAX_REGION_CANDIDATES:
                        break
            queued = 0
            reports: dict[str, dict[str, Any] | None] = {}
            for s in subs:
                if "warning" not in s["events"]:
                    continue
                keys = list(s["keys"])
                keys += [k for k, region in candidates.items()
                         if region and any(region.startswith(p) for p in s["regions"]) and k not in keys]
                for k in keys:
                    if k not in reports:
                        try:
                            reports[k] = self.risk.report(view, k, day, 3, index).as_dict()
                        except CreditGraphError:
                            reports[k] = None
                    rep = reports[k]
                    if rep is None:
                        continue
                    queued += self._diff_and_queue(s, rep, newly, reason)
            queued += self._relocations(view, subs, reason)
        if queued:
            self.wake()
        return queued

    @staticmethod
    def risk_hard_cap(index: Any) -> int:
        return int(index.config.hard_cap)

    def _diff_and_queue(self, s: dict[str, Any], rep: dict[str, Any], newly: set[str], reason: str) -> int:
        rows = self.db.execute("SELECT fingerprints FROM webhook_state WHERE webhook = ? AND key = ?",
                               (s["id"], rep["key"]))
        current = {fingerprint(w): w for w in rep["warnings"]}
        if rows:
            seen = set(orjson.loads(rows[0][0]))
        else:  # first look at this party (a region member): only what the change brought is new
            seen = {fp for fp, w in current.items()
                    if w.get("counterpart") not in newly and rep["key"] not in newly}
        new = [w for fp, w in current.items() if fp not in seen]
        self.db.execute("INSERT OR REPLACE INTO webhook_state(webhook, key, fingerprints) VALUES (?, ?, ?)",
                        (s["id"], rep["key"], orjson.dumps(sorted(current)).decode()))
        if not new:
            return 0
        payload = {"event": "warning", "webhook": s["id"], "reason": reason, "as_of": rep["as_of"],
                   "subject": {"key": rep["key"], "name": rep["name"], "kind": rep["kind"], "grade": rep["grade"],
                               "sampling_ratio": rep["sampling_ratio"]},
                   "warnings": new}
        self.enqueue(s, "warning", payload)
        return 1

    def _relocations(self, view: Any, subs: list[dict[str, Any]], reason: str) -> int:
        wanted = [s for s in subs if "relocation" in s["events"]]
        if not wanted:
            return 0
        from api.routes.relocations import relocation_cases

        try:
            cases = relocation_cases(view, None)
        except Exception:  # noqa: BLE001 - an unfinished detector must not stop warnings
            return 0
        if cases is None:
            return 0
        ids = {str(c.get("key") or dump(c)): c for c in cases}
        if self._relocations_seen is None:
            self._relocations_seen = set(ids)
            return 0
        fresh = {i: c for i, c in ids.items() if i not in self._relocations_seen}
        self._relocations_seen |= set(fresh)
        queued = 0
        for s in wanted:
            for c in fresh.values():
                parties = {c.get("old"), c.get("new")}
                regions = [str(c.get("old_region") or ""), str(c.get("new_region") or "")]
                if parties & set(s["keys"]) or any(r.startswith(p) for r in regions if r for p in s["regions"]):
                    self.enqueue(s, "relocation", {"event": "relocation", "webhook": s["id"], "reason": reason,
                                                   "case": c})
                    queued += 1
        return queued

    def enqueue(self, s: dict[str, Any], event: str, payload: dict[str, Any]) -> str:
        """Queue one delivery (masked for supervision systems) and return its id."""
        did = "dl_" + secrets.token_hex(8)
        payload = {"id": did, "created": now_iso(), **payload}
        if s.get("owner_role") == "supervision_system":
            payload = mask_json(orjson.loads(dump(payload)))
        self.db.execute("INSERT INTO deliveries(id, webhook, event, body, status, attempts, next_at, created) "
                        "VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)",
                        (did, s["id"], event, dump(payload), time.time(), now_iso()))
        # a push discloses parties as a read does: on the audit trail, under the subscriber
        case = payload.get("case") or {}
        keys = [str(k) for k in ((payload.get("subject") or {}).get("key"), case.get("old"), case.get("new")) if k]
        owner = str(s.get("owner") or "")
        AuditLog(self.db).append(principal=Principal(owner, owner, str(s.get("owner_role") or "")), ip="",
                                 method="POST", endpoint="/api/v1/webhooks (push)",
                                 path=f"{s.get('url') or s['id']} {did}", keys=keys, status=202)
        return did

    # -- delivery ---------------------------------------------------------------------------
    async def run_pending(self, *, force: bool = False) -> int:
        """POST the deliveries that are due (all pending ones with ``force``); return how many were tried."""
        if not self._send_lock.acquire(blocking=False):
            return 0
        try:
            where = "status = 'pending'" + ("" if force else " AND next_at <= ?")
            args: tuple[Any, ...] = () if force else (time.time(),)
            rows = self.db.execute(f"SELECT d.id, d.webhook, d.event, d.body, d.attempts, w.url, w.secret, w.deleted "
                                   f"FROM deliveries d JOIN webhooks w ON w.id = d.webhook WHERE {where} "
                                   f"ORDER BY d.created LIMIT 200", args)
            if not rows:
                return 0
            # Deliveries to vetted addresses (see pinned_request) open a connection each: pooled
            # connections are keyed by address, so two hosts behind one IP would share a TLS session
            # verified for the first; and no proxy from the environment (it would connect by name).
            pinned = not self.settings.webhook_allow_private
            async with httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds, trust_env=not pinned,
                                         limits=httpx.Limits(max_keepalive_connections=0) if pinned
                                         else httpx.Limits()) as client:
                for row in rows:
                    await self._attempt(client, *row)
            return len(rows)
        finally:
            self._send_lock.release()

    def run_pending_sync(self, *, force: bool = True) -> int:
        """Deliver what is pending now, from any thread (tests, operators)."""
        deadline = time.monotonic() + 30
        while True:
            got = asyncio.run(self._run_pending_locked(force))
            if got is not None or time.monotonic() > deadline:
                return got or 0
            time.sleep(0.02)

    async def _run_pending_locked(self, force: bool) -> int | None:
        if self._send_lock.locked():
            return None
        return await self.run_pending(force=force)

    async def _attempt(self, client: httpx.AsyncClient, did: str, wid: str, event: str, body: bytes, attempts: int,
                       url: str, secret: str, deleted: str | None) -> None:
        n = attempts + 1
        started = time.perf_counter()
        status: int | None = None
        error = ""
        if deleted:
            error = "subscription deleted"
        elif not self.settings.webhook_allow_private and (vetted := await _vetted(url))[0]:
            error = vetted[0]  # the host now resolves somewhere it may not go (checked again at each send)
        else:
            ts = str(int(time.time()))
            headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, bytes(body)),
                       TIMESTAMP_HEADER: ts, "X-Creditgraph-Event": event, "X-Creditgraph-Delivery": did,
                       "User-Agent": "creditgraph-webhooks/0.1"}
            try:
                if self.settings.webhook_allow_private:
                    resp = await client.post(url, content=bytes(body), headers=headers)
                else:
                    # connect to an address just vetted, not to whatever the name resolves to a
                    # moment later (DNS rebinding: public at the check, 127.0.0.1 at the connection)
                    resp = await _post_pinned(client, url, vetted[1], bytes(body), headers)
                status = resp.status_code
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        ms = (time.perf_counter() - started) * 1000
        self.db.execute("INSERT INTO delivery_attempts(delivery, attempt, at, status, error, ms) VALUES (?, ?, ?, ?, ?, ?)",
                        (did, n, now_iso(), status, error, ms))
        if not error:
            self.db.execute("UPDATE deliveries SET status = 'delivered', attempts = ?, last_status = ?, last_error = '', "
                            "delivered = ? WHERE id = ?", (n, status, now_iso(), did))
            return
        final = deleted or n >= self.settings.webhook_max_attempts
        delay = self.settings.webhook_backoff_seconds * (2 ** (n - 1))
        self.db.execute("UPDATE deliveries SET status = ?, attempts = ?, last_status = ?, last_error = ?, next_at = ? "
                        "WHERE id = ?", ("failed" if final else "pending", n, status, error, time.time() + delay, did))

    async def worker(self) -> None:
        """Deliver due deliveries until cancelled (woken early when something is queued)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while True:
            try:
                await self.run_pending()
            except Exception:  # noqa: BLE001 - keep delivering; the attempt rows say what failed
                pass
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.webhook_poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    def wake(self) -> None:
        """Wake the worker (from any thread)."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)


_COLS = "id, owner, owner_role, url, secret, keys, regions, events, created"

__all__ = ["WebhookService", "fingerprint", "sign", "verify_signature"]


def check_url(url: str, *, allow_private: bool = False) -> list[str]:
    """Refuse a webhook URL that is not http(s), or whose host is (or resolves to) a loopback,
    private, link-local or otherwise non-public address, unless ``allow_private``; return the
    addresses the host resolved to, all vetted (none when ``allow_private``: not resolved)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"url must be an http(s) URL with a host, not {url!r}", field="url")
    if allow_private:
        return []
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise InvalidInput(f"url host {parts.hostname!r} cannot be resolved: {exc}", field="url") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if isinstance(address, ipaddress.IPv6Address):
            # an IPv4 address carried inside IPv6 (mapped, NAT64 64:ff9b::/96, 6to4 2002::/16)
            # reaches that IPv4 host: judge that one
            if address.ipv4_mapped is not None:
                address = address.ipv4_mapped
            elif address in ipaddress.ip_network("64:ff9b::/96"):
                address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            elif address.sixtofour is not None:
                address = address.sixtofour
        if not address.is_global:
            raise InvalidInput(f"url host {parts.hostname!r} is a {'loopback' if address.is_loopback else 'private'} "
                               f"address ({address}): webhooks go to public addresses only", field="url")
    return [str(info[4][0]) for info in infos]


async def _vetted(url: str) -> tuple[str, list[str]]:
    """Why a delivery to ``url`` may not go out now ("" when it may), and the vetted addresses
    to send it to."""
    try:
        addresses = await asyncio.to_thread(check_url, url)
    except InvalidInput as exc:
        return f"refused: {exc}", []
    if not addresses:
        return f"refused: url host of {url!r} resolved to no address", []
    return "", list(dict.fromkeys(addresses))


async def _post_pinned(client: httpx.AsyncClient, url: str, addresses: list[str], body: bytes,
                       headers: dict[str, str]) -> httpx.Response:
    """POST to each vetted address in turn until one connects (as a client given the name would
    try each address it resolves to)."""
    for i, address in enumerate(addresses):
        target, host, extensions = pinned_request(url, address)
        try:
            return await client.post(target, content=body, headers={**headers, "Host": host}, extensions=extensions)
        except httpx.ConnectError:
            if i == len(addresses) - 1:
                raise
    raise httpx.ConnectError(f"no address to connect to for {url}")


def pinned_request(url: str, address: str) -> tuple[str, str, dict[str, Any]]:
    """Return the URL that connects to ``address`` in place of ``url``'s host, the Host header
    naming the host (IPv6 in brackets, no user info), and the request extensions that keep the
    host's name for TLS (SNI and certificate check; none for a host given as an IP address)."""
    given = httpx.URL(url)
    extensions: dict[str, Any] = {}
    if given.scheme == "https" and not _is_ip(given.host):
        extensions["sni_hostname"] = given.raw_host.decode("ascii")
    return str(given.copy_with(host=address)), given.netloc.decode("ascii"), extensions


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
