"""The risk-warning API over real HTTP: every endpoint, every role, masking, audit, limits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import sqlite3
from typing import Any

import orjson
import pytest

from api.auth import revoke_key
from graph.identifiers import check_resident_id, check_uscc
from queries.risk import check
from tests.api.conftest import AS_OF, Live

ROLES = ("investigator", "supervision_system", "admin")
RISK = {"investigator", "supervision_system", "admin"}
READ = {"investigator", "admin"}
WRITE = {"investigator", "admin"}
HOOKS = {"supervision_system", "admin"}
ADMIN = {"admin"}
ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")


def _error(resp: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"code", "message", "field"} and body["message"]
    if field is not None:
        assert body["field"] == field
    return body  # type: ignore[no-any-return]


def _linked(truth: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in truth["linked_risk"] if c["via_kind"] == "person")


def _full_ids(text: str) -> list[str]:
    """Full resident IDs shown, also those whose digits pass the USCC checks too (only an
    ``org:`` key is surely a firm's code)."""
    return [m.group(0) for m in ID_LIKE.finditer(text)
            if check_resident_id(m.group(0)).valid and text[max(m.start() - 4, 0):m.start()] != "org:"]


# -- public, anonymous, keys ------------------------------------------------------------------
def test_landing_health_and_docs_are_public(live: Live) -> None:
    with live.client() as c:
        assert c.get("/healthz").json()["counts"]["parties"] > 1000
        assert "信用知识图谱" in c.get("/").text
        spec = c.get("/openapi.json").json()
    assert "/api/v1/risk/{key}" in spec["paths"]
    # every schema carries examples
    for name, schema in spec["components"]["schemas"].items():
        if name in ("ValidationError", "HTTPValidationError") or "properties" not in schema:
            continue
        for prop, sub in schema["properties"].items():
            assert "examples" in sub or "$ref" in sub or "allOf" in sub or "anyOf" in sub and any(
                "$ref" in a for a in sub["anyOf"]), (name, prop)


def test_anonymous_and_bad_keys_get_401(live: Live, truth: dict[str, Any]) -> None:
    firm = _linked(truth)["uscc"]
    with live.client() as c:
        _error(c.get(f"/api/v1/risk/{firm}"), 401)
        _error(c.get(f"/api/v1/risk/{firm}", headers={"X-API-Key": "cg_nope_nope"}), 401)
        _error(c.get(f"/api/v1/risk/{firm}", headers={"Authorization": "Bearer garbage"}), 401)
        good = live.keys["supervision_system"]
        assert c.get(f"/api/v1/risk/{firm}", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_revoked_key_stops_at_once(fresh: Any, truth: dict[str, Any]) -> None:
    live = fresh()
    from api.auth import ApiDatabase, create_key

    other = ApiDatabase(live.ctx.db.path)  # as the CLI would: another connection
    key, text = create_key(other, "supervision_system", "to-revoke")
    firm = _linked(truth)["uscc"]
    with live.client(headers={"X-API-Key": text}) as c:
        assert c.get(f"/api/v1/risk/{firm}").status_code == 200
        revoke_key(other, key.id)
        _error(c.get(f"/api/v1/risk/{firm}"), 401)
    other.close()


def _endpoints(truth: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], set[str], int]]:
    firm = _linked(truth)["uscc"]
    person = _linked(truth)["via"]
    return [
        ("GET", f"/api/v1/risk/{firm}", {}, RISK, 200),
        ("POST", "/api/v1/risk/check", {"json": {"items": [{"key": firm}]}}, RISK, 200),
        ("GET", f"/api/v1/subjects/{firm}", {}, READ, 200),
        ("GET", f"/api/v1/persons/{person}", {}, READ, 200),
        ("GET", f"/api/v1/graph/{firm}", {}, READ, 200),
        ("GET", "/api/v1/paths", {"params": {"from": firm, "to": person}}, READ, 200),
        ("GET", "/api/v1/relocations", {}, RISK, 200),
        ("GET", "/api/v1/punished", {"params": {"as_of": AS_OF, "limit": 5}}, READ, 200),
        ("POST", "/api/v1/list-entries/nope/repair", {"json": {"date": AS_OF, "by": "x"}}, WRITE, 404),
        ("POST", "/api/v1/records/nope/objections", {"json": {"date": AS_OF, "claim": "x"}}, WRITE, 404),
        ("POST", "/api/v1/objections/nope/resolution", {"json": {"date": AS_OF, "outcome": "upheld"}}, WRITE, 404),
        ("POST", "/api/v1/ingest", {"files": {"files": ("x.pdf", b"%PDF", "application/pdf")}}, ADMIN, 422),
        ("GET", "/api/v1/audit", {}, ADMIN, 200),
        ("GET", "/api/v1/keys", {}, ADMIN, 200),
        ("GET", "/api/v1/webhooks", {}, HOOKS, 200),
        ("DELETE", "/api/v1/webhooks/wh_nope", {}, HOOKS, 404),
        ("GET", "/api/v1/webhooks/wh_nope/deliveries", {}, HOOKS, 404),
    ]


