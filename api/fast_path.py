"""The approval desks' hot path: ``GET /api/v1/risk/{key}`` dispatched without FastAPI's router.

Every check of an applicant is one such request. FastAPI's routing (matching the path against
each route in turn, the request/response wrapping, the exit stack for dependencies) cost more
per request than a cold risk check on the 1M-firm store, so :class:`RiskFastPath` sends these
requests straight to the same handler (:func:`api.routes.risk.risk`). What a request meets is
otherwise unchanged: the audit (this middleware sits inside :class:`~api.audit.AuditMiddleware`,
which reads the route from the scope, set here as the router would), the body limit, the
handler's authorisation, rate limit, masking and caching, and the app's exception handlers,
which this middleware calls as Starlette's ``ExceptionMiddleware`` would. Any other method
(HEAD, the batch's ``POST /risk/check``) or path (a key with a slash) goes down the stack as
before; ``GET /risk/check`` is a check of a party named "check", as the router has it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette._utils import get_route_path, is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Awaitable[Response]]


class RiskFastPath:
    """Pure ASGI middleware answering ``GET {prefix}{key}`` with ``route``'s endpoint.

    ``route`` is the route the router would have matched: the audit names the endpoint by its
    path, and the handler is its endpoint.
    """

    def __init__(self, app: Any, prefix: str, route: Any) -> None:
        self.app = app
        self.prefix = prefix
        self.route = route
        self.handler: Handler = route.endpoint

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path = get_route_path(scope)  # as the router matches it (a root path taken off)
        if not path.startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        key = path[len(self.prefix):]
        if not key or "/" in key:  # the route's pattern is [^/]+: the router decides the rest
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        scope["endpoint"] = self.handler
        scope["path_params"] = {"key": key}
        request = Request(scope, receive)
        try:
            response = await self.handler(request)
        except Exception as exc:
            response = await self._handled(scope, request, exc)
        await response(scope, receive, send)

    @staticmethod
    async def _handled(scope: dict[str, Any], request: Request, exc: Exception) -> Response:
        """The response of the app's handler for ``exc`` (as Starlette's ExceptionMiddleware
        chooses it: by status code for HTTP exceptions, else by the exception's classes);
        unhandled exceptions go on up to the server-error middleware (500)."""
        handlers = scope["app"].exception_handlers  # classes and status codes as keys
        handler = handlers.get(exc.status_code) if isinstance(exc, HTTPException) else None
        if handler is None:
            handler = next((handlers[cls] for cls in type(exc).__mro__ if cls in handlers), None)
        if handler is None:
            raise exc
        if is_async_callable(handler):
            response: Response = await handler(request, exc)
        else:
            response = await run_in_threadpool(handler, request, exc)
        return response


__all__ = ["RiskFastPath"]
