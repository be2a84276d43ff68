"""The FastAPI application factory: health, a landing page, and the authenticated API under /api/v1.

``create_app(settings, store=None)`` wires the store, the API's own SQLite file (keys, audit
trail, webhooks: see :mod:`api.auth`), the risk index service and the webhook worker. Every
error leaves as ``{code, message, field}``: the store's errors (404/422/503), validation
(422), authentication (401/403), rate limits (429, with Retry-After).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import html
import logging
import sys
import threading
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from api import masking
from api.audit import AuditLog, AuditMiddleware
from api.auth import ApiDatabase, KeyRing, RateLimiter, api_db_path, api_settings
from api.fast_path import RiskFastPath
from api.malloc_arena import use_one_arena
from api.masking import mask_body
from api.pages import mount_pages
from api.pages.views import error_page
from api.risk_worker import RiskWorker
from api.routes import actions, admin, graph, parties, relocations, risk, webhooks
from api.routes.common import GIL_SWITCH_INTERVAL, ApiContext, ApiError, RiskService, prebuild_each_day
from api.schemas import ErrorOut, HealthOut
from api.settings import Settings
from api.stores import open_configured_store
from api.webhooks import WebhookService
from graph import search
from graph.schema import PARTY_LABELS_ZH
from graph.store import Conflict, CreditGraphError, InvalidInput, NotFound, StoreUnavailable

log = logging.getLogger("creditgraph.api")

_STATUS = {NotFound: 404, Conflict: 409, InvalidInput: 422, StoreUnavailable: 503}
_HTTP_CODES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
               413: "PayloadTooLarge", 415: "UnsupportedMediaType", 429: "RateLimited"}
API_PREFIX = "/api/v1"
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no API key, or an unknown or revoked one"},
    403: {"model": ErrorOut, "description": "the key's role may not use this endpoint"},
    404: {"model": ErrorOut, "description": "no such party or record"},
    409: {"model": ErrorOut, "description": "the record's state does not allow this action (already repaired, resolved …)"},
    422: {"model": ErrorOut, "description": "invalid input; `field` names it"},
    429: {"model": ErrorOut, "description": "rate limit exceeded; see Retry-After"},
}


class OrjsonResponse(JSONResponse):
    """JSON rendered by orjson (FastAPI's own ORJSONResponse is deprecated)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def _error(status: int, code: str, message: str, field: str = "", headers: dict[str, str] | None = None,
           request: Request | None = None) -> Response:
    body = orjson.dumps({"code": code, "message": message, "field": field})
    principal = request.scope.get("state", {}).get("principal") if request is not None else None
    if principal is None or principal.masked:
        # an error may quote parties (the candidates of an ambiguous name, a key not found):
        # masked unless the caller is known to see personal data
        body = mask_body(body)
    return Response(body, status_code=status, headers=headers, media_type="application/json")


MAX_BODY = 4 * 1024 * 1024  # a batch of 1,000 name + code pairs is about 150 KB; uploads are exempt


class BodyLimit:
    """Pure ASGI middleware: a JSON body declared larger than ``limit`` gets 413 before it is
    read (a 260 MB batch was read whole and parsed); file uploads (``/ingest``) are exempt."""

    def __init__(self, app: Any, limit: int = MAX_BODY) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH") \
                and not scope["path"].endswith("/ingest"):
            length = dict(scope.get("headers") or []).get(b"content-length", b"0")
            if length.isdigit() and int(length) > self.limit:
                body = orjson.dumps({"code": "PayloadTooLarge", "field": "",
                                     "message": f"the body ({int(length):,} bytes) is over {self.limit:,} bytes"})
                await send({"type": "http.response.start", "status": 413,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _field(loc: Any) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "cookie")] or list(loc[:1])
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out


