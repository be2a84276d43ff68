"""Joint punishment reaches the people who held a role when the act happened."""

from __future__ import annotations

import pytest

from graph.model import Alias, Flag, LinkKind, Party, PartyKind, RecordKind
from queries.propagation import UNRESOLVED_FLAG, ban_alerts, propagate, punishments_of
from tests.factories import d, firm, link, list_entry, person, record, write_graph

ON = d("2022-06-01")


def _who(punishments, code="M01"):
    return {(p.person, p.role) for p in punishments if p.measure_code == code}


def test_legal_rep_who_left_before_the_act_is_not_punished(store):
    a = firm("郑州市鑫源商贸有限公司")
    old, new = person("张伟"), person("李娜")
    entry = list_entry(a, "2021-03-01", act_date="2020-09-01")
    write_graph(store, [a, old, new], [
        link(LinkKind.LEGAL_REPRESENTATIVE, old, a, "2015-01-01", "2020-06-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, new, a, "2020-06-01"),
    ], [entry])
    got = propagate(store.view(), ON)
    assert _who(got) == {(new.key, "legal_representative")}
    rep = next(p for p in got if p.person == new.key and p.measure_code == "M01")
    assert rep.firm == a.key and rep.entry_id == entry.id and rep.start == d("2021-03-01") and rep.end is None
    assert rep.counted_on == d("2020-09-01") and rep.mandatory
    assert [(s.kind, s.src, s.dst, s.start) for s in rep.path] == [
        (LinkKind.LEGAL_REPRESENTATIVE, new.key, a.key, d("2020-06-01"))]
    assert rep.path[0].label_zh == "法定代表人" and rep.path[0].dst_name == a.name


@pytest.mark.parametrize("decision_names_later", [False, True])
def test_legal_rep_who_joined_after_the_act_is_not_punished(store, decision_names_later):
    """Also when the decision names the later one (the representative at listing): the links
    know when each held the post, so they decide, and nothing is flagged."""
    a = firm("洛阳市宏达建筑工程有限公司")
    then, later = person("王芳"), person("赵强")
    named = {"legal_rep_key": later.key, "legal_rep_name": later.name} if decision_names_later else {}
    write_graph(store, [a, then, later], [
        link(LinkKind.LEGAL_REPRESENTATIVE, then, a, "2012-01-01", "2021-01-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, later, a, "2021-01-01"),
    ], [list_entry(a, "2021-06-01", act_date="2020-05-01", **named)])
    got = propagate(store.view(), ON)
    assert _who(got) == {(then.key, "legal_representative")} and all(p.flags == () for p in got)


def test_listing_date_counts_without_act_date(store):
    a = firm("开封市恒信科技有限公司")
    then, later = person("孙丽"), person("周杰")
    write_graph(store, [a, then, later], [
        link(LinkKind.LEGAL_REPRESENTATIVE, then, a, "2012-01-01", "2021-01-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, later, a, "2021-01-01"),
    ], [list_entry(a, "2021-06-01")])
    assert _who(propagate(store.view(), ON)) == {(later.key, "legal_representative")}


def test_actual_controller_is_punished(store):
    a = firm("新乡市华泰物流有限公司")
    boss = person("钱进")
    write_graph(store, [a, boss], [link(LinkKind.ACTUAL_CONTROLLER, boss, a, "2015-01-01", ratio=0.7)],
                [list_entry(a, "2021-06-01")])
    got = propagate(store.view(), ON)
    assert _who(got) == {(boss.key, "actual_controller")}
    # the personal credit record, not the market ban (003: the ban reaches legal rep, principal, practitioners)
    assert {p.measure_code for p in got if p.person == boss.key} == {"M01"}


def test_shareholder_below_minimum_ratio_is_not_reached(store):
    a = firm("安阳市永兴钢铁贸易有限公司")
    big, small, unknown = person("大股东"), person("小股东"), person("不明股东")
    write_graph(store, [a, big, small, unknown], [
        link(LinkKind.SHAREHOLDER, big, a, "2015-01-01", ratio=0.3),
        link(LinkKind.SHAREHOLDER, small, a, "2015-01-01", ratio=0.01),
        link(LinkKind.SHAREHOLDER, unknown, a, "2015-01-01"),
    ], [list_entry(a, "2021-06-01")])
    assert _who(propagate(store.view(), ON), "M04") == {(a.key, "subject"), (big.key, "shareholder")}


def test_role_specific_measures_and_periods(store):
    a = firm("焦作市德润化工有限公司")
    rep, director, practitioner = person("法人甲"), person("董事乙"), person("执业丙")
    write_graph(store, [a, rep, director, practitioner], [
        link(LinkKind.LEGAL_REPRESENTATIVE, rep, a, "2015-01-01"),
        link(LinkKind.DIRECTOR, director, a, "2015-01-01", title="董事"),
        link(LinkKind.RESPONSIBLE_PRACTITIONER, practitioner, a, "2015-01-01"),
    ], [list_entry(a, "2021-06-01", period_end="2026-06-01", end="2026-06-01")])
    got = propagate(store.view(), ON)
    codes = {p.person: {x.measure_code for x in got if x.person == p.person} for p in got}
    assert codes[rep.key] == {"M01", "M02", "M03", "M04"}
    assert codes[director.key] == {"M04"}  # honours only
    # only the directly responsible directors lose honours, which no file says: to be verified
    from queries.propagation import TO_VERIFY_FLAG

    assert next(p for p in got if p.person == director.key).flags == (TO_VERIFY_FLAG,)
    assert all(TO_VERIFY_FLAG not in p.flags for p in got if p.person == rep.key)
    assert codes[practitioner.key] == {"M02"}  # market ban only
    m03 = next(p for p in got if p.person == rep.key and p.measure_code == "M03")
    assert m03.end == d("2024-06-01") and "3年" in m03.end_reason  # measure's own period first
    m01 = next(p for p in got if p.person == rep.key and p.measure_code == "M01")
    assert m01.end == d("2026-06-02")  # 有效期至 2026-06-01 is the last day in force
    # after the 3-year measure ran out, it is no longer in force
    assert "M03" not in {p.measure_code for p in propagate(store.view(), d("2025-01-01")) if p.person == rep.key}


def test_person_reached_through_several_firms_gets_each_path(store):
    a, b = firm("许昌市隆盛食品有限公司"), firm("漯河市隆盛食品有限公司")
    p = person("刘洋")
    write_graph(store, [a, b, p], [
        link(LinkKind.LEGAL_REPRESENTATIVE, p, a, "2015-01-01"),
        link(LinkKind.PRINCIPAL, p, b, "2016-01-01"),
    ], [list_entry(a, "2021-06-01"), list_entry(b, "2021-07-01", list_type="重大税收违法失信主体")])
    mine = punishments_of(store.view(), p.key, ON)
    assert {(x.firm, x.role) for x in mine if x.measure_code == "M01"} == {
        (a.key, "legal_representative"), (b.key, "principal")}
    assert {x.path[0].dst for x in mine} == {a.key, b.key}
    assert {x.entry_id for x in mine} == {x.entry_id for x in propagate(store.view(), ON) if x.person == p.key}


def test_court_entry_limits_high_consumption_of_legal_rep(store):
    a = firm("平顶山市宏图建材有限公司")
    p = person("陈刚")
    court = record(RecordKind.COURT_DISHONEST, a, "2021-05-01", case_no="(2021)豫04执123号", court="平顶山市中级人民法院")
    write_graph(store, [a, p], [link(LinkKind.LEGAL_REPRESENTATIVE, p, a, "2015-01-01")], [court])
    got = [x for x in propagate(store.view(), ON) if x.person == p.key]
    assert {x.measure_code for x in got} == {"M01", "M05"}
    assert all(x.list_type == "失信被执行人" and x.decision_no == "(2021)豫04执123号" for x in got)


def test_unresolved_person_reached_when_resolved_flagged_otherwise(store):
    a = firm("南阳市金鼎商贸有限公司")
    known = person("黄磊")
    masked = known.code[:4] + "*" * 10 + known.code[-4:]
    ghost = Party("unr:lr-1", PartyKind.UNRESOLVED, "黄磊", masked, flags=frozenset({Flag.MASKED_ID}))
    other = Party("unr:ctl-1", PartyKind.UNRESOLVED, "某人", "4101**********0000", flags=frozenset({Flag.MASKED_ID}))
    write_graph(store, [a, known, ghost, other], [
        link(LinkKind.LEGAL_REPRESENTATIVE, ghost, a, "2015-01-01"),
        link(LinkKind.ACTUAL_CONTROLLER, other, a, "2015-01-01"),
    ], [list_entry(a, "2021-06-01")])
    got = propagate(store.view(), ON)
    assert {p.person: p.flags for p in got if p.measure_code == "M01"} == {
        ghost.key: (UNRESOLVED_FLAG,), other.key: (UNRESOLVED_FLAG,)}
    with store.writer() as w:
        w.put_aliases([Alias(ghost.key, known.key, "masked ID and name match")])
    got = propagate(store.view(), ON)
    assert {p.person: p.flags for p in got if p.measure_code == "M01"} == {
        known.key: (), other.key: (UNRESOLVED_FLAG,)}


def test_listed_person_is_reached_as_subject(store):
    p = person("失信个人")
    write_graph(store, [p], [], [list_entry(p, "2021-06-01", list_type="失信联合惩戒对象名单")])
    got = propagate(store.view(), ON)
    assert {(x.person, x.role, x.firm) for x in got if x.measure_code == "M02"} == {(p.key, "subject", "")}


def test_banned_person_taking_a_new_role_raises_the_alert(store):
    a, b, c = firm("商丘市鼎盛置业有限公司"), firm("周口市鼎盛置业有限公司"), firm("信阳市茶业有限公司")
    p = person("吴昊")
    write_graph(store, [a, b, c, p], [
        link(LinkKind.LEGAL_REPRESENTATIVE, p, a, "2015-01-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, p, b, "2022-03-01"),  # during the ban
        link(LinkKind.DIRECTOR, p, c, "2019-01-01", title="董事"),  # before the ban: no alert
    ], [list_entry(a, "2021-06-01")])
    alerts = ban_alerts(store.view(), ON)
    assert [(x.person, x.banned_firm, x.new_firm, x.role, x.taken_on) for x in alerts] == [
        (p.key, a.key, b.key, "legal_representative", d("2022-03-01"))]
    alert = alerts[0]
    assert set(alert.measure_codes) == {"M02", "M03"} and alert.ban_start == d("2021-06-01")
    assert a.name in alert.message and b.name in alert.message and "法定代表人" in alert.message
    # replay: before the new role was taken there was nothing to see
    assert ban_alerts(store.view(), d("2022-01-01")) == []
    # the same alert read from either party alone (a profile), none for the firm that existed before
    from queries.propagation import ban_alerts_of

    assert ban_alerts_of(store.view(), p.key, ON) == alerts == ban_alerts_of(store.view(), b.key, ON)
    assert ban_alerts_of(store.view(), c.key, ON) == [] and ban_alerts_of(store.view(), a.key, ON) == []


def test_a_legal_rep_named_only_by_the_decision_is_reached_and_the_conflict_flagged(store):
    """The registry says 李四 has been legal rep since 2015 (no change records); the decision
    names 张三, whom the store knows in no such role there: its history is incomplete. 张三 is
    reached on the decision's word, and 李四's measures say the registry and the decision
    disagree: both for an investigator to verify."""
    from queries.propagation import DIFFERS_FROM_DECISION_FLAG, NAMED_IN_DECISION_FLAG

    a = firm("焦作市德润化工有限公司")
    zhang, li = person("张三"), person("李四")
    write_graph(store, [a, zhang, li], [link(LinkKind.LEGAL_REPRESENTATIVE, li, a, "2015-01-01")],
                [list_entry(a, "2021-06-01", act_date="2020-09-01", legal_rep_key=zhang.key, legal_rep_name="张三")])
    got = propagate(store.view(), ON)
    by_person = {p.person: p for p in got if p.measure_code == "M01"}
    assert by_person[zhang.key].flags == (NAMED_IN_DECISION_FLAG,) and by_person[zhang.key].path == ()
    assert by_person[zhang.key].role == "legal_representative"
    assert DIFFERS_FROM_DECISION_FLAG in by_person[li.key].flags
