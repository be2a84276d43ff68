"""One look per event-loop pass: a token that names the current pass of the running loop.

A server answers many requests in one pass of its event loop (every connection with data
waiting). Checks that are the same for all of them, such as "did another process commit to this
file?" (``PRAGMA data_version``, a few µs under a lock), need running once per pass, not once
per request: a commit made while the pass runs is seen by the requests of the next pass, as
it would have been had they arrived a moment earlier.
"""

from __future__ import annotations

import asyncio

_PASSES: dict[int, object] = {}  # id(loop) -> the token of its current pass


def current_pass() -> object | None:
    """Return a token for the current pass of this thread's running event loop (the same object
    until the loop's next pass), or None outside a running loop (no caching then)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    token = _PASSES.get(id(loop))
    if token is None:
        token = _PASSES[id(loop)] = object()
        # runs first thing in the next pass, before the callbacks of the I/O it polls
        loop.call_soon(_PASSES.pop, id(loop), None)
    return token


__all__ = ["current_pass"]
