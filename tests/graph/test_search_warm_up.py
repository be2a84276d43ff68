"""What a server loads before its first name search (graph.search.warm_up)."""

from __future__ import annotations

import subprocess
import sys


def test_warm_up_loads_what_the_first_search_would() -> None:
    # in a fresh interpreter: this one has loaded everything long ago
    probe = ("import sys; from graph import search, textkey; "
             "before = (textkey.ts_table.cache_info().currsize, 'rapidfuzz' in sys.modules); "
             "search.warm_up(); "
             "print(before, (textkey.ts_table.cache_info().currsize, 'rapidfuzz' in sys.modules, "
             "textkey._ts_guard.cache_info().currsize))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "(0, False) (1, True, 1)"
