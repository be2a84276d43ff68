"""How cheap can converting a row be? Floors under the converter's side of any ingest.

    .venv/bin/python bench/conversion_floor.py --firms 100000 --repeat 2

``bench/content_floor.py`` bounds the writer's side of an ingest. This bounds the converter's,
on the demo set (made as ``bench/ingest.py`` makes it), in one process with no store, as µs of
CPU a row:

- *officers* (主要人员, the largest file and one of the simplest layouts: one person, one firm,
  one link a role), two ways. *The ingest's way*: every row through :class:`ingest.facts.Row`
  and the ``officer`` converter into a :class:`ingest.facts.Batch` of facts, then per batch of
  20,000 rows one party per key and one link per id (as ``ingest.pipeline`` keeps them) and
  the parameter rows of :func:`graph.backends.sqlite_rows.prepare_facts`. *Directly*: the same
  cells through the same checks and normalisers (``org_identity``, ``person_identity``,
  ``clean_text``, ``parse_date``, the title's roles, ``fact_id``, ``name_search_key``)
  straight into those parameter rows, with no fact objects in between. A test checks that both
  ways make the same rows, so the direct figure is the cost of the same work.
- *registrations* and *shareholders*, by their checks and normalisers alone: the calls every
  row goes through and nothing else (no fact, no parameter row). Tests check that they key
  the same firms and holders as the ingest's converters.
- every other file, only read by the ingest's reader.

The best run of each adds up to a floor under converting the whole set. Both ways leave out
what the pipeline does around every converter (blank and duplicate rows, the mention memory,
the write), and everything after the rows: representative chains, identity resolution.
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
from graph.identifiers import normalise_code  # noqa: E402
from graph.model import LinkKind, Source  # noqa: E402
from graph.store import fact_id  # noqa: E402
from graph.textkey import name_search_key  # noqa: E402
from ingest.facts import CONVERTERS, Batch, Row, RowRejected, _officer_kinds, org_kind  # noqa: E402
from ingest.identity import any_identity, org_identity, person_identity  # noqa: E402
from ingest.layouts import recognise  # noqa: E402
from ingest.normalise import (  # noqa: E402
    amount_currency,
    clean_text,
    is_empty_mark,
    normalise_email,
    normalise_phone,
    parse_amount,
    parse_date,
    parse_ratio,
    split_org_name,
)
from ingest.pipeline import _unique_links, _unique_parties  # noqa: E402
from ingest.readers import open_table  # noqa: E402

RUN = "probe-run"
SOURCE_ID = 1


def _src_of(source: Source | None) -> tuple[int | None, int | None, str]:
    return (SOURCE_ID, source.row, source.run) if source is not None else (None, None, RUN)


def _rows(path: Path, kind: str = "officers") -> tuple[Iterator[tuple[int, list[Any]]], dict[str, int], Any]:
    table = open_table(path)
    recognised = recognise(table.headers, file=str(path))
    if recognised.layout.kind != kind:
        table.close()
        raise SystemExit(f"{path} is a {recognised.layout.kind} file, not {kind}")
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


# Row.text and Row.raw (ingest/facts.py) for a CSV cell, without a Row per row: the direct
# way's parity test checks that they keep the same cells as the ingest's way
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
        for made in (parties, names, links, observations):
            made.clear()

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


def _each(path: Path, kind: str) -> Iterator[tuple[Any, list[Any]]]:
    """Every row of a ``kind`` file: a getter of cells by canonical column, and the cells."""
    rows, positions, table = _rows(path, kind)

    def get(cells: list[Any], column: str) -> Any:
        i = positions.get(column, -1)
        return cells[i] if 0 <= i < len(cells) else None

    try:
        for _, cells in rows:
            yield get, cells
    finally:
        table.close()


def _calls(path: Path, kind: str, row_calls: Any) -> tuple[int, set[str]]:
    """Run ``row_calls`` over every row of a ``kind`` file: (rows read, the keys it returned)."""
    n, keys = 0, set()
    for get, cells in _each(path, kind):
        n += 1
        key = row_calls(get, cells)
        if key is not None:
            keys.add(key)
    return n, keys


def registration_calls(path: Path) -> tuple[int, set[str]]:
    """Only the checks and normalisers a registration row goes through, with no fact and no
    parameter row made: a floor under any way of converting registrations in Python with
    these checks. Returns the rows read and the keys of the firms (as the ingest keys them)."""
    return _calls(path, "registrations", _registration_calls)


def _registration_calls(get: Any, cells: list[Any]) -> str | None:
    name, raw = _text(get(cells, "名称")), _raw(get(cells, "统一社会信用代码"))
    if not name or not raw:
        return None
    try:
        established, _ceased = parse_date(get(cells, "成立日期")), parse_date(get(cells, "注销日期"))
        capital, currency = parse_amount(get(cells, "注册资本")), amount_currency(get(cells, "注册资本"))
    except ValueError:
        return None
    if established is None:
        return None
    type_text, rep_name, rep_raw = _text(get(cells, "类型")), _text(get(cells, "法定代表人")), _raw(
        get(cells, "法定代表人证件号码"))
    kind = org_kind(type_text, normalise_code(raw), name)
    firm = org_identity(raw, name, kind, rep_name)
    parts = split_org_name(name)
    attrs = {"type": type_text, "capital": capital, "capital_currency": currency,
             "authority": _text(get(cells, "登记机关")), "scope": _text(get(cells, "经营范围")),
             "address": _text(get(cells, "住所")), "phone": normalise_phone(_raw(get(cells, "联系电话"))),
             "email": normalise_email(_raw(get(cells, "电子邮箱"))), "trade_name": parts.trade_name,
             "industry": parts.industry, "legal_form": parts.legal_form, "name_region": parts.region,
             "rep_name": rep_name, "rep_id": normalise_code(rep_raw),
             "status": _text(get(cells, "登记状态"))}
    _dumps(attrs)
    name_search_key(name)
    if rep_name:
        person_identity(rep_raw, rep_name, firm.key)
        name_search_key(rep_name)
    return firm.key


def shareholder_calls(path: Path) -> tuple[int, set[str]]:
    """Only the checks and normalisers a shareholder row goes through, and the link's id:
    a floor under any way of converting shareholders. Returns the rows read and the
    holders' keys."""
    return _calls(path, "shareholders", _shareholder_calls)


