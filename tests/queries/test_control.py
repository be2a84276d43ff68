"""股权穿透: ratios multiply along chains and add up across chains; cycles are cut."""

from __future__ import annotations

import pytest

from graph.model import LinkKind
from queries.control import control_chains
from tests.factories import d, firm, link, person


def test_ratios_multiply_along_chains_and_sum_across(store):
    target = firm("目标企业有限公司")
    mid_a, mid_b = firm("中间甲有限公司"), firm("中间乙有限公司")
    boss, other = person("王大"), person("李二")
    with store.writer() as w:
        w.put_parties([target, mid_a, mid_b, boss, other])
        w.put_links([
            link(LinkKind.SHAREHOLDER, mid_a, target, "2015-01-01", ratio=0.6),
            link(LinkKind.SHAREHOLDER, mid_b, target, "2015-01-01", ratio=0.4),
            link(LinkKind.SHAREHOLDER, boss, mid_a, "2015-01-01", ratio=0.5),
            link(LinkKind.SHAREHOLDER, other, mid_a, "2015-01-01", ratio=0.5),
            link(LinkKind.SHAREHOLDER, boss, mid_b, "2015-01-01", "2020-01-01", ratio=1.0),
            link(LinkKind.ACTUAL_CONTROLLER, boss, target, "2015-01-01"),
        ])
    report = control_chains(store.view(), target.key, as_of=d("2019-01-01"))
    stakes = {h.key: h.ratio for h in report.holders}
    assert stakes == {boss.key: pytest.approx(0.7), other.key: pytest.approx(0.3)}
    assert report.holders[0].key == boss.key and report.holders[0].chains == 2
    assert [h.holder for h in report.declared] == [boss.key]
    # after boss left mid_b, mid_b has no known holders and is an ultimate holder itself
    later = control_chains(store.view(), target.key, as_of=d("2021-01-01"))
    assert {h.key: h.ratio for h in later.holders} == {
        boss.key: pytest.approx(0.3), other.key: pytest.approx(0.3), mid_b.key: pytest.approx(0.4)
    }


def test_cross_holdings_are_cut(store):
    a, b = firm("甲有限公司"), firm("乙有限公司")
    with store.writer() as w:
        w.put_parties([a, b])
        w.put_links([link(LinkKind.SHAREHOLDER, a, b, ratio=0.5), link(LinkKind.SHAREHOLDER, b, a, ratio=0.5)])
    report = control_chains(store.view(), a.key)
    assert len(report.chains) == 1 and report.chains[0].cut
