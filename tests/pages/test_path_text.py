"""Path steps read in the link's own direction (holder → firm), whichever way a walk crosses them."""

from __future__ import annotations

import datetime as dt

from api.pages.views import templates


def _step(**kw: object) -> str:
    macros = templates.env.get_template("_macros.html").module
    return str(macros.step_text(kw, kw.pop("_from"))).strip()  # type: ignore[attr-defined]


def test_a_step_is_written_from_the_holder_to_the_firm() -> None:
    share = {"src": "org:B", "dst": "org:A", "kind": "shareholder", "label_zh": "股东", "title": "企业法人",
             "ratio": 0.6, "start": dt.date(2019, 1, 1), "end": None}
    # walking from the held firm A to its shareholder B: the arrow points back at A
    assert _step(_from="org:A", **share) == "←股东 60%(2019-01-01至今)—"
    assert _step(_from="org:B", **share) == "—股东 60%(2019-01-01至今)→"  # the type 企业法人 is not a role
    post = {"source": "per:P", "target": "org:A", "kind": "director", "label_zh": "董事", "title": "执行董事兼总经理",
            "ratio": None, "start": None, "end": None}
    assert _step(_from="org:A", **post) == "←董事·执行董事兼总经理—"


def test_a_measure_ends_on_its_last_day_in_force() -> None:
    last_day = templates.env.filters["last_day"]
    assert last_day(dt.date(2027, 3, 3)) == "2027-03-02" and last_day(None) == "—"
