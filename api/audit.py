"""The audit trail: who looked at whom, who changed what, from where, with what outcome.

Every request under ``/api/v1`` is recorded once it has been answered (also when it was
refused: 401, 403, 422, 429), one row per party it named (a batch check: one row per item).
Rows are appended to the ``audit`` table of the API's SQLite file before the response goes
out; triggers refuse UPDATE and DELETE, and the API has no route that changes or removes a
row. Under load the rows of concurrent requests are committed together (group commit): each
request still waits for its own rows to be committed, so no answer leaves unaudited, but fifty
requests cost one transaction instead of fifty.

The group commit runs on the event loop itself, not on a writer thread: a request adds its
rows to the open batch and awaits the batch's future; the batch is committed by a callback
scheduled for the loop's next turn, so every request that reached this point in the current
turn joins it. A writer thread looked cheaper but was not: it needs the GIL for every row it
binds, and under load it waited for the busy loop thread to drop the GIL (up to the 5 ms
switch interval each time), which made audited answers 5–20x slower at p99. An insert costs
a few microseconds (WAL, synchronous=NORMAL: no fsync per commit).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from api.audit_index import KEY_CONDITION
from api.auth import ApiDatabase, Principal, now_iso

AUDITED_PREFIX = "/api/v1"


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One audit row as read back."""

    id: int
    at: str
    who: str
    who_name: str
    role: str
    ip: str
    method: str
    endpoint: str
    path: str
    key: str
    status: int
    action: str


@dataclass(slots=True)
class _Batch:
    """Rows waiting for the next group commit, and the future their requests await."""

    done: asyncio.Future[None]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


_INSERT = ("INSERT INTO audit(at, who, who_name, role, ip, method, endpoint, path, key, status, action) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


class AuditLog:
    """Appends and reads the audit trail (no update, no delete)."""

    def __init__(self, db: ApiDatabase) -> None:
        self.db = db
        self._open: dict[asyncio.AbstractEventLoop, _Batch] = {}  # the batch each loop is filling

    def append(self, *, principal: Principal | None, ip: str, method: str, endpoint: str, path: str,
               keys: list[str], status: int) -> None:
        """Append one row per key named by the request (one row with an empty key when none)."""
        rows = self._rows(principal=principal, ip=ip, method=method, endpoint=endpoint, path=path, keys=keys,
                          status=status)
        if len(rows) == 1:
            self.db.execute(_INSERT, rows[0])
        else:
            self.db.executemany(_INSERT, rows)

    async def append_committed(self, *, principal: Principal | None, ip: str, method: str, endpoint: str,
                               path: str, keys: list[str], status: int) -> None:
        """Append the rows and return once they are committed, sharing the commit with the
        rows of other requests reaching this point in the same turn of the event loop."""
        rows = self._rows(principal=principal, ip=ip, method=method, endpoint=endpoint, path=path, keys=keys,
                          status=status)
        loop = asyncio.get_running_loop()
        batch = self._open.get(loop)
        if batch is None:
            batch = self._open[loop] = _Batch(loop.create_future())
            loop.call_soon(self._commit, loop, batch)
        batch.rows.extend(rows)
        # shield: one cancelled request must not cancel the future the others of its batch await
        await asyncio.shield(batch.done)

    def _commit(self, loop: asyncio.AbstractEventLoop, batch: _Batch) -> None:
        if self._open.get(loop) is batch:
            del self._open[loop]
        try:
            self.db.executemany(_INSERT, batch.rows)
        except BaseException as exc:  # reported to every request of the batch
            batch.done.set_exception(exc)
            batch.done.exception()  # retrieved here too: no "never retrieved" warning when all were cancelled
        else:
            batch.done.set_result(None)

    def _rows(self, *, principal: Principal | None, ip: str, method: str, endpoint: str, path: str,
              keys: list[str], status: int) -> list[tuple[Any, ...]]:
        at = now_iso()
        who, name, role = (principal.id, principal.name, principal.role) if principal else ("anonymous", "", "")
        action = "read" if method in ("GET", "HEAD") else "change"
        if method == "POST" and endpoint.endswith("/risk/check"):
            action = "read"
        return [(at, who, name, role, ip, method, endpoint, path[:2000], k[:200], status, action)
                for k in (dict.fromkeys(keys) if keys else [""])]

    def query(self, *, who: str | None = None, key: str | None = None, since: dt.datetime | dt.date | None = None,
              limit: int = 100, offset: int = 0) -> tuple[list[AuditRow], int]:
        """Return rows (newest first) matching who (key id or name), party key and time, and the total."""
        where, args = [], []
        if who:
            where.append("(who = ? OR who_name = ?)")
            args.extend([who, who])
        if key:
            where.append(KEY_CONDITION)  # through the key index, and the rows it has not reached yet
            args.extend([key, key])
        if since is not None:
            if isinstance(since, dt.datetime):
                text = since.astimezone(dt.UTC).isoformat(timespec="milliseconds") if since.tzinfo else \
                    since.isoformat(timespec="milliseconds")
            else:
                text = since.isoformat()
            where.append("at >= ?")
            args.append(text)
        cond = (" WHERE " + " AND ".join(where)) if where else ""
        total = int(self.db.execute(f"SELECT COUNT(*) FROM audit{cond}", args)[0][0])
        rows = self.db.execute(
            f"SELECT id, at, who, who_name, role, ip, method, endpoint, path, key, status, action FROM audit{cond} "
            "ORDER BY id DESC LIMIT ? OFFSET ?", [*args, limit, offset])
        return [AuditRow(*r) for r in rows], total


class AuditMiddleware:
    """Pure ASGI middleware: records each ``/api/v1`` request after it was answered.

    Handlers say which parties a request named with :func:`audit_keys`; the authentication
    dependency leaves the principal in the request state.
    """

    def __init__(self, app: Any, log_of: Any, covers: Any = None, prefix: str = AUDITED_PREFIX) -> None:
        self.app = app
        self.log_of = log_of  # callable returning the AuditLog (set up at app creation)
        # which requests this instance records (default: the API under ``prefix``); the pages
        # mount a second instance for /ui with their own rule
        self.covers = covers or (lambda scope: scope["path"].startswith(prefix))
        self.prefix = prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.covers(scope):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        status = [500]

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                # committed before the answer goes out: the client never sees an unaudited answer
                state["_audited"] = True
                await self._record(scope, state, status[0])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if not state.get("_audited"):
                await self._record(scope, state, status[0])

    async def _record(self, scope: dict[str, Any], state: dict[str, Any], status: int) -> None:
        route = scope.get("route")
        endpoint = getattr(route, "path", None) or scope["path"]
        if not endpoint.startswith(self.prefix):
            endpoint = self.prefix + endpoint  # routes of an included router carry no prefix
        query = scope.get("query_string", b"").decode("latin-1")
        path = scope["path"] + ("?" + query if query else "")
        client = scope.get("client")
        ip = client[0] if client else ""
        keys = list(state.get("audit_keys", []))
        if not keys:  # refused before the handler ran: record whom the caller asked about
            keys = [str(v) for v in (scope.get("path_params") or {}).values() if str(v)]
        await self.log_of().append_committed(principal=state.get("principal"), ip=ip, method=scope["method"],
                                             endpoint=endpoint, path=path, keys=keys, status=status)


def audit_keys(request: Any, *keys: str) -> None:
    """Note the parties a request names, for its audit rows."""
    request.scope.setdefault("state", {}).setdefault("audit_keys", []).extend(k for k in keys if k)
