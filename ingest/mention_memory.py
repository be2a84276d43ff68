"""What an ingest process remembers having written, so that it need not write it again.

A person named in many rows is written once per process: merging an identical mention into
the store again would change nothing, so skipping it is exact. The memory holds each mention
as a *mark*: the mention's key tuple itself while the memory is small (cheap to make, which is
all a load of 100k firms ever needs), and past ``tuple_limit`` entries a 16-byte blake2b digest
of it (about 90 bytes an entry instead of about 220). At 1M firms the tuples passed their
bound and the memory had to start over: 4.9M mentions were written again, about 60 s of the
write work. Past ``digest_limit`` digests it does start over: memory stays bounded, and
forgetting only means writing a mention again.

A digest stands for its mention exactly in practice: 128 bits, where the store's own fact ids
(:func:`graph.store.fact_id`) rely on 80.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from hashlib import blake2b
from typing import Any


def mention_digest(key: tuple[Any, ...]) -> bytes:
    """A 16-byte digest of a mention's key tuple (text parts, flag sets as sorted text)."""
    parts = [p if isinstance(p, str) else ",".join(sorted(p)) if isinstance(p, frozenset) else repr(p) for p in key]
    # the count first: tuples of different lengths never share a text
    return blake2b(f"{len(parts)}\x1e{chr(0x1f).join(parts)}".encode(), digest_size=16).digest()


class MentionMemory:
    """Marks of the mentions written before (see the module's docstring)."""

    def __init__(self, tuple_limit: int = 2_000_000, digest_limit: int = 8_000_000) -> None:
        self.tuple_limit = tuple_limit
        self.digest_limit = digest_limit
        self._seen: set[Hashable] = set()
        self.digests = False  # whether marks are digests now

    def mark(self, key: tuple[Any, ...]) -> Hashable:
        """What stands for ``key`` in this memory now: look it up with ``in``, keep it with :meth:`remember`."""
        return mention_digest(key) if self.digests else key

    def __contains__(self, mark: Hashable) -> bool:
        return mark in self._seen

    def __len__(self) -> int:
        return len(self._seen)

    def remember(self, marks: Iterable[Hashable]) -> None:
        """Keep ``marks`` (made by :meth:`mark`, before or after the memory turned to digests)."""
        if not self.digests:
            self._seen.update(marks)
            if len(self._seen) > self.tuple_limit:
                self._seen = {mention_digest(m) for m in self._seen}  # type: ignore[arg-type]
                self.digests = True
            return
        if len(self._seen) > self.digest_limit:
            self._seen.clear()
        self._seen.update(mention_digest(m) if isinstance(m, tuple) else m for m in marks)
