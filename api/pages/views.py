"""Routes of the /ui pages: login, search, profile, graph, paths, control, risk, relocations, exports."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from api.audit import audit_keys
from api.auth import READ_PARTIES, RISK, retry_after
from api.pages import data as D
from api.pages import session as S
from api.routes.common import ApiContext, ctx, dump, jsonable, mask_json, party_key, today
from api.routes.relocations import relocation_cases
from graph.store import CreditGraphError, InvalidInput, NotFound
from visualizations.relocation import vis_assets

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE.parent / "templates"
STATIC_DIR = HERE.parent / "static"
ROLE_ZH = {"investigator": "调查人员", "supervision_system": "监管系统", "admin": "管理员"}

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
router = APIRouter(prefix="/ui", include_in_schema=False)


def _date_text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _last_day(value: Any) -> str:
    """A measure's end as people read "至": the last day it applies (the API's ``end`` is the
    first day it no longer does)."""
    if value in (None, ""):
        return "—"
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return (day - dt.timedelta(days=1)).isoformat()


def _pct(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    text = f"{float(value) * 100:.{digits}f}".rstrip("0").rstrip(".")
    return f"{text}%"


templates.env.filters["d"] = _date_text
# data-quality flags as an investigator reads them (the API keeps the codes)
_FLAG_ZH = {"masked_id": "证件号码已遮蔽", "invalid_code": "代码校验不通过", "no_code": "无统一社会信用代码",
            "invalid_id": "证件号码无效", "name_only": "仅有姓名,无证件号码"}
templates.env.filters["flag"] = lambda f: _FLAG_ZH.get(str(f), str(f))
templates.env.filters["pct"] = _pct
templates.env.filters["last_day"] = _last_day
templates.env.filters["lvl"] = lambda level: level or "无"
templates.env.filters["urlkey"] = lambda key: urllib.parse.quote(str(key), safe=":")
templates.env.globals.update(LEVEL_ZH=D.LEVEL_ZH, GRADE_ZH=D.GRADE_ZH, ROLE_ZH=ROLE_ZH, LINK_KINDS=D.LINK_KINDS_ZH,
                             ATTR_LABELS=D.ATTR_LABELS, RECORD_ZH=D.RECORD_ZH)


# -- errors ------------------------------------------------------------------------------------
class LoginRequired(Exception):
    """No valid session: pages redirect to the login, JSON answers 401."""

    def __init__(self, next_url: str) -> None:
        super().__init__("login required")
        self.next_url = next_url


class PageError(Exception):
    """An error shown as a page (or as {code, message, field} on JSON routes)."""

    def __init__(self, status: int, title: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.title, self.message, self.headers = status, title, message, headers or {}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/ui/api/", "/ui/export/"))


_TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "未找到", 405: "不支持的操作", 413: "请求过大",
           422: "参数有误", 429: "请求过于频繁"}


def error_page(request: Request, status: int, message: str, field: str = "") -> Response | None:
    """The error as a page in Chinese for a browser on /ui (None elsewhere: the API's JSON
    error stands). Used by the app's handlers for errors raised before a page's own code
    ran: a parameter out of range (hops=9), an unknown /ui path."""
    path = request.url.path
    if not path.startswith("/ui") or _wants_json(request):
        return None
    sess = _session(request)
    where = f"参数 {field}:" if field else ""
    return templates.TemplateResponse(request, "error.html", _base(request, sess) | {
        "title": _TITLES.get(status, "出错了"), "message": where + message, "status": status}, status_code=status)


def install_handlers(app: FastAPI) -> None:
    """Register the page error handlers on ``app``."""

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if _wants_json(request):
            return Response(dump({"code": "Unauthorized", "message": "请先登录(login required)", "field": ""}),
                            status_code=401, media_type="application/json")
        return RedirectResponse("/ui/login?next=" + urllib.parse.quote(exc.next_url, safe=""), status_code=303)

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        if _wants_json(request):
            code = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 422: "InvalidInput",
                    429: "RateLimited"}.get(exc.status, "Error")
            return Response(dump({"code": code, "message": exc.message, "field": ""}), status_code=exc.status,
                            media_type="application/json", headers=exc.headers)
        sess = _session(request)
        return templates.TemplateResponse(request, "error.html", _base(request, sess) | {
            "title": exc.title, "message": exc.message, "status": exc.status}, status_code=exc.status,
            headers=exc.headers)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageError, page_error)


# -- sessions ----------------------------------------------------------------------------------
def _secret(request: Request) -> bytes:
    state = request.app.state
    secret = getattr(state, "ui_session_secret", None)
    if secret is None:
        secret = S.session_secret(ctx(request).db)
        state.ui_session_secret = secret
    return secret


def _session(request: Request) -> S.Session | None:
    return S.read(_secret(request), ctx(request).db, request.cookies.get(S.COOKIE))


def _here(request: Request) -> str:
    return request.url.path + (("?" + request.url.query) if request.url.query else "")


def require_user(*roles: str) -> Callable[[Request], Any]:
    """A dependency: a valid session (else the login page), of one of ``roles`` (403), within its rate."""

    async def dependency(request: Request) -> S.Session:
        sess = _session(request)
        if sess is None:
            raise LoginRequired(_here(request))
        request.scope.setdefault("state", {})["principal"] = sess.principal
        if sess.principal.role not in roles:
            raise PageError(403, "无权访问", f"当前登录角色“{ROLE_ZH.get(sess.principal.role, sess.principal.role)}”"
                            "不能查看主体档案、关系图和导出(与 API 的权限一致);请使用风险核查或易地开张线索。")
        c = ctx(request)
        wait = c.limiter.take(sess.principal.id)
        if wait > 0:
            raise PageError(429, "请求过于频繁", f"请 {retry_after(wait)} 秒后再试", {"Retry-After": retry_after(wait)})
        return sess

    return dependency


Reader = Annotated[S.Session, Depends(require_user(*READ_PARTIES))]
Checker = Annotated[S.Session, Depends(require_user(*RISK))]


def _base(request: Request, sess: S.Session | None) -> dict[str, Any]:
    return {"user": sess.principal if sess else None, "csrf": sess.csrf if sess else "",
            "masked": bool(sess and sess.principal.masked), "path": request.url.path,
            "can_read": bool(sess and sess.principal.role in READ_PARTIES)}


def render(request: Request, sess: S.Session | None, template: str, status: int = 200, **context: Any) -> Response:
    """Render a template with the session's user, CSRF token and masking flag."""
    return templates.TemplateResponse(request, template, _base(request, sess) | context, status_code=status)


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return await run_in_threadpool(fn, *args)
    except NotFound as exc:
        raise PageError(404, "未找到", str(exc)) from exc
    except InvalidInput as exc:
        raise PageError(422, "输入有误", str(exc)) from exc
    except CreditGraphError as exc:
        raise PageError(503, "暂时无法查询", str(exc)) from exc


