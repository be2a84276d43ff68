"""The measures catalogue: the shipped file loads, broken files fail naming measure and field."""

from __future__ import annotations

import copy
import json

import pytest

from graph.store import InvalidInput
from queries.catalog import DEFAULT_PATH, load_catalog, parse_catalog


def _shipped() -> dict:
    return json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


def test_shipped_catalog_loads_with_required_measures():
    cat = load_catalog()
    names = {m.name_zh for m in cat.measures}
    for needed in ("记入个人信用记录", "市场和行业禁入", "撤销荣誉称号、取消参加评先评优资格", "限制高消费",
                   "从严审核行政许可审批项目", "提高随机抽查比例和频次"):
        assert needed in names
    record = next(m for m in cat.measures if m.name_zh == "记入个人信用记录")
    assert record.mandatory and {r.role for r in record.roles} == {"legal_representative", "principal",
                                                                   "actual_controller"}
    ban = next(m for m in cat.measures if m.name_zh == "市场和行业禁入")
    assert ban.market_ban and ban.mandatory and "responsible_practitioner" in ban.bars
    honours = next(m for m in cat.measures if m.code == "M04")
    assert honours.reach("shareholder").min_ratio == 0.05 and not honours.mandatory
    assert honours.reach("director").to_verify and not honours.reach("senior_manager").to_verify
    assert honours.period_years == 3
    assert {m.code for m in cat.for_list("失信被执行人")} >= {"M01", "M05"}
    assert "重点关注名单" in cat.list_types
    assert all(m.basis for m in cat.measures)


def test_site_catalog_from_path(tmp_path):
    data = _shipped()
    data["measures"] = data["measures"][:1]
    path = tmp_path / "site.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert [m.code for m in load_catalog(path).measures] == ["M01"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m: m["roles"].append("janitor"), "roles"),
        (lambda m: m.update(colour="red"), "colour"),
        (lambda m: m.update(period={"years": 0}), "period"),
        (lambda m: m.update(period="forever"), "period"),
        (lambda m: m.pop("basis"), "basis"),
        (lambda m: m.update(nature="optional"), "nature"),
        (lambda m: m["roles"].append({"role": "director", "min_ratio": 0.1}), "roles"),
        (lambda m: m["roles"].append({"role": "shareholder", "min_ratio": 2}), "roles"),
        (lambda m: m["roles"].append({"role": "director", "to_verify": "yes"}), "roles"),
    ],
)
def test_invalid_measure_names_measure_and_field(change, field):
    data = _shipped()
    change(data["measures"][1])
    with pytest.raises(InvalidInput) as err:
        parse_catalog(data)
    assert "M02" in str(err.value) and field in str(err.value)
    assert err.value.field == field


def test_duplicate_code():
    data = _shipped()
    data["measures"].append(copy.deepcopy(data["measures"][0]))
    with pytest.raises(InvalidInput, match="M01: duplicate code"):
        parse_catalog(data)


def test_unreadable_catalog(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_catalog(bad)
