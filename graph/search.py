"""Search steps both backends share: identifiers first, then the scoring of name candidates.

A backend finds candidates its own way (SQLite FTS5 trigrams, Cypher over trigram nodes);
how a code is recognised and how a candidate name is scored against the query is decided
here once, so both backends rank the same names the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from graph.identifiers import check_resident_id, check_uscc, normalise_code
from graph.model import Party
from graph.store import SearchHit
from graph.textkey import name_search_key

MIN_FUZZY_SCORE = 45.0


class Hits:
    """Search hits in the order found, one per party."""

    def __init__(self) -> None:
        self.hits: list[SearchHit] = []
        self._seen: set[str] = set()

    def add(self, party: Party | None, matched: str, score: float, how: str) -> None:
        """Add a hit unless the party is already in."""
        if party is not None and party.key not in self._seen:
            self._seen.add(party.key)
            self.hits.append(SearchHit(party, matched, score, how))


def code_hits(
    raw: str, hits: Hits, *, party: Callable[[str], Party | None], by_code: Callable[[str], Iterable[Party]]
) -> None:
    """Add the parties ``raw`` names by USCC, resident ID or a code as given (``*`` masks)."""
    code = normalise_code(raw)
    if len(code) == 18:
        if check_uscc(code).valid:
            hits.add(party("org:" + code), code, 100.0, "code")
        if check_resident_id(code).valid:
            hits.add(party("per:" + code), code, 100.0, "id")
    if (len(code) >= 6 and code.isalnum()) or "*" in code:
        for found in by_code(code):
            hits.add(found, found.code, 99.0, "code")


def score_names(
    key: str,
    candidates: dict[str, str],
    exact: set[str],
    substring: set[str],
    party_of: Callable[[str], Party | None],
) -> list[tuple[float, str, str, Party]]:
    """Score name candidates (party key → name) against the query's comparison key: exact 100,
    substring 90–100 by how much of the name the query covers, else fuzzy (WRatio × 0.9);
    best first."""
    from rapidfuzz import fuzz

    scored = []
    for p, name in candidates.items():
        party = party_of(p)
        if party is None:
            continue
        nkey = name_search_key(name)
        if p in exact:
            score, how = 100.0, "exact"
        elif p in substring or key in nkey:
            score, how = 90.0 + 10.0 * len(key) / max(len(nkey), 1), "substring"
        else:
            score, how = float(fuzz.WRatio(key, nkey)) * 0.9, "fuzzy"
        if how == "fuzzy" and score < MIN_FUZZY_SCORE:
            continue
        scored.append((score, how, name, party))
    scored.sort(key=lambda t: (-t[0], t[3].key))
    return scored


_NO_CONTROLS = dict.fromkeys([*range(0x20), 0x7F])


def search_text(text: str | None) -> str:
    """What a search looks for: ``text`` trimmed, without control characters (they name
    nobody, and a NUL ends a full-text query early)."""
    return (text or "").translate(_NO_CONTROLS).strip()


def warm_up() -> None:
    """Load what the first name search would load (the traditional→simplified table, its
    guard pattern, rapidfuzz): ~70 ms, which the first search on a server's event loop paid,
    holding up every request in flight with it."""
    from rapidfuzz import fuzz

    fuzz.WRatio(name_search_key("臺灣測試"), "台湾测试")
