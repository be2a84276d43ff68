"""One malloc arena for a server's threads: a first allocation in a new thread stalled every request.

glibc gives each new thread that allocates its own malloc arena (up to eight per core), and
the arena's first allocations ask the kernel for fresh memory. In a server holding the 1M-firm
store (5.5 GB mapped) such a request took about 200 ms on this machine, and the new thread
made it inside SQLite's allocator, which holds SQLite's process-wide memory mutex meanwhile.
The event loop's next audit commit freed SQLite memory, waited on that mutex, and did so
holding the GIL: every request in flight stalled for those 200 ms. It happened at the first
check a server answered on a worker thread (a name or a malformed code to search for); the
first 4,000 checks after a start had a p99 of 228-277 ms in every run at 1M (``bench/api.py
--stalls`` found it: the loop thread in ``sqlite3_free``, a thread-pool thread in
``sqlite3Malloc`` → ``malloc``). With one arena (``MALLOC_ARENA_MAX=1``) the same first 4,000
checks had a p99 of 17 ms: a new thread allocates from the memory the process already has.
Two arenas did not help (213 ms).

The server does little of its work off the event loop, so one arena costs it nothing
measurable. Its risk worker (whose index builds run on threads too) is started with the
variable set (:func:`one_arena_env`). A ``MALLOC_ARENA_MAX`` in the environment the process
started with is the operator's choice, which glibc has read already: it is kept. Not glibc
(macOS, musl, Windows): nothing to do.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator

ARENAS_SETTING = "MALLOC_ARENA_MAX"
_M_ARENA_MAX = -8  # glibc's mallopt parameter number
_PRESET = os.environ.get(ARENAS_SETTING)  # as the process started (glibc read the variable then)


def use_one_arena() -> bool:
    """Make this process's new threads share one malloc arena (they must not have allocated
    yet: call before the server's threads start); return whether glibc took the setting
    (False: not glibc, or the operator set ``MALLOC_ARENA_MAX`` at start)."""
    if _PRESET is not None or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, 1))


@contextlib.contextmanager
def one_arena_env() -> Iterator[None]:
    """Within the block, processes started (spawned) from here get one arena from the start;
    this process's environment is as before afterwards."""
    if _PRESET is not None:  # the operator's value, inherited as it is
        yield
        return
    before = os.environ.get(ARENAS_SETTING)
    os.environ[ARENAS_SETTING] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ARENAS_SETTING, None)
        else:
            os.environ[ARENAS_SETTING] = before


__all__ = ["ARENAS_SETTING", "one_arena_env", "use_one_arena"]
