"""The cyclic garbage collector paused while a risk index is built.

A build at 1M firms makes millions of long-lived objects (warnings' reasons, the action
book, memos). The collector counts them as new allocations and, part way through, runs full
collections that walk every one of them while holding the GIL: 779 and 1,059 ms in two
server starts (``bench/api.py --stalls``), every request of the server waiting meanwhile. A
server rebuilds after each change through the API and builds the next day's index before
midnight while it answers, so such a pause would land on approval desks. Nothing a build
makes is cyclic garbage (reference counting frees what it drops), and the finished index is
frozen out of the collector's sight (``RiskService.index``), so pausing loses nothing: cycles
made elsewhere meanwhile are collected at the first collection after the build.

Everything allocated during the pause stays in the youngest generation, so the first
collection after it would walk all of it (a gen-0 collection of 197 ms after a 1M build,
measured): the block's end freezes what was made before the collector comes back.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_builds = 0  # blocks in progress, in any thread
_was_enabled = True  # the collector's state before the first of them


@contextmanager
def collections_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block; blocks may nest or overlap across threads
    (the collector comes back when the last one ends, as it was before the first, after
    freezing every object made meanwhile: what a build made is long-lived)."""
    global _builds, _was_enabled
    with _lock:
        if _builds == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _builds += 1
    try:
        yield
    finally:
        with _lock:
            _builds -= 1
            if _builds == 0:
                gc.freeze()
                if _was_enabled:
                    gc.enable()


__all__ = ["collections_paused"]
