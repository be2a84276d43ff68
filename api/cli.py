"""The ``creditgraph`` command line: ingest, demo, quality, serve (and the query commands)."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from api.settings import get_settings
from api.stores import open_configured_store
from graph.store import CreditGraphError

DB_OPTION = click.option("--db", envvar="CREDITGRAPH_DB", default=None, help="SQLite file of the embedded store.")
BACKEND_OPTION = click.option(
    "--backend", envvar="CREDITGRAPH_BACKEND", type=click.Choice(["memory", "bolt"]), default=None,
    help="memory (embedded SQLite, default) or bolt (Neo4j / FalkorDB at CREDITGRAPH_NEO4J_URI).",
)


def open_store_from(db: str | None, backend: str | None = None) -> Any:
    """Open the store named by the options or the settings; a clear message when it fails."""
    try:
        return open_configured_store(get_settings(), db=db, backend=backend)
    except CreditGraphError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.version_option("0.1.0", prog_name="creditgraph")
def main() -> None:
    """creditgraph: credit knowledge graph for joint punishment, relocation detection and risk warnings."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@DB_OPTION
@BACKEND_OPTION
@click.option("--kind", default=None, help="Force the layout (registrations, shareholders, …) instead of recognising it.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), default=None, help="Site header mapping (JSON).")
@click.option("--batch-rows", default=20000, show_default=True, help="Rows per atomic batch.")
@click.option("--force", is_flag=True, help="Re-read files already ingested completely.")
@click.option("--rejections", "rejections_out", type=click.Path(dir_okay=False), default=None,
              help="Write this run's rejection report to a CSV file.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--workers", default=min(2, os.cpu_count() or 1), show_default=True,
              help="Processes sharing the work (embedded store only).")
def ingest(paths: tuple[str, ...], db: str | None, backend: str | None, kind: str | None, mapping: str | None,
           batch_rows: int, force: bool, rejections_out: str | None, quiet: bool, as_json: bool, workers: int) -> None:
    """Load spreadsheets (CSV UTF-8/BOM/GB18030, XLSX) or folders of them into the store."""
    from ingest.layouts import load_site_mapping
    from ingest.pipeline import ingest_paths

    store = open_store_from(db, backend)
    try:
        site = load_site_mapping(mapping)
        summary = ingest_paths(store, list(paths), kind=kind, mapping=site, batch_rows=batch_rows,
                               progress=not quiet, force=force, workers=workers)
        rejections = store.view().rejections(summary.run_id)
    except CreditGraphError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    if rejections_out:
        with open(rejections_out, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["文件 file", "行 row", "列 column", "值 value", "原因 reason"])
            writer.writerows([(r.file, r.row, r.column, r.value, r.reason) for r in rejections])
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=1))
    else:
        _print_summary(summary, rejections)
    if summary.failed:
        sys.exit(2)


def _print_summary(summary: Any, rejections: list[Any]) -> None:
    click.echo(f"\n导入完成 ingest run {summary.run_id}")
    click.echo(f"{'文件 file':<44} {'类型 kind':<16} {'行 rows':>9} {'入库 loaded':>11} {'拒绝 rejected':>13} "
               f"{'空行 empty':>10} {'重复 dup':>8}  状态")
    for f in summary.files:
        click.echo(f"{Path(f.path).name[:44]:<44} {f.kind:<16} {f.rows:>9,} {f.loaded:>11,} {f.rejected:>13,} "
                   f"{f.empty:>10,} {f.duplicates:>8,}  {f.status}")
        if f.error:
            click.echo(f"    错误 error: {f.error}", err=True)
        if f.ignored_columns:
            click.echo(f"    未识别的列,已忽略 ignored columns: {', '.join(f.ignored_columns)} "
                       "(a site mapping file can name them)")
    click.echo(f"合计 total: {summary.rows:,} rows in {summary.seconds:.1f} s ({summary.rows_per_second:,.0f} rows/s); "
               f"loaded {summary.loaded:,}, rejected {summary.rejected:,}")
    if summary.resolution:
        r = summary.resolution
        click.echo(f"身份归并 resolution: masked IDs {r.masked_resolved}/{r.masked} resolved "
                   f"({r.masked_ambiguous} ambiguous, {r.masked_unmatched} unmatched); name-only "
                   f"{r.name_only_resolved}/{r.name_only}; organisation codes {r.org_codes_resolved}/{r.org_codes}")
    for rej in rejections[:20]:
        click.echo(f"  拒绝 {Path(rej.file).name}:{rej.row} [{rej.column}] {rej.value!r}: {rej.reason}")
    if len(rejections) > 20:
        click.echo(f"  … {len(rejections) - 20} more (use --rejections FILE for the full report)")


