"""Open the configured store: the embedded SQLite file, or a Neo4j/FalkorDB server over Bolt."""

from __future__ import annotations

from typing import Any

from api.settings import Settings
from graph.store import InvalidInput


def open_configured_store(settings: Settings, *, db: str | None = None, backend: str | None = None) -> Any:
    """Return the store named by the settings (options given on the command line win)."""
    backend = backend or settings.backend
    if backend == "memory":
        from graph.backends.memory import open_store

        return open_store(db or settings.db)
    if backend == "bolt":
        if not settings.neo4j_uri:
            raise InvalidInput("backend bolt needs CREDITGRAPH_NEO4J_URI (e.g. bolt://127.0.0.1:7687)", field="neo4j_uri")
        from graph.backends.bolt import open_bolt_store

        return open_bolt_store(
            settings.neo4j_uri,
            user=settings.neo4j_user or None,
            password=settings.neo4j_password or None,
            database=settings.neo4j_database or None,
        )
    raise InvalidInput(f"unknown backend {backend!r}: use memory or bolt", field="backend")