def test_every_endpoint_every_role(live: Live, truth: dict[str, Any]) -> None:
    for method, path, kw, allowed, ok_status in _endpoints(truth):
        with live.client() as anon:
            _error(anon.request(method, path, **kw), 401)
        for role in ROLES:
            with live.client(role) as c:
                resp = c.request(method, path, **kw)
            if role in allowed:
                assert resp.status_code == ok_status, (method, path, role, resp.text[:300])
            else:
                _error(resp, 403)


# -- risk -------------------------------------------------------------------------------------
def test_risk_report_matches_the_query_and_is_graded(live: Live, truth: dict[str, Any]) -> None:
    case = _linked(truth)
    with live.client("investigator") as c:
        got = c.get(f"/api/v1/risk/{case['uscc']}", params={"as_of": AS_OF}).json()
        again = c.get(f"/api/v1/risk/{case['uscc']}", params={"as_of": AS_OF}).json()  # cached answer
        by_id = c.get(f"/api/v1/risk/{case['via']}", params={"as_of": AS_OF, "hops": 2}).json()
    direct = check(live.store.view(), case["uscc"], dt.date.fromisoformat(AS_OF), 3).as_dict()
    assert got["method"] == "index" and direct["method"] == "direct"
    got.pop("method"), direct.pop("method"), again.pop("method")
    assert got == direct == again
    assert got["grade"] in "BCD" and got["sampling_ratio"] in (0.05, 0.10, 0.20)
    w = next(w for w in got["warnings"] if w["counterpart"] == "per:" + case["via"] or case["via"] in str(w["nodes"]))
    assert w["nodes"][0]["key"] == "org:" + case["uscc"] and w["links"] and w["sources"]
    assert by_id["key"] == "per:" + case["via"] and by_id["hops"] == 2


def test_supervision_systems_see_masked_ids_and_no_contacts(live: Live, truth: dict[str, Any]) -> None:
    firms = [c.get("new_uscc") or c.get("uscc") for c in truth["relocations"] + truth["linked_risk"]]
    with live.client("investigator") as inv:
        contact_firm = next(f for f in firms
                            if re.search(r'"(tel|eml|adr):', inv.get(f"/api/v1/risk/{f}", params={"as_of": AS_OF}).text))
    case = _linked(truth)
    with live.client("investigator") as inv, live.client("supervision_system") as sup:
        for firm in (case["uscc"], contact_firm):
            full = inv.get(f"/api/v1/risk/{firm}", params={"as_of": AS_OF}).text
            masked = sup.get(f"/api/v1/risk/{firm}", params={"as_of": AS_OF}).text
            contacts = re.findall(r'"((?:tel|eml|adr):[^"]+)"', full)
            assert _full_ids(full) if firm == case["uscc"] else contacts
            assert not _full_ids(masked)
            for raw in contacts:
                assert raw not in masked and raw[4:] not in masked
        assert case["via"][:4] + "**********" + case["via"][-4:] in sup.get(
            f"/api/v1/risk/{case['uscc']}", params={"as_of": AS_OF}).text
        batch = sup.post("/api/v1/risk/check", json={"items": [{"key": case["uscc"]}, {"key": contact_firm},
                                                             {"key": case["via"]}], "as_of": AS_OF}).text
        assert not _full_ids(batch) and '"tel:1' not in batch
        relocations = sup.get("/api/v1/relocations").text
        assert not _full_ids(relocations)


