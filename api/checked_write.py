"""Writing a credit repair, objection or resolution: the check and the write in one transaction.

An action is checked against the stored state (:func:`queries.actions.check_action`: no
second resolution of one objection, no repair of an entry no longer in force) and then
written. Both must happen while no other writer can commit, or two clerks (two API
requests, the CLI and a server, two servers on one store) could both pass the check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graph.model import Record


def write_checked(store: Any, build: Callable[[Any], Record]) -> Record:
    """Build the action from the committed state (``build`` receives a view and checks what it
    builds), and write it, inside one write batch; return it.

    The batch holds the store's write lock from before the check until the commit: on the
    embedded store, SQLite's (BEGIN IMMEDIATE, across processes) and the writer turn; so a
    second writer's check waits and then sees this action."""
    with store.writer() as w:
        record = build(store.view())
        w.put_records([record])
    return record


__all__ = ["write_checked"]
