"""The hot risk path gives exactly the slow path's answer: index marks, serialisation, masking, audit."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from typing import Any

import pytest

from api.masking import mask_body, mask_body_regex
from api.routes.common import dump
from graph.identifiers import resident_id_check_char, uscc_check_char
from graph.model import PartyKind
from queries.risk import check
from tests.api.conftest import AS_OF, Live


def _expected(live: Live, key: str, day: dt.date, masked: bool) -> bytes:
    """The answer as the direct computation (no index, no cache) gives it, serialised the slow way."""
    direct = check(live.store.view(), key, day, 3).as_dict()
    assert direct["method"] == "direct"
    body = dump(direct | {"method": "index"})
    return mask_body_regex(body) if masked else body


def _clean_and_warned(live: Live, day: dt.date, truth: dict[str, Any]) -> tuple[str, str]:
    """A firm the index marks as quiet (nothing within hops, no records) and a warned firm."""
    view = live.store.view()
    index = live.ctx.risk.index(view, day, 3)
    for party in view.iter_parties():
        if party.kind != PartyKind.ENTERPRISE or not party.code:
            continue
        node = index.node_of(view, party.key, resolved=True)
        if node >= 0 and not index.reached[node] and not index.has_records(node):
            clean = party.code
            break
    else:
        pytest.fail("no quiet firm in the demo store")
    warned = next(c["uscc"] for c in truth["linked_risk"] if c["via_kind"] == "person")
    return clean, warned


@pytest.mark.parametrize("role", ["investigator", "supervision_system"])
def test_risk_answers_are_byte_for_byte_the_direct_computation(live: Live, truth: dict[str, Any], role: str) -> None:
    masked = role == "supervision_system"
    for day, params in ((dt.date.fromisoformat(AS_OF), {"as_of": AS_OF}), (dt.date.today(), {})):
        clean, warned = _clean_and_warned(live, day, truth)
        with live.client(role) as c:
            for firm in (clean, warned):
                first = c.get(f"/api/v1/risk/{firm}", params=params)
                again = c.get(f"/api/v1/risk/{firm}", params=params)  # from the answer cache
                assert first.status_code == 200 and first.json()["method"] == "index"
                assert first.content == again.content == _expected(live, firm, day, masked), (firm, day)
        assert _expected(live, clean, day, False) != _expected(live, warned, day, False)
    # the clean firm really is clean at the demo's date, and the warned one warned
    graded = {f: check(live.store.view(), f, dt.date.fromisoformat(AS_OF), 3).grade
              for f in _clean_and_warned(live, dt.date.fromisoformat(AS_OF), truth)}
    assert sorted(graded.values())[0] == "A" and sorted(graded.values())[1] in "BCD"


def _valid_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


def _samples() -> list[str]:
    pid = _valid_id("41010519750601001")
    pid_x = next(i for i in (_valid_id(f"4101051975060100{d}") for d in range(10)) if i.endswith("X"))
    uscc = next(u for u in (f"9141010512345678{d}" for d in range(10)) if uscc_check_char(u[:17]).isdigit())
    uscc = uscc[:17] + uscc_check_char(uscc[:17])
    wide = pid.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    arabic = pid.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    pieces = [
        pid, pid_x, pid_x.lower(), pid[:-1] + ("0" if pid[-1] != "0" else "1"), "a" + pid, pid + "b", "9" + pid,
        pid + "7", uscc, "13812345678", "1381234567", "138123456789", "12812345678", "x13812345678y",
        "per:" + pid, "tel:13812345678", "eml:someone@example.com", "adr:郑州市金水区某路1号", "xtel:138",
        wide, arabic, "1" + wide[1:], "电话13912345678,身份证" + pid + "。",
    ]
    samples = [f'{{"a":"{p}"}}' for p in pieces]
    samples.append('{"key":"' + '","b":"'.join(pieces[:14]) + '"}')  # several in one answer, ASCII digits only
    samples.append(" ".join(pieces))
    samples.append(pid)  # at both ends of the text
    # contact keys: after a letter (no key), a digit, escapes, one inside another's value, empty,
    # the same key twice, all three kinds in one answer
    samples += ['{"a":"Atel:1","b":"1tel:13812345678"}', '{"a":"tel:a\\"b","c":"eml:x"}', "tel:eml:x",
                '{"a":"adr:","b":"tel:\\', 'adr:郑州市1号 "adr:郑州市1号" 郑州市1号 tel:1 eml:a@b.c xeml:q']
    return samples


def test_fast_masking_is_the_regular_expressions(live: Live, truth: dict[str, Any]) -> None:
    changed = 0
    for text in _samples():
        body = text.encode("utf-8")
        assert mask_body(body) == mask_body_regex(body), text
        changed += mask_body_regex(body) != body
    assert changed >= 10  # the samples do hold IDs, mobiles and contacts to mask
    firms = [c["uscc"] for c in truth["linked_risk"]][:20]
    with live.client("investigator") as c:
        for firm in firms:
            body = c.get(f"/api/v1/risk/{firm}", params={"as_of": AS_OF}).content
            assert mask_body(body) == mask_body_regex(body), firm


def test_non_ascii_digits_are_each_found_by_the_fast_test() -> None:
    """Every decimal digit but 0-9 (``\\d`` matches them, NFKC turns some into IDs) sends the
    answer to the regular expressions; no other character does."""
    from api.masking import _has_other_digits, other_digit_bytes

    others = [chr(c) for c in range(0x80, 0x110000) if chr(c).isdecimal()]
    assert len(others) > 600
    for ch in others:
        assert _has_other_digits(f"郑州（{ch}）".encode()), hex(ord(ch))
    pattern = other_digit_bytes()
    for c in range(0x80, 0x110000):
        if not 0xD800 <= c <= 0xDFFF:  # surrogates are never in UTF-8
            assert (pattern.search(chr(c).encode()) is not None) == chr(c).isdecimal(), hex(c)
    assert not _has_other_digits("河南省郑州市金水区（某）有限公司、〇号·第一".encode())


def test_risk_parameters_are_validated_as_before(live: Live, truth: dict[str, Any]) -> None:
    firm = truth["linked_risk"][0]["uscc"]
    with live.client("supervision_system") as c:
        for params, field in (({"hops": "7"}, "hops"), ({"hops": "x"}, "hops"), ({"as_of": ""}, "as_of"),
                              ({"as_of": "2025-02-30"}, "as_of")):
            resp = c.get(f"/api/v1/risk/{firm}", params=params)
            assert resp.status_code == 422 and resp.json()["field"] == field, (params, resp.text)
        long = c.get("/api/v1/risk/" + "9" * 201)
        assert long.status_code == 422 and long.json()["field"] == "key"
        assert c.get(f"/api/v1/risk/{firm}", params={"other": "1"}).status_code == 200  # unknown ones ignored
        assert c.get(f"/api/v1/risk/{firm}", params={"hops": "2"}).json()["hops"] == 2
    with live.client() as anon:  # no key: 401 before any parameter is looked at
        assert anon.get(f"/api/v1/risk/{firm}", params={"hops": "7"}).status_code == 401


def test_concurrent_reads_are_each_audited(fresh: Any, truth: dict[str, Any]) -> None:
    live = fresh()
    firms = [c.get("new_uscc") or c["uscc"] for c in truth["relocations"] + truth["linked_risk"]][:12]
    statuses: list[int] = []

    def ask(firm: str) -> None:
        with live.client("supervision_system") as c:
            statuses.extend(c.get(f"/api/v1/risk/{firm}").status_code for _ in range(3))

    threads = [threading.Thread(target=ask, args=(f,)) for f in firms]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * len(firms) * 3
    rows, total = live.ctx.audit.query(who="test-supervision_system", limit=1000)
    assert total == len(firms) * 3
    assert sorted(r.key for r in rows) == sorted("org:" + f for f in firms for _ in range(3))
    assert {(r.endpoint, r.status, r.action, r.ip) for r in rows} == {("/api/v1/risk/{key}", 200, "read", "127.0.0.1")}


def test_audit_commits_leave_checkpoints_to_their_own_thread(tmp_path: Any) -> None:
    from api.audit import AuditLog
    from api.auth import ApiDatabase

    db = ApiDatabase(tmp_path / "api.sqlite")
    assert db.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0  # no checkpoint on the request path
    log = AuditLog(db)
    for i in range(300):
        log.append(principal=None, ip="127.0.0.1", method="GET", endpoint="/api/v1/risk/{key}",
                   path=f"/api/v1/risk/{i}", keys=[f"org:{i}"], status=200)
    unchecked = (tmp_path / "api.sqlite").stat().st_size
    db.start_upkeep(every=0.05)
    deadline = time.monotonic() + 10
    while (tmp_path / "api.sqlite").stat().st_size == unchecked and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "api.sqlite").stat().st_size > unchecked  # the rows reached the file itself
    db.close()
    assert db._upkeeper is None


def test_names_are_searched_off_the_event_loop_with_the_same_answer(live: Live, truth: dict[str, Any]) -> None:
    day = dt.date.fromisoformat(AS_OF)
    warned = next(c["uscc"] for c in truth["linked_risk"] if c["via_kind"] == "person")
    name = check(live.store.view(), warned, day, 3).name
    with live.client("supervision_system") as c:
        by_name = c.get(f"/api/v1/risk/{name}", params={"as_of": AS_OF})
        assert by_name.status_code == 200 and by_name.json()["key"] == "org:" + warned
        assert by_name.content == _expected(live, name, day, True)
        missing = c.get("/api/v1/risk/这家公司并不存在于库中", params={"as_of": AS_OF})
        assert missing.status_code == 404


def _serve_without_fast_path(template: Any, folder: Any) -> Live:
    """A server like ``launch`` gives, with risk checks going through FastAPI's router."""
    from api.app import create_app
    from api.auth import ApiSettings, create_key
    from api.fast_path import RiskFastPath
    from graph.backends.memory import open_store
    from tests.api.conftest import start_server

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "store.sqlite"
    db.write_bytes(template.read_bytes())
    store = open_store(db)
    app = create_app(ApiSettings(db=str(db), rate_per_second=10_000.0, rate_burst=10_000, prebuild_index=False,
                                 webhooks_enabled=False), store=store)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not RiskFastPath]
    keys = {role: create_key(app.state.api.db, role, f"test-{role}")[1]
            for role in ("investigator", "supervision_system", "admin")}
    server, thread, base = start_server(app)
    return Live(base, app, store, server, thread, keys)


