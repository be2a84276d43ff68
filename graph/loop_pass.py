"""One look per event-loop pass: a token that names the current pass of the running loop.

A server answers many requests in one pass of its event loop (every connection with data
waiting). Checks that are the same for all of them, such as "did another process commit to this
file?" (``PRAGMA data_version``, a few µs under a lock), need running once per pass, not once
per request: a commit made while the pass runs is seen by the requests of the next pass, as
it would have been had they arrived a moment earlier.
"""

from __future__ import annotations

import asyncio

# id(loop) -> (that loop, the token of its current pass). The loop is kept with its token: a
# loop closed before its next pass leaves its entry behind, and a later loop at the same
# address must not take that token for its own (its checks would then never run again).
_PASSES: dict[int, tuple[asyncio.AbstractEventLoop, object]] = {}


def current_pass() -> object | None:
    """Return a token for the current pass of this thread's running event loop (the same object
    until the loop's next pass), or None outside a running loop (no caching then)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    entry = _PASSES.get(id(loop))
    if entry is not None and entry[0] is loop:
        return entry[1]
    token = object()
    _PASSES[id(loop)] = (loop, token)
    # runs first thing in the next pass, before the callbacks of the I/O it polls
    loop.call_soon(_end_pass, loop, token)
    return token


def _end_pass(loop: asyncio.AbstractEventLoop, token: object) -> None:
    entry = _PASSES.get(id(loop))
    if entry is not None and entry[1] is token:
        del _PASSES[id(loop)]


__all__ = ["current_pass"]
