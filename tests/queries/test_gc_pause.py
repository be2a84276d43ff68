"""Index builds pause the cyclic collector, overlapping builds included, and leave it as they found it."""

from __future__ import annotations

import gc
import threading

from queries.gc_pause import collections_paused


def test_the_collector_is_paused_inside_and_back_after() -> None:
    assert gc.isenabled()
    with collections_paused():
        assert not gc.isenabled()
        made = [[i] for i in range(1000)]  # what a build makes: frozen at the end, not walked again
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(made)
    gc.unfreeze()


def test_overlapping_builds_in_two_threads_keep_it_paused_until_the_last_ends() -> None:
    inside, leave = threading.Event(), threading.Event()

    def other_build() -> None:
        with collections_paused():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other_build)
    with collections_paused():
        thread.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other build still runs
    leave.set()
    thread.join(10)
    assert gc.isenabled()
    gc.unfreeze()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collections_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()
