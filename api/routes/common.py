"""What every route shares: the API context, role checks with rate limits, masking, converters."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from starlette.responses import Response

from api.audit import AuditLog
from api.auth import (
    ADMIN_ONLY,
    READ_PARTIES,
    RISK,
    WEBHOOKS,
    WRITE_ACTIONS,
    ApiDatabase,
    ApiSettings,
    KeyRing,
    Principal,
    RateLimiter,
    presented_key,
    retry_after,
)
from api.masking import mask_body
from graph.identifiers import check_resident_id, check_uscc, normalise_code, upgrade_resident_id
from graph.model import Link, NameFact, Party, Record
from graph.schema import PARTY_LABELS_ZH, link_spec
from graph.store import InvalidInput
from queries.catalog import Catalog, load_catalog
from queries.risk import RiskReport, check
from queries.risk_index import RiskIndex, RiskIndexCache

log = logging.getLogger("creditgraph.api")


class ApiError(Exception):
    """An HTTP error in the one error format {code, message, field}."""

    def __init__(self, status: int, code: str, message: str, field: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Return ``content`` serialised by orjson."""
    body = content if isinstance(content, bytes) else dump(content)
    return Response(body, status_code=status_code, headers=headers, media_type="application/json")


def dump(content: Any) -> bytes:
    """Serialise plain values, dates and dataclasses with orjson."""
    return orjson.dumps(content, default=_default, option=orjson.OPT_NON_STR_KEYS)


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(value).__name__}")


# -- the risk index and answers, built once per store version ---------------------------------
class RiskService:
    """Risk indexes per (hops, date), built once per store version, and cached answers."""

    def __init__(self, catalog: Catalog | None = None, *, max_indexes: int = 4, max_answers: int = 20_000) -> None:
        self.catalog = catalog or load_catalog()
        self.max_indexes = max_indexes
        self.max_answers = max_answers
        self._caches: OrderedDict[tuple[int, dt.date], RiskIndexCache] = OrderedDict()
        self._locks: dict[tuple[int, dt.date], threading.Lock] = {}
        self._guard = threading.Lock()
        self._answers: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._answers_version = -1
        self._building: set[tuple[int, dt.date]] = set()  # indexes being built in the background
        self._same_links: dict[tuple[Any, ...], bool] = {}  # (index key, its version, store version) -> answer

    def ready(self, view: Any, as_of: dt.date, hops: int) -> RiskIndex | None:
        """Return the index answering (hops, as_of) on this view's version, when already built."""
        cache = self._caches.get((hops, as_of))
        idx = cache.index if cache is not None else None
        if idx is not None and idx.version == view.version():
            return idx
        return None

    def earlier(self, view: Any, as_of: dt.date, hops: int, rebuild: Callable[[], Any]) -> RiskIndex | None:
        """Return the index of an earlier store version that may answer for ``view`` while the
        current one is built, and start that build in the background (once); None when there
        is none, and the caller waits for the build as before.

        Only when links, parties and aliases are unchanged since (a list entry, repair or
        objection: records only): the answers are then those of the state before the change,
        said in each report's ``behind``. A change made through the API rebuilds before it
        returns (:meth:`caught_up`), so the writer, and everyone after, reads the new state;
        an approval desk checking during those seconds is answered at once, as of just before."""
        k = (hops, as_of)
        cache = self._caches.get(k)
        idx = cache.index if cache is not None else None
        version = view.version()
        if idx is None or idx.version >= version:
            return None
        asked = (k, idx.version, version)
        same = self._same_links.get(asked)
        if same is None:
            same = idx.same_links(view)  # a sum over every node: once per store version
            self._same_links = {asked: same}
        if not same:
            return None
        with self._guard:
            if k not in self._building:
                self._building.add(k)
                threading.Thread(target=self._build_in_background, args=(k, rebuild), name="risk-index-rebuild",
                                 daemon=True).start()
        return idx

    def answering(self, view: Any, as_of: dt.date, hops: int, fresh_view: Callable[[], Any], *,
                  wait: bool = True) -> tuple[RiskIndex | None, bool]:
        """Return the index to answer checks on ``view`` with, and whether it is an earlier
        one (:meth:`earlier`). When none may answer, ``wait``: build it (blocking: for worker
        threads), else None (the event loop). ``fresh_view`` opens a view for a background build."""
        index = self.ready(view, as_of, hops)
        if index is not None:
            return index, False
        index = self.earlier(view, as_of, hops, lambda: self.index(fresh_view(), as_of, hops))
        if index is not None:
            return index, True
        return (self.index(view, as_of, hops) if wait else None), False

    def _build_in_background(self, k: tuple[int, dt.date], rebuild: Callable[[], Any]) -> None:
        try:
            rebuild()
        except Exception:  # the next check waits for the build and reports the error itself
            log.exception("risk index rebuild for hops=%s as_of=%s failed", *k)
        finally:
            with self._guard:
                self._building.discard(k)

    def caught_up(self, view: Any) -> None:
        """After a change through the API: rebuild the indexes of today (and tomorrow's, when
        built ahead) now (the writer waits, checks meanwhile are answered from the earlier ones)
        and drop those of other dates (built again when asked for)."""
        day = today()
        for hops, as_of in list(self._caches):
            if day <= as_of <= day + dt.timedelta(days=1):
                self.index(view, as_of, hops)
            else:
                with self._guard:
                    self._caches.pop((hops, as_of), None)
                    self._locks.pop((hops, as_of), None)

    def index(self, view: Any, as_of: dt.date, hops: int) -> RiskIndex:
        """Return the index for (hops, as_of), building it when the store changed (blocking)."""
        k = (hops, as_of)
        with self._guard:
            cache = self._caches.get(k)
            if cache is None:
                # the link columns of the latest index (another day or hops), when still current
                latest = next((c.index for c in reversed(self._caches.values()) if c.index is not None), None)
                cache = RiskIndexCache(hops, catalog=self.catalog, arrays=latest.arrays if latest is not None else None)
                self._caches[k] = cache
                while len(self._caches) > self.max_indexes:
                    old, _ = self._caches.popitem(last=False)
                    self._locks.pop(old, None)
            else:
                self._caches.move_to_end(k)
            lock = self._locks.setdefault(k, threading.Lock())
        with lock:  # one build at a time per index; the others wait for it
            # a new index's long-lived objects (reasons, action book) leave the build frozen, out
            # of the cyclic collector's sight (queries.young_gc): full collections walking them
            # paused the event loop 85-140 ms on the 100k store. Refcounting still frees an
            # index when it is replaced.
            return cache.get(view, as_of)

    def report(self, view: Any, key: str, as_of: dt.date, hops: int, index: RiskIndex | None, *,
               earlier: bool = False) -> RiskReport:
        """Return the risk report of ``key`` (answered from ``index`` when it fits; ``earlier``:
        an index from :meth:`earlier`)."""
        return check(view, key, as_of, hops, catalog=self.catalog, index=index, earlier=earlier)

    def cached(self, version: int, k: tuple[Any, ...]) -> Any:
        """Return a cached answer for this store version."""
        if version != self._answers_version:
            return None
        return self._answers.get(k)

    def remember(self, version: int, k: tuple[Any, ...], body: Any) -> None:
        """Keep an answer for this store version (older versions are dropped)."""
        if self.max_answers <= 0:
            return
        with self._guard:
            if version != self._answers_version:
                self._answers = OrderedDict()
                self._answers_version = version
            self._answers[k] = body
            if len(self._answers) > self.max_answers:
                self._answers.popitem(last=False)