def _shareholder_calls(get: Any, cells: list[Any]) -> str | None:
    raw_firm, holder_name = _raw(get(cells, "统一社会信用代码")), _text(get(cells, "股东"))
    if not raw_firm or not holder_name:
        return None
    firm = org_identity(raw_firm, "")
    holder = any_identity(_raw(get(cells, "证照/证件号码")), holder_name, firm.key, _text(get(cells, "股东类型")))
    try:
        start, _end = parse_date(get(cells, "起始日期")), parse_date(get(cells, "终止日期"))
        parse_ratio(get(cells, "出资比例"))
        parse_amount(get(cells, "认缴出资额"))
        amount_currency(get(cells, "认缴出资额"))
    except ValueError:
        return None
    fact_id(LinkKind.SHAREHOLDER, holder.key, firm.key, start)
    name_search_key(holder_name)
    return holder.key


def reading(path: Path) -> int:
    """Rows read by the ingest's reader, with nothing done to them (the floor for any layout)."""
    table = open_table(path)
    try:
        return sum(1 for _ in table.rows)
    finally:
        table.close()


def cpu_per_row(way: Any, path: Path) -> tuple[float, int]:
    """(µs of CPU a row, rows) for one pass of ``way`` over ``path``."""
    started = time.process_time()
    way(path)
    seconds = time.process_time() - started
    rows = reading(path)  # counted apart, outside the time
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
    gc.set_threshold(50_000, 20, 100)  # as ingest_paths runs
    files = sorted(p for p in data.iterdir() if p.suffix.lower() in (".csv", ".xlsx"))
    big = {"officers.csv": directly, "registrations.csv": registration_calls, "shareholders.csv": shareholder_calls}
    print(f"{data}: µs of CPU a row, in one process (the caches of checks and names are warm after the first pass)")
    best: dict[str, tuple[float, int]] = {}
    for run in range(args.repeat):
        for name, way in [("officers.csv", the_ingests_way), *big.items()]:
            micros, rows = cpu_per_row(way, data / name)
            if way is not the_ingests_way and micros < best.get(name, (float("inf"), 0))[0]:
                best[name] = (micros, rows)
            print(f"run {run + 1}  {name:18} {way.__name__:19} {micros:6.1f} µs a row ({rows:,} rows, "
                  f"{micros * rows / 1e6:.1f} s)")
    for path in files:
        if path.name not in big:
            best[path.name] = min(cpu_per_row(reading, path) for _ in range(args.repeat))
    total_rows = sum(rows for _, rows in best.values())
    seconds = sum(micros * rows for micros, rows in best.values()) / 1e6
    print(f"a floor under converting the whole set ({total_rows:,} rows): {seconds:.1f} s of CPU, "
          f"{seconds / total_rows * 1e6:.1f} µs a row (officers directly, registrations and shareholders by their "
          f"checks alone, every other file only read; the best run of each)")


if __name__ == "__main__":
    main()
