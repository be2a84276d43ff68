"""One malloc arena for a server's threads: a first allocation in a new thread stalled every request.

glibc gives each new thread that allocates its own malloc arena (up to eight per core), and
the arena's first allocations ask the kernel for fresh memory. In a server holding the 1M-firm
store (5.5 GB mapped) such a request took about 200 ms on this machine, and the new thread
made it inside SQLite's allocator, which holds SQLite's process-wide memory mutex meanwhile.
The event loop's next audit commit freed SQLite memory, waited on that mutex, and did so
holding the GIL: every request in flight stalled for those 200 ms. It happened at the first
check a server answered on a worker thread (a name or a malformed code to search for); the
first 4,000 checks after a start had a p99 of 210-280 ms in every run at 1M (``bench/api.py
--stalls`` found it: the loop thread in ``sqlite3_free``, a thread-pool thread in
``sqlite3Malloc`` → ``malloc``). With one arena (``MALLOC_ARENA_MAX=1``) the same first 4,000
checks had a p99 of 17 ms: a new thread allocates from the memory the process already has.

The server does little of its work off the event loop, so one arena costs it nothing
measurable. The variable is set for the processes a server starts (its risk worker, whose
index builds run on threads too); a value set by whoever started the server is kept. Not
glibc (macOS, musl): nothing to do.
"""

from __future__ import annotations

import ctypes
import os

ARENAS_SETTING = "MALLOC_ARENA_MAX"
_M_ARENA_MAX = -8  # glibc's mallopt parameter number


def use_one_arena() -> bool:
    """Make this process's new threads (and processes it starts) share one malloc arena;
    return whether this process's allocator took the setting (False: not glibc, or the
    variable was set before the process started, and glibc read it then)."""
    if ARENAS_SETTING in os.environ:
        return False  # whoever started us chose; glibc read it at start
    os.environ[ARENAS_SETTING] = "1"  # read by the glibc of every process started from here
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    # takes effect for threads that have not allocated yet: called before the server's threads start
    return bool(mallopt(_M_ARENA_MAX, 1))


__all__ = ["ARENAS_SETTING", "use_one_arena"]
