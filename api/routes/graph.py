"""The linkage graph for the browser, and relationship paths between two parties."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Annotated, Any

import networkx as nx
from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.audit import audit_keys
from api.routes.common import ApiContext, PartyReader, ctx, json_response, link_out, party_key
from api.schemas import GraphOut, PathsOut
from graph.model import Subgraph
from graph.schema import PARTY_LABELS_ZH
from graph.store import InvalidInput, NotFound

router = APIRouter(tags=["graph"])

AsOf = Annotated[dt.date | None, Query(examples=["2025-06-30"],
                                       description="only links in force on this date; all links ever when absent")]
HUB_DEGREE = 200  # nodes with more links are shown but not expanded (agents, shared addresses)


@router.get("/graph/{key}", response_model=GraphOut, summary="Neighbourhood of a party as nodes and links")
async def graph(request: Request, principal: PartyReader,
                key: Annotated[str, Path(min_length=1, max_length=200, examples=["91410105MA44XKTX77"],
                                         description="USCC, resident ID or party key")],
                hops: Annotated[int, Query(ge=0, le=6, examples=[2])] = 2,
                as_of: AsOf = None,
                max_nodes: Annotated[int, Query(ge=1, le=5000, examples=[300])] = 300) -> Response:
    """Parties within ``hops`` links (either direction), with kinds, labels, dates and distance; at most
    ``max_nodes`` nodes (nearest first, ``truncated`` says when some were left out)."""
    c = ctx(request)
    center = party_key(key)
    audit_keys(request, center)
    out = await run_in_threadpool(_graph, c, center, hops, as_of, max_nodes)
    # every party shown is a party looked at: on the audit trail too, not only the centre
    audit_keys(request, *(n["id"] for n in out["nodes"] if n["id"] != center))
    return json_response(out)


def _grow(view: Any, seeds: list[str], hops: int, as_of: dt.date | None, max_nodes: int) -> tuple[Subgraph, int, bool]:
    """The neighbourhood hop by hop, stopping before it outgrows ``max_nodes``."""
    sub = view.neighbourhood(seeds, 0, as_of=as_of, max_degree=HUB_DEGREE)
    shown = 0
    for h in range(1, hops + 1):
        bigger = view.neighbourhood(seeds, h, as_of=as_of, max_degree=HUB_DEGREE)
        if len(bigger.parties) > max_nodes:
            return _trim(bigger, max_nodes), shown, True
        grew = len(bigger.parties) > len(sub.parties) or len(bigger.links) > len(sub.links)
        sub, shown = bigger, h
        if not grew:
            shown = hops  # nothing further out: every hop asked for is shown
            break
    return sub, shown, False


def _trim(sub: Subgraph, max_nodes: int) -> Subgraph:
    keep = sorted(sub.parties, key=lambda k: (sub.distance.get(k, 99), k))[:max_nodes]
    kept = set(keep)
    out = Subgraph()
    out.parties = {k: sub.parties[k] for k in keep}
    out.distance = {k: sub.distance[k] for k in keep if k in sub.distance}
    out.capped = {k for k in sub.capped if k in kept}
    out.links = [lk for lk in sub.links if lk.src in kept and lk.dst in kept]
    return out


def _graph(c: ApiContext, center: str, hops: int, as_of: dt.date | None, max_nodes: int) -> dict[str, Any]:
    view = c.store.view()
    party = view.party(center)
    if party is None:
        raise NotFound(f"no party {center}")
    sub, shown, truncated = _grow(view, [party.key], hops, as_of, max_nodes)
    nodes = [{"id": p.key, "kind": p.kind.value, "kind_zh": PARTY_LABELS_ZH.get(p.kind, p.kind.value), "label": p.name,
              "code": p.code, "region": p.region, "distance": sub.distance.get(k, 0), "capped": k in sub.capped,
              "flags": sorted(f.value for f in p.flags), "start": p.start, "end": p.end}
             for k, p in sorted(sub.parties.items(), key=lambda kv: (sub.distance.get(kv[0], 0), kv[0]))]
    return {"center": party.key, "as_of": as_of, "hops": hops, "hops_shown": shown, "truncated": truncated,
            "capped": sorted(sub.capped), "nodes": nodes, "links": [link_out(lk) for lk in sub.links]}


@router.get("/paths", response_model=PathsOut, summary="Relationship paths between two parties")
async def paths(request: Request, principal: PartyReader,
                source: Annotated[str, Query(alias="from", min_length=1, max_length=200,
                                             examples=["91410105MA44XKTX77"])],
                target: Annotated[str, Query(alias="to", min_length=1, max_length=200,
                                             examples=["410105197506010011"])],
                max_hops: Annotated[int, Query(ge=1, le=6, examples=[4])] = 4,
                as_of: AsOf = None,
                limit: Annotated[int, Query(ge=1, le=100, examples=[20])] = 20) -> Response:
    """Shortest paths first, then other simple paths up to ``max_hops`` links (at most ``limit``)."""
    c = ctx(request)
    a, b = party_key(source, "from"), party_key(target, "to")
    audit_keys(request, a, b)
    out = await run_in_threadpool(_paths, c, a, b, max_hops, as_of, limit)
    audit_keys(request, *dict.fromkeys(n["key"] for p in out["paths"] for n in p["nodes"] if n["key"] not in (a, b)))
    return json_response(out)


def _paths(c: ApiContext, a: str, b: str, max_hops: int, as_of: dt.date | None, limit: int) -> dict[str, Any]:
    view = c.store.view()
    pa, pb = view.party(a), view.party(b)
    if pa is None:
        raise NotFound(f"no party {a}")
    if pb is None:
        raise NotFound(f"no party {b}")
    a, b = pa.key, pb.key
    if a == b:
        raise InvalidInput("起点和终点是同一个主体 (from and to name the same party)", field="to")
    # every link of a path of <= L links touches a node within ceil(L/2) of one end
    sub = view.neighbourhood([a, b], math.ceil(max_hops / 2), as_of=as_of, max_degree=HUB_DEGREE)
    g = nx.Graph()
    g.add_nodes_from(sub.parties)
    between: dict[frozenset[str], list[Any]] = {}
    for lk in sub.links:
        if lk.src == lk.dst or lk.src not in sub.parties or lk.dst not in sub.parties:
            continue
        g.add_edge(lk.src, lk.dst)
        between.setdefault(frozenset((lk.src, lk.dst)), []).append(lk)
    found: list[list[str]] = []
    shortest: int | None = None
    truncated = False
    if a in g and b in g and nx.has_path(g, a, b):
        shortest = nx.shortest_path_length(g, a, b)
        if shortest <= max_hops:
            seen: set[tuple[str, ...]] = set()
            for p in itertools.islice(nx.all_shortest_paths(g, a, b), limit + 1):
                seen.add(tuple(p))
                found.append(p)
            if len(found) < limit:
                for p in itertools.islice(nx.shortest_simple_paths(g, a, b), limit * 4 + 1):
                    if len(p) - 1 > max_hops:
                        break
                    if tuple(p) not in seen:
                        seen.add(tuple(p))
                        found.append(p)
                    if len(found) > limit:
                        break
            truncated = len(found) > limit
            found = found[:limit]
        else:
            shortest = None
    names = sub.parties
    out_paths = []
    for p in found:
        nodes = [{"key": k, "name": names[k].name, "kind": PARTY_LABELS_ZH.get(names[k].kind, names[k].kind.value)}
                 for k in p]
        steps = [[link_out(lk) for lk in between[frozenset((p[i], p[i + 1]))]] for i in range(len(p) - 1)]
        out_paths.append({"length": len(p) - 1, "nodes": nodes, "steps": steps})
    return {"source": a, "target": b, "as_of": as_of, "max_hops": max_hops, "shortest": shortest,
            "paths": out_paths, "truncated": truncated, "capped": sorted(sub.capped)}
