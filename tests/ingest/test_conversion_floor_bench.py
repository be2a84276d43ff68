"""``bench/conversion_floor.py`` converts officers two ways: its direct way must make the rows
the ingest's way makes, or its figure would be the cost of some other work."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ingest.demo import generate

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
