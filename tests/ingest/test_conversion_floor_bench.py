"""``bench/conversion_floor.py`` measures floors under converting rows: its direct way with
officers must make the rows the ingest's way makes, and its checks-alone floors must key what
the ingest's converters key, or a figure would be the cost of some other work."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from graph.model import LinkKind, Source
from ingest.demo import generate
from ingest.facts import CONVERTERS, Batch, Row, RowRejected
from ingest.layouts import recognise
from ingest.readers import open_table

_SPEC = importlib.util.spec_from_file_location("conversion_floor",
                                               Path(__file__).parents[2] / "bench" / "conversion_floor.py")
assert _SPEC is not None and _SPEC.loader is not None
floor = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(floor)


def _stored(batches):
    """What each batch would leave in the store: the first row per party key and per name,
    the link rows, placeholders and observations as made."""
    out = []
    for b in batches:
        parties, names = {}, {}
        for row in b.parties:
            parties.setdefault(row[0], row)
        for row in b.names:
            names.setdefault((row[0], row[1], row[3]), row)
        out.append((parties, names, b.links, sorted(b.placeholders), b.observations, b.keys))
    return out


def test_direct_conversion_makes_the_rows_the_ingest_makes(tmp_path):
    data = tmp_path / "data"
    generate(data, firms=1500, seed=3, progress=False)
    path = data / "officers.csv"
    # ugly rows the demo does not have: a bad date, a masked and a missing ID, an invalid firm code,
    # an unknown title, a blank name
    with open(path, "a", encoding="utf-8") as f:
        f.write("91110000600037341L,張三,110105194912310021,董事,2020-13-45,\n")
        f.write("91110000600037341L,李四,1101**********002X,監事,2020-01-01,\n")
        f.write("91110000600037341L,王五,,执行董事兼总经理,2020-01-01,2021-02-03\n")
        f.write("91110000600037341X,赵六,11010519491231002X,董事长,,\n")
        f.write("91110000600037341L,钱七,11010519491231002X,看门,,\n")
        f.write("91110000600037341L, ,11010519491231002X,董事,,\n")
    ingests = floor.the_ingests_way(path, batch_rows=700)
    direct = floor.directly(path, batch_rows=700)
    assert len(ingests) == len(direct) > 2
    assert _stored(direct) == _stored(ingests)
    assert sum(len(b.links) for b in direct) > 1000
    assert any(b.observations for b in direct)  # the invalid code and the masked ID
    assert any("context" in (row[9] or "") for b in direct for row in b.parties)  # the person without an ID


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("conversion") / "data"
    generate(data, firms=800, seed=8, progress=False)
    # rows whose keys depend on every argument the checks take: two shops with no code, the
    # same name and different operators are two firms; a holder typed as a firm, with a short
    # name and no code, is an organisation, not a person
    with open(data / "registrations.csv", "a", encoding="utf-8") as f:
        f.write("00000000000000000X,兰州拉面馆,个体工商户,马一,,1,2020-01-01,兰州市市场监督管理局,存续,,,,,,\n")
        f.write("00000000000000000X,兰州拉面馆,个体工商户,马二,,1,2020-01-01,兰州市市场监督管理局,存续,,,,,,\n")
        f.write("91110000600037341L,北京某某有限公司,有限责任公司,,,100万美元,2020年1月1日,北京市市场监督管理局,存续,,,,,,\n")
    with open(data / "shareholders.csv", "a", encoding="utf-8") as f:
        f.write("91110000600037341L,宏达,企业法人股东,,10,10%,2020-01-01,\n")
        f.write("91110000600037341L,张三,自然人股东,11010519491231002X,10,0.1,,\n")
    return data


def _converted(path: Path, kind: str) -> tuple[int, Batch]:
    """Rows read and the facts the ingest's converter makes of them."""
    table = open_table(path)
    positions = list(recognise(table.headers, file=str(path)).positions.items())
    batch, n = Batch(), 0
    for number, cells in table.rows:
        n += 1
        try:
            CONVERTERS[kind](Row({c: cells[i] for c, i in positions if i < len(cells)}, Source(str(path), number, "r")),
                             batch)
        except RowRejected:
            pass
    table.close()
    return n, batch


def test_registration_calls_key_every_firm_the_ingest_keys(demo):
    n, batch = _converted(demo / "registrations.csv", "registrations")
    rows, keys = floor.registration_calls(demo / "registrations.csv")
    assert rows == n > 700
    assert keys == {p.key for p in batch.parties if p.attrs and p.attrs.get("_primary")}


def test_shareholder_calls_key_every_holder_the_ingest_keys(demo):
    n, batch = _converted(demo / "shareholders.csv", "shareholders")
    rows, keys = floor.shareholder_calls(demo / "shareholders.csv")
    assert rows == n > 1000
    assert keys == {link.src for link in batch.links if link.kind == LinkKind.SHAREHOLDER}


def test_reading_counts_every_row(demo):
    n, _ = _converted(demo / "changes.csv", "changes")
    assert floor.reading(demo / "changes.csv") == n > 100