# how long before midnight the next day's risk index is built (a build takes about 20 s at
# 1M firms, while the server keeps answering)
PREBUILD_LEAD = dt.timedelta(minutes=10)

# How long a thread waiting for the GIL lets the holder run before asking for it (Python's
# default: 5 ms). While a thread rebuilds a risk index (after a change through the API, or
# the next day's before midnight), every SQLite call of a check on the event loop lets go of
# the GIL and then waited a whole interval to get it back from the busy builder, several
# times per check: at 1M firms, checks during a credit repair had a p99 of 418-449 ms (1 ms:
# 242 ms; 0.2 ms: 90 ms, the repair itself no slower). The rest of the time the server's
# other threads (upkeep, a sync endpoint now and then) are mostly idle, and the bench's cold
# checks showed no cost.
GIL_SWITCH_INTERVAL = 0.0002


def prebuild_each_day(risk: RiskService, store: Any, stop: threading.Event, *, lead: dt.timedelta = PREBUILD_LEAD,
                      now: Callable[[], dt.datetime] = dt.datetime.now) -> None:
    """Build tomorrow's risk index (hops 3, in ``risk``, of ``store``) ``lead`` before each
    midnight, until ``stop`` is set (the server's, and its risk worker's).

    A check's default date is today, and each date has an index of its own: without this the
    first checks after midnight wait for a whole build (about 20 s at 1M firms). Changes after
    the build are caught up as on any day (RiskService.earlier, RiskService.caught_up)."""
    while not stop.is_set():
        midnight = dt.datetime.combine(now().date() + dt.timedelta(days=1), dt.time())
        if stop.wait(max(0.0, (midnight - lead - now()).total_seconds())):
            return
        try:
            risk.index(store.view(), midnight.date(), 3)
        except Exception:  # the first check of the day builds it then, and reports the error
            log.exception("building the risk index for %s ahead of time failed", midnight.date())
        if stop.wait(max(0.0, (midnight - now()).total_seconds()) + 1.0):  # past midnight: the next day
            return


