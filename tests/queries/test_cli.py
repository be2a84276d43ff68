"""The punishment CLI commands against a store file: check, punished, repair, objection."""

from __future__ import annotations

import json

from click.testing import CliRunner

from api.commands.punishment import COMMANDS, check, objection, punished, repair, resolve_objection
from graph.backends.memory import open_store
from graph.model import LinkKind, RecordKind
from tests.factories import firm, link, list_entry, person, write_graph


def _setup(tmp_path):
    db = tmp_path / "cli.sqlite"
    store = open_store(db)
    a, b = firm("郑州市命令行测试有限公司"), firm("郑州市命令行关联有限公司")
    p = person("命令行")
    entry = list_entry(a, "2021-06-01", decision_no="郑〔2021〕9号")
    write_graph(store, [a, b, p], [link(LinkKind.LEGAL_REPRESENTATIVE, p, a, "2015-01-01"),
                                   link(LinkKind.LEGAL_REPRESENTATIVE, p, b, "2016-01-01")], [entry])
    store.close()
    return str(db), a, b, p, entry


def test_commands_exported():
    assert [c.name for c in COMMANDS] == ["check", "punished", "repair", "objection", "resolve-objection"]


def test_punished_json_and_repair(tmp_path):
    db, a, b, p, entry = _setup(tmp_path)
    run = CliRunner()
    res = run.invoke(punished, ["--db", db, "--as-of", "2022-06-01", "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["person_id"] for r in rows] == [p.code]
    m = {x["measure_code"]: x for x in rows[0]["measures"]}
    assert m["M01"]["firm"] == a.code and m["M01"]["list_entry"] == entry.id and m["M01"]["mandatory"] is True
    assert m["M01"]["decision_no"] == "郑〔2021〕9号" and m["M01"]["role"] == "legal_representative"
    assert m["M01"]["start"] == "2021-06-01" and m["M03"]["end"] == "2024-06-01"
    res = run.invoke(punished, ["--db", db, "--as-of", "2022-06-01", "--format", "csv"])
    assert res.exit_code == 0 and res.output.splitlines()[0].startswith("person_id,name,firm")
    res = run.invoke(repair, [entry.id, "--db", db, "--date", "2022-03-01", "--by", "郑州市发展和改革委员会"])
    assert res.exit_code == 0, res.output
    res = run.invoke(punished, ["--db", db, "--as-of", "2022-06-01", "--format", "json"])
    assert json.loads(res.output) == []
    bad = run.invoke(repair, ["nope", "--db", db, "--date", "2022-03-01", "--by", "x"])
    assert bad.exit_code != 0 and "no list entry" in bad.output


def test_check_and_objection_flow(tmp_path):
    db, a, b, p, entry = _setup(tmp_path)
    run = CliRunner()
    res = run.invoke(check, [b.code, "--db", db, "--as-of", "2022-06-01", "--format", "json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["grade"] == "D" and report["warnings"][0]["level"] == "高"
    table = run.invoke(check, [b.name, "--db", db, "--as-of", "2022-06-01"])
    assert table.exit_code == 0 and "监管等级 D" in table.output
    res = run.invoke(objection, [entry.id, "--db", db, "--date", "2022-04-01", "--claim", "冒名登记"])
    assert res.exit_code == 0, res.output
    store = open_store(db)
    obj = next(r for r in store.view().records(a.key, kinds=[RecordKind.OBJECTION]))
    store.close()
    res = run.invoke(resolve_objection, [obj.id, "--db", db, "--date", "2022-05-01", "--outcome", "upheld"])
    assert res.exit_code == 0, res.output
    after = json.loads(run.invoke(check, [b.code, "--db", db, "--as-of", "2022-06-01", "--format", "json"]).output)
    before = json.loads(run.invoke(check, [b.code, "--db", db, "--as-of", "2022-04-15", "--format", "json"]).output)
    assert after["grade"] == "A" and before["grade"] == "D"
    missing = run.invoke(check, ["不存在的公司名称", "--db", db])
    assert missing.exit_code != 0
