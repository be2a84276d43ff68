"""Webhook subscriptions of supervision systems (the service lives in api/webhooks.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.audit import audit_keys
from api.routes.common import Subscriber, ctx, json_response
from api.schemas import DeliveryListOut, WebhookIn, WebhookListOut, WebhookOut

router = APIRouter(tags=["webhooks"])
WebhookId = Annotated[str, Path(min_length=1, max_length=64, examples=["wh_3f2a1b0c9d8e"])]


def _public(row: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in row.items() if k != "owner_role" and not k.startswith("_")}


@router.post("/webhooks", response_model=WebhookOut, status_code=201, summary="Subscribe to new warnings")
async def subscribe(request: Request, principal: Subscriber, body: Annotated[WebhookIn, Body()]) -> Response:
    """POSTs go to ``url`` for new warnings of ``keys`` and of parties in ``regions``, and for new
    relocation cases; signed with HMAC-SHA256 of the raw body (``X-Creditgraph-Signature``)."""
    c = ctx(request)
    audit_keys(request, *body.keys)
    row = await run_in_threadpool(c.webhooks.subscribe, principal, body.url, body.keys, body.regions, body.events,
                                  body.secret)
    return json_response(_public(row), status_code=201)


@router.get("/webhooks", response_model=WebhookListOut, summary="List subscriptions")
async def list_webhooks(request: Request, principal: Subscriber) -> Response:
    """The caller's subscriptions (an admin sees all)."""
    return json_response({"items": [_public(r) for r in ctx(request).webhooks.list_for(principal)]})


@router.delete("/webhooks/{webhook_id}", response_model=WebhookOut, summary="Unsubscribe")
async def delete_webhook(request: Request, principal: Subscriber, webhook_id: WebhookId) -> Response:
    """Stop a subscription; its delivery history is kept."""
    return json_response(_public(ctx(request).webhooks.delete(principal, webhook_id)))


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryListOut, summary="Deliveries and attempts")
async def deliveries(request: Request, principal: Subscriber, webhook_id: WebhookId,
                     limit: Annotated[int, Query(ge=1, le=1000, examples=[100])] = 100) -> Response:
    """Each delivery with its status, number of attempts and last error, newest first."""
    return json_response({"items": ctx(request).webhooks.deliveries(principal, webhook_id, limit)})