@dataclass(slots=True)
class ApiContext:
    """Everything the routes need, kept on ``app.state.api``."""

    settings: ApiSettings
    store: Any
    db: ApiDatabase
    keys: KeyRing
    audit: AuditLog
    limiter: RateLimiter
    risk: RiskService
    webhooks: Any = None
    caches: dict[Any, Any] = field(default_factory=dict)
    worker: Any = None  # api.risk_worker.RiskWorker when checks are answered by a second process


def ctx(request: Request) -> ApiContext:
    """The API context of the app serving ``request``."""
    return request.app.state.api


def authorize(request: Request, roles: tuple[str, ...]) -> Principal:
    """Return the caller of ``request``: a valid key (else 401), of one of ``roles`` (403),
    within its rate (429). The principal is left in the request state for the audit.

    A plain function, so the hot risk route can call it without FastAPI's dependency
    machinery; the other routes use it through :func:`require`."""
    c = ctx(request)
    presented = presented_key(request.headers)
    principal = c.keys.verify(presented) if presented else None
    if principal is None:
        # refused callers share a bucket per address: each refusal is an audit row, and guessing
        # keys or flooding the trail must cost time too
        client = request.scope.get("client")
        wait = c.limiter.take("anonymous:" + (client[0] if client else ""))
        if wait > 0:
            raise ApiError(429, "RateLimited", f"too many refused requests from this address; retry after "
                           f"{retry_after(wait)} s", headers={"Retry-After": retry_after(wait)})
        if not presented:
            raise ApiError(401, "Unauthorized", "an API key is required: send it as X-API-Key or "
                           "Authorization: Bearer (create one with `creditgraph keys create`)",
                           headers={"WWW-Authenticate": "Bearer"})
        raise ApiError(401, "Unauthorized", "the API key is unknown or revoked",
                       headers={"WWW-Authenticate": "Bearer"})
    request.scope.setdefault("state", {})["principal"] = principal
    if principal.role not in roles:
        raise ApiError(403, "Forbidden", f"role {principal.role} may not use this endpoint "
                       f"(allowed: {', '.join(roles)})")
    wait = c.limiter.take(principal.id)
    if wait > 0:
        raise ApiError(429, "RateLimited", f"rate limit of {c.limiter.rate:g} requests/s "
                       f"(burst {c.limiter.burst}) exceeded; retry after {retry_after(wait)} s",
                       headers={"Retry-After": retry_after(wait)})
    return principal


def require(*roles: str) -> Callable[[Request], Any]:
    """A dependency: :func:`authorize` for ``roles``."""

    async def dependency(request: Request) -> Principal:
        return authorize(request, roles)

    return dependency


# -- input -------------------------------------------------------------------------------------
KEY_PREFIXES = ("org:", "per:", "unr:", "tel:", "eml:", "adr:")


def org_key(text: str, field_name: str = "uscc") -> str:
    """Return the party key for a USCC (or a party key as given)."""
    raw = (text or "").strip()
    if raw.startswith(KEY_PREFIXES):
        return raw
    verdict = check_uscc(raw)
    if not verdict.valid:
        raise InvalidInput(f"{raw!r} 不是有效的统一社会信用代码 (not a valid unified social credit code): "
                           f"{verdict.reason}", field=field_name)
    return "org:" + verdict.code


def person_key(text: str, field_name: str = "person_id") -> str:
    """Return the party key for a resident ID (or a party key as given)."""
    raw = (text or "").strip()
    if raw.startswith(KEY_PREFIXES):
        return raw
    raw = upgrade_resident_id(raw) or raw  # a first-generation 15-digit ID: the same person
    verdict = check_resident_id(raw)
    if not verdict.valid:
        raise InvalidInput(f"{raw!r} 不是有效的身份证号码 (not a valid resident ID number): {verdict.reason}",
                           field=field_name)
    return "per:" + verdict.number


def party_key(text: str, field_name: str = "key") -> str:
    """Return the party key for a USCC, a resident ID or a party key."""
    raw = (text or "").strip()
    if raw.startswith(KEY_PREFIXES):
        return raw
    code = normalise_code(raw)
    if check_uscc(code).valid:
        return "org:" + code
    code = upgrade_resident_id(code) or code
    if check_resident_id(code).valid:
        return "per:" + code
    raise InvalidInput(f"{raw!r} 既不是有效的统一社会信用代码,也不是有效的身份证号码 (neither a valid USCC nor a "
                       "valid resident ID, nor a party key such as org:<USCC>)", field=field_name)


def today() -> dt.date:
    """Today's date (the default as_of)."""
    return dt.date.today()


EARLIEST_DAY, LATEST_DAY = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


