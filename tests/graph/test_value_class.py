"""Facts are value classes: equal and hashed by their fields, read-only for the type checker."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from mypy import api as mypy_api

from graph.model import Link, LinkKind, Party, PartyKind, Source

ROOT = Path(__file__).resolve().parents[2]


def test_equality_and_hash_follow_the_fields_but_not_attrs() -> None:
    source = Source("f.csv", 2, "run")
    a = Party("per:1", PartyKind.PERSON, "张三", attrs={"context": "x"}, source=source)
    b = Party("per:1", PartyKind.PERSON, "张三", attrs={}, source=Source("f.csv", 2, "run"))
    assert a == b and hash(a) == hash(b)
    assert a != Party("per:1", PartyKind.PERSON, "李四", source=source)
    assert len({a, b}) == 1


def test_a_fact_survives_pickling_as_workers_send_it() -> None:
    link = Link("id1", LinkKind.DIRECTOR, "per:1", "org:2", title="董事", source=Source("f.csv", 3, "run"))
    again = pickle.loads(pickle.dumps(link))
    assert again == link and again.title == "董事" and again.source == link.source


def _mypy(tmp_path: Path, body: str) -> tuple[str, int]:
    snippet = tmp_path / "snippet.py"
    snippet.write_text("from graph.model import Party, PartyKind\n\n"
                       "p = Party('per:1', PartyKind.PERSON, '张三')\n" + body, encoding="utf-8")
    out, _, status = mypy_api.run([str(snippet), "--follow-imports=silent", "--no-incremental",
                                   "--python-version", "3.11"])
    return out, status


def test_mypy_rejects_an_assignment_to_a_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the facts are not frozen at run time (see graph.value_class): the type checker is what
    # keeps them read-only, so it must go on refusing this
    monkeypatch.chdir(ROOT)
    out, status = _mypy(tmp_path, "print(p.name)\n")
    assert status == 0, out  # the same snippet without the assignment is accepted
    out, status = _mypy(tmp_path, "p.name = '李四'\n")
    assert status == 1 and "read-only" in out, out
