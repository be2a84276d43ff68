"""Representative and address links derived per firm, planned outside the write lock.

A batch that carries registrations or change records re-derives the links of its firms
(:func:`ingest.facts.derive_chains`). :func:`plan_derive` does the work from committed facts
and the batch, before the write lock is taken; :func:`apply_derive`, inside the batch's
transaction, keeps the plan for every firm whose inputs did not change meanwhile and derives
the others again, so the result is what deriving under the lock would give.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graph.model import RecordKind
from graph.store import Writer
from ingest.facts import DERIVED, Batch, derive_chains


@dataclass(slots=True)
class DerivePlan:
    """Representative and address links of a batch's firms, derived from the facts at hand.

    ``stamps`` keeps, per firm, what the derivation read: the firm's registration ("batch"
    when the batch carries it, else its stored row) and the ids of its change records.
    Inside the write transaction the stamps are read again (cheap: raw rows, no objects) and
    only firms whose inputs changed meanwhile (another worker committed a change record or a
    registration of theirs) are derived again. So the result is what deriving under the lock
    would give. A store without raw stamps (Bolt) is compared on the facts themselves.

    ``prepared``: what the store writes for the plan (its parameter rows, for the embedded
    store), made before the lock and used when no firm turns out stale."""

    firms: set[str]
    stamps: dict[str, Any]
    people: dict[str, list[Any]]
    links: dict[str, list[Any]]
    mine: dict[str, Any] = field(default_factory=dict)  # the batch's own registrations of these firms
    prepared: Any = None


def _derive_inputs(reads: Any, firms: Iterable[str], mine: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The registration (party) and change records of each firm: the batch's own
    registrations (``mine``) as they are in hand, the rest read through ``reads``."""
    firms = set(firms)
    parties = {f: p for f, p in mine.items() if f in firms}
    missing = [f for f in firms if f not in parties]
    if missing:
        parties.update(reads.lookup_parties(missing))
    changes: dict[str, list[Any]] = defaultdict(list)
    for rec in reads.lookup_records(firms, RecordKind.CHANGE):
        changes[rec.subject].append(rec)
    return parties, changes


def _in_batch(batch: Batch, firms: set[str]) -> dict[str, Any]:
    return {p.key: p for p in batch.parties if p.key in firms and p.attrs.get("_primary")}


def _stamps(reads: Any, batch: Batch, firms: set[str], mine: dict[str, Any], pending: bool) -> dict[str, Any]:
    """Per firm, what its derivation depends on; ``pending``: the batch's change records are
    not committed yet (before the lock) and are added, as the transaction will hold them."""
    stamp = getattr(reads, "derive_stamps", None)
    if stamp is None:  # compare the facts themselves (attrs are left out of Party equality)
        parties, changes = _derive_inputs(reads, firms, mine)
        if pending:
            _add_pending(batch, firms, changes)
        return {f: (parties.get(f), getattr(parties.get(f), "attrs", None), sorted(c.id for c in changes.get(f, [])))
                for f in firms}
    # a firm registered in this batch is derived from the batch, not from its stored row
    raw = stamp(firms, rows_of=[f for f in firms if f not in mine])
    extra: dict[str, set[str]] = defaultdict(set)
    if pending:
        for rec in batch.records:
            if rec.kind == RecordKind.CHANGE and rec.subject in firms:
                extra[rec.subject].add(rec.id)
    return {f: ("batch" if f in mine else row, fids | extra[f] if f in extra else fids) for f, (row, fids) in raw.items()}


def _add_pending(batch: Batch, firms: set[str], changes: dict[str, list[Any]]) -> None:
    for rec in batch.records:
        if rec.kind == RecordKind.CHANGE and rec.subject in firms and \
                all(c.id != rec.id for c in changes.get(rec.subject, ())):
            changes[rec.subject].append(rec)


def _derive_firms(plan: DerivePlan, firms: Iterable[str], parties: dict[str, Any],
                  changes: dict[str, list[Any]]) -> None:
    for firm in firms:
        found, links = derive_chains(parties.get(firm), firm, changes.get(firm, []))
        plan.people[firm] = found
        plan.links[firm] = [link for lks in links.values() for link in lks]


def _to_write(plan: DerivePlan, batch: Batch) -> tuple[list[Any], list[Any]]:
    """The people to put (those the batch does not describe itself) and the derived links."""
    known = {p.key for p in batch.parties}
    people: list[Any] = []
    derived: list[Any] = []
    for firm in sorted(plan.firms):
        people.extend(p for p in plan.people[firm] if p.key not in known)
        derived.extend(plan.links[firm])
    return people, derived


def plan_derive(reads: Any, batch: Batch, prepare: Callable[[str, list[Any], list[Any]], Any] | None = None
                ) -> DerivePlan:
    """Derive the batch's chains from committed facts and the batch (no lock needed).

    ``prepare(origin, people, links)``: turns what the plan writes into the store's rows, so
    that the transaction only stores them (the embedded store's ``prepare_derived``)."""
    firms = set(batch.chain_firms)
    mine = _in_batch(batch, firms)
    # stamps first, inputs second: a commit by another worker in between can only make the
    # plan look stale under the lock (derived again there), never make a stale plan look fresh.
    # The two reads overlap (change records), but both happen before the lock is taken.
    plan = DerivePlan(firms, _stamps(reads, batch, firms, mine, pending=True), {}, {}, mine)
    parties, changes = _derive_inputs(reads, firms, mine)
    # the batch's own change records are not committed yet: the derivation must see them
    _add_pending(batch, firms, changes)
    _derive_firms(plan, firms, parties, changes)
    if prepare is not None:
        plan.prepared = prepare(DERIVED, *_to_write(plan, batch))
    return plan


def apply_derive(w: Writer, batch: Batch, plan: DerivePlan | None = None) -> None:
    """Re-derive representative and address links of the batch's firms from the store's
    facts (read inside this batch's transaction), reusing ``plan`` where its inputs still hold."""
    if plan is None:
        firms = set(batch.chain_firms)
        plan = DerivePlan(firms, {}, {}, {}, _in_batch(batch, firms))
        stale = firms
    else:
        now = _stamps(w, batch, plan.firms, plan.mine, pending=False)
        stale = {f for f in plan.firms if plan.stamps.get(f) != now[f]}
    store_rows = getattr(w, "put_prepared_derived", None)
    if not stale and plan.prepared is not None and store_rows is not None:
        store_rows(plan.firms, DERIVED, plan.prepared)  # the plan holds: only SQLite works under the lock
        return
    if stale:
        parties, changes = _derive_inputs(w, stale, plan.mine)
        _derive_firms(plan, stale, parties, changes)
    people, derived = _to_write(plan, batch)
    w.put_parties(people)
    w.replace_links(plan.firms, DERIVED, derived)
