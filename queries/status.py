"""Effective status of a list entry on a date: listed, removed, repaired, revoked, expired.

Use :func:`entry_status` for one entry, or :class:`ActionBook` when judging many entries
(it loads every repair, objection and resolution once). Only facts dated on or before
``as_of`` count, so asking about an earlier date replays what the service concluded then:
an entry whose objection was upheld on 2023-05-01 was in force on 2023-04-30.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graph.model import Record, RecordKind
from graph.store import View


class EntryState(StrEnum):
    """What an entry is on a date."""

    NOT_LISTED = "not_listed"
    ACTIVE = "active"
    REMOVED = "removed"
    REPAIRED = "repaired"
    REVOKED = "revoked"
    EXPIRED = "expired"

    @property
    def label_zh(self) -> str:
        """The state in Chinese."""
        return _STATE_ZH[self]


_STATE_ZH = {
    EntryState.NOT_LISTED: "未列入",
    EntryState.ACTIVE: "生效",
    EntryState.REMOVED: "已移出",
    EntryState.REPAIRED: "信用修复",
    EntryState.REVOKED: "撤销",
    EntryState.EXPIRED: "期满",
}

# when several endings fall on one day, the strongest explains it
_PRECEDENCE = {EntryState.REVOKED: 0, EntryState.REPAIRED: 1, EntryState.REMOVED: 2, EntryState.EXPIRED: 3}


@dataclass(frozen=True, slots=True)
class EntryStatus:
    """An entry's status on ``as_of``: state, reason, since when, and the records deciding it."""

    entry_id: str
    as_of: dt.date
    state: EntryState
    reason: str
    since: dt.date | None  # listing date when active, else the date it stopped
    until: dt.date | None  # when active: the first day it is no longer in force, if scheduled
    decided_by: tuple[str, ...] = ()  # ids of repair / resolution records that ended it
    pending_objections: tuple[str, ...] = ()  # objections filed and not resolved on as_of

    @property
    def active(self) -> bool:
        """True when the entry is in force on ``as_of``."""
        return self.state == EntryState.ACTIVE


