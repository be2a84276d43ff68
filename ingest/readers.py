"""Read spreadsheet files as rows: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK) and XLSX.

Use :func:`open_table`: it returns the header row and an iterator of ``(row_number, cells)``
where ``row_number`` is the row as the user sees it: the line of a CSV file where the record
starts, the row of the sheet (so a header on line 1 puts the first data row on row 2, and
title rows above a header count too).
Cells of CSV files are strings; cells of XLSX files keep their type (Excel date cells
arrive as ``datetime``/``date``, numbers as ``float``/``int``).

A CSV row that cannot be read comes as an :class:`Unreadable` instead of its cells (bytes
that are not text in the file's encoding; a quote opened and never closed, which would
otherwise swallow the rows after it): the ingest rejects that row and reads on.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.store import InvalidInput

SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")

csv.field_size_limit(16 * 1024 * 1024)

# undecodable bytes are kept as lone surrogates (as errors="surrogateescape" does) and
# counted: rows are searched for them only once a file has had some (the search costs
# 0.7 µs a row, a third of reading it)
_BAD_BYTES = re.compile("[\udc80-\udcff]+")
_ESCAPED = [0]


def _escape_and_count(exc: UnicodeError) -> tuple[str | bytes, int]:
    _ESCAPED[0] += 1
    return codecs.lookup_error("surrogateescape")(exc)


codecs.register_error("creditgraph.escape", _escape_and_count)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A data row that could not be read: why, which column (when known) and the raw text."""

    reason: str
    column: int  # position of the cell at fault, -1 for the whole row
    value: str


@dataclass(slots=True)
class Table:
    """An opened file: its encoding, header row and data rows."""

    path: Path
    encoding: str
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]

    handle: Any = None

    def close(self) -> None:
        """Release the file (needed when the rows are not read to the end)."""
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()
        if self.handle is not None:
            self.handle.close()


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes (how ingest recognises a file seen before)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sniff_encoding(path: Path, sample_size: int = 1 << 20) -> str:
    """Return "utf-8-sig", "utf-8" or "gb18030" from the file's first bytes."""
    with path.open("rb") as fh:
        sample = fh.read(sample_size)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    final = len(sample) < sample_size
    errors = {}
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=final)
            return encoding
        except UnicodeDecodeError:
            # a few bad bytes (one cell pasted from another system) must not lose the file:
            # take the encoding that reads most of it; rows with bytes it cannot read are rejected
            errors[encoding] = len(_BAD_BYTES.findall(sample.decode(encoding, errors="surrogateescape")))
    return min(errors, key=lambda e: errors[e])


class _Lines:
    """The file's lines for the CSV reader, with their line numbers, remembering those each
    record took, with room to put lines back (to read them again after a row with an
    unclosed quote). Used only once a file turned out to need it: a Python step per line
    costs 0.5-1 µs."""

    def __init__(self, fh: Any, back: list[tuple[int, str]], next_line: int) -> None:
        self.fh = fh
        self.back = back[::-1]
        self.next_line = next_line  # the number of the next line read from the file
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.back:
            numbered = self.back.pop()
        else:
            numbered = (self.next_line, next(self.fh))
            self.next_line += 1
        self.taken.append(numbered)
        return numbered[1]


def _physical_lines(path: Path, encoding: str, first: int, last: int) -> list[str]:
    """Lines ``first``..``last`` (from 1) of the file, read as the CSV reader reads them."""
    with open(path, encoding=encoding, newline="", errors="creditgraph.escape") as fh:
        return [line for i, line in enumerate(fh, start=1) if first <= i <= last] if last >= first else []


