"""Progress bars on stderr for long ingest steps (files, the chains derived at the end)."""

from __future__ import annotations

import sys
from typing import Any


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(enabled: bool, total: int | None, name: str, *, unit: str = "行") -> Any:
    """A tqdm bar named ``name`` counting ``total`` units, or a silent stand-in when not ``enabled``."""
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, unit_scale=True, desc=name[:28], file=sys.stderr, mininterval=0.5, leave=True)
