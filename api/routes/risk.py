"""Risk warnings for supervision systems: one party (hot path) and batches of up to 1,000."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.audit import audit_keys
from api.auth import RISK
from api.masking import mask_body
from api.routes.common import (
    ApiContext,
    RiskCaller,
    authorize,
    ctx,
    day_of,
    dump,
    json_response,
)
from api.schemas import USCC_EX, CheckIn, CheckOut, RiskReportOut
from graph.identifiers import NO_CODE, normalise_code
from graph.store import CreditGraphError, InvalidInput, NotFound
from graph.textkey import name_search_key
from queries.risk import RiskReport, direct_key

router = APIRouter(tags=["risk"])

_KEY_DOC = "USCC, resident ID or party key (org:…, per:…)"
_AS_OF_DOC = "date to judge on; today when absent"
_HOPS_DOC = "links to look out (0–6)"


class RiskArgs(BaseModel):
    """The path and query of ``GET /risk/{key}``, validated as FastAPI would (same messages)."""

    key: str = Field(min_length=1, max_length=200)
    as_of: dt.date | None = None
    hops: int = Field(3, ge=0, le=6)


_WHERE = {"key": "path", "as_of": "query", "hops": "query"}
# the parameters as FastAPI documented them when it parsed them itself
RISK_PARAMETERS: list[dict[str, Any]] = [
    {"name": "key", "in": "path", "required": True, "description": _KEY_DOC,
     "schema": {"type": "string", "minLength": 1, "maxLength": 200, "description": _KEY_DOC,
                "examples": [USCC_EX], "title": "Key"}},
    {"name": "as_of", "in": "query", "required": False, "description": _AS_OF_DOC,
     "schema": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}], "description": _AS_OF_DOC,
                "examples": ["2025-06-30"], "title": "As Of"}},
    {"name": "hops", "in": "query", "required": False, "description": _HOPS_DOC,
     "schema": {"type": "integer", "maximum": 6, "minimum": 0, "description": _HOPS_DOC, "examples": [3],
                "default": 3, "title": "Hops"}},
]


def risk_args(request: Request) -> tuple[str, dt.date | None, int]:
    """Return (key, as_of, hops) of a risk request; 422 as FastAPI would give it.

    Parsed here rather than by FastAPI's parameter machinery, which cost more than the whole
    risk check on the hot path; a request without a query and with a key of sane length has
    nothing to validate."""
    key = request.path_params["key"]
    if not request.scope.get("query_string") and 0 < len(key) <= 200:
        return key, None, 3
    given: dict[str, Any] = {k: v for k, v in request.query_params.items() if k in ("as_of", "hops")}
    try:
        args = RiskArgs.model_validate({"key": key, **given})
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": (_WHERE[str(e["loc"][0])], *e["loc"])} for e in exc.errors(include_url=False)]) from None
    return args.key, args.as_of, args.hops


@router.get("/risk/{key}", response_class=Response, summary="Risk check of one firm or person",
            responses={200: {"model": RiskReportOut, "description": "warnings with paths, grade A–D, sampling ratio"}},
            openapi_extra={"parameters": RISK_PARAMETERS})
async def risk(request: Request) -> Response:
    """Warnings (own records, links to punished parties within ``hops``, red/black conflicts), the
    supervision grade A–D and its sampling ratio. Person IDs are masked for supervision systems."""
    # the hot path of approval desks: authorisation, rate limit and parameters are handled
    # inline (no FastAPI dependencies), answers are cached per store version, and the risk
    # index answers the rest without a traversal
    principal = authorize(request, RISK)
    key, as_of, hops = risk_args(request)
    c = ctx(request)
    day = day_of(as_of)
    view = c.store.view()
    version = view.version()
    cache_key = (key, day, hops, principal.masked)
    hit = c.risk.cached(version, cache_key)
    if hit is not None:
        audit_keys(request, *hit[0])
        return json_response(hit[1])
    direct = direct_key(key) is not None
    if direct and c.worker is not None and c.worker.ready_for(version, day, hops):
        # the second process answers (api.risk_worker); None: it does not, answered here
        try:
            got = await c.worker.answer(key, day, hops, principal.masked, version)
        except CreditGraphError:
            audit_keys(request, key)
            raise
        if got is not None:
            c.risk.remember(version, cache_key, ((got[0],), got[1]))
            audit_keys(request, got[0])
            return json_response(got[1])
    # the index of this store version, or of the one before when only records changed (its
    # successor then builds in the background); never waits for a build on the event loop
    index, earlier = c.risk.answering(view, day, hops, c.store.view, wait=False) if direct else (None, False)
    try:
        if index is not None:
            report = c.risk.report(view, key, day, hops, index, earlier=earlier)
        else:
            # an index to build, or a name or malformed code to search for (a table scan on the
            # embedded store): on a worker thread, never holding up the event loop
            report, version = await run_in_threadpool(_report_elsewhere, c, key, day, hops)
    except CreditGraphError:
        audit_keys(request, key)
        raise
    body = dump(report)  # orjson writes the dataclasses as as_dict() would, without the walk
    if principal.masked:
        body = mask_body(body)
    if not report.behind:  # an answer of an earlier version is not this version's answer
        c.risk.remember(version, cache_key, ((report.key,), body))
    audit_keys(request, report.key)
    return json_response(body)


def risk_route() -> APIRoute:
    """The route of :func:`risk` (what :class:`api.fast_path.RiskFastPath` dispatches to)."""
    return next(r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is risk)


def _report_elsewhere(c: ApiContext, key: str, day: dt.date, hops: int) -> tuple[RiskReport, int]:
    """The report on a view of this thread's own, and the store version it was made on."""
    view = c.store.view()
    index, earlier = c.risk.answering(view, day, hops, c.store.view)
    return c.risk.report(view, key, day, hops, index, earlier=earlier), view.version()