def parse_date(value: Any) -> dt.date | None:
    """Return ``value`` (a date or ISO text, possibly empty) as a date, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


# the records that act on an entry (stored entries are never rewritten; these change their state)
ACTION_KINDS = frozenset({RecordKind.REPAIR, RecordKind.OBJECTION, RecordKind.OBJECTION_RESOLUTION,
                          RecordKind.REMOVAL})


class ActionBook:
    """Repairs, objections, resolutions and removals grouped by the record they act on."""

    def __init__(self, actions: Iterable[Record]) -> None:
        self.by_target: dict[str, list[Record]] = defaultdict(list)
        for r in actions:
            if r.target:
                self.by_target[r.target].append(r)

    @classmethod
    def load(cls, view: View) -> ActionBook:
        """Return the book of every action record in ``view``."""
        return cls(view.records(kinds=sorted(ACTION_KINDS)))

    @classmethod
    def for_entries(cls, view: View, entries: Iterable[Record]) -> ActionBook:
        """Return the book of the actions on ``entries`` (and on their objections)."""
        actions: list[Record] = []
        for e in entries:
            direct = view.records_targeting(e.id)
            actions.extend(direct)
            for o in direct:
                if o.kind == RecordKind.OBJECTION:
                    actions.extend(view.records_targeting(o.id))
        return cls(actions)

    def acting_on(self, record_id: str) -> list[Record]:
        """Return the action records targeting ``record_id``."""
        return self.by_target.get(record_id, [])


def entry_status(view: View, entry: Record, as_of: dt.date, *, book: ActionBook | None = None) -> EntryStatus:
    """Return the effective status of ``entry`` on ``as_of``, with the reason."""
    book = book if book is not None else ActionBook.for_entries(view, [entry])
    return judge(entry, as_of, book)


END_OF_TIME = dt.date(9999, 12, 31)  # as many systems write "no end"; judging on it gives an entry's final state


def _removal_state(reason: str) -> EntryState:
    """What a removal (移出) with this reason means for the entry."""
    if "修复" in reason:
        return EntryState.REPAIRED
    if "撤销" in reason or "异议" in reason:
        return EntryState.REVOKED
    if "期满" in reason:
        return EntryState.EXPIRED
    return EntryState.REMOVED


def judge(entry: Record, as_of: dt.date, book: ActionBook) -> EntryStatus:
    """Return the status of ``entry`` on ``as_of`` given the actions in ``book``."""
    attrs = entry.attrs or {}
    listed = entry.start or parse_date(attrs.get("listed_on"))
    if listed is not None and as_of < listed:
        return EntryStatus(entry.id, as_of, EntryState.NOT_LISTED, f"{listed} 前尚未列入", None, None)
    endings: list[tuple[dt.date, EntryState, str, tuple[str, ...]]] = []
    # 有效期至 X (a list's period, a penalty's 处罚有效期) is the last day in force: the entry
    # still stands on X and has expired from the day after
    last_day = parse_date(attrs.get("period_end") or attrs.get("valid_until"))
    if last_day is not None and last_day >= END_OF_TIME:
        last_day = None  # 9999-12-31 and the like: "no end", as many systems write it
    expires = last_day + dt.timedelta(days=1) if last_day is not None else None
    removed_on = parse_date(attrs.get("removed_on"))
    removal_reason = str(attrs.get("removal_reason") or "")
    if entry.end is not None and removed_on is None:
        if last_day is None:
            expires = entry.end  # an end the source does not explain: the first day out of force
        elif entry.end < last_day:
            removed_on = entry.end  # ended before its period: a removal
    if removed_on is not None:
        endings.append((removed_on, _removal_state(removal_reason),
                        f"{removed_on} 移出" + (f"({removal_reason})" if removal_reason else ""), ()))
    if expires is not None:
        shown = last_day or expires
        endings.append((expires, EntryState.EXPIRED, f"惩戒期限于 {shown} 届满", ()))
    pending: list[str] = []
    for action in book.acting_on(entry.id):
        if action.start is None or action.start > as_of:
            continue
        if action.kind == RecordKind.REMOVAL:  # told by a later export of the list
            why = str((action.attrs or {}).get("removal_reason") or "")
            endings.append((action.start, _removal_state(why), f"{action.start} 移出" + (f"({why})" if why else ""),
                            (action.id,)))
        elif action.kind == RecordKind.REPAIR:
            by = (action.attrs or {}).get("by", "")
            endings.append((action.start, EntryState.REPAIRED, f"{action.start} 经{by}信用修复" if by else
                            f"{action.start} 信用修复", (action.id,)))
        elif action.kind == RecordKind.OBJECTION:
            outcome = None
            for res in sorted(book.acting_on(action.id), key=lambda r: (r.start or dt.date.min, r.id)):
                if res.kind == RecordKind.OBJECTION_RESOLUTION and res.start is not None and res.start <= as_of:
                    outcome = res
            if outcome is None:
                pending.append(action.id)
            elif (outcome.attrs or {}).get("outcome") == "upheld":
                endings.append((outcome.start, EntryState.REVOKED,  # type: ignore[arg-type]
                                f"{outcome.start} 异议成立,撤销(异议 {action.start})", (action.id, outcome.id)))
    due = [e for e in endings if e[0] <= as_of]
    if due:
        day, state, reason, by_ids = min(due, key=lambda e: (e[0], _PRECEDENCE[e[1]]))
        return EntryStatus(entry.id, as_of, state, reason, day, None, by_ids, tuple(pending))
    reason = f"{listed} 列入,生效中" if listed else "生效中"
    if pending:
        reason += f";异议处理中({len(pending)})"
    return EntryStatus(entry.id, as_of, EntryState.ACTIVE, reason, listed, expires, (), tuple(pending))
