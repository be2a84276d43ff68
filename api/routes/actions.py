"""Credit repair and objections written through the API (records built by queries.actions)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.audit import audit_keys
from api.checked_write import write_checked
from api.routes.common import ActionWriter, ApiContext, ctx, json_response, record_out, today
from api.schemas import ActionOut, ObjectionIn, RepairIn, ResolutionIn
from graph.model import Record, RecordKind, Source
from graph.store import InvalidInput, NotFound
from queries.actions import REPAIRABLE, check_action, objection_record, repair_record, resolution_record
from queries.status import entry_status

router = APIRouter(tags=["actions"])
RecordId = Annotated[str, Path(min_length=1, max_length=64, examples=["0a1b2c3d4e5f60718293"])]
_DISPUTABLE = (RecordKind.LIST_ENTRY, RecordKind.COURT_DISHONEST, RecordKind.PENALTY)


def _source(principal: Any) -> Source:
    return Source(f"api:{principal.id}:{principal.name}", 0, "")


def _load(view: Any, record_id: str, kinds: tuple[RecordKind, ...], what: str, field: str) -> Record:
    rec = view.record(record_id)
    if rec is None:
        raise NotFound(f"no {what} with id {record_id}")
    if rec.kind not in kinds:
        raise InvalidInput(f"record {record_id} is a {rec.kind.value}, not a {what}", field=field)
    return rec


def _write(c: ApiContext, build: Any, entry_id_of: Any) -> dict[str, Any]:
    if c.webhooks is not None:
        c.webhooks.prime()
    # checked and written in one write batch: two clerks resolving the same objection at once,
    # here or through the CLI, must not both pass the check (one 201, one 409)
    rec = write_checked(c.store, build)
    view = c.store.view()
    c.risk.caught_up(view)  # before answering: whoever asks after this write reads it
    entry = view.record(entry_id_of(rec, view))
    assert entry is not None
    day = max(today(), rec.start) if rec.start else today()
    return {"record": record_out(rec), "entry": record_out(entry, entry_status(view, entry, day))}


def changed(request: Request, reason: str) -> None:
    """Let the webhook service look for new warnings after a change (in the background)."""
    c = ctx(request)
    if c.webhooks is None or not c.settings.webhooks_enabled:
        return
    task = asyncio.get_running_loop().create_task(run_in_threadpool(c.webhooks.process_change, reason))
    tasks: set[Any] = request.app.state.background
    tasks.add(task)
    task.add_done_callback(tasks.discard)


@router.post("/list-entries/{entry_id}/repair", response_model=ActionOut, status_code=201,
             summary="Record an approved credit repair (信用修复)")
async def repair(request: Request, principal: ActionWriter, entry_id: RecordId, body: Annotated[RepairIn, Body()]) -> Response:
    """The entry's punishments end on ``date``; everything derived from it is withdrawn, history kept."""
    c = ctx(request)
    audit_keys(request, entry_id)

    def build(view: Any) -> Record:
        entry = _load(view, entry_id, tuple(REPAIRABLE), "list entry, court entry or penalty", "entry_id")
        audit_keys(request, entry.subject)
        rec = repair_record(entry, body.date, body.by, body.note, source=_source(principal))
        check_action(view, rec, today())
        return rec

    out = await run_in_threadpool(_write, c, build, lambda rec, view: rec.target)
    changed(request, "repair")
    return json_response(out, status_code=201)


@router.post("/records/{record_id}/objections", response_model=ActionOut, status_code=201,
             summary="Record an objection (异议) to a record")
async def objection(request: Request, principal: ActionWriter, record_id: RecordId, body: Annotated[ObjectionIn, Body()]) -> Response:
    """The objection stands until resolved; the entry stays in force meanwhile (marked 异议处理中)."""
    c = ctx(request)
    audit_keys(request, record_id)

    def build(view: Any) -> Record:
        entry = _load(view, record_id, _DISPUTABLE, "list entry, court entry or penalty", "record_id")
        audit_keys(request, entry.subject)
        rec = objection_record(entry, body.date, body.claim, source=_source(principal))
        check_action(view, rec, today())
        return rec

    out = await run_in_threadpool(_write, c, build, lambda rec, view: rec.target)
    changed(request, "objection")
    return json_response(out, status_code=201)


@router.post("/objections/{objection_id}/resolution", response_model=ActionOut, status_code=201,
             summary="Resolve an objection: upheld revokes the entry, rejected leaves it standing")
async def resolution(request: Request, principal: ActionWriter, objection_id: RecordId, body: Annotated[ResolutionIn, Body()]) -> Response:
    """Upheld: the entry is revoked from ``date`` on and what was propagated from it is withdrawn."""
    c = ctx(request)
    audit_keys(request, objection_id)

    def build(view: Any) -> Record:
        obj = _load(view, objection_id, (RecordKind.OBJECTION,), "objection", "objection_id")
        audit_keys(request, obj.subject)
        rec = resolution_record(obj, body.date, body.outcome, body.note, source=_source(principal))
        check_action(view, rec, today())
        return rec

    out = await run_in_threadpool(_write, c, build, lambda rec, view: rec.attrs["entry"])
    changed(request, "objection_resolution")
    return json_response(out, status_code=201)
