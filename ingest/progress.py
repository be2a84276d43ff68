"""Progress bars on stderr for the files of an ingest."""

from __future__ import annotations

import sys
from typing import Any


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(enabled: bool, total: int | None, name: str) -> Any:
    """A tqdm bar named ``name`` counting ``total`` rows, or a silent stand-in when not ``enabled``."""
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="行", unit_scale=True, desc=name[:28], file=sys.stderr, mininterval=0.5, leave=True)
