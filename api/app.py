"""The FastAPI application factory: health, a landing page, and (as they land) the API routes."""

from __future__ import annotations

import html
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, ORJSONResponse

from api.settings import Settings, get_settings
from api.stores import open_configured_store
from graph.schema import PARTY_LABELS_ZH
from graph.store import CreditGraphError, InvalidInput, NotFound, StoreUnavailable

_STATUS = {NotFound: 404, InvalidInput: 422, StoreUnavailable: 503}


def create_app(settings: Settings | None = None, store: Any = None) -> FastAPI:
    """Build the app over ``store`` (opened from the settings when not given)."""
    settings = settings or get_settings()
    app = FastAPI(title="creditgraph", version="0.1.0", default_response_class=ORJSONResponse)
    app.state.settings = settings
    app.state.store = store if store is not None else open_configured_store(settings)

    @app.exception_handler(CreditGraphError)
    async def _credit_error(request: Request, exc: CreditGraphError) -> ORJSONResponse:
        status = next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), 500)
        return ORJSONResponse(
            {"code": type(exc).__name__, "message": str(exc), "field": getattr(exc, "field", "")}, status_code=status
        )

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """The store's counts: parties by kind, links, records, rejections."""
        view = app.state.store.view()
        return {"status": "ok", "backend": getattr(app.state.store, "backend_name", "?"), "counts": view.counts()}

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        counts = app.state.store.view().counts()
        rows = "".join(
            f"<tr><td>{html.escape(PARTY_LABELS_ZH.get(_kind(k), k))}</td><td>{v:,}</td></tr>"
            for k, v in sorted(counts.items())
            if k.startswith("parties.")
        )
        return _PAGE.format(rows=rows, links=counts.get("links", 0), records=counts.get("records", 0))

    return app


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
<p><a href="/docs">API 文档 (OpenAPI)</a> · <a href="/healthz">/healthz</a></p></body></html>"""
