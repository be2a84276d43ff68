"""Profiles of organisations and persons, and the people under joint punishment."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.audit import audit_keys
from api.routes.common import (
    ApiContext,
    PartyReader,
    ctx,
    day_of,
    json_response,
    names_out,
    org_key,
    party_out,
    person_key,
    record_out,
    role_out,
)
from api.schemas import PersonOut, PunishedOut, SubjectOut
from graph.model import RecordKind
from graph.schema import LINK_SCHEMA
from graph.store import NotFound
from queries.propagation import Punishment, propagate, punishments_of
from queries.status import ActionBook, judge

router = APIRouter(tags=["parties"])

AsOf = Annotated[dt.date | None, Query(examples=["2025-06-30"], description="date to judge on; today when absent")]
_JUDGED = (RecordKind.LIST_ENTRY, RecordKind.COURT_DISHONEST, RecordKind.PENALTY)


@router.get("/subjects/{uscc}", response_model=SubjectOut, summary="Profile of an organisation")
async def subject(request: Request, principal: PartyReader,
                  uscc: Annotated[str, Path(min_length=1, max_length=200, examples=["91410105MA44XKTX77"],
                                            description="USCC or party key")],
                  as_of: AsOf = None) -> Response:
    """Current and historical roles, holdings, contacts, records with their status, and the grade."""
    c = ctx(request)
    key = org_key(uscc)
    audit_keys(request, key)
    return json_response(await run_in_threadpool(_subject, c, key, day_of(as_of)))


def _judged_records(view: Any, key: str, day: dt.date) -> list[dict[str, Any]]:
    records = view.records(key)
    book = ActionBook.for_entries(view, [r for r in records if r.kind in _JUDGED])
    out = []
    for r in sorted(records, key=lambda r: (r.start or dt.date.min, r.id)):
        out.append(record_out(r, judge(r, day, book) if r.kind in _JUDGED else None))
    return out


def _subject(c: ApiContext, key: str, day: dt.date) -> dict[str, Any]:
    view = c.store.view()
    party = view.party(key)
    if party is None:
        raise NotFound(f"no organisation {key}; check the code or search by name")
    key = party.key
    links = view.links(key)
    ends = {k for lk in links for k in (lk.src, lk.dst)}
    parties = view.parties(ends)
    roles_now: list[dict[str, Any]] = []
    roles_before: list[dict[str, Any]] = []
    holdings: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    for lk in sorted(links, key=lambda lk: (lk.start or dt.date.min, lk.kind.value, lk.id)):
        spec = LINK_SCHEMA[lk.kind]
        row = role_out(lk, parties, day)
        if spec.contact:
            contacts.append(row)
        elif lk.dst == key:
            (roles_now if row["current"] else roles_before).append(row)
        else:
            holdings.append(row)
    report = c.risk.report(view, key, day, 3, c.risk.index(view, day, 3))
    rep = report.as_dict()
    return {"party": party_out(party), "as_of": day, "names": names_out(view.names(key)),
            "roles_current": roles_now, "roles_history": roles_before, "holdings": holdings, "contacts": contacts,
            "records": _judged_records(view, key, day), "grade": report.grade,
            "sampling_ratio": report.sampling_ratio, "warnings": rep["warnings"]}


@router.get("/persons/{person_id}", response_model=PersonOut, summary="Profile of a natural person")
async def person(request: Request, principal: PartyReader,
                 person_id: Annotated[str, Path(min_length=1, max_length=200, examples=["410105197506010011"],
                                                description="resident ID or party key")],
                 as_of: AsOf = None) -> Response:
    """Roles over time and the personal punishment record (joint punishment reaching the person)."""
    c = ctx(request)
    key = person_key(person_id)
    audit_keys(request, key)
    return json_response(await run_in_threadpool(_person, c, key, day_of(as_of)))


def punishment_out(p: Punishment, day: dt.date) -> dict[str, Any]:
    """A punishment as PunishmentOut."""
    out = {f.name: getattr(p, f.name) for f in dataclasses.fields(p)}
    out["path"] = [{f.name: getattr(s, f.name) for f in dataclasses.fields(s)} for s in p.path]
    out["flags"] = list(p.flags)
    out["role_zh"] = p.role_zh
    out["active"] = p.active(day)
    return out


def _person(c: ApiContext, key: str, day: dt.date) -> dict[str, Any]:
    view = c.store.view()
    party = view.party(key)
    if party is None:
        raise NotFound(f"no person {key}; check the number")
    key = party.key
    links = [lk for lk in view.links(key) if LINK_SCHEMA[lk.kind].role]
    parties = view.parties({k for lk in links for k in (lk.src, lk.dst)} | {key})
    roles = [role_out(lk, parties, day)
             for lk in sorted(links, key=lambda lk: (lk.start or dt.date.min, lk.kind.value, lk.id))]
    punishments = punishments_of(view, key, day, catalog=c.risk.catalog, include_ended=True)
    return {"party": party_out(party), "as_of": day, "names": names_out(view.names(key)), "roles": roles,
            "punishments": [punishment_out(p, day) for p in punishments],
            "records": _judged_records(view, key, day)}


@router.get("/punished", response_model=PunishedOut, summary="People under joint punishment")
async def punished(request: Request, principal: PartyReader, as_of: AsOf = None,
                   limit: Annotated[int, Query(ge=1, le=1000, examples=[100])] = 100,
                   offset: Annotated[int, Query(ge=0, le=10_000_000, examples=[0])] = 0) -> Response:
    """Every person reached by joint punishment on ``as_of`` (联合惩戒落实到人), with the measures."""
    c = ctx(request)
    day = day_of(as_of)
    rows = await run_in_threadpool(_punished_rows, c, day)
    page = rows[offset: offset + limit]
    audit_keys(request, *(r["key"] for r in page))
    return json_response({"as_of": day, "total": len(rows), "offset": offset, "limit": limit, "items": page})


def _punished_rows(c: ApiContext, day: dt.date) -> list[dict[str, Any]]:
    view = c.store.view()
    cache_key = ("punished", view.version(), day)
    cached = c.caches.get(cache_key)
    if cached is not None:
        return cached
    people: dict[str, dict[str, Any]] = {}
    for p in propagate(view, day, catalog=c.risk.catalog):
        if p.role == "subject" and not p.person.startswith(("per:", "unr:")):
            continue  # the listed organisation itself: not a person
        row = people.get(p.person)
        if row is None:
            party = view.party(p.person)
            code = p.person[4:] if p.person.startswith("per:") else (party.code if party else "")
            row = people[p.person] = {"key": p.person, "person_id": code, "name": p.person_name,
                                      "flags": list(p.flags), "measures": []}
        row["measures"].append(punishment_out(p, day))
    rows = sorted(people.values(), key=lambda r: r["key"])
    c.caches.clear()  # one day and version at a time: the list can be long
    c.caches[cache_key] = rows
    return rows
