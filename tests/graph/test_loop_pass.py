"""Once-per-pass looks: a token per event-loop pass, and the store and key ring using it."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from graph.backends.memory import open_store
from graph.loop_pass import current_pass
from tests.factories import firm, write_graph


def test_a_token_lasts_one_pass_of_the_loop() -> None:
    assert current_pass() is None  # no loop: nothing to cache by

    async def main() -> list[Any]:
        first, again = current_pass(), current_pass()
        await asyncio.sleep(0)  # the next pass
        return [first, again, current_pass()]

    first, again, later = asyncio.run(main())
    assert first is not None and first is again and later is not first


def test_a_loop_never_takes_the_token_a_closed_loop_left_at_its_address() -> None:
    """A loop closed before its next pass leaves its token behind; a new loop at the same
    address gets tokens of its own, one per pass (or its checks would never run again)."""
    from graph import loop_pass

    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        stale = object()
        loop_pass._PASSES[id(loop)] = (object(), stale)  # type: ignore[assignment]  # another loop's entry
        first = current_pass()
        await asyncio.sleep(0)
        return [stale, first, current_pass()]

    stale, first, later = asyncio.run(main())
    assert first is not stale and later is not first and later is not None


def test_the_store_looks_for_other_writers_once_per_pass(tmp_path: Path) -> None:
    """A commit by another connection (another process) shows in the next pass, never later;
    a commit by this store's own writer shows at once."""
    mine = open_store(tmp_path / "s.sqlite")
    other = open_store(tmp_path / "s.sqlite")  # as another process would

    async def main() -> list[int]:
        seen = [mine.stored_version()]
        write_graph(other, [firm("郑州甲有限公司")])
        seen.append(mine.stored_version())  # same pass: not looked at again
        await asyncio.sleep(0)
        seen.append(mine.stored_version())  # next pass: seen
        write_graph(mine, [firm("郑州乙有限公司")])
        seen.append(mine.stored_version())  # own commit: at once, same pass
        return seen

    try:
        before, same_pass, next_pass, own = asyncio.run(main())
        assert same_pass == before and next_pass == before + 1 and own == before + 2
        assert mine.stored_version() == own  # outside a loop: looked at every time
    finally:
        mine.close()
        other.close()


def test_the_key_ring_sees_a_revocation_from_the_next_pass(tmp_path: Path) -> None:
    from api.auth import ApiDatabase, KeyRing, create_key, revoke_key

    server, cli = ApiDatabase(tmp_path / "api.sqlite"), ApiDatabase(tmp_path / "api.sqlite")
    ring = KeyRing(server)
    key, text = create_key(cli, "supervision_system", "to-revoke")

    async def main() -> list[bool]:
        seen = [ring.verify(text) is not None]
        revoke_key(cli, key.id)
        seen.append(ring.verify(text) is not None)
        await asyncio.sleep(0)
        seen.append(ring.verify(text) is not None)
        return seen

    try:
        assert asyncio.run(main()) == [True, True, False]
    finally:
        server.close()
        cli.close()


def test_audit_times_are_exact_to_the_millisecond() -> None:
    from api.auth import now_iso

    for _ in range(200):
        start = dt.datetime.now(dt.UTC)
        before = start.replace(microsecond=start.microsecond // 1000 * 1000)
        text = now_iso()
        after = dt.datetime.now(dt.UTC)
        when = dt.datetime.fromisoformat(text)
        assert before <= when <= after and len(text) == len("2026-01-01T00:00:00.000+00:00"), text
        assert when.microsecond % 1000 == 0
