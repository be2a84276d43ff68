"""Index builds collect only the youngest generation, freeze what the process holds, and put
the collector's thresholds back, overlapping builds included."""

from __future__ import annotations

import gc
import threading

from queries.young_gc import young_collections_only


def _tracked(objects: list[object]) -> bool:
    ids = {id(o) for o in gc.get_objects()}
    return any(id(o) in ids for o in objects)


def test_young_collections_only_inside_and_everything_frozen_after() -> None:
    thresholds = gc.get_threshold()
    held = [[i] for i in range(100)]  # long-lived objects made before a build (a link index)
    with young_collections_only():
        assert not _tracked(held)  # frozen before the build
        assert gc.get_threshold()[0] == thresholds[0] and gc.get_threshold()[1] > 10**8
        made = [[i] for i in range(100)]  # the build's own
    assert gc.get_threshold() == thresholds
    assert not _tracked(made)


def test_young_cycles_made_meanwhile_are_still_collected() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    with young_collections_only():
        Node()  # a cycle another thread leaves behind during a build
        assert gc.collect(0) >= 1


def test_overlapping_builds_keep_young_collections_only_until_the_last_ends() -> None:
    thresholds = gc.get_threshold()
    inside, leave = threading.Event(), threading.Event()

    def other_build() -> None:
        with young_collections_only():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other_build)
    with young_collections_only():
        thread.start()
        assert inside.wait(10)
    assert gc.get_threshold() != thresholds  # the other build still runs
    leave.set()
    thread.join(10)
    assert gc.get_threshold() == thresholds