@main.command()
@click.option("--firms", default=2000, show_default=True, help="Number of firms (1,000 to 1,000,000).")
@click.option("--out", "out_dir", default="data/demo", show_default=True, type=click.Path(file_okay=False))
@click.option("--seed", default=7, show_default=True)
@click.option("--no-xlsx", is_flag=True, help="Skip the XLSX sample file.")
@click.option("--quiet", is_flag=True)
def demo(firms: int, out_dir: str, seed: int, no_xlsx: bool, quiet: bool) -> None:
    """Generate a realistic synthetic data set in the ingest layouts, with planted scenarios."""
    from ingest.demo import generate

    if not 1000 <= firms <= 1_000_000:
        raise click.BadParameter("between 1,000 and 1,000,000", param_hint="--firms")
    summary = generate(Path(out_dir), firms=firms, seed=seed, progress=not quiet, xlsx=not no_xlsx)
    click.echo(f"demo data in {out_dir}: " + ", ".join(f"{Path(k).name} {v:,}" for k, v in _rows(summary).items()))


def _rows(summary: Any) -> dict[str, int]:
    rows = getattr(summary, "rows", None) or getattr(summary, "row_counts", None) or {}
    return dict(rows)


@main.command()
@DB_OPTION
@BACKEND_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
def quality(db: str | None, backend: str | None, fmt: str) -> None:
    """Data-quality report: invalid codes as given, code/name conflicts, invalid and unresolved IDs."""
    from queries.quality import quality_report

    store = open_store_from(db, backend)
    try:
        report = quality_report(store.view())
    finally:
        store.close()
    data = report.as_dict()
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["kind", "code", "names", "reason", "where"])
        for finding in report.findings:
            w.writerow([finding.kind, finding.code, "|".join(finding.names), finding.reason, " ".join(finding.where)])
        click.echo(buf.getvalue(), nl=False)
        return
    click.echo(f"代码总数 distinct codes: {report.distinct_codes:,}; 错误/重码 in error: {report.codes_in_error:,}; "
               f"error rate {report.error_rate:.4%} (target ≤ 0.01%: {'达标 met' if report.meets_target else '未达标 NOT met'})")
    for f in report.findings:
        click.echo(f"[{f.kind}] {f.code}  {' / '.join(f.names)}  — {f.reason}  @ {', '.join(f.where[:3])}")


@main.command()
@DB_OPTION
@BACKEND_OPTION
@click.option("--host", envvar="CREDITGRAPH_HOST", default=None)
@click.option("--port", envvar="CREDITGRAPH_PORT", type=int, default=None)
def serve(db: str | None, backend: str | None, host: str | None, port: int | None) -> None:
    """Serve the API and pages (default http://127.0.0.1:8000)."""
    import uvicorn

    from api.app import create_app
    from api.auth import api_settings

    settings = api_settings(get_settings())
    if "CREDITGRAPH_RISK_WORKER" not in os.environ:
        # a second process answers today's risk checks where there is a second core to run it
        settings = settings.model_copy(update={"risk_worker": (os.cpu_count() or 1) >= 2})
    store = open_store_from(db, backend)
    app = create_app(settings, store=store)
    host, port = host or settings.host, port or settings.port
    click.echo(f"creditgraph serving on http://{host}:{port}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info")


def _register_optional_commands() -> None:
    """Attach command groups that live in their own modules."""
    import importlib

    for module in ("api.commands.punishment", "api.commands.relocation", "api.commands.keys"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue
            raise
        for command in getattr(mod, "COMMANDS", []):
            main.add_command(command)


_register_optional_commands()
