"""Comparison keys for Chinese names: NFKC, traditional→simplified, no spaces or punctuation.

This is the one place the traditional→simplified table is built (from the dictionary that
``opencc-python-reimplemented`` ships), so search in ``graph`` and normalisation in
``ingest`` agree on what "the same name" means.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources


@cache
def _ts_table() -> dict[int, str]:
    """Per-character traditional→simplified translate table (first candidate of each line)."""
    text = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text(encoding="utf-8")
    table: dict[int, str] = {}
    for line in text.splitlines():
        if not line or "\t" not in line:
            continue
        trad, simp = line.split("\t", 1)
        simp = simp.split(" ")[0].strip()
        if len(trad) == 1 and simp:
            table[ord(trad)] = simp
    return table


def to_simplified(text: str) -> str:
    """Return ``text`` with traditional characters replaced by simplified ones."""
    return text.translate(_ts_table())


_PUNCT = re.compile(r"[\s\u3000\u00a0\u200b-\u200d\ufeff()\[\]{}<>《》〈〉【】「」『』\"'“”‘’,，.。·•・、;；:：!！?？\-—_/\\|+*&^%$#@~`]+")


@lru_cache(maxsize=1 << 16)
def name_search_key(name: str) -> str:
    """Return the comparison form of a name: NFKC, simplified, lower case, no spaces or punctuation."""
    text = unicodedata.normalize("NFKC", name or "")
    return _PUNCT.sub("", to_simplified(text)).lower()