def _key(text: str) -> str:
    try:
        return party_key(text)
    except InvalidInput as exc:
        raise PageError(422, "主体标识有误", str(exc)) from exc


def _as_of(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise PageError(422, "日期有误", f"日期应写作 2025-06-30,而不是 {text!r}") from exc


def _same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null":
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        if origin != own:
            raise PageError(403, "请求被拒绝", "跨站提交的表单不被接受")


# -- vendor assets (from the installed pyvis package) -------------------------------------------
_VENDOR = {"vis-network.min.js": ("application/javascript; charset=utf-8", 0),
           "vis-network.css": ("text/css; charset=utf-8", 1)}


@router.get("/vendor/{name}")
def vendor(name: str) -> Response:
    """vis-network as shipped inside pyvis (no CDN)."""
    if name not in _VENDOR:
        raise PageError(404, "未找到", name)
    media, index = _VENDOR[name]
    return Response(vis_assets()[index].encode("utf-8"), media_type=media,
                    headers={"Cache-Control": "public, max-age=86400"})


# -- login -------------------------------------------------------------------------------------
def _safe_next(value: str | None) -> str:
    if value and value.startswith("/ui") and not value.startswith("//"):
        return value
    return "/ui/search"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query name
    sess = _session(request)
    if sess is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, None, "login.html", next=_safe_next(next), error="")


@router.post("/login")
def login(request: Request, api_key: Annotated[str, Form(max_length=500)] = "",
          next: Annotated[str, Form(max_length=2000)] = "/ui/search") -> Response:  # noqa: A002
    _same_origin(request)
    c = ctx(request)
    client = request.client.host if request.client else ""
    wait = c.limiter.take("ui-login:" + client)
    if wait > 0:
        raise PageError(429, "请求过于频繁", f"请 {retry_after(wait)} 秒后再试", {"Retry-After": retry_after(wait)})
    principal = c.keys.verify(api_key) if api_key.strip() else None
    if principal is None:
        return render(request, None, "login.html", status=401, next=_safe_next(next),
                      error="API 密钥无效或已吊销。请向管理员索取(creditgraph keys create)。")
    request.scope.setdefault("state", {})["principal"] = principal
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(S.COOKIE, S.issue(_secret(request), principal.id), max_age=S.LIFETIME_SECONDS, httponly=True,
                    samesite="strict", secure=request.url.scheme == "https", path="/")
    return resp


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    _same_origin(request)
    sess = _session(request)
    if sess is not None:
        request.scope.setdefault("state", {})["principal"] = sess.principal
        if csrf != sess.csrf:
            raise PageError(403, "请求被拒绝", "表单已过期,请刷新页面后再退出")
    resp = RedirectResponse("/ui/login", status_code=303)
    resp.delete_cookie(S.COOKIE, path="/")
    return resp


