"""Only young garbage collections while a risk index is built.

A build allocates many objects (at 1M firms, millions in the first build after a start), and
the collector, counting them, ran collections of the older generations part way through that
walked them all while holding the GIL: gen-2 collections of 779 and 1,059 ms and a gen-1 of
936 ms in 1M starts (``bench/api.py --stalls``), every request (``/healthz`` too) waiting.

So before a build the process's heap so far is frozen (it is long-lived: the link index, the
search tables, the previous index), and during it only the youngest generation is collected:
those collections walk at most one threshold's worth of objects (20,000 in a server) and
still free the short-lived cycles other threads make meanwhile (a request's, an exception's).
What survives them is the build's (long-lived, frozen at the end: no later collection walks a
finished index) or a cycle another thread kept past a young collection;
such a cycle is then kept for good, as one alive at any freeze is. The collector pausing
entirely was tried first: it kept every cycle made meanwhile.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_NEVER = 1 << 30  # a gen-1 threshold no build reaches: no gen-1 (and so no gen-2) collection
_lock = threading.Lock()
_builds = 0  # blocks in progress, in any thread
_thresholds = gc.get_threshold()  # as they were before the first of them


@contextmanager
def young_collections_only() -> Iterator[None]:
    """Freeze the heap, then collect only the youngest generation for the block; blocks may
    nest or overlap across threads (the thresholds come back when the last one ends, after
    what the blocks made is frozen)."""
    global _builds, _thresholds
    with _lock:
        gc.freeze()
        if _builds == 0:
            _thresholds = gc.get_threshold()
            gc.set_threshold(_thresholds[0], _NEVER, _thresholds[2])
        _builds += 1
    try:
        yield
    finally:
        with _lock:
            _builds -= 1
            if _builds == 0:
                gc.freeze()
                gc.set_threshold(*_thresholds)


__all__ = ["young_collections_only"]
