"""``creditgraph detect relocations``: the scheduled relocation (易地开张) detection run.

Each run computes every case, writes the requested ones (all, those whose new firm was
established since a date, or only those new since the previous run) as JSON, CSV or an HTML
report, and records the run's date and case keys in the store (``relocation.last_run``) so
that ``--since last`` works next time. Exit status 0 when it ran.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from api.cli import BACKEND_OPTION, DB_OPTION, open_store_from
from graph.store import CreditGraphError


@click.group()
def detect() -> None:
    """Detection runs over the whole store (relocations: 易地开张)."""


def _since(value: str | None) -> str | dt.date | None:
    if value is None or value == "last":
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("a date YYYY-MM-DD or 'last'", param_hint="--since") from None


@detect.command("relocations")
@click.option("--since", "since_text", default=None, metavar="DATE|last",
              help="Only cases whose new firm was established on/after DATE, or 'last': only cases new since the "
                   "previous run.")  # fmt: skip
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=None,
              help="Report cases scoring at least this (default 0.6).")
@click.option("--window-years", type=click.FloatRange(0.1, 20.0), default=None,
              help="New firms established within this many years after the listing (default 3).")
@click.option("--as-of", "as_of_text", default=None, metavar="DATE", help="Judge listings as of this date (default today).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "html"]), default="json", show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None, help="Write here instead of stdout.")
@click.option("--no-record", is_flag=True, help="Do not record this run for the next '--since last'.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@DB_OPTION
@BACKEND_OPTION
def relocations(since_text: str | None, threshold: float | None, window_years: float | None, as_of_text: str | None,
                fmt: str, out_path: str | None, no_record: bool, quiet: bool, db: str | None,
                backend: str | None) -> None:
    """Find blacklisted firms that reopened under a new name or elsewhere, with evidence."""
    from queries.relocation import (
        DEFAULT_CONFIG,
        META_KEY,
        detect_relocations,
        filter_since,
        new_since_last,
        previous_run,
        run_meta,
    )

    since = _since(since_text)
    as_of = None
    if as_of_text:
        try:
            as_of = dt.date.fromisoformat(as_of_text)
        except ValueError:
            raise click.BadParameter("a date YYYY-MM-DD", param_hint="--as-of") from None
    config = DEFAULT_CONFIG
    if threshold is not None:
        config = replace(config, threshold=threshold)
    if window_years is not None:
        config = replace(config, window_years=window_years)
    started = dt.datetime.now()
    store = open_store_from(db, backend)
    try:
        view = store.view()
        report = detect_relocations(view, config, as_of=as_of, progress=not quiet)
        last_date, last_keys = previous_run(view)
        cases = report.cases
        if since == "last":
            cases = new_since_last(cases, last_keys)
            scope = f"上次运行({last_date or '无'})以来的新案例" if last_date else "首次运行:全部案例"
        elif isinstance(since, dt.date):
            cases = filter_since(cases, since)
            scope = f"新企业成立于 {since} 及以后的案例"
        else:
            scope = "全部案例"
        if fmt == "json":
            text = json.dumps([c.as_dict() for c in cases], ensure_ascii=False, indent=1)
        elif fmt == "csv":
            text = _csv(cases)
        else:
            from visualizations.relocation_report import report_html

            stats = {"阈值": f"{config.threshold:.2f}", "受监测企业数": f"{report.seeds:,}",
                     "候选对数": f"{report.candidates:,}", "全部案例数(本次)": f"{len(report.cases):,}",
                     "耗时": f"{report.seconds.get('total', 0):.1f} 秒"}  # fmt: skip
            text = report_html(view, cases, generated=started, scope_note=scope, stats=stats)
        if not no_record:
            with store.writer() as w:
                w.put_meta(META_KEY, run_meta(report.cases, started, config.threshold))
    except CreditGraphError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    if out_path:
        Path(out_path).write_text(text, encoding="utf-8")
        click.echo(f"{len(cases)} 个案例 cases ({scope}) → {out_path}", err=True)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _csv(cases: list[Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["old_uscc", "old_name", "new_uscc", "new_name", "score", "level", "pattern", "region", "list_type",
                "decision_no", "listed_on", "new_established", "evidence"])  # fmt: skip
    for c in cases:
        ev = " | ".join(f"{e.feature} {e.contribution:+.3f}: {e.detail}" for e in c.evidence)
        w.writerow([c.old_uscc, c.old_name, c.new_uscc, c.new_name, f"{c.score:.4f}", c.level, c.pattern, c.region,
                    c.list_type, c.decision_no, c.listed_on, c.new_established, ev])  # fmt: skip
    return buf.getvalue()


COMMANDS = [detect]
