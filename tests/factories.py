"""Factories for hand-made graphs: valid codes and IDs, parties, links and records."""

from __future__ import annotations

import datetime as dt
import itertools

from graph.identifiers import make_resident_id, make_uscc
from graph.model import Flag, Link, LinkKind, Party, PartyKind, Record, RecordKind, Source
from graph.store import fact_id

_counter = itertools.count(1)


def d(text: str) -> dt.date:
    """A date from ISO text."""
    return dt.date.fromisoformat(text)


def uscc(n: int | None = None, division: str = "410105") -> str:
    """A valid USCC numbered ``n`` (a fresh one when None)."""
    n = next(_counter) if n is None else n
    return make_uscc("9", "1", division, f"{n:08d}")


def resident_id(n: int | None = None, division: str = "410105", birth: str = "1975-06-01") -> str:
    """A valid resident ID numbered ``n``."""
    n = next(_counter) if n is None else n
    born = d(birth) + dt.timedelta(days=n // 1000)
    return make_resident_id(division, born, n % 1000)


def firm(name: str, code: str | None = None, *, start: str = "2010-01-01", region: str = "410105", **attrs: object) -> Party:
    """An enterprise party."""
    code = code or uscc(division=region)
    return Party(
        key=f"org:{code}", kind=PartyKind.ENTERPRISE, name=name, code=code, region=region,
        start=d(start), attrs={"_primary": 1, **attrs}, source=SRC,
    )


def person(name: str, number: str | None = None) -> Party:
    """A natural person."""
    number = number or resident_id()
    return Party(key=f"per:{number}", kind=PartyKind.PERSON, name=name, code=number, source=SRC)


def namesakes(kind_a: LinkKind, kind_b: LinkKind) -> tuple[list[Party], list[Link]]:
    """Two firms; 张伟 with a full ID holds a ``kind_a`` role in the first, and a name-only 张伟
    (unresolved, the alias case) a ``kind_b`` role in the second. Returns the parties
    (firm a, firm b, person, name-only) and the two links."""
    a, b = firm("郑州市鑫源商贸有限公司"), firm("洛阳市宏达建筑工程有限公司")
    p = person("张伟")
    u = Party("unr:zhang-wei-in-b", PartyKind.UNRESOLVED, "张伟", flags=frozenset({Flag.NAME_ONLY}))
    return [a, b, p, u], [link(kind_a, p, a, "2015-03-01"), link(kind_b, u, b, "2018-01-01")]


def link(kind: LinkKind, src: Party | str, dst: Party | str, start: str | None = None, end: str | None = None,
         ratio: float | None = None, title: str = "") -> Link:
    """A link between two parties (or keys)."""
    s = src if isinstance(src, str) else src.key
    t = dst if isinstance(dst, str) else dst.key
    return Link(
        id=fact_id(kind, s, t, start, title), kind=kind, src=s, dst=t,
        start=d(start) if start else None, end=d(end) if end else None, ratio=ratio, title=title, source=SRC,
    )


def record(kind: RecordKind, subject: Party | str, start: str | None, end: str | None = None, *, target: str = "",
           **attrs: object) -> Record:
    """A record about a subject."""
    s = subject if isinstance(subject, str) else subject.key
    return Record(
        id=fact_id(kind, s, start, target, sorted(attrs.items())), kind=kind, subject=s,
        start=d(start) if start else None, end=d(end) if end else None, target=target, attrs=dict(attrs), source=SRC,
    )


SRC = Source("factories.py", 1, "test")


def list_entry(subject: Party | str, listed: str, list_type: str = "严重失信主体名单", end: str | None = None,
               **attrs: object) -> Record:
    """A list entry (LIST_ENTRY) as the ingest writes it: listing date, type and attrs."""
    attrs.setdefault("decision_no", f"测试决定〔{listed[:4]}〕{next(_counter)}号")
    attrs.setdefault("authority", "测试市发展和改革委员会")
    return record(RecordKind.LIST_ENTRY, subject, listed, end, list_type=list_type, listed_on=listed, **attrs)


def write_graph(store: object, parties: tuple[Party, ...] | list[Party] = (), links: tuple[Link, ...] | list[Link] = (),
                records: tuple[Record, ...] | list[Record] = ()) -> None:
    """Write parties (with their names), links and records in one batch."""
    from graph.model import NameFact

    with store.writer("test") as w:  # type: ignore[attr-defined]
        w.put_parties(parties)
        w.put_names([NameFact(p.key, p.name, p.start) for p in parties])
        w.put_links(links)
        w.put_records(records)