def _csv_rows(path: Path, encoding: str) -> tuple[list[str], Iterator[tuple[int, Any]], Any]:
    clean = _ESCAPED[0]
    fh = open(path, encoding=encoding, newline="", errors="creditgraph.escape")
    first_line = fh.readline()
    head_line = first_line
    for _ in range(10):  # past a title line or blank lines above the header
        if any(sep in head_line for sep in ",\t;|"):
            break
        head_line = fh.readline()
        if not head_line:
            break
    fh.seek(0)
    # the delimiter is the separator the header row uses most (csv.Sniffer guesses from
    # data rows too, and a semicolon-rich business scope can fool it)
    delimiter = max(",\t;|", key=head_line.count) if head_line else ","
    reader = csv.reader(fh, delimiter=delimiter)
    headers: list[str] = []
    for cells in reader:
        if _is_header(cells):
            headers = cells
            break
    if not headers:
        fh.close()
        return headers, iter(()), None
    if _BAD_BYTES.search("".join(headers)):
        fh.close()
        raise InvalidInput(f"{path}: 表头编码错误 (the header row has bytes that are not {encoding} text)",
                           file=str(path))
    width = len(headers)

    def rows() -> Iterator[tuple[int, Any]]:
        first = reader.line_num  # the line the record starts on (after the loop: the header's last)
        src: Any = reader  # csv's reader type is not importable at run time
        lines: _Lines | None = None  # the lines themselves, once a file needs them
        bad = _BAD_BYTES.search
        # any escape so far (the header's block included) and the rows are searched
        escaped = -1 if _BAD_BYTES.search(first_line) else clean
        try:
            while src is not None:
                seen, again = src.line_num, None
                for cells in src:
                    if lines is None:
                        first, spanned, seen = seen + 1, src.line_num - seen, src.line_num
                        taken: list[tuple[int, str]] = []
                    else:
                        taken, lines.taken = lines.taken, []
                        first, spanned = taken[0][0], len(taken)
                    if spanned > 1 and _swallowed_rows(cells, delimiter, width):
                        if not taken:
                            texts = _physical_lines(path, encoding, first, first + spanned - 1)
                            taken = list(zip(range(first, first + spanned), texts, strict=False))
                        if taken and _opens_quote(taken[0][1], delimiter):
                            # a quote opened and never closed took the lines after it into one
                            # cell: reject the line that opened it and read the others again
                            yield first, Unreadable(f"引号未闭合 (a quote opened in this row is never closed; "
                                                    f"{len(taken) - 1} following lines read again as rows)", -1,
                                                    taken[0][1].rstrip("\r\n"))
                            if lines is None:  # from here on the reader reads through _Lines
                                lines = _Lines(fh, taken[1:], first + spanned)
                                again = csv.reader(lines, delimiter=delimiter)
                                break
                            lines.back.extend(reversed(taken[1:]))
                            continue
                    if _ESCAPED[0] != escaped and bad("".join(cells)) is not None:
                        yield first, _undecodable(cells, encoding)
                        continue
                    yield first, cells
                src = again
        except csv.Error as exc:
            raise InvalidInput(f"{path}: line {first + 1}: malformed CSV: {exc}", file=str(path), row=first + 1) from exc
        finally:
            fh.close()

    return headers, rows(), fh


def _swallowed_rows(cells: list[str], delimiter: str, width: int) -> bool:
    """True when a cell that spans lines holds, after its first line, a line that looks like a
    whole row (a delimiter between every column): what an unclosed quote swallows. An address
    written over two lines inside quotes does not look like that."""
    for cell in cells:
        if "\n" in cell or "\r" in cell:
            for line in cell.splitlines()[1:]:
                if line.count(delimiter) >= max(width - 1, 1):
                    return True
    return False


def _is_header(cells: list[Any]) -> bool:
    """True for the first row that can be the header: two filled cells or more. Exports often
    carry a title row above it (某市企业登记信息表, one merged cell) and blank rows."""
    return sum(1 for c in cells if c is not None and str(c).strip()) >= 2


def _opens_quote(line: str, delimiter: str) -> bool:
    """True when a field of ``line`` starts with a quote that the line does not close."""
    inside, at_start, i = False, True, 0
    while i < len(line):
        ch = line[i]
        if inside:
            if ch == '"':
                if line[i + 1 : i + 2] == '"':  # a doubled quote is a quote inside the field
                    i += 2
                    continue
                inside = False
        elif ch == '"' and at_start:
            inside = True
        at_start = not inside and ch == delimiter
        i += 1
    return inside


def _undecodable(cells: list[str], encoding: str) -> Unreadable:
    """The row as rejected: the first cell holding bytes the encoding cannot read, shown with
    those bytes in hex so the sender can find them."""
    column = next(i for i, c in enumerate(cells) if _BAD_BYTES.search(c))
    shown = _BAD_BYTES.sub(lambda m: "<" + m.group().encode("utf-8", "surrogateescape").hex(" ") + ">", cells[column])
    return Unreadable(f"文件编码错误 (bytes that are not {encoding} text in this cell)", column, shown)


def _xlsx_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        it = sheet.iter_rows()  # streamed: a large workbook is not held as one list
    except Exception as exc:  # calamine raises its own error types
        raise InvalidInput(f"{path}: cannot read the workbook: {exc}", file=str(path)) from exc
    headers: list[str] = []
    header_row = 0  # calamine yields the sheet from its first row, empty ones included
    for cells in it:
        header_row += 1
        if _is_header(cells):
            headers = [str(c) for c in cells]
            break

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for n, cells in enumerate(it, start=header_row + 1):
            yield n, list(cells)

    return headers, rows()


def open_table(path: str | Path) -> Table:
    """Open a CSV or XLSX file and return its header row and data rows."""
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"{p}: no such file", file=str(p))
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        headers, rows = _xlsx_rows(p)
        encoding, handle = "xlsx", None
    elif suffix in (".csv", ".txt"):
        encoding = sniff_encoding(p)
        headers, rows, handle = _csv_rows(p, encoding)
    else:
        raise InvalidInput(f"{p}: unsupported file type {suffix!r} (expected .csv or .xlsx)", file=str(p))
    if not headers:
        raise InvalidInput(f"{p}: the file is empty (no header row)", file=str(p))
    return Table(p, encoding, headers, rows, handle)


def count_rows(path: Path) -> int | None:
    """Return the number of lines of a CSV file quickly (progress total), None for XLSX."""
    if path.suffix.lower() not in (".csv", ".txt"):
        return None
    n = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            n += block.count(b"\n")
    return max(n - 1, 0)
