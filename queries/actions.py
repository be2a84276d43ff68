"""Record builders for credit repair (信用修复) and objections (异议): pure values, no writes.

Use these to turn a user's action into :class:`graph.model.Record` facts with deterministic
ids (:func:`graph.store.fact_id`), then let the caller write them with ``store.writer()``:
``queries`` never writes. The effect of the records (an entry withdrawn, revoked, standing)
is computed by :mod:`queries.status`, so every earlier conclusion can still be replayed.
"""

from __future__ import annotations

import datetime as dt

from graph.model import Record, RecordKind, Source
from graph.store import Conflict, InvalidInput, View, fact_id
from queries.status import ACTION_KINDS, END_OF_TIME, ActionBook, EntryState, judge

OUTCOMES = ("upheld", "rejected")
REPAIRABLE = frozenset({RecordKind.LIST_ENTRY, RecordKind.COURT_DISHONEST, RecordKind.PENALTY})


def repair_record(entry: Record, on: dt.date, by: str, note: str = "", *, source: Source | None = None) -> Record:
    """Return the REPAIR record saying authority ``by`` approved the repair of ``entry`` on ``on``."""
    if entry.kind not in REPAIRABLE:
        raise InvalidInput(f"record {entry.id} is a {entry.kind.value}; only list entries, court entries and "
                           "penalties can be repaired", field="entry_id")
    if not by or not by.strip():
        raise InvalidInput("the approving authority (--by) is required for a credit repair", field="by")
    if entry.start is not None and on < entry.start:
        raise InvalidInput(f"repair date {on} is before the listing date {entry.start} of {entry.id}", field="date")
    return Record(
        id=fact_id(RecordKind.REPAIR, entry.id, on, by.strip()), kind=RecordKind.REPAIR, subject=entry.subject,
        start=on, target=entry.id, attrs={"by": by.strip(), "note": note.strip()}, source=source,
    )


def objection_record(entry: Record, on: dt.date, claim: str, *, source: Source | None = None) -> Record:
    """Return the OBJECTION record disputing ``entry`` from ``on`` with the subject's ``claim``."""
    if entry.kind in ACTION_KINDS:
        raise InvalidInput(f"record {entry.id} is a {entry.kind.value}; an objection disputes a list entry, "
                           "court entry or penalty", field="entry_id")
    if not claim or not claim.strip():
        raise InvalidInput("an objection needs the claim (--claim)", field="claim")
    return Record(
        id=fact_id(RecordKind.OBJECTION, entry.id, on, claim.strip()), kind=RecordKind.OBJECTION,
        subject=entry.subject, start=on, target=entry.id, attrs={"claim": claim.strip()}, source=source,
    )


def resolution_record(objection: Record, on: dt.date, outcome: str, note: str = "", *,
                      source: Source | None = None) -> Record:
    """Return the OBJECTION_RESOLUTION record closing ``objection`` on ``on`` as upheld or rejected."""
    if objection.kind != RecordKind.OBJECTION:
        raise InvalidInput(f"record {objection.id} is a {objection.kind.value}, not an objection", field="objection_id")
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be upheld or rejected, not {outcome!r}", field="outcome")
    if objection.start is not None and on < objection.start:
        raise InvalidInput(f"resolution date {on} is before the objection date {objection.start}", field="date")
    return Record(
        id=fact_id(RecordKind.OBJECTION_RESOLUTION, objection.id, on, outcome), kind=RecordKind.OBJECTION_RESOLUTION,
        subject=objection.subject, start=on, target=objection.id,
        attrs={"outcome": outcome, "entry": objection.target, "note": note.strip()}, source=source,
    )


def check_action(view: View, action: Record, today: dt.date | None = None) -> None:
    """Refuse an action (built by the functions above) that the stored state does not allow:
    a date in the future; a repair of an entry no longer in force on that date (already
    repaired, revoked, expired or removed); an objection dated before the listing or to an
    entry already revoked; a second resolution of one objection. Raises InvalidInput (the
    date) or Conflict (the state), naming what stands in the way."""
    today = today or dt.date.today()
    on = action.start
    if on is not None and on > today:
        raise InvalidInput(f"date {on} is in the future: record an action once it was decided", field="date")
    if action.kind == RecordKind.OBJECTION_RESOLUTION:
        done = [r for r in view.records_targeting(action.target) if r.kind == RecordKind.OBJECTION_RESOLUTION]
        if done:
            first = min(done, key=lambda r: (r.start or dt.date.min, r.id))
            raise Conflict(f"objection {action.target} was already resolved on {first.start} "
                           f"({(first.attrs or {}).get('outcome', '')})", field="objection_id")
        return
    if action.kind not in (RecordKind.REPAIR, RecordKind.OBJECTION):
        return
    entry = view.record(action.target)
    if entry is None or on is None:
        return
    book = ActionBook.for_entries(view, [entry])
    if action.kind == RecordKind.OBJECTION:
        if entry.start is not None and on < entry.start:
            raise InvalidInput(f"objection date {on} is before the listing date {entry.start} of {entry.id}",
                               field="date")
        final = judge(entry, END_OF_TIME, book)
        if final.state == EntryState.REVOKED:
            raise Conflict(f"{entry.id} was already revoked on {final.since}: {final.reason}", field="record_id")
        return
    then = judge(entry, on, book)
    if then.state == EntryState.NOT_LISTED:
        raise InvalidInput(f"repair date {on} is before the listing of {entry.id}", field="date")
    if then.state != EntryState.ACTIVE:
        raise Conflict(f"{entry.id} is no longer in force on {on} ({then.reason}): nothing to repair",
                       field="entry_id")