def test_batch_reports_are_the_single_check_answers(live: Live, truth: dict[str, Any]) -> None:
    """Batch items carry exactly what GET /risk/{key} answers, for each role, whether the batch
    computed the report, reused its own earlier answer or one the single check cached."""
    case = _linked(truth)
    keys = [case["uscc"], case["via"]] + [c.get("new_uscc") or c["uscc"] for c in truth["relocations"][:3]]
    for role in ("investigator", "supervision_system"):
        with live.client(role) as c:
            first = c.post("/api/v1/risk/check", json={"items": [{"key": k} for k in keys], "as_of": AS_OF}).json()
            single = [c.get(f"/api/v1/risk/{k}", params={"as_of": AS_OF}).json() for k in keys]
            again = c.post("/api/v1/risk/check", json={"items": [{"key": k} for k in keys], "as_of": AS_OF}).json()
            assert [r["report"] for r in first["results"]] == single == [r["report"] for r in again["results"]]
            assert [r["input"] for r in first["results"]] == [r["input"] for r in again["results"]]
            assert any(r["report"]["warnings"] for r in first["results"])
            # computed by the batch itself (asked first): masked as the single check masks
            assert bool(_full_ids(orjson.dumps(first).decode())) == (role == "investigator")
    with live.client("supervision_system") as c:
        out = c.post("/api/v1/risk/check", json={"items": [{"key": case["via"]}], "as_of": AS_OF}).json()
        assert out["results"][0]["input"]["key"] == case["via"][:4] + "**********" + case["via"][-4:]


def test_batch_check_per_item_results_and_failures(live: Live, truth: dict[str, Any]) -> None:
    case = _linked(truth)
    items = [{"key": case["uscc"]}, {"code": case["uscc"], "name": case["name"]},
             {"code": case["uscc"], "name": "完全不同的名称有限公司"}, {"key": "91410105MA44XKTX0Z"},
             {"key": "no such firm at all 不存在"}]
    with live.client("supervision_system") as c:
        out = c.post("/api/v1/risk/check", json={"items": items, "as_of": AS_OF}).json()
        assert (out["count"], out["ok"], out["failed"]) == (5, 3, 2)
        r = out["results"]
        assert [x["ok"] for x in r] == [True, True, True, False, False]
        assert r[0]["report"]["grade"] == r[1]["report"]["grade"] and not r[1]["notes"]
        assert "名称与登记名称不一致" in r[2]["notes"][0]
        assert r[3]["error"]["code"] == "NotFound" and r[3]["error"]["field"].startswith("items[3]")
        _error(c.post("/api/v1/risk/check", json={"items": [{"key": case["uscc"]}] * 1001}), 422, "items")
        _error(c.post("/api/v1/risk/check", json={"items": []}), 422, "items")
        _error(c.post("/api/v1/risk/check", json={"items": [{}]}), 422, "items[0]")
        _error(c.post("/api/v1/risk/check", json={"items": [{"key": "x"}], "hops": 7}), 422, "hops")
        huge = c.post("/api/v1/risk/check", content=b'{"items": [' + b'{"key": "x"},' * 400_000 + b'{"key": "x"}]}',
                      headers={"Content-Type": "application/json"})
        _error(huge, 413)


def test_the_no_code_marker_is_refused_and_a_name_beside_it_is_checked(live: Live, truth: dict[str, Any]) -> None:
    case = _linked(truth)
    with live.client("supervision_system") as c:
        single = c.get("/api/v1/risk/00000000000000000X")
        _error(single, 422, "key")
        assert "无统一社会信用代码" in single.json()["message"]
        out = c.post("/api/v1/risk/check", json={"items": [{"code": "00000000000000000X", "name": case["name"]},
                                                           {"code": "00000000000000000X"},
                                                           {"key": "00000000000000000X", "name": case["name"]}],
                                                 "as_of": AS_OF}).json()
    by_name, alone, by_name_too = out["results"]
    assert by_name["ok"] and by_name["report"]["key"] == "org:" + case["uscc"] and not by_name["notes"]
    assert by_name_too["ok"] and by_name_too["report"]["key"] == "org:" + case["uscc"]
    assert not alone["ok"] and alone["error"]["field"] == "items[1].code"
    assert "无统一社会信用代码" in alone["error"]["message"]


