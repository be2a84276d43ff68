"""Risk warnings for supervision systems: one party (hot path) and batches of up to 1,000."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.audit import audit_keys
from api.routes.common import ApiContext, RiskCaller, ctx, dump, json_response, mask_body, mask_json, today
from api.schemas import USCC_EX, CheckIn, CheckOut, RiskReportOut
from graph.store import CreditGraphError, InvalidInput, NotFound
from graph.textkey import name_search_key

router = APIRouter(tags=["risk"])

KeyPath = Annotated[str, Path(min_length=1, max_length=200, examples=[USCC_EX],
                              description="USCC, resident ID or party key (org:…, per:…)")]
AsOf = Annotated[dt.date | None, Query(examples=["2025-06-30"], description="date to judge on; today when absent")]
Hops = Annotated[int, Query(ge=0, le=6, examples=[3], description="links to look out (0–6)")]


@router.get("/risk/{key}", response_class=Response, summary="Risk check of one firm or person",
            responses={200: {"model": RiskReportOut, "description": "warnings with paths, grade A–D, sampling ratio"}})
async def risk(request: Request, principal: RiskCaller, key: KeyPath, as_of: AsOf = None, hops: Hops = 3) -> Response:
    """Warnings (own records, links to punished parties within ``hops``, red/black conflicts), the
    supervision grade A–D and its sampling ratio. Person IDs are masked for supervision systems."""
    c = ctx(request)
    day = as_of or today()
    view = c.store.view()
    version = view.version()
    cache_key = (key, day, hops, principal.masked)
    hit = c.risk.cached(version, cache_key)
    if hit is not None:
        audit_keys(request, *hit[0])
        return json_response(hit[1])
    index = c.risk.ready(view, day, hops)
    if index is None:
        index = await run_in_threadpool(lambda: c.risk.index(c.store.view(), day, hops))
    try:
        report = c.risk.report(view, key, day, hops, index)
    except CreditGraphError:
        audit_keys(request, key)
        raise
    body = dump(report.as_dict())
    if principal.masked:
        body = mask_body(body)
    c.risk.remember(version, cache_key, ((report.key,), body))
    audit_keys(request, report.key)
    return json_response(body)


@router.post("/risk/check", response_model=CheckOut, summary="Batch risk check (up to 1,000 parties)")
async def batch_check(request: Request, principal: RiskCaller, body: Annotated[CheckIn, Body()]) -> Response:
    """Check up to 1,000 parties in one call; each item gets its report or its own error."""
    c = ctx(request)
    day = body.as_of or today()
    results, keys = await run_in_threadpool(_run_batch, c, body, day, principal.masked)
    audit_keys(request, *keys)
    ok = sum(1 for r in results if r["ok"])
    return json_response({"as_of": day, "hops": body.hops, "count": len(results), "ok": ok,
                          "failed": len(results) - ok, "results": results})


def _run_batch(c: ApiContext, body: CheckIn, day: dt.date, masked: bool) -> tuple[list[dict[str, Any]], list[str]]:
    view = c.store.view()
    index = c.risk.index(view, day, body.hops)
    results: list[dict[str, Any]] = []
    keys: list[str] = []
    for i, item in enumerate(body.items):
        given = item.model_dump(exclude_none=True)
        query = (item.key or item.code or item.name or "").strip()
        try:
            report = c.risk.report(view, query, day, body.hops, index)
        except CreditGraphError as exc:
            keys.append(query)
            status = "NotFound" if isinstance(exc, NotFound) else type(exc).__name__
            field = getattr(exc, "field", "") or ("code" if item.code and not item.key else "key")
            results.append({"index": i, "input": given, "ok": False, "report": None,
                            "error": {"code": status, "message": str(exc), "field": f"items[{i}].{field}"},
                            "notes": []})
            continue
        keys.append(report.key)
        notes: list[str] = []
        if item.name and (item.code or item.key) and not _name_matches(view, report.key, report.name, item.name):
            notes.append(f"名称与登记名称不一致 (name differs from the registered name): 提交 {item.name},"
                         f" 登记 {report.name}")
        data = report.as_dict()
        if masked:
            data = mask_json(data)
            given = mask_json(given)
        results.append({"index": i, "input": given, "ok": True, "report": data, "error": None, "notes": notes})
    return results, keys


def _name_matches(view: Any, key: str, registered: str, given: str) -> bool:
    want = name_search_key(given)
    if want == name_search_key(registered):
        return True
    return any(name_search_key(n.name) == want for n in view.names(key))


__all__ = ["router", "InvalidInput"]
