"""Comparison keys for Chinese names: NFKC, traditional→simplified, no spaces or punctuation.

This is the one place the traditional→simplified table is built (from the dictionary that
``opencc-python-reimplemented`` ships), so search in ``graph`` and normalisation in
``ingest`` agree on what "the same name" means.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from importlib import resources


@cache
def ts_table() -> dict[int, str]:
    """Per-character traditional→simplified translate table (first candidate of each line)."""
    text = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text(encoding="utf-8")
    table: dict[int, str] = {}
    for line in text.splitlines():
        key, _, candidates = line.partition("\t")
        first = candidates.split(" ", 1)[0].strip()
        if len(key) == 1 and first and first != key:
            table[ord(key)] = first
    # follow chains (薴 → 苧 → 苎) so that converting twice changes nothing
    for code, value in table.items():
        seen = {code}
        while len(value) == 1 and ord(value) in table and ord(value) not in seen:
            seen.add(ord(value))
            value = table[ord(value)]
        table[code] = value
    return table


def translate_guard(mapped: Iterable[int]) -> re.Pattern[str]:
    """Return a pattern that finds any of the ``mapped`` code points (a translate table's keys).

    ``str.translate`` with a dict costs ~0.1 µs per character of Chinese text (a dict look-up
    and a caught ``LookupError`` for every character it leaves alone), and most names hold
    nothing to translate: ``guard.search(text)`` tells in one C scan, ~0.01 µs a character.
    The BMP code points form one class, which ``re`` compiles to a bitmap; the table's few
    characters beyond the BMP would turn it into a linear list, so the whole range beyond
    the BMP is in the class instead (a false alarm merely translates).
    """
    bmp = "".join(re.escape(chr(c)) for c in sorted(mapped) if c <= 0xFFFF)
    return re.compile(f"[{bmp}\U00010000-\U0010FFFF]")


def exact_guard(mapped: Iterable[int]) -> Callable[[str], bool]:
    """Return a test for whether a text holds any of exactly the ``mapped`` code points: for a
    decision (is this text traditional?), where the false alarms of :func:`translate_guard`
    beyond the BMP would change the answer. The BMP stays one bitmap class, as fast as
    :func:`translate_guard`; the rare text with characters beyond the BMP is looked at
    character by character (listing those in the class made every search ~50 times slower)."""
    codes = set(mapped)
    narrow = "".join(re.escape(chr(c)) for c in sorted(codes) if c <= 0xFFFF)
    bmp = re.compile(f"[{narrow}]") if narrow else None
    wide = frozenset(c for c in codes if c > 0xFFFF)

    def found(text: str) -> bool:
        if bmp is not None and bmp.search(text):
            return True
        return bool(wide) and _BEYOND_BMP.search(text) is not None and any(ord(ch) in wide for ch in text)

    return found


_BEYOND_BMP = re.compile("[\U00010000-\U0010FFFF]")


@cache
def _ts_guard() -> re.Pattern[str]:
    return translate_guard(ts_table())


def to_simplified(text: str) -> str:
    """Return ``text`` with traditional characters replaced by simplified ones."""
    return text.translate(ts_table()) if _ts_guard().search(text) else text


_PUNCT = re.compile(r"[\s\u3000\u00a0\u200b-\u200d\ufeff()\[\]{}<>《》〈〉【】「」『』\"'“”‘’,，.。·•・、;；:：!！?？\-—_/\\|+*&^%$#@~`]+")


@lru_cache(maxsize=1 << 16)
def name_search_key(name: str) -> str:
    """Return the comparison form of a name: NFKC, simplified, lower case, no spaces or punctuation."""
    text = unicodedata.normalize("NFKC", name or "")
    return _PUNCT.sub("", to_simplified(text)).lower()