def day_of(as_of: dt.date | None, field: str = "as_of") -> dt.date:
    """The day a request asks about: ``as_of``, today when absent; a date outside 1900-2199
    is a clear 422 (periods computed back from year 1 fell off the calendar: a 500)."""
    if as_of is None:
        return today()
    if not EARLIEST_DAY <= as_of <= LATEST_DAY:
        raise InvalidInput(f"{field} must lie between {EARLIEST_DAY} and {LATEST_DAY}, not {as_of}", field=field)
    return as_of


# -- converters --------------------------------------------------------------------------------
def party_out(p: Party) -> dict[str, Any]:
    """A party as PartyOut."""
    return {"key": p.key, "kind": p.kind.value, "kind_zh": PARTY_LABELS_ZH.get(p.kind, p.kind.value), "name": p.name,
            "code": p.code, "region": p.region, "start": p.start, "end": p.end, "status": p.status,
            "flags": sorted(f.value for f in p.flags)}


def names_out(names: Iterable[NameFact]) -> list[dict[str, Any]]:
    """Names as NameOut rows: each dated fact once, and an undated mention of a name only when
    no dated fact gives that name (the current name was listed twice, once without dates)."""
    facts = list(names)
    dated = {n.name for n in facts if n.start or n.end}
    # a name still in use since two dates (the registration's founding date, and the date a
    # 名称变更 gave it): the later one, which the change record knows better
    since: dict[str, Any] = {}
    for n in facts:
        if n.end is None and n.start:
            since[n.name] = max(since.get(n.name, n.start), n.start)
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for n in facts:
        if n.end is None and n.start and n.start != since[n.name]:
            continue
        if n.start or n.end or n.name not in dated:
            seen.setdefault((n.name, n.start, n.end), {"name": n.name, "start": n.start, "end": n.end})
    return list(seen.values())


def role_out(lk: Link, parties: dict[str, Party], as_of: dt.date) -> dict[str, Any]:
    """A link as RoleOut: holder (src) and firm (dst)."""
    spec = link_spec(lk.kind)

    def name(k: str) -> str:
        p = parties.get(k)
        return p.name if p is not None else ""

    end, current = lk.end, lk.active(as_of)
    firm = parties.get(lk.dst)
    if firm is not None and firm.kind.is_organisation and firm.end is not None and (end is None or firm.end < end):
        # no one holds a post in a firm that was deregistered or revoked: the role ended with it
        end = firm.end
        current = current and as_of < firm.end
    return {"link_id": lk.id, "kind": lk.kind.value, "label_zh": spec.label_zh, "title": lk.title,
            "holder": lk.src, "holder_name": name(lk.src), "firm": lk.dst, "firm_name": name(lk.dst),
            "start": lk.start, "end": end, "current": current, "ratio": lk.ratio, "amount": lk.amount,
            "currency": lk.currency}


def record_out(r: Record, status: Any = None) -> dict[str, Any]:
    """A record as RecordOut (with its effective status when given)."""
    out = {"id": r.id, "kind": r.kind.value, "subject": r.subject, "start": r.start, "end": r.end, "target": r.target,
           "state": "", "state_zh": "", "reason": "", "attrs": _plain_attrs(r.attrs or {})}
    if status is not None:
        out.update(state=status.state.value, state_zh=status.state.label_zh, reason=status.reason)
    return out


def _plain_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    return {str(k): (v.isoformat() if isinstance(v, dt.date) else v) for k, v in attrs.items() if not str(k).startswith("_")}


def link_out(lk: Link) -> dict[str, Any]:
    """A link as GraphLinkOut."""
    spec = link_spec(lk.kind)
    return {"id": lk.id, "source": lk.src, "target": lk.dst, "kind": lk.kind.value, "label_zh": spec.label_zh,
            "label_en": spec.label_en, "title": lk.title, "start": lk.start, "end": lk.end, "ratio": lk.ratio}


# -- masking (api.masking) ----------------------------------------------------------------------
def mask_json(value: Any) -> Any:
    """Return plain JSON ``value`` with person IDs masked (``4101**********1234``) and phones,
    e-mails and addresses hidden, wherever they appear (keys, names, messages)."""
    return orjson.loads(mask_body(dump(value)))


def jsonable(value: Any) -> Any:
    """Return ``value`` as plain JSON values (dates as ISO text)."""
    return orjson.loads(dump(value))


# the callers each endpoint admits (dependency types, so signatures stay readable)
RiskCaller = Annotated[Principal, Depends(require(*RISK))]
PartyReader = Annotated[Principal, Depends(require(*READ_PARTIES))]
ActionWriter = Annotated[Principal, Depends(require(*WRITE_ACTIONS))]
Subscriber = Annotated[Principal, Depends(require(*WEBHOOKS))]
AdminCaller = Annotated[Principal, Depends(require(*ADMIN_ONLY))]