def create_app(settings: Settings | None = None, store: Any = None) -> FastAPI:
    """Build the app over ``store`` (opened from the settings when not given)."""
    use_one_arena()  # before the server's threads start (see api.malloc_arena)
    cfg = api_settings(settings)
    store = store if store is not None else open_configured_store(cfg)
    db = ApiDatabase(api_db_path(cfg, store))
    risk_service = RiskService(max_answers=cfg.response_cache)
    context = ApiContext(settings=cfg, store=store, db=db, keys=KeyRing(db), audit=AuditLog(db),
                         limiter=RateLimiter(cfg.rate_per_second, cfg.rate_burst), risk=risk_service)
    context.webhooks = WebhookService(db, cfg, risk_service, store)
    if cfg.risk_worker and getattr(store, "backend_name", "") == "memory":  # the embedded store: a file to share
        context.worker = RiskWorker(str(store.path))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db.start_upkeep()  # checkpoints and the audit key index: never on the event loop (see ApiDatabase)
        if context.worker is not None:
            context.worker.start()
        # With the default thresholds (700, 10, 10) the collector ran full collections every
        # few thousand requests, 10-40 ms of stalled event loop each on the 1M store (measured
        # with gc.callbacks); rarer collections cut the p99 of every endpoint alike. What the
        # risk index holds is frozen out of the collector's sight anyway (queries.young_gc).
        gc.set_threshold(20_000, 20, 10)
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(GIL_SWITCH_INTERVAL)  # the loop's turn soon while an index builds
        worker = asyncio.create_task(context.webhooks.worker()) if cfg.webhooks_enabled else None
        stop = threading.Event()
        if cfg.prebuild_index:
            # today's index for hops=3 (the default check), built while the server already
            # answers, then each next day's before midnight
            threading.Thread(target=_prebuild, args=(context, stop), name="risk-index", daemon=True).start()
        try:
            yield
        finally:
            stop.set()
            if context.worker is not None:
                context.worker.close()
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            for task in list(app.state.background):
                with contextlib.suppress(Exception):
                    await task
            await asyncio.to_thread(db.stop_upkeep)
            sys.setswitchinterval(switch_interval)

    app = FastAPI(
        title="creditgraph", version="0.1.0", default_response_class=OrjsonResponse, lifespan=lifespan,
        description="信用知识图谱 risk-warning API for supervision systems: authenticated (X-API-Key or "
                    "Authorization: Bearer), masked for supervision systems, audited, rate-limited, with webhooks.",
    )
    app.state.settings = cfg
    app.state.store = store
    app.state.api = context
    app.state.background = set()
    # risk checks of approval desks skip the router (inside the audit and the body limit)
    app.add_middleware(RiskFastPath, prefix=API_PREFIX + "/risk/", route=risk.risk_route())
    app.add_middleware(BodyLimit)  # refused before anything reads the body; inside the audit, which records it
    app.add_middleware(AuditMiddleware, log_of=lambda: context.audit)

    @app.exception_handler(CreditGraphError)
    async def _credit_error(request: Request, exc: CreditGraphError) -> Response:
        status = next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), 500)
        return _error(status, type(exc).__name__, str(exc), getattr(exc, "field", ""), request=request)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.code, exc.message, exc.field, exc.headers, request=request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = _field(first.get("loc", ()))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        message = f"{field or 'request'}: {first.get('msg', 'invalid')}{more}"
        return error_page(request, 422, message, field) or _error(422, "InvalidInput", message, field, request=request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "HTTPError")
        shown = "页面不存在" if exc.status_code == 404 else str(exc.detail)
        return error_page(request, exc.status_code, shown) or \
            _error(exc.status_code, code, str(exc.detail), "", getattr(exc, "headers", None), request=request)

    for module in (risk, parties, graph, relocations, actions, webhooks, admin):
        app.include_router(module.router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    mount_pages(app)  # the investigator's browser pages under /ui

    @app.get("/healthz", response_model=HealthOut, tags=["public"])
    def healthz() -> dict[str, Any]:
        """The store's counts: parties by kind, links, records, rejections."""
        view = store.view()
        return {"status": "ok", "backend": getattr(store, "backend_name", "?"), "counts": view.counts(),
                "risk_worker": context.worker.state(view.version(), dt.date.today()) if context.worker else "off"}

    @app.get("/", response_class=HTMLResponse, tags=["public"])
    def index() -> str:
        counts = store.view().counts()
        rows = "".join(
            f"<tr><td>{html.escape(PARTY_LABELS_ZH.get(_kind(k), k))}</td><td>{v:,}</td></tr>"
            for k, v in sorted(counts.items())
            if k.startswith("parties.")
        )
        return _PAGE.format(rows=rows, links=counts.get("links", 0), records=counts.get("records", 0))

    return app


def _prebuild(context: ApiContext, stop: threading.Event) -> None:
    # what the first search and the first masked answer would load on the event loop (~1 s)
    search.warm_up()
    masking.warm_up()
    with contextlib.suppress(Exception):
        context.risk.index(context.store.view(), dt.date.today(), 3)
        context.webhooks.prime()
    prebuild_each_day(context.risk, context.store, stop)


def _kind(counter: str) -> Any:
    from graph.model import PartyKind

    try:
        return PartyKind(counter.split(".", 1)[1])
    except ValueError:
        return counter


_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>creditgraph 信用知识图谱</title>
<style>body{{font-family:"Noto Sans CJK SC",sans-serif;margin:2rem;max-width:48rem}}td{{padding:.2rem 1rem}}</style>
</head><body><h1>creditgraph 信用知识图谱</h1>
<p>失信联合惩戒到人 · 易地开张识别 · 关联风险预警</p>
<table><tr><th>主体类型</th><th>数量</th></tr>{rows}</table>
<p>关系 {links:,} 条 · 记录 {records:,} 条</p>
<p><a href="/ui/search"><strong>进入调查工作台</strong></a>(主体检索、档案、关系图、关系穿透、导出)</p>
<p><a href="/docs">API 文档 (OpenAPI)</a> · <a href="/healthz">/healthz</a></p></body></html>"""
