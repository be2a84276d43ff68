"""Read spreadsheet files as rows: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK) and XLSX.

Use :func:`open_table`: it returns the header row and an iterator of ``(row_number, cells)``
where ``row_number`` counts data rows from 1 (the row after the header is row 1).
Cells of CSV files are strings; cells of XLSX files keep their type (Excel date cells
arrive as ``datetime``/``date``, numbers as ``float``/``int``).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.store import InvalidInput

SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")

csv.field_size_limit(16 * 1024 * 1024)


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
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=len(sample) < sample_size)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=len(sample) < sample_size)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path}: 无法识别的文件编码 (neither UTF-8 nor GB18030 at byte {exc.start})", file=str(path)
        ) from exc


def _csv_rows(path: Path, encoding: str) -> tuple[list[str], Iterator[tuple[int, list[Any]]], Any]:
    fh = open(path, encoding=encoding, newline="", errors="strict")
    try:
        first_line = fh.readline()
        fh.seek(0)
        # the delimiter is the separator the header row uses most (csv.Sniffer guesses from
        # data rows too, and a semicolon-rich business scope can fool it)
        delimiter = max(",\t;|", key=first_line.count) if first_line else ","
        reader = csv.reader(fh, delimiter=delimiter)
        headers: list[str] = []
        for cells in reader:
            if any(c.strip() for c in cells):
                headers = cells
                break
    except UnicodeDecodeError as exc:
        fh.close()
        raise InvalidInput(f"{path}: 文件编码错误 (bad {encoding} bytes: {exc.reason})", file=str(path)) from exc
    if not headers:
        fh.close()
        return headers, iter(()), None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        n = 0
        try:
            for cells in reader:
                n += 1
                yield n, cells
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{path}: 第{n + 1}行附近编码错误 (bad {encoding} bytes near data row {n + 1})", file=str(path), row=n + 1
            ) from exc
        except csv.Error as exc:
            raise InvalidInput(f"{path}: data row {n + 1}: malformed CSV: {exc}", file=str(path), row=n + 1) from exc
        finally:
            fh.close()

    return headers, rows(), fh


def _xlsx_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        it = sheet.iter_rows()  # streamed: a large workbook is not held as one list
    except Exception as exc:  # calamine raises its own error types
        raise InvalidInput(f"{path}: cannot read the workbook: {exc}", file=str(path)) from exc
    headers: list[str] = []
    for cells in it:
        if any(str(c).strip() for c in cells):
            headers = [str(c) for c in cells]
            break

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for n, cells in enumerate(it, start=1):
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
