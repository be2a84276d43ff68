"""Every fact a store holds, as rows comparable between two stores (the same data loaded
another way must give the same rows)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def _facts(mention_provenance: bool) -> dict[str, str]:
    def only_if(condition: str, expr: str) -> str:
        return expr if mention_provenance else f"CASE WHEN {condition} THEN {expr} END"

    # provenance by file path (source ids are numbered as files are first seen), parties and
    # links by key, no run ids
    return {
        "parties": f"""SELECT p.key, p.kind, p.name, p.code, p.region, p.start, p.end, p.status, p.flags, p.attrs,
                              p.primary_rank, {only_if("p.primary_rank > 0", "s.path")},
                              {only_if("p.primary_rank > 0", "p.row")}
                       FROM parties p LEFT JOIN sources s ON s.id = p.src""",
        "names": f"""SELECT n.party, n.name, n.nkey, n.start, n.end, {only_if("n.start != ''", "s.path")},
                            {only_if("n.start != ''", "n.row")}
                     FROM names n LEFT JOIN sources s ON s.id = n.src""",
        "links": """SELECT l.fid, l.kind, a.key, b.key, l.start, l.end, l.ratio, l.amount, l.title, l.origin, s.path,
                           l.row, l.currency
                    FROM links l JOIN parties a ON a.id = l.src JOIN parties b ON b.id = l.dst
                    LEFT JOIN sources s ON s.id = l.srcfile""",
        "records": """SELECT r.fid, r.kind, r.subject, r.start, r.end, r.target, r.attrs, s.path, r.row
                      FROM records r LEFT JOIN sources s ON s.id = r.srcfile""",
        "aliases": "SELECT unresolved, resolved, reason FROM aliases",
        "code_observations": """SELECT o.code, o.normalised, o.name, o.valid, o.kind, s.path, o.row
                                FROM code_observations o LEFT JOIN sources s ON s.id = o.srcfile""",
        "rejections": "SELECT file, row, col, value, reason FROM rejections",
    }


FACT_TABLES = tuple(_facts(False))


def stored_facts(path: Path, *, mention_provenance: bool = False) -> dict[str, list[tuple[object, ...]]]:
    """Every fact of the store at ``path``, sorted, per table.

    Which of several rows first *mentioned* a party or an undated name depends on which
    batch committed first, so that provenance is left out unless ``mention_provenance``
    (for two loads that commit the same batches in the same order); a registration's is kept."""
    conn = sqlite3.connect(path)
    try:
        return {table: sorted(conn.execute(sql).fetchall(), key=repr)
                for table, sql in _facts(mention_provenance).items()}
    finally:
        conn.close()