@router.post("/risk/check", response_model=CheckOut, summary="Batch risk check (up to 1,000 parties)")
async def batch_check(request: Request, principal: RiskCaller, body: Annotated[CheckIn, Body()]) -> Response:
    """Check up to 1,000 parties in one call; each item gets its report or its own error."""
    c = ctx(request)
    day = day_of(body.as_of)
    results, keys, ok = await run_in_threadpool(_run_batch, c, body, day, principal.masked)
    audit_keys(request, *keys)
    return json_response({"as_of": day, "hops": body.hops, "count": len(results), "ok": ok,
                          "failed": len(results) - ok, "results": results})


def _run_batch(c: ApiContext, body: CheckIn, day: dt.date,
               masked: bool) -> tuple[list[orjson.Fragment], list[str], int]:
    """The items' results as serialised JSON (spliced into the answer as they are), the keys
    to audit and how many items were answered.

    Each report is serialised once and masked as bytes, as the single check does, instead of
    being walked into a dict, masked through a second serialisation and parsed back; an
    answer cached for this store version, by the single check or an earlier batch, is
    reused (approval desks ask about the same applicants again and again)."""
    view = c.store.view()
    version = view.version()
    index, earlier = c.risk.answering(view, day, body.hops, c.store.view)
    results: list[orjson.Fragment] = []
    keys: list[str] = []
    ok = 0
    for i, item in enumerate(body.items):
        given = item.model_dump(exclude_none=True)
        key, code = _unless_no_code(item.key, item.name), _unless_no_code(item.code, item.name)
        query = (key or code or item.name or "").strip()
        check_name = bool(item.name and (code or key))
        cache_key = (query, day, body.hops, masked)
        hit = None if check_name else c.risk.cached(version, cache_key)
        if hit is not None:
            keys.append(hit[0][0])
            report_body = hit[1]
            notes: list[str] = []
        else:
            try:
                report = c.risk.report(view, query, day, body.hops, index, earlier=earlier)
            except CreditGraphError as exc:
                keys.append(query)
                status = "NotFound" if isinstance(exc, NotFound) else type(exc).__name__
                # the item's field that was looked up, unless the error names another one
                named = "key" if key else "code" if code else "name"
                field = named if getattr(exc, "field", "") in ("", "key") else exc.field  # type: ignore[attr-defined]
                failed = dump({"index": i, "input": given, "ok": False, "report": None,
                               "error": {"code": status, "message": str(exc), "field": f"items[{i}].{field}"},
                               "notes": []})
                # the message may quote parties (an ambiguous name's candidates): masked as reports are
                results.append(orjson.Fragment(mask_body(failed) if masked else failed))
                continue
            keys.append(report.key)
            notes = []
            if check_name and not _name_matches(view, report.key, report.name, item.name or ""):
                notes.append(f"名称与登记名称不一致 (name differs from the registered name): 提交 {item.name},"
                             f" 登记 {report.name}")
            report_body = dump(report)
            if masked:
                report_body = mask_body(report_body)
            if not report.behind and not check_name:
                c.risk.remember(version, cache_key, ((report.key,), report_body))
        ok += 1
        shown = mask_body(dump(given)) if masked else dump(given)
        results.append(orjson.Fragment(b'{"index":%d,"input":%b,"ok":true,"report":%b,"error":null,"notes":%b}'
                                       % (i, shown, report_body, dump(notes))))
    return results, keys, ok


def _unless_no_code(given: str | None, name: str | None) -> str | None:
    """``given`` (an item's key or code), or None when it is the registers' no-code marker
    (00000000000000000X) and a name is given beside it: such a firm is checked by its name."""
    return None if given and name and normalise_code(given) == NO_CODE else given


def _name_matches(view: Any, key: str, registered: str, given: str) -> bool:
    want = name_search_key(given)
    if want == name_search_key(registered):
        return True
    return any(name_search_key(n.name) == want for n in view.names(key))


__all__ = ["router", "InvalidInput"]
