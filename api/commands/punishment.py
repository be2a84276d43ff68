"""CLI commands for joint punishment, risk checks, credit repair and objections.

Register with ``for c in COMMANDS: main.add_command(c)`` in ``api/cli.py``. Reads go through
``queries`` (read-only); repair and objection commands build records with
``queries.actions`` and write them in one ``store.writer()`` batch.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from api.checked_write import write_checked
from api.settings import get_settings
from api.stores import open_configured_store
from graph.model import RecordKind, Source
from graph.store import CreditGraphError

DEFAULT_DB = "data/creditgraph.sqlite"
DB_OPTION = click.option("--db", envvar="CREDITGRAPH_DB", default=DEFAULT_DB, show_default=True,
                         help="SQLite file of the embedded store (env CREDITGRAPH_DB).")
CLI_SOURCE = Source("creditgraph-cli", 0, "")


@contextmanager
def _store(db: str) -> Iterator[Any]:
    try:
        store = open_configured_store(get_settings(), db=db)  # CREDITGRAPH_BACKEND picks bolt
    except CreditGraphError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield store
    except CreditGraphError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


@click.command()
@click.argument("key")
@click.option("--as-of", "as_of", default=None, help="Date to judge on (YYYY-MM-DD); today by default.")
@click.option("--hops", default=3, show_default=True, type=click.IntRange(0, 6), help="Links to look out.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@DB_OPTION
def check(key: str, as_of: str | None, hops: int, fmt: str, db: str) -> None:
    """Risk check of a firm or person: KEY is a party key, USCC, resident ID or name."""
    from queries.risk import check as run_check

    with _store(db) as store:
        report = run_check(store.view(), key, _date(as_of), hops)
    if fmt == "json":
        click.echo(_json(report.as_dict()))
        return
    click.echo(f"{report.name} ({report.key})  截至 {report.as_of}  监管等级 {report.grade}  "
               f"抽查比例 {report.sampling_ratio:.0%}{'  [红名单]' if report.red_listed else ''}")
    if not report.warnings:
        click.echo("  无预警")
    for w in report.warnings:
        click.echo(f"  [{w.level}] {w.code} {w.message}")
        for s in w.sources:
            click.echo(f"        依据: {s.record_id} {s.list_type} {s.decision_no} {s.start or ''}")
    if report.capped:
        click.echo(f"  未展开的高连接度节点: {', '.join(report.capped)}")


def punished_rows(view: Any, as_of: dt.date) -> list[dict[str, Any]]:
    """Return the people under joint punishment on ``as_of`` as JSON-able rows, one per person."""
    from queries.propagation import propagate

    people: dict[str, dict[str, Any]] = {}
    for p in propagate(view, as_of):
        if p.role == "subject" and p.person.startswith("org:"):
            continue  # the firm itself: not a person
        party = view.party(p.person)
        code = p.person.split(":", 1)[1] if p.person.startswith("per:") else (party.code if party else "")
        row = people.setdefault(p.person, {"person_id": code, "name": p.person_name, "key": p.person,
                                           "flags": list(p.flags), "measures": []})
        row["measures"].append({
            "firm": p.firm.split(":", 1)[1] if p.firm.startswith("org:") else p.firm, "firm_name": p.firm_name,
            "role": p.role, "list_entry": p.entry_id, "list_type": p.list_type, "decision_no": p.decision_no,
            "start": p.start.isoformat() if p.start else None, "end": p.end.isoformat() if p.end else None,
            "basis": p.basis, "mandatory": p.mandatory, "measure_code": p.measure_code,
            "measure_name": p.measure_name,
        })
    return sorted(people.values(), key=lambda r: r["key"])


@click.command()
@click.option("--as-of", "as_of", default=None, help="Date (YYYY-MM-DD); today by default.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@DB_OPTION
def punished(as_of: str | None, fmt: str, db: str) -> None:
    """List the people under joint punishment (联合惩戒落实到人) and their measures."""
    day = _date(as_of) or dt.date.today()
    with _store(db) as store:
        rows = punished_rows(store.view(), day)
    if fmt == "json":
        click.echo(_json(rows))
        return
    flat = [{"person_id": r["person_id"], "name": r["name"], **m} for r in rows for m in r["measures"]]
    if fmt == "csv":
        buf = io.StringIO()
        fields = ["person_id", "name", "firm", "firm_name", "role", "measure_code", "measure_name", "mandatory",
                  "list_type", "list_entry", "decision_no", "start", "end", "basis"]
        w = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows(flat)
        click.echo(buf.getvalue(), nl=False)
        return
    if not flat:
        click.echo(f"{day} 无受联合惩戒人员")
    for m in flat:
        click.echo(f"{m['person_id']}  {m['name']}  {m['role']}@{m['firm_name'] or m['firm']}  "
                   f"{m['measure_code']} {m['measure_name']}  {m['start']}→{m['end'] or '移出时'}  ({m['list_type']})")


def _load(view: Any, record_id: str, kinds: tuple[RecordKind, ...], what: str) -> Any:
    rec = view.record(record_id)
    if rec is None or rec.kind not in kinds:
        raise click.ClickException(f"no {what} with id {record_id}")
    return rec


@click.command()
@click.argument("entry_id")
@click.option("--date", "on", required=True, help="Date the repair was approved (YYYY-MM-DD).")
@click.option("--by", "by", required=True, help="Approving authority.")
@click.option("--note", default="", help="Free text.")
@DB_OPTION
def repair(entry_id: str, on: str, by: str, note: str, db: str) -> None:
    """Record a credit repair (信用修复) of ENTRY_ID: the punishments it gave end on that date."""
    from queries.actions import REPAIRABLE, check_action, repair_record

    def build(view: Any) -> Any:
        entry = _load(view, entry_id, tuple(REPAIRABLE), "list entry, court entry or penalty")
        rec = repair_record(entry, _date(on), by, note, source=CLI_SOURCE)  # type: ignore[arg-type]
        check_action(view, rec)
        return rec

    with _store(db) as store:
        rec = write_checked(store, build)
    click.echo(f"repair {rec.id} recorded for {entry_id} on {rec.start}")


@click.command()
@click.argument("entry_id")
@click.option("--date", "on", required=True, help="Date the objection was filed (YYYY-MM-DD).")
@click.option("--claim", required=True, help="What the subject disputes.")
@DB_OPTION
def objection(entry_id: str, on: str, claim: str, db: str) -> None:
    """Record an objection (异议) to ENTRY_ID; it stands until resolved."""
    from queries.actions import check_action, objection_record

    def build(view: Any) -> Any:
        entry = _load(view, entry_id, (RecordKind.LIST_ENTRY, RecordKind.COURT_DISHONEST, RecordKind.PENALTY),
                      "list entry, court entry or penalty")
        rec = objection_record(entry, _date(on), claim, source=CLI_SOURCE)  # type: ignore[arg-type]
        check_action(view, rec)
        return rec

    with _store(db) as store:
        rec = write_checked(store, build)
    click.echo(f"objection {rec.id} recorded for {entry_id} on {rec.start}")


@click.command("resolve-objection")
@click.argument("objection_id")
@click.option("--date", "on", required=True, help="Date of the decision (YYYY-MM-DD).")
@click.option("--outcome", type=click.Choice(["upheld", "rejected"]), required=True)
@click.option("--note", default="", help="Free text.")
@DB_OPTION
def resolve_objection(objection_id: str, on: str, outcome: str, note: str, db: str) -> None:
    """Resolve OBJECTION_ID: upheld revokes the entry from that date, rejected leaves it standing."""
    from queries.actions import check_action, resolution_record

    def build(view: Any) -> Any:
        obj = _load(view, objection_id, (RecordKind.OBJECTION,), "objection")
        rec = resolution_record(obj, _date(on), outcome, note, source=CLI_SOURCE)  # type: ignore[arg-type]
        check_action(view, rec)
        return rec

    with _store(db) as store:
        rec = write_checked(store, build)
    click.echo(f"objection {objection_id} {outcome} on {rec.start} ({rec.id})")


COMMANDS = [check, punished, repair, objection, resolve_objection]
