"""The investigator's browser pages under ``/ui``: search, profiles, the linkage graph, paths,
the control view and exports (Jinja2 templates, Chinese UI).

Login takes an API key, checks it with :mod:`api.auth` and opens a signed HttpOnly session
(:mod:`api.pages.session`); the roles are the API's: profiles, graphs, paths, control and
exports need ``investigator`` or ``admin`` (as ``/api/v1/subjects`` does), search, risk
reports and relocation cases are open to ``supervision_system`` too, with person IDs, phones
and addresses masked exactly as the API masks them. Every page and JSON answer that names a
party is written to the audit trail like an API request (endpoint ``/ui/…``).

vis-network's script and style are served from the installed pyvis package
(``/ui/vendor/…``), the pages' own CSS and JS from ``api/static``: nothing leaves the host.
Mount with :func:`mount_pages`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from api.audit import AuditMiddleware
from api.pages.views import STATIC_DIR, audited_page, install_handlers, router


def mount_pages(app: FastAPI) -> None:
    """Add the /ui pages, their static files and their audit to ``app`` (before it starts)."""
    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    install_handlers(app)

    def log_of() -> Any:
        return app.state.api.audit

    app.add_middleware(AuditMiddleware, log_of=log_of, covers=audited_page, prefix="/ui")


__all__ = ["mount_pages", "router"]
