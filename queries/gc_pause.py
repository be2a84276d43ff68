"""The cyclic garbage collector paused while a risk index is built.

A build allocates many objects, and the collector, counting them, ran full collections part
way through. In the first build after a server starts those walked everything the process had
made so far (the link index, the search tables and the build's own objects, nothing frozen
yet): 779 and 1,059 ms in two 1M starts (``bench/api.py --stalls``), holding the GIL, so
every request (``/healthz`` included) waited. Later builds (after a change through the API,
the next day's before midnight) add fewer tracked objects (about 15,000 at 100k firms), so
their collections are short, and the pause costs them nothing either.

Builds make no cyclic garbage to speak of: a full collection after a build at 100k found 317
unreachable objects after the first build of a process (``inspect`` parsing C signatures,
once) and none after the second. So pausing loses nothing; cycles made elsewhere meanwhile
are collected at the first collection after the build.

Everything allocated during the pause stays in the youngest generation, so the first
collection after it would walk all of it (a gen-0 collection of 197 ms after a 1M build,
measured): the block's end freezes what was made before the collector comes back, as
``RiskService.index`` does with a finished index anyway.
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
