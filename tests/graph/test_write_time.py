"""The embedded store counts the seconds its write batches wait for the writers' turn and
hold it (what tells a lock-bound ingest from a CPU-bound one)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from graph.backends.memory import open_store
from graph.model import Party, PartyKind


def test_held_and_waited_are_counted(tmp_path: Path) -> None:
    mine, other = open_store(tmp_path / "s.sqlite"), open_store(tmp_path / "s.sqlite")
    try:
        with mine.writer("r") as w:
            w.put_parties([Party("per:1", PartyKind.PERSON, "张三")])
            time.sleep(0.05)
        assert mine.write_time.held >= 0.05
        assert mine.write_time.waited < 0.05

        holding = threading.Event()

        def hold() -> None:  # another opening (as another process would) takes its turn first
            with other.writer("r"):
                holding.set()
                time.sleep(0.2)

        thread = threading.Thread(target=hold)
        thread.start()
        assert holding.wait(5)
        with mine.writer("r") as w:
            w.put_parties([Party("per:2", PartyKind.PERSON, "李四")])
        thread.join()
        assert mine.write_time.waited >= 0.1
        assert other.write_time.held >= 0.2
    finally:
        mine.close()
        other.close()