def test_limits_name_the_field(live: Live, truth: dict[str, Any]) -> None:
    firm = _linked(truth)["uscc"]
    with live.client("admin") as c:
        _error(c.get(f"/api/v1/risk/{firm}", params={"hops": 7}), 422, "hops")
        _error(c.get(f"/api/v1/risk/{firm}", params={"as_of": "yesterday"}), 422, "as_of")
        _error(c.get(f"/api/v1/graph/{firm}", params={"hops": 9}), 422, "hops")
        _error(c.get(f"/api/v1/graph/{firm}", params={"max_nodes": 100_000}), 422, "max_nodes")
        _error(c.get("/api/v1/paths", params={"from": firm, "to": firm, "max_hops": 7}), 422, "max_hops")
        _error(c.get("/api/v1/punished", params={"limit": 5000}), 422, "limit")
        _error(c.get("/api/v1/audit", params={"limit": 0}), 422, "limit")
        _error(c.get("/api/v1/subjects/12345"), 422, "uscc")
        _error(c.get("/api/v1/persons/41010519750601001X"), 422, "person_id")
        _error(c.get("/api/v1/subjects/91410105MA44XKTX77"), 404)  # valid code, unknown firm


# -- profiles, graph, paths, lists --------------------------------------------------------------
def test_subject_and_person_profiles(live: Live, truth: dict[str, Any]) -> None:
    case = _linked(truth)
    with live.client("investigator") as c:
        s = c.get(f"/api/v1/subjects/{case['uscc']}", params={"as_of": AS_OF}).json()
        p = c.get(f"/api/v1/persons/{case['via']}", params={"as_of": AS_OF}).json()
    assert s["party"]["code"] == case["uscc"] and s["grade"] in "BCD"
    assert any(r["holder"] == "per:" + case["via"] and r["current"] for r in s["roles_current"])
    assert p["party"]["key"] == "per:" + case["via"]
    if case["via"][6:8] == "19":  # born in the 1900s: a first-generation 15-digit ID exists
        with live.client("investigator") as c:
            old = c.get(f"/api/v1/persons/{case['via'][:6] + case['via'][8:17]}", params={"as_of": AS_OF}).json()
        assert old["party"]["key"] == "per:" + case["via"]
    assert p["roles"] and any(x["active"] for x in p["punishments"])
    assert all(x["path"] or x["role"] == "subject" for x in p["punishments"])
    with live.client("investigator") as c:
        black = truth["punishment"]["entries"][0]
        b = c.get(f"/api/v1/subjects/{black['uscc']}", params={"as_of": AS_OF}).json()
    entry = next(r for r in b["records"] if r["attrs"].get("decision_no") == black["decision_no"])
    assert entry["state_zh"] and entry["kind"] == "list_entry"


def test_graph_and_paths(live: Live, truth: dict[str, Any]) -> None:
    case = _linked(truth)
    with live.client("investigator") as c:
        g = c.get(f"/api/v1/graph/{case['uscc']}", params={"hops": 2}).json()
        small = c.get(f"/api/v1/graph/{case['uscc']}", params={"hops": 3, "max_nodes": 3}).json()
        paths = c.get("/api/v1/paths", params={"from": case["uscc"], "to": case["via"], "max_hops": 3}).json()
    ids = {n["id"] for n in g["nodes"]}
    assert g["center"] in ids and {n["distance"] for n in g["nodes"]} >= {0, 1}
    assert all(lk["source"] in ids and lk["target"] in ids and lk["label_zh"] for lk in g["links"])
    assert small["truncated"] and len(small["nodes"]) <= 3
    assert paths["shortest"] == 1 and paths["paths"][0]["length"] == 1
    assert all(len(p["steps"]) == p["length"] for p in paths["paths"])
    assert paths["paths"][0]["steps"][0][0]["label_zh"]


