"""Shared fixtures: one store per backend, so suites run on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.backends.memory import open_store

BACKENDS = ["memory"]


def make_store(backend: str, tmp_path: Path):
    """Open an empty store of ``backend``."""
    if backend == "memory":
        return open_store(tmp_path / "store.sqlite")
    raise ValueError(backend)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """An empty store, once per backend (test ids name the backend)."""
    s = make_store(request.param, tmp_path)
    yield s
    s.close()
