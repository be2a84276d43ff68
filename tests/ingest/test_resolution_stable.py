"""Identity resolution reads the facts as stored, not its own earlier aliases: running it
again changes nothing (it used to drop and remake some aliases on alternate runs)."""

from __future__ import annotations

from graph.backends.memory import open_store
from graph.model import Flag, PartyKind
from ingest.pipeline import ingest_paths
from ingest.resolution import resolve_identities
from tests.factories import resident_id, uscc

F, G = uscc(1), uscc(2)
X, Y = resident_id(1), resident_id(2)
OFFICERS = (
    "统一社会信用代码,企业名称,姓名,职务,证件号码,任职日期\n"
    f"{F},甲公司,王伟,董事,{X},2018-01-01\n"
    f"{F},甲公司,王伟,监事,,2018-01-01\n"  # named without an ID: the 王伟 of this firm, X
    f"{G},乙公司,王伟,董事,{X},2019-01-01\n"  # X also sits on another board ...
    f"{G},乙公司,王伟,经理,{Y},2019-01-01\n"  # ... beside a namesake with another ID
)


def test_a_second_run_keeps_the_aliases_of_the_first(tmp_path):
    data = tmp_path / "officers.csv"
    data.write_text(OFFICERS, encoding="utf-8")
    store = open_store(tmp_path / "s.sqlite")
    try:
        summary = ingest_paths(store, [data], progress=False)
        assert summary.loaded == 4
        view = store.view()
        name_only = [p for p in view.iter_parties([PartyKind.UNRESOLVED]) if Flag.NAME_ONLY in p.flags]
        assert len(name_only) == 1
        first = {a.unresolved: a.resolved for a in view.aliases()}
        assert first == {name_only[0].key: "per:" + X}
        for _ in range(2):
            again = resolve_identities(store, store.start_run("again"))
            assert again.dropped == 0 and again.name_only_resolved == 1
            assert {a.unresolved: a.resolved for a in store.view().aliases()} == first
    finally:
        store.close()