# -- search ------------------------------------------------------------------------------------
@router.get("")
@router.get("/search")
async def search(request: Request, sess: Checker,
                 q: Annotated[str, Query(max_length=200)] = "") -> Response:
    """One box: name (fuzzy, simplified or traditional), USCC or resident ID."""
    c = ctx(request)
    text = q.strip()
    rows = await _call(D.search, c, text, sess.principal.masked) if text else []
    audit_keys(request, *(r["key"] for r in rows))
    counts = c.store.view().counts() if not text else {}
    shown = mask_json(text) if sess.principal.masked else text  # the API masks what a supervision system sent, too
    return render(request, sess, "search.html", q=shown, rows=rows, counts=counts)


# -- profile -----------------------------------------------------------------------------------
PROFILE_HOPS = 1
MAX_NODES = 300


def _profile_bundle(c: ApiContext, key: str, day: dt.date, as_of: dt.date | None) -> dict[str, Any]:
    prof = D.profile(c, key, day)
    g = D.graph(c, prof["party"]["key"], PROFILE_HOPS, as_of, MAX_NODES)
    g["warnings"] = prof.get("warnings", [])
    return {"p": prof, "graph": g}


@router.get("/party/{key:path}")
async def party(request: Request, sess: Reader, key: str, as_of: str | None = None) -> Response:
    """Profile of a firm, person or contact: roles over time, records, warnings, cases, grade, graph."""
    c = ctx(request)
    k = _key(key)
    audit_keys(request, k)
    day = _as_of(as_of)
    bundle = await _call(_profile_bundle, c, k, day or today(), day)
    return render(request, sess, "party.html", as_of=day, **bundle)


@router.get("/summary/{key:path}")
async def summary(request: Request, sess: Reader, key: str, as_of: str | None = None) -> Response:
    """A printable case summary of a profile."""
    c = ctx(request)
    k = _key(key)
    audit_keys(request, k)
    day = _as_of(as_of)
    bundle = await _call(_profile_bundle, c, k, day or today(), day)
    return render(request, sess, "summary.html", as_of=day, now=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
                  **bundle)


# -- graph -------------------------------------------------------------------------------------
@router.get("/graph/{key:path}")
async def graph_page(request: Request, sess: Reader, key: str, as_of: str | None = None,
                     hops: Annotated[int, Query(ge=1, le=4)] = 2, warning: int | None = None) -> Response:
    """The interactive linkage graph of a party."""
    c = ctx(request)
    k = _key(key)
    audit_keys(request, k)
    day = _as_of(as_of)
    g = await _call(D.graph, c, k, hops, day, MAX_NODES, True)
    audit_keys(request, *(n["id"] for n in g["nodes"] if n["id"] != k))  # every party shown was looked at
    name = next((n["label"] for n in g["nodes"] if n["id"] == g["center"]), k)
    return render(request, sess, "graph.html", graph=g, name=name, as_of=day, hops=hops, warning=warning)


@router.get("/api/graph/{key:path}")
async def graph_json(request: Request, sess: Reader, key: str, as_of: str | None = None,
                     hops: Annotated[int, Query(ge=0, le=4)] = 1,
                     max_nodes: Annotated[int, Query(ge=1, le=2000)] = MAX_NODES,
                     warnings: bool = False) -> Response:
    """The API's /graph answer for the page's session (same origin), with risk levels per node."""
    c = ctx(request)
    k = _key(key)
    audit_keys(request, k)
    g = await _call(D.graph, c, k, hops, _as_of(as_of), max_nodes, warnings)
    audit_keys(request, *(n["id"] for n in g["nodes"] if n["id"] != k))
    return Response(dump(g), media_type="application/json")