def _fast_path_of(live: Live) -> Any:
    from api.fast_path import RiskFastPath

    layer = live.app.middleware_stack
    while layer is not None and not isinstance(layer, RiskFastPath):
        layer = getattr(layer, "app", None)
    return layer


def test_fast_path_answers_as_the_router_would(fresh: Any, template_db: Any, tmp_path: Any,
                                               truth: dict[str, Any]) -> None:
    """Risk checks skip FastAPI's router: the same status, body, headers and audit rows as
    through it, for answers and for every kind of error."""
    fast = fresh()
    slow = _serve_without_fast_path(template_db, tmp_path / "slow")
    try:
        assert _fast_path_of(slow) is None
        taken = _fast_path_of(fast)
        calls = [0]
        handler = taken.handler

        async def counting(request: Any) -> Any:
            calls[0] += 1
            return await handler(request)

        taken.handler = counting
        case = truth["linked_risk"][0]
        firm = case["uscc"]
        name = next(p.name for p in fast.store.view().iter_parties() if p.code == firm)
        asks = [  # (role, path, query)
            ("supervision_system", f"/api/v1/risk/{firm}", {"as_of": AS_OF}),
            ("investigator", f"/api/v1/risk/{firm}", {"as_of": AS_OF, "hops": "2"}),
            ("investigator", f"/api/v1/risk/per:{case['via']}", {"as_of": AS_OF}),
            ("supervision_system", f"/api/v1/risk/{name}", {"as_of": AS_OF}),  # a name: searched
            ("supervision_system", "/api/v1/risk/91110000600037341L", {}),  # valid, unknown: 404
            ("supervision_system", "/api/v1/risk/91110000600037341X", {}),  # bad check character
            ("supervision_system", f"/api/v1/risk/{firm}", {"as_of": "1899-12-31"}),  # 422 as_of
            ("supervision_system", f"/api/v1/risk/{firm}", {"hops": "9"}),  # 422 hops
            ("supervision_system", f"/api/v1/risk/{firm}", {"as_of": "yesterday"}),  # 422, not a date
            (None, f"/api/v1/risk/{firm}", {}),  # 401
            ("wrong", f"/api/v1/risk/{firm}", {}),  # 401, unknown key
            ("supervision_system", "/api/v1/risk/check", {}),  # GET of the batch path: a name search
            ("supervision_system", "/api/v1/risk/%20", {}),  # blank
        ]
        answers: dict[str, list[tuple[Any, ...]]] = {}
        for label, live in (("fast", fast), ("slow", slow)):
            out = answers[label] = []
            for role, path, query in asks:
                headers = {"X-API-Key": "cg_nope_nope"} if role == "wrong" else {}
                with live.client(role if role != "wrong" else None, headers=headers) as c:
                    r = c.get(path, params=query)
                out.append((r.status_code, r.content, r.headers.get("content-type"), r.headers.get("retry-after"),
                            r.headers.get("www-authenticate")))
            with live.client("admin") as c:
                rows = c.get("/api/v1/audit", params={"limit": 1000}).json()["items"]
            out.append(tuple(sorted((r["who_name"] or "", r["endpoint"], r["path"], r["key"] or "", r["status"])
                                    for r in rows if r["endpoint"] != "/api/v1/audit")))
        statuses = [a[0] for a in answers["fast"][:-1]]
        assert {200, 404, 422, 401} <= set(statuses), statuses
        for i, (a, b) in enumerate(zip(answers["fast"], answers["slow"], strict=True)):
            assert a == b, (asks[i] if i < len(asks) else "audit rows", a, b)
        assert calls[0] == len(asks)  # every one of them took the fast path
    finally:
        slow.stop()


