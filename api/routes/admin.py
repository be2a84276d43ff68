"""Administration: ingest an upload, read the audit trail, manage API keys."""

from __future__ import annotations

import datetime as dt
import pathlib
import re
import shutil
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.audit import audit_keys
from api.auth import ADMIN, ROLES, create_key, list_keys, note_key_change, revoke_key
from api.routes.actions import changed
from api.routes.common import AdminCaller, ApiContext, ApiError, ctx, json_response
from api.schemas import AuditOut, IngestOut, KeyOut
from graph.store import Conflict, InvalidInput

router = APIRouter(tags=["admin"])
_SUFFIXES = (".csv", ".xlsx", ".xls", ".txt")
_SAFE = re.compile(r"[^\w.\-]+")


@router.post("/ingest", response_model=IngestOut, summary="Ingest uploaded spreadsheets (admin)")
async def ingest(request: Request, principal: AdminCaller,
                 files: Annotated[list[UploadFile], File(description="CSV (UTF-8, BOM, GB18030) or XLSX files",
                                                     examples=[["统一社会信用代码,名称\n…"]])]) -> Response:
    """Runs the ingest pipeline on the uploaded files; returns the summary and every rejected row."""
    c = ctx(request)
    if not files:
        raise InvalidInput("upload at least one file", field="files")
    limit = c.settings.max_upload_mb * 2**20
    base = pathlib.Path(c.settings.upload_dir) if c.settings.upload_dir else c.db.path.parent / "uploads"
    base.mkdir(parents=True, exist_ok=True)
    folder = pathlib.Path(tempfile.mkdtemp(prefix=dt.datetime.now().strftime("%Y%m%dT%H%M%S-"), dir=base))
    total = 0
    try:
        for i, f in enumerate(files):
            name = _SAFE.sub("_", pathlib.Path(f.filename or f"upload-{i}.csv").name) or f"upload-{i}.csv"
            if not name.lower().endswith(_SUFFIXES):
                raise InvalidInput(f"file {f.filename!r}: only .csv and .xlsx files can be ingested", field=f"files[{i}]")
            target = folder / f"{i:03d}-{name}"
            with target.open("wb") as out:
                while chunk := await f.read(1 << 20):
                    total += len(chunk)
                    if total > limit:
                        raise ApiError(413, "PayloadTooLarge", f"uploads are limited to {c.settings.max_upload_mb} MB "
                                       "in total (CREDITGRAPH_MAX_UPLOAD_MB)", "files")
                    out.write(chunk)
        result = await run_in_threadpool(_ingest, c, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    changed(request, "ingest")
    return json_response(result)


def _ingest(c: ApiContext, folder: pathlib.Path) -> dict[str, Any]:
    from ingest.pipeline import ingest_paths

    if c.webhooks is not None:
        c.webhooks.prime()
    summary = ingest_paths(c.store, [str(folder)], progress=False, note=f"api upload {folder.name}")
    rejections = c.store.view().rejections(summary.run_id)
    return {"summary": summary.as_dict(),
            "rejections": [{"file": pathlib.Path(r.file).name, "row": r.row, "column": r.column, "value": r.value,
                            "reason": r.reason} for r in rejections]}


@router.get("/audit", response_model=AuditOut, summary="Read the audit trail (admin)")
async def audit(request: Request, principal: AdminCaller,
                who: Annotated[str | None, Query(max_length=200, examples=["a1b2c3d4e5f6"],
                                                 description="key id or key name")] = None,
                key: Annotated[str | None, Query(max_length=200, examples=["org:91410105MA44XKTX77"])] = None,
                since: Annotated[dt.datetime | None, Query(examples=["2025-06-30T00:00:00Z"])] = None,
                limit: Annotated[int, Query(ge=1, le=1000, examples=[100])] = 100,
                offset: Annotated[int, Query(ge=0, le=10_000_000, examples=[0])] = 0) -> Response:
    """Who looked at whom and who changed what, newest first. The trail cannot be changed."""
    c = ctx(request)
    rows, total = c.audit.query(who=who, key=key, since=since, limit=limit, offset=offset)
    return json_response({"total": total, "items": [_row(r) for r in rows]})


def _row(r: Any) -> dict[str, Any]:
    return {f: getattr(r, f) for f in r.__dataclass_fields__}


class KeyIn(BaseModel):
    """A key to create."""

    role: str = Field(pattern="^(investigator|supervision_system|admin)$", examples=["supervision_system"])
    name: str = Field(default="", max_length=200, examples=["审批系统"])


class KeyCreatedOut(KeyOut):
    """A created key: the ``key`` text is shown this once."""

    key: str = Field(examples=["cg_a1b2c3d4e5f6_…"])


@router.get("/keys", response_model=list[KeyOut], summary="List API keys (admin)")
async def keys(request: Request, principal: AdminCaller) -> Response:
    """Every key with role and state (never the secret)."""
    return json_response([_row(k) for k in list_keys(ctx(request).db)])


@router.post("/keys", response_model=KeyCreatedOut, status_code=201, summary="Create an API key (admin)")
async def create(request: Request, principal: AdminCaller, body: Annotated[KeyIn, Body()]) -> Response:
    """Create a key; the response is the only time its text is shown."""
    key, text = create_key(ctx(request).db, body.role, body.name)
    note_key_change()
    audit_keys(request, f"apikey:{key.id}")
    return json_response({**_row(key), "key": text}, status_code=201)


@router.delete("/keys/{key_id}", response_model=KeyOut, summary="Revoke an API key (admin)")
async def revoke(request: Request, principal: AdminCaller, key_id: Annotated[str, Path(min_length=1, max_length=64, examples=["a1b2c3d4e5f6"])]) -> Response:
    """Revoke a key: it stops working at once. The last valid admin key is not revoked here
    (409): nobody could then manage keys through the API (the CLI on the server still can)."""
    db = ctx(request).db
    audit_keys(request, f"apikey:{key_id}")
    with db.lock:  # the check and the revocation at once: two admins cannot revoke each other
        admins = [k.id for k in list_keys(db) if k.role == ADMIN and k.revoked is None]
        if admins == [key_id]:
            raise Conflict("最后一个有效的管理员密钥不能通过 API 吊销:请先创建另一个管理员密钥 (the last valid admin key "
                           "cannot be revoked through the API: create another admin key first, or use "
                           "`creditgraph keys revoke` on the server)", field="key_id")
        key = revoke_key(db, key_id)
    note_key_change()
    return json_response(_row(key))


__all__ = ["router", "ROLES"]
