"""Relocation cases (易地开张): answered by ``queries.relocation`` when that module is present."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.audit import audit_keys
from api.routes.common import ApiError, RiskCaller, ctx, json_response, jsonable, mask_json
from api.schemas import RelocationsOut

router = APIRouter(tags=["relocations"])


def _detector() -> Any:
    try:
        mod = importlib.import_module("queries.relocation")
    except ModuleNotFoundError as exc:
        if exc.name == "queries.relocation":
            return None
        raise
    return getattr(mod, "detect_relocations", None)


def _plain(case: Any) -> dict[str, Any]:
    if hasattr(case, "as_dict"):
        return jsonable(case.as_dict())
    if dataclasses.is_dataclass(case) and not isinstance(case, type):
        return jsonable(dataclasses.asdict(case))
    return jsonable(case)


_SWEEPS: dict[int, tuple[int, list[dict[str, Any]]]] = {}


def relocation_cases(view: Any, since: dt.date | None) -> list[dict[str, Any]] | None:
    """Return the relocation cases (strongest first) whose new firm was established, or whose
    listing was made, on or after ``since``; None when queries/relocation.py is not installed.
    The sweep runs once per store version."""
    fn = _detector()
    if fn is None:
        return None
    version = view.version()
    got = _SWEEPS.get(id(view.store) if hasattr(view, "store") else 0)
    if got is not None and got[0] == version:
        cases = got[1]
    else:
        cases = [_plain(c) for c in getattr(fn(view), "cases", [])]
        _SWEEPS[id(view.store) if hasattr(view, "store") else 0] = (version, cases)
    if since is None:
        return list(cases)
    day = since.isoformat()
    return [c for c in cases if str(c.get("new_established") or "") >= day or str(c.get("listed_on") or "") >= day]


@router.get("/relocations", response_model=RelocationsOut, summary="Relocation cases (易地开张) since a date",
            responses={501: {"description": "the relocation detector is not installed yet"}})
async def relocations(request: Request, principal: RiskCaller,
                      since: Annotated[dt.date | None, Query(examples=["2024-01-01"])] = None,
                      limit: Annotated[int, Query(ge=1, le=1000, examples=[100])] = 100,
                      offset: Annotated[int, Query(ge=0, le=10_000_000, examples=[0])] = 0) -> Response:
    """Blacklisted firms re-registered elsewhere or under a new name, with evidence."""
    c = ctx(request)
    cases = await run_in_threadpool(lambda: relocation_cases(c.store.view(), since))
    if cases is None:
        raise ApiError(501, "NotImplemented", "relocation detection (queries/relocation.py) is not installed in "
                       "this build yet; the endpoint answers once it is")
    page = cases[offset: offset + limit]
    for case in page:
        audit_keys(request, *(v for v in case.values() if isinstance(v, str) and v[:4] in ("org:", "per:")))
    body = {"since": since, "total": len(cases), "items": page}
    return json_response(mask_json(jsonable(body)) if principal.masked else body)