def test_a_role_with_a_foreign_currency_amount_says_its_currency() -> None:
    """The profile's roles carry a subscribed amount's currency (100万美元: 100, USD)."""
    from dataclasses import replace

    from api.routes.common import role_out
    from api.schemas import RoleOut
    from graph.model import LinkKind
    from tests.factories import firm, link, person

    holder, target = person("约翰"), firm("上海外资测试有限公司")
    share = replace(link(LinkKind.SHAREHOLDER, holder, target, "2020-01-01", ratio=0.5), amount=100.0, currency="USD")
    out = RoleOut.model_validate(role_out(share, {holder.key: holder, target.key: target}, dt.date(2025, 1, 1)))
    assert (out.amount, out.currency) == (100.0, "USD")
    plain = RoleOut.model_validate(role_out(replace(share, currency=""), {}, dt.date(2025, 1, 1)))
    assert plain.currency == ""
    from api.pages.views import templates  # the profile's roles table says it too

    macro = templates.env.from_string('{% from "_macros.html" import roles_table %}{{ roles_table(rows, "") }}')
    cells = re.findall(r'<td class="num">([^<]*)</td>', macro.render(rows=[out.model_dump(), plain.model_dump()]))
    assert cells[1::2] == ["100.0 (USD)", "100.0"], cells