@router.get("/export/{what}")
async def export(request: Request, sess: Reader, what: str, key: str, as_of: str | None = None,
                 hops: Annotated[int, Query(ge=0, le=4)] = 1,
                 max_nodes: Annotated[int, Query(ge=1, le=2000)] = MAX_NODES,
                 expand: Annotated[str, Query(max_length=20000)] = "",
                 kinds: Annotated[str, Query(max_length=1000)] = "") -> Response:
    """The graph as the page shows it: nodes.csv, links.csv or graph.xlsx."""
    if what not in ("nodes.csv", "links.csv", "graph.xlsx"):
        raise PageError(404, "未找到", f"没有导出格式 {what}")
    c = ctx(request)
    k = _key(key)
    expanded = [_key(x) for x in expand.split(",") if x.strip()]
    chosen = None if not kinds else {x for x in kinds.split(",") if x and x != "-"}
    day = _as_of(as_of)
    data = await _call(D.merged_graph, c, k, hops, day, max_nodes, expanded, chosen)
    audit_keys(request, k, *(n["id"] for n in data["nodes"] if n["id"] != k))
    stem = f"creditgraph-{k.split(':', 1)[-1]}" + (f"-{day.isoformat()}" if day else "")
    if what == "graph.xlsx":
        body = await run_in_threadpool(D.export_xlsx, data)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        filename = f"{stem}.xlsx"
    else:
        part = what.split(".")[0]
        body = D.export_csv(data, part)
        media = "text/csv; charset=utf-8"
        filename = f"{stem}-{part}.csv"
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{urllib.parse.quote(filename)}"
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


# -- paths and control -------------------------------------------------------------------------
@router.get("/paths")
async def paths_page(request: Request, sess: Reader, source: Annotated[str, Query(alias="from", max_length=200)] = "",
                     target: Annotated[str, Query(alias="to", max_length=200)] = "",
                     max_hops: Annotated[int, Query(ge=1, le=6)] = 4, as_of: str | None = None) -> Response:
    """关系穿透: relationship paths between two parties, listed and drawn."""
    c = ctx(request)
    day = _as_of(as_of)
    result: dict[str, Any] | None = None
    notes: list[str] = []
    if source.strip() and target.strip():
        a, how_a = await _call(D.resolve_party, c, source, "from")
        b, how_b = await _call(D.resolve_party, c, target, "to")
        notes = [f"起点{how_a}" if how_a else "", f"终点{how_b}" if how_b else ""]
        audit_keys(request, a, b)
        result = await _call(D.paths, c, a, b, max_hops, day)
    return render(request, sess, "paths.html", source=source, target=target, max_hops=max_hops, as_of=day,
                  result=result, notes=[n for n in notes if n])


@router.get("/control/{key:path}")
async def control_page(request: Request, sess: Reader, key: str, as_of: str | None = None) -> Response:
    """股权穿透: shareholding chains up to the ultimate holders, ratios multiplied along each chain."""
    c = ctx(request)
    k = _key(key)
    audit_keys(request, k)
    day = _as_of(as_of)
    rep = await _call(D.control, c, k, day)
    levels = max((n.get("distance", 0) for n in rep["graph"]["nodes"]), default=0)
    for n in rep["graph"]["nodes"]:
        n["level"] = levels - n.get("distance", 0)
    return render(request, sess, "control.html", rep=rep, as_of=day)


# -- risk and relocations (supervision systems too, masked) ------------------------------------
def _risk(c: ApiContext, key: str, day: dt.date, masked: bool) -> tuple[str, dict[str, Any]]:
    view = c.store.view()
    rep = c.risk.report(view, key, day, D.CHECK_HOPS, c.risk.index(view, day, D.CHECK_HOPS)).as_dict()
    return rep["key"], (mask_json(rep) if masked else rep)


@router.get("/risk/{key:path}")
async def risk_page(request: Request, sess: Checker, key: str, as_of: str | None = None) -> Response:
    """The risk check of one party (warnings with paths, grade, sampling ratio), as /api/v1/risk answers it."""
    c = ctx(request)
    day = _as_of(as_of) or today()
    audit_keys(request, key.strip())
    found, rep = await _call(_risk, c, key.strip(), day, sess.principal.masked)
    request.scope["state"]["audit_keys"] = [found]
    return render(request, sess, "risk.html", rep=rep, as_of=day)


@router.get("/relocations")
async def relocations_page(request: Request, sess: Checker, since: str | None = None) -> Response:
    """易地开张 cases with their evidence (masked for supervision systems)."""
    c = ctx(request)
    day = _as_of(since)
    cases = await run_in_threadpool(lambda: relocation_cases(c.store.view(), day)) or []
    for case in cases[:200]:
        audit_keys(request, case.get("old", ""), case.get("new", ""))
    shown = jsonable(cases[:200])
    if sess.principal.masked:
        shown = mask_json(shown)
    return render(request, sess, "relocations.html", cases=shown, total=len(cases), since=day)


# -- the audit trail of the pages --------------------------------------------------------------
def audited_page(scope: dict[str, Any]) -> bool:
    """The /ui requests recorded in the audit trail: not static files, not the login form."""
    path = scope.get("path", "")
    return ((path == "/ui" or path.startswith("/ui/")) and not path.startswith(("/ui/static", "/ui/vendor"))
            and not (path == "/ui/login" and scope["method"] == "GET"))