def test_punished_and_relocations(live: Live, truth: dict[str, Any]) -> None:
    with live.client("investigator") as c:
        page = c.get("/api/v1/punished", params={"as_of": AS_OF, "limit": 10}).json()
        nxt = c.get("/api/v1/punished", params={"as_of": AS_OF, "limit": 10, "offset": 10}).json()
        rel = c.get("/api/v1/relocations").json()
        recent = c.get("/api/v1/relocations", params={"since": "2099-01-01"}).json()
    assert page["total"] > 10 and len(page["items"]) == 10
    assert not {r["key"] for r in page["items"]} & {r["key"] for r in nxt["items"]}
    assert all(r["measures"] for r in page["items"])
    assert rel["total"] > 0 and recent["total"] == 0
    expected = {(r["old_uscc"], r["new_uscc"]) for r in truth["relocations"]}
    assert expected & {(r.get("old_uscc"), r.get("new_uscc")) for r in rel["items"]}


# -- audit ------------------------------------------------------------------------------------
def test_audit_records_every_read_and_refusal(fresh: Any, truth: dict[str, Any]) -> None:
    live = fresh()
    case = _linked(truth)
    with live.client("supervision_system") as sup, live.client() as anon, live.client("investigator") as inv:
        sup.get(f"/api/v1/risk/{case['uscc']}")
        sup.get(f"/api/v1/risk/{case['uscc']}")  # a cached answer is audited too
        sup.post("/api/v1/risk/check", json={"items": [{"key": case["uscc"]}, {"key": case["via"]}]})
        sup.get(f"/api/v1/subjects/{case['uscc']}")  # refused: 403
        anon.get(f"/api/v1/risk/{case['uscc']}")  # refused: 401
        inv.get(f"/api/v1/persons/{case['via']}")
        inv.get(f"/api/v1/risk/{case['uscc']}", params={"hops": 99})  # 422
    with live.client("admin") as adm:
        rows = adm.get("/api/v1/audit", params={"limit": 1000}).json()["items"]
        mine = adm.get("/api/v1/audit", params={"who": "test-supervision_system"}).json()
        by_key = adm.get("/api/v1/audit", params={"key": "per:" + case["via"]}).json()
        since = adm.get("/api/v1/audit", params={"since": "2999-01-01T00:00:00Z"}).json()
        # no route edits or deletes the trail
        assert adm.delete("/api/v1/audit").status_code == 405
        assert adm.put("/api/v1/audit", json={}).status_code == 405
        assert adm.patch("/api/v1/audit/1", json={}).status_code == 404
    seen = [(r["who_name"], r["endpoint"], r["key"], r["status"]) for r in reversed(rows)]
    firm, person = "org:" + case["uscc"], "per:" + case["via"]
    assert seen[:8] == [
        ("test-supervision_system", "/api/v1/risk/{key}", firm, 200),
        ("test-supervision_system", "/api/v1/risk/{key}", firm, 200),
        ("test-supervision_system", "/api/v1/risk/check", firm, 200),
        ("test-supervision_system", "/api/v1/risk/check", person, 200),
        ("test-supervision_system", "/api/v1/subjects/{uscc}", case["uscc"], 403),  # as asked
        ("", "/api/v1/risk/{key}", case["uscc"], 401),
        ("test-investigator", "/api/v1/persons/{person_id}", person, 200),
        ("test-investigator", "/api/v1/risk/{key}", case["uscc"], 422),
    ]
    assert all(r["ip"] == "127.0.0.1" and r["at"] and r["method"] for r in rows)
    assert rows[-6]["who"] == "anonymous"
    assert mine["total"] == 5 and by_key["total"] == 2 and since["total"] == 0
    # a graph shows many parties: each one shown is on the trail, not only the centre
    with live.client("investigator") as inv, live.client("admin") as adm:
        g = inv.get(f"/api/v1/graph/{case['uscc']}", params={"hops": 1}).json()
        shown = {r["key"] for r in adm.get("/api/v1/audit", params={"limit": 1000}).json()["items"]
                 if r["endpoint"] == "/api/v1/graph/{key}"}
    assert len(g["nodes"]) > 1 and {n["id"] for n in g["nodes"]} <= shown
    conn = sqlite3.connect(live.ctx.db.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit SET who = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit")
    conn.close()


# -- rate limits ------------------------------------------------------------------------------
def test_rate_limit_per_key_with_retry_after(fresh: Any, truth: dict[str, Any]) -> None:
    live = fresh(rate_per_second=0.5, rate_burst=3)
    firm = _linked(truth)["uscc"]
    with live.client("supervision_system") as c, live.client("investigator") as other:
        assert [c.get(f"/api/v1/risk/{firm}").status_code for _ in range(3)] == [200, 200, 200]
        resp = c.get(f"/api/v1/risk/{firm}")
        _error(resp, 429)
        assert int(resp.headers["Retry-After"]) >= 1
        assert other.get(f"/api/v1/risk/{firm}").status_code == 200  # buckets are per key
    with live.client("admin") as adm:
        rows = adm.get("/api/v1/audit", params={"who": "test-supervision_system"}).json()["items"]
    assert rows[0]["status"] == 429  # refusals are audited too
    # refused callers (no key, a guessed key) share a bucket per address: no free flood of the trail
    with live.client() as anon, live.client(headers={"X-API-Key": "cg_guess_wrong"}) as guess:
        codes = [anon.get(f"/api/v1/risk/{firm}").status_code for _ in range(2)] + \
            [guess.get(f"/api/v1/risk/{firm}").status_code for _ in range(2)]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429


# -- keys CLI ---------------------------------------------------------------------------------
def test_keys_cli_create_list_revoke(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from api.cli import main

    db = str(tmp_path / "x.sqlite")
    runner = CliRunner()
    made = runner.invoke(main, ["keys", "create", "--role", "supervision_system", "--name", "审批系统", "--db", db])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("cg_")
    listed = runner.invoke(main, ["keys", "list", "--db", db])
    key_id = key.split("_")[1]
    assert key_id in listed.output and "审批系统" in listed.output and key not in listed.output
    assert runner.invoke(main, ["keys", "revoke", key_id, "--db", db]).exit_code == 0
    assert "revoked" in runner.invoke(main, ["keys", "list", "--db", db]).output
    assert runner.invoke(main, ["keys", "create", "--role", "king", "--db", db]).exit_code != 0
    stored = sqlite3.connect(tmp_path / "x.api.sqlite").execute("SELECT hash, salt FROM api_keys").fetchone()
    assert key.split("_", 2)[2].encode() not in bytes(stored[0]) + bytes(stored[1])



def _dual_id() -> str:
    """A valid resident ID whose digits also pass both USCC checks (about 0.15 % of IDs)."""
    from graph.identifiers import make_resident_id

    for seq in range(200_000):
        number = make_resident_id("510904", dt.date(1960, 1, 1) + dt.timedelta(days=seq // 900), seq % 900)
        if check_uscc(number).valid:
            return number
    raise AssertionError("no ID that is a USCC too")


def test_no_full_id_reaches_a_supervision_system_through_errors_or_lookalike_codes(fresh: Any,
                                                                                    truth: dict[str, Any]) -> None:
    """Candidates of an ambiguous name, a masked ID looked up, an ID that also passes the USCC
    checks: none shows a full resident ID to a supervision system; the ID still finds its person."""
    from graph.model import LinkKind
    from tests.factories import firm as make_firm
    from tests.factories import link, list_entry, person, uscc, write_graph

    server = fresh()
    dual = _dual_id()
    shop, other = make_firm("德阳市恒通商贸有限公司", uscc(95001)), make_firm("德阳市恒达商贸有限公司", uscc(95002))
    owner = person("汤秀珍", dual)
    write_graph(server.store, [shop, other, owner], [
        link(LinkKind.LEGAL_REPRESENTATIVE, owner, shop, "2015-01-01"),
        link(LinkKind.LEGAL_REPRESENTATIVE, owner, other, "2016-01-01"),
    ], [list_entry(shop, "2021-06-01")])
    with server.client("supervision_system") as sup, server.client("investigator") as inv:
        assert inv.get(f"/api/v1/risk/{dual}").json()["key"] == "per:" + dual  # the bare ID finds the person
        checked = sup.get(f"/api/v1/risk/{other.code}")
        assert checked.status_code == 200 and dual[-4:] in checked.text and not _full_ids(checked.text)
        assert dual in inv.get(f"/api/v1/risk/{other.code}").text  # an investigator sees it whole
        name = truth["punishment"]["must"][0]["name"][:1]  # one character: many candidates
        ambiguous = sup.get(f"/api/v1/risk/{name}")
        assert ambiguous.status_code in (404, 422) and not _full_ids(ambiguous.text)
        masked = dual[:4] + "*" * 10 + dual[-4:]
        looked_up = sup.get(f"/api/v1/risk/{masked}")
        assert not _full_ids(looked_up.text), looked_up.text
        batch = sup.post("/api/v1/risk/check", json={"items": [{"name": name}, {"code": masked}, {"key": dual},
                                                             {"key": other.code}]})
        assert batch.status_code == 200 and not _full_ids(batch.text)


def test_odd_dates_and_characters_are_422_not_500(live: Live, truth: dict[str, Any]) -> None:
    firm = _linked(truth)["uscc"]
    with live.client("investigator") as c:
        _error(c.get(f"/api/v1/risk/{firm}", params={"as_of": "0001-01-01"}), 422, "as_of")
        _error(c.get(f"/api/v1/subjects/{firm}", params={"as_of": "0003-01-01"}), 422, "as_of")
        assert c.get("/api/v1/risk/a%00b").status_code in (404, 422)
        out = c.post("/api/v1/risk/check", json={"items": [{"key": "a\u0000b"}, {"name": "a\u0000b"},
                                                           {"key": firm}], "as_of": AS_OF})
        assert out.status_code == 200
        results = out.json()["results"]
        assert [r["ok"] for r in results] == [False, False, True]
        assert results[1]["error"]["field"] == "items[1].name"
        _error(c.post("/api/v1/risk/check", json={"items": [{"key": firm}], "as_of": "0002-01-01"}), 422, "as_of")


def test_a_role_ends_with_a_deregistered_firm() -> None:
    """No one holds a post in a firm that was deregistered: shown as ended with the firm."""
    from api.routes.common import role_out
    from graph.model import LinkKind
    from tests.factories import d, firm, link, person

    closed = firm("山西万通商贸有限公司", start="2015-01-01")
    closed = dataclasses.replace(closed, end=d("2024-03-01"), status="注销")
    holder = person("张三")
    lk = link(LinkKind.LEGAL_REPRESENTATIVE, holder, closed, "2015-01-01")
    parties = {closed.key: closed, holder.key: holder}
    before, after = role_out(lk, parties, d("2023-01-01")), role_out(lk, parties, d("2025-01-01"))
    assert before["current"] and before["end"] == d("2024-03-01")
    assert not after["current"] and after["end"] == d("2024-03-01")


def test_a_name_history_shows_each_name_once_from_the_date_it_was_taken() -> None:
    from api.routes.common import names_out
    from graph.model import NameFact
    from tests.factories import d

    facts = [NameFact("org:x", "新名称有限公司", d("2015-03-05"), None),  # the registration: since founding
             NameFact("org:x", "旧名称有限公司", None, d("2021-06-01")),  # 名称变更: the old name until then
             NameFact("org:x", "新名称有限公司", d("2021-06-01"), None),  # and the new one from then
             NameFact("org:x", "新名称有限公司", None, None)]  # a mention in another file
    assert names_out(facts) == [{"name": "旧名称有限公司", "start": None, "end": d("2021-06-01")},
                                {"name": "新名称有限公司", "start": d("2021-06-01"), "end": None}]


def test_the_last_admin_key_is_not_revoked_through_the_api(fresh: Any) -> None:
    """Revoking the only valid admin key would leave nobody to manage keys through the API:
    409; with a second admin key the first may go, and then the second is the last."""
    live = fresh(webhooks_enabled=False)
    first = live.keys["admin"].split("_")[1]
    with live.client("admin") as adm:
        refused = adm.delete(f"/api/v1/keys/{first}")
        assert refused.status_code == 409 and refused.json()["field"] == "key_id", refused.text
        second = adm.post("/api/v1/keys", json={"role": "admin", "name": "第二管理员"}).json()
        assert adm.delete(f"/api/v1/keys/{first}").status_code == 200
    with live.client(headers={"X-API-Key": second["key"]}) as adm2:
        assert adm2.delete(f"/api/v1/keys/{second['id']}").status_code == 409
        assert adm2.get("/api/v1/keys").status_code == 200  # still able to manage keys
        other = live.keys["investigator"].split("_")[1]
        assert adm2.delete(f"/api/v1/keys/{other}").status_code == 200  # other roles as before
        rows = adm2.get("/api/v1/audit", params={"key": f"apikey:{second['id']}"}).json()["items"]
        assert any(r["status"] == 409 for r in rows)  # the refusal is on record
