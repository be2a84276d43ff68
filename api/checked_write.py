"""Writing a credit repair, objection or resolution: the check and the write in one transaction.

An action is checked against the stored state (:func:`queries.actions.check_action`: no
second resolution of one objection, no repair of an entry no longer in force) and then
written. Both must happen while no other writer can commit, or two clerks (two API
requests, the CLI and a server) could both pass the check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from graph.model import Record

# In this process, one action at a time from its check to its commit (threads do not wait on
# the graph server for each other); other processes are kept out by the store's lock
_ONE_AT_A_TIME = threading.Lock()
ACTIONS_LOCK = "actions"


def write_checked(store: Any, build: Callable[[Any], Record]) -> Record:
    """Build the action from the committed state (``build`` receives a view and checks what it
    builds), and write it, inside one write batch; return it.

    On the embedded store the batch holds SQLite's write lock (BEGIN IMMEDIATE) and the writer
    turn from before the check until the commit; the Bolt store's batch takes its lock only to
    commit, so there the store's lease on the graph (``store.exclusive``) is held from before
    the check until after the commit. Either way a second writer's check, in this process or
    another (the CLI, a second server), waits and then sees this action."""
    with _ONE_AT_A_TIME, store.exclusive(ACTIONS_LOCK), store.writer() as w:
        record = build(store.view())
        w.put_records([record])
    return record


__all__ = ["write_checked"]
