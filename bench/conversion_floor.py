"""How cheap can converting a row be? A design probe on the simplest layout, officers (主要人员).

    .venv/bin/python bench/conversion_floor.py --firms 100000 --repeat 2

``bench/content_floor.py`` bounds the writer's side of an ingest. This bounds the converter's:
it converts the demo set's ``officers.csv`` (made as ``bench/ingest.py`` makes it) two ways,
in one process, with no store, and prints the CPU each takes a row:

- *the ingest's way*: every row through :class:`ingest.facts.Row` and the ``officer``
  converter into a :class:`ingest.facts.Batch` of facts, then per batch of 20,000 rows one
  party per key, one link per id (as ``ingest.pipeline`` keeps them) and the parameter rows
  of :func:`graph.backends.sqlite_rows.prepare_facts`;
- *directly*: the same cells through the same checks and normalisers (``org_identity``,
  ``person_identity``, ``clean_text``, ``parse_date``, the title's roles, ``fact_id``,
  ``name_search_key``) straight into those parameter rows, with no fact objects in between.

Both read the file with the ingest's reader and leave out what the pipeline does around every
converter (blank and duplicate rows, the mention memory, the write). A test checks that both
ways make the same rows, so the direct figure is the cost of the same work. Officers are the
largest file and one of the simplest layouts (one person, one firm, one link a role);
registrations, a sixth of the rows, take about three times as long a row in the ingest's way.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph.backends.sqlite_rows import PreparedFacts, placeholder, prepare_facts  # noqa: E402
from graph.model import Source  # noqa: E402
from graph.store import fact_id  # noqa: E402
from graph.textkey import name_search_key  # noqa: E402
from ingest.facts import CONVERTERS, Batch, Row, RowRejected, _officer_kinds  # noqa: E402
from ingest.identity import org_identity, person_identity  # noqa: E402
from ingest.layouts import recognise  # noqa: E402
from ingest.normalise import clean_text, is_empty_mark, parse_date  # noqa: E402
from ingest.pipeline import _unique_links, _unique_parties  # noqa: E402
from ingest.readers import open_table  # noqa: E402

RUN = "probe-run"
SOURCE_ID = 1


def _src_of(source: Source | None) -> tuple[int | None, int | None, str]:
    return (SOURCE_ID, source.row, source.run) if source is not None else (None, None, RUN)


def _rows(path: Path) -> tuple[Iterator[tuple[int, list[Any]]], dict[str, int], Any]:
    table = open_table(path)
    recognised = recognise(table.headers, file=str(path))
    if recognised.layout.kind != "officers":
        table.close()
        raise SystemExit(f"{path} is a {recognised.layout.kind} file, not officers")
    return table.rows, dict(recognised.positions), table


def the_ingests_way(path: Path, batch_rows: int = 20_000) -> list[PreparedFacts]:
    """Parameter rows of each batch, made as the ingest makes them."""
    rows, positions, table = _rows(path)
    convert = CONVERTERS["officers"]
    display = str(path)
    items = list(positions.items())
    out: list[PreparedFacts] = []
    batch, n = Batch(), 0
    try:
        for number, cells in rows:
            try:
                convert(Row({col: cells[i] for col, i in items if i < len(cells)}, Source(display, number, RUN)), batch)
            except RowRejected:
                pass
            n += 1
            if n % batch_rows == 0:
                out.append(_prepare(batch))
                batch = Batch()
        out.append(_prepare(batch))
    finally:
        table.close()
    return out


def _prepare(batch: Batch) -> PreparedFacts:
    return prepare_facts(_src_of, RUN, parties=_unique_parties(batch), names=list(dict.fromkeys(batch.names)),
                         links=_unique_links(batch), records=batch.records, observations=batch.observations)


def _text(cell: Any) -> str:
    text = clean_text(cell)
    return "" if len(text) <= 4 and is_empty_mark(text) else text


def _raw(cell: Any) -> str:
    text = cell.strip() if cell else ""
    return "" if len(text) <= 4 and is_empty_mark(text) else text


def directly(path: Path, batch_rows: int = 20_000) -> list[PreparedFacts]:
    """The same parameter rows, made straight from the cells."""
    rows, positions, table = _rows(path)
    at = {col: positions.get(col, -1) for col in ("统一社会信用代码", "姓名", "证件号码", "职务", "任职日期", "离任日期")}
    code_at, name_at, id_at, title_at, start_at, end_at = at.values()
    out: list[PreparedFacts] = []
    parties: dict[str, tuple[Any, ...]] = {}
    names: dict[tuple[str, str], tuple[Any, ...]] = {}
    links: dict[str, tuple[Any, ...]] = {}
    observations: list[tuple[Any, ...]] = []
    n = 0

    def cell(cells: list[Any], i: int) -> Any:
        return cells[i] if 0 <= i < len(cells) else None

    def flush() -> None:
        prepared = PreparedFacts(keys=set(parties))
        prepared.parties = list(parties.values())
        prepared.names = list(names.values())
        prepared.links = list(links.values())
        ends = {r[2] for r in prepared.links} | {r[3] for r in prepared.links}
        prepared.placeholders = [placeholder(k) for k in sorted(ends - prepared.keys)]
        prepared.observations = observations[:]
        out.append(prepared)
        parties.clear(), names.clear(), links.clear(), observations.clear()

    try:
        for number, cells in rows:
            n += 1
            raw_code = _raw(cell(cells, code_at))
            name = _text(cell(cells, name_at))
            title = _text(cell(cells, title_at))
            kinds = _officer_kinds(title) if title else ()
            try:
                start, end = parse_date(cell(cells, start_at)), parse_date(cell(cells, end_at))
            except ValueError:
                start = end = None
                kinds = ()
            if raw_code and name and kinds:
                firm = org_identity(raw_code, "")
                raw_id = _raw(cell(cells, id_at))
                person = person_identity(raw_id, name, firm.key)
                if not firm.valid:
                    observations.append((raw_code, firm.code, "", 0, "uscc", SOURCE_ID, number, RUN))
                    parties.setdefault(firm.key, (firm.key, firm.kind.value, "", firm.code, "", None, None, "",
                                                  ",".join(sorted(firm.flags)), None, 0, SOURCE_ID, number, RUN))
                if raw_id and not person.valid:
                    observations.append((raw_id, person.code, name, 0, "resident_id", SOURCE_ID, number, RUN))
                context = {"context": person.context} if person.context else None
                row = (person.key, person.kind.value, name, person.code, "", None, None, "",
                       ",".join(sorted(person.flags)) if person.flags else "",
                       None if context is None else _dumps(context), 0, SOURCE_ID, number, RUN)
                # the first mention of a party or a name is the one stored (later ones change nothing)
                parties.setdefault(person.key, row)
                if (person.key, name) not in names:
                    names[(person.key, name)] = (person.key, name, name_search_key(name), "", None, SOURCE_ID, number,
                                                 RUN)
                start_day = start.toordinal() if start is not None else None
                end_day = end.toordinal() if end is not None else None
                for kind in kinds:
                    fid = fact_id(kind, person.key, firm.key, start, title)
                    links[fid] = (fid, kind.value, person.key, firm.key, start_day, end_day, None, None, title, "",
                                  SOURCE_ID, number, RUN, "")
            if n % batch_rows == 0:  # after this row, as the ingest's way cuts its batches
                flush()
        flush()
    finally:
        table.close()
    return out


def _dumps(value: dict[str, Any]) -> str:
    from graph.backends.sqlite_schema import dumps

    return dumps(value) or ""


def cpu_per_row(way: Any, path: Path) -> tuple[float, int]:
    """(µs of CPU a row, rows) for one pass of ``way`` over ``path``."""
    started = time.process_time()
    prepared = way(path)
    seconds = time.process_time() - started
    rows = sum(1 for _ in open(path, "rb")) - 1
    del prepared
    return seconds / rows * 1e6, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    data = Path(args.out) / f"demo-{args.firms}"
    if not (data / "ground_truth.json").exists():
        from ingest.demo import generate

        generate(data, firms=args.firms, progress=True)
    path = data / "officers.csv"
    gc.set_threshold(50_000, 20, 100)  # as ingest_paths runs
    print(f"{path}: converting officers, µs of CPU a row (the caches of checks and names are warm after the first pass)")
    for run in range(args.repeat):
        for way in (the_ingests_way, directly):
            micros, rows = cpu_per_row(way, path)
            print(f"run {run + 1}  {way.__name__:15} {micros:6.1f} µs a row ({rows:,} rows, {micros * rows / 1e6:.1f} s)")


if __name__ == "__main__":
    main()
