"""Masking of serialised answers for callers that may not see personal data (supervision systems).

:func:`mask_body` works on the JSON text, not on the value: contact keys (``tel:``/``eml:``/
``adr:``) become opaque keys and their values, wherever else they appear, a word saying what
was hidden; every valid resident ID (also inside a ``per:`` key or a message) is masked like
``4101**********1234``; mobile numbers keep their first 3 and last 4 digits.

The rules are the three regular expressions below (:func:`mask_body_regex` applies them as
written). Run over every character they cost ~40 µs per pass on a 3 KB answer, more than the
risk check itself, so :func:`mask_body` finds the same matches another way: contact keys
only when their prefix occurs at all, and IDs and mobiles from the runs of ASCII digits
(bytes.find over a translated copy), where a match can only be a whole run of 11, 17 (+X) or 18 digits.
When an answer holds a non-ASCII decimal digit (``\\d`` matches those too, and NFKC turns
full-width digits into a valid ID), the regular expressions run as written.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator

from graph.identifiers import check_resident_id, mask_resident_id

_CONTACT_ZH = {"tel:": "电话已隐藏", "eml:": "邮箱已隐藏", "adr:": "地址已隐藏"}
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# a contact key inside a JSON string: its value runs to the closing quote (escapes included)
_CONTACT_KEY = re.compile(r'(?<![A-Za-z])(tel:|eml:|adr:)((?:[^"\\]|\\.)*)')
_CONTACT_VALUE = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*')  # the value group of _CONTACT_KEY, unrolled
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_ALNUM = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_MOBILE_SECOND = frozenset(b"3456789")
_RUNS = bytes.maketrans(bytes(range(256)), b"." * 48 + b"0" * 10 + b"." * 198)  # digits to 0, the rest to .
_ELEVEN = b"0" * 11


def _hidden(key: str) -> str:
    return key[:4] + "***" + hashlib.blake2b(key.encode("utf-8"), digest_size=3).hexdigest()


def _contact_keys_regex(text: str) -> Iterator[tuple[str, str, str]]:
    """(key, prefix, value) of every contact key in ``text``: the rule as written."""
    for m in _CONTACT_KEY.finditer(text):
        yield m.group(0), m.group(1), m.group(2)


def _contact_keys(text: str) -> Iterator[tuple[str, str, str]]:
    """The same matches as :func:`_contact_keys_regex`, found from the prefixes: a pattern
    opening with a look-behind is tried at every character (~190 µs on a 7 KB answer)."""
    # the next place of each prefix (str.find runs at C speed; a regular expression searching
    # for three alternatives tries every character)
    nxt = {prefix: text.find(prefix) for prefix in _CONTACT_ZH}
    pos = 0
    while True:
        found = [(at, prefix) for prefix, at in nxt.items() if at >= 0]
        if not found:
            return
        at, prefix = min(found)
        if at and text[at - 1] in _ASCII_LETTERS:  # the look-behind of _CONTACT_KEY
            pos = at + 1
        else:
            end = _CONTACT_VALUE.match(text, at + 4).end()  # type: ignore[union-attr]  # matches the empty string
            yield text[at:end], prefix, text[at + 4 : end]
            pos = end
        for p, a in nxt.items():
            if 0 <= a < pos:
                nxt[p] = text.find(p, pos)


def _hide_contacts(text: str, find: Callable[[str], Iterator[tuple[str, str, str]]] = _contact_keys) -> str:
    repl: dict[str, str] = {}
    for key, prefix, value in find(text):
        if key not in repl:
            repl[key] = _hidden(key)
            if len(value) > 1:
                repl.setdefault(value, _CONTACT_ZH[prefix])
    for old in sorted(repl, key=len, reverse=True):  # keys before the bare values inside them
        text = text.replace(old, repl[old])
    return text


@functools.lru_cache(maxsize=100_000)  # the same people recur in many answers
def _masked_id(s: str) -> str:
    # Every valid resident ID, also one that happens to pass the USCC checks too (0.15 % of
    # the demo's people do): which it is cannot be told from the digits, and a person's ID shown is a
    # leak while a firm's code masked is not (its "org:" key, never masked, still shows it).
    if check_resident_id(s).valid:
        return mask_resident_id(s)
    return s


def _after_org_prefix(text: str | bytes, at: int) -> bool:
    """True when the digits at ``at`` follow "org:": a firm's key, never a person's ID."""
    return at >= 4 and text[at - 4 : at] in ("org:", b"org:")


def _masked_mobile(s: str) -> str:
    return s[:3] + "****" + s[-4:]


def mask_body_regex(body: bytes) -> bytes:
    """The masking rules applied as written: three regular-expression passes over the text."""
    text = _hide_contacts(body.decode("utf-8"), _contact_keys_regex)
    text = _ID_LIKE.sub(lambda m: m.group(0) if _after_org_prefix(text, m.start()) else _masked_id(m.group(0)), text)
    text = _MOBILE.sub(lambda m: _masked_mobile(m.group(0)), text)
    return text.encode("utf-8")


def mask_body(body: bytes) -> bytes:
    """Mask a serialised JSON answer (the same result as :func:`mask_body_regex`, faster)."""
    if b"tel:" in body or b"eml:" in body or b"adr:" in body:  # the prefixes of _CONTACT_KEY
        body = _hide_contacts(body.decode("utf-8")).encode("utf-8")
    if _has_other_digits(body):
        text = body.decode("utf-8")
        text = _ID_LIKE.sub(lambda m: m.group(0) if _after_org_prefix(text, m.start()) else _masked_id(m.group(0)),
                            text)
        return _MOBILE.sub(lambda m: _masked_mobile(m.group(0)), text).encode("utf-8")
    return _mask_digit_runs(body)


@functools.cache
def _digit_encodings() -> tuple[bytes, ...]:
    """The UTF-8 encoding of every decimal digit but 0-9 (what else ``\\d`` matches)."""
    return tuple(chr(c).encode("utf-8") for c in range(0x80, 0x110000) if chr(c).isdecimal())


def _alternation(encodings: Iterable[bytes]) -> bytes:
    """A pattern matching any of ``encodings``: per shared prefix, a class of last bytes."""
    by_prefix: dict[bytes, list[int]] = {}
    for raw in encodings:
        by_prefix.setdefault(raw[:-1], []).append(raw[-1])
    return b"|".join(re.escape(prefix) + _byte_class(last) for prefix, last in sorted(by_prefix.items()))


@functools.cache
def other_digit_bytes() -> re.Pattern[bytes]:
    """Return a pattern matching the UTF-8 encoding of any decimal digit but 0-9."""
    return re.compile(_alternation(_digit_encodings()))


def _byte_class(values: list[int]) -> bytes:
    ranges: list[tuple[int, int]] = []
    for b in sorted(values):
        if ranges and ranges[-1][1] == b - 1:
            ranges[-1] = (ranges[-1][0], b)
        else:
            ranges.append((b, b))
    return b"[" + b"".join(re.escape(bytes([a])) + b"-" + re.escape(bytes([z])) for a, z in ranges) + b"]"


@functools.cache
def _digit_screens() -> tuple[re.Pattern[bytes], bytes]:
    """Two fast screens for :func:`other_digit_bytes`, whose alternation of ~60 prefixes is tried
    at every byte (~13 µs on a 3 KB answer; a class of the lead bytes, ~10 µs). Chinese text is
    full of 0xEF lead bytes (full-width punctuation), so the digits led by 0xEF (full-width 0-9)
    get a pattern of their own, searched by its literal prefix; the other lead bytes are found
    by deleting every other byte (``bytes.translate``). Either finding something sends the
    answer to the full pattern. Both together cost ~2 µs."""
    encodings = _digit_encodings()
    fullwidth = _alternation(raw for raw in encodings if raw[0] == 0xEF)
    leads = {raw[0] for raw in encodings if raw[0] != 0xEF}
    return re.compile(fullwidth or b"(?!)"), bytes(b for b in range(256) if b not in leads)


def warm_up() -> None:
    """Build the patterns of non-ASCII digits now (about a second), not in the first answer
    that needs them."""
    other_digit_bytes()
    _digit_screens()


def _has_other_digits(body: bytes) -> bool:
    if body.isascii():
        return False
    fullwidth, not_leads = _digit_screens()
    if fullwidth.search(body) is not None:
        return True
    return bool(body.translate(None, not_leads)) and other_digit_bytes().search(body) is not None


def _mask_digit_runs(body: bytes) -> bytes:
    """IDs and mobiles of a text whose digits are all ASCII, found from its digit runs.

    With ASCII digits only, an ID match (no letter or digit on either side) is a whole run of
    18 digits, or of 17 followed by X/x; a mobile match (no digit on either side) a whole run
    of 11 digits starting 1[3-9]. Masking an ID leaves runs of at most 4 digits between
    non-alphanumerics, so it creates or hides no mobile: one pass finds both. Runs of 11 or
    more digits are found by bytes.find over a copy with every digit made 0 (C speed)."""
    runs = body.translate(_RUNS)
    n = len(body)
    parts: list[bytes] = []
    done = 0
    a = runs.find(_ELEVEN)
    while a >= 0:  # a is the start of a run: the search starts after a run, at a non-digit
        b = runs.find(b".", a + 11)
        b = n if b < 0 else b
        new, end = _digit_run(body, a, b)
        if new is not None:
            parts.append(body[done:a])
            parts.append(new)
            done = end
        a = runs.find(_ELEVEN, b)
    if not parts:
        return body
    parts.append(body[done:])
    return b"".join(parts)


def _digit_run(body: bytes, a: int, b: int) -> tuple[bytes | None, int]:
    """The replacement of the digit run body[a:b] (None: none) and where the match ends."""
    if b - a == 11:
        if body[a] != 49 or body[a + 1] not in _MOBILE_SECOND:  # 1[3-9]
            return None, b
        return _masked_mobile(body[a:b].decode("ascii")).encode("ascii"), b
    if b - a not in (17, 18) or (a > 0 and body[a - 1] in _ALNUM):
        return None, b
    if b - a == 17:
        if b >= len(body) or body[b] not in b"Xx":
            return None, b
        b += 1
    if b < len(body) and body[b] in _ALNUM:
        return None, b
    if _after_org_prefix(body, a):
        return None, b
    return _masked_id_bytes(body[a:b]), b


@functools.lru_cache(maxsize=100_000)
def _masked_id_bytes(run: bytes) -> bytes:
    return _masked_id(run.decode("ascii")).encode("ascii")


__all__ = ["mask_body", "mask_body_regex", "other_digit_bytes", "warm_up"]
