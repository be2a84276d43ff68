"""Benchmark of risk checks: in-process check p50/p99, index rebuild after a list change, memory.

    .venv/bin/python bench/risk.py --firms 20000                 # demo generator + ingest pipeline
    .venv/bin/python bench/risk.py --firms 1000000 --writer      # synthetic graph straight through a writer

Targets (issue 4): p99 <= 2 ms per check on 1M firms, index rebuild <= 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402

from graph.backends.memory import open_store  # noqa: E402
from graph.identifiers import make_resident_id, make_uscc  # noqa: E402
from graph.model import Link, LinkKind, NameFact, Party, PartyKind, Record, RecordKind  # noqa: E402
from graph.store import fact_id  # noqa: E402
from queries.risk import check  # noqa: E402
from queries.risk_index import RiskIndexCache  # noqa: E402


def rss_mb() -> float:
    """Resident memory of this process in MB."""
    return psutil.Process().memory_info().rss / 2**20


def build_with_demo(db: Path, firms: int) -> None:
    """Generate the demo files and ingest them."""
    from ingest.demo import generate
    from ingest.pipeline import ingest_paths

    files = db.parent / "files"
    generate(files, firms=firms, progress=False, xlsx=False)
    store = open_store(db)
    ingest_paths(store, [str(files)], progress=False)
    store.close()


def build_with_writer(db: Path, firms: int, seed: int = 5) -> None:
    """Write a synthetic graph of ``firms`` firms through the store writer."""
    rng = random.Random(seed)
    store = open_store(db)
    n_persons = int(firms * 1.6)
    persons = [f"per:{make_resident_id('410105', dt.date(1960, 1, 1) + dt.timedelta(days=i // 900), i % 900)}"
               for i in range(n_persons)]
    orgs = [f"org:{make_uscc('9', '1', '410105', f'{i:08d}')}" for i in range(firms)]
    n_addr = max(firms // 8, 1)
    addrs = [f"adr:郑州市测试路{i}号" for i in range(n_addr)]
    kinds = [LinkKind.DIRECTOR, LinkKind.SUPERVISOR, LinkKind.SENIOR_MANAGER, LinkKind.SHAREHOLDER]
    batch = 50_000
    for lo in range(0, firms, batch):
        parties, names, links, records = [], [], [], []
        for i in range(lo, min(firms, lo + batch)):
            key = orgs[i]
            parties.append(Party(key, PartyKind.ENTERPRISE, f"测试{i}号商贸有限公司", key[4:], "410105",
                                 dt.date(2010, 1, 1)))
            names.append(NameFact(key, f"测试{i}号商贸有限公司"))
            # people are reused across firms (a power-law-ish pool), so the graph is connected
            rep = persons[min(int(rng.paretovariate(1.2)) * 7 + rng.randrange(n_persons), n_persons - 1)]
            links.append(Link(fact_id("lr", rep, key), LinkKind.LEGAL_REPRESENTATIVE, rep, key, dt.date(2012, 1, 1)))
            for _ in range(rng.randint(1, 3)):
                k = rng.choice(kinds)
                holder = persons[rng.randrange(n_persons)]
                ratio = round(rng.random(), 2) if k == LinkKind.SHAREHOLDER else None
                links.append(Link(fact_id(k, holder, key), k, holder, key, dt.date(2013, 1, 1), ratio=ratio))
            if rng.random() < 0.6:
                a = addrs[min(int(rng.paretovariate(1.0)) - 1, n_addr - 1)] if rng.random() < 0.3 else \
                    addrs[rng.randrange(n_addr)]
                links.append(Link(fact_id("adr", key, a), LinkKind.SHARED_ADDRESS, key, a, dt.date(2010, 1, 1)))
            r = rng.random()
            if r < 0.02:
                records.append(Record(fact_id("le", key), RecordKind.LIST_ENTRY, key, dt.date(2021, 3, 1),
                                      attrs={"list_type": "严重失信主体名单", "decision_no": f"测〔2021〕{i}号",
                                             "authority": "测试委"}))
            elif r < 0.025:
                records.append(Record(fact_id("cd", key), RecordKind.COURT_DISHONEST, key, dt.date(2021, 5, 1),
                                      attrs={"case_no": f"(2021)豫01执{i}号", "court": "测试法院"}))
            elif r < 0.03:
                records.append(Record(fact_id("red", key), RecordKind.LIST_ENTRY, key, dt.date(2020, 1, 1),
                                      attrs={"list_type": "诚信典型红名单"}))
        with store.writer("bench") as w:
            w.put_parties(parties)
            w.put_names(names)
            w.put_links(links)
            w.put_records(records)
    with store.writer("bench") as w:
        w.put_parties(Party(p, PartyKind.PERSON, f"人员{i}", p[4:]) for i, p in enumerate(persons))
        w.put_parties(Party(a, PartyKind.ADDRESS, a[4:]) for a in addrs)
    store.close()


def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--firms", type=int, default=20_000)
    ap.add_argument("--writer", action="store_true", help="synthetic graph through a writer instead of demo+ingest")
    ap.add_argument("--checks", type=int, default=3000)
    ap.add_argument("--db", type=Path, default=None, help="reuse (or create) this store file")
    args = ap.parse_args()
    db = args.db or Path(tempfile.mkdtemp(prefix="cg-bench-")) / "bench.sqlite"
    t = time.perf_counter()
    if not db.exists():
        if args.writer:
            build_with_writer(db, args.firms)
        else:
            try:
                build_with_demo(db, args.firms)
            except ImportError:
                build_with_writer(db, args.firms)
    print(f"graph ready in {time.perf_counter() - t:.1f}s at {db}")
    base = rss_mb()
    store = open_store(db)
    t = time.perf_counter()
    view = store.view()
    counts = view.counts()
    print(f"store open + link index: {time.perf_counter() - t:.2f}s; counts {counts}")
    as_of = dt.date.today()
    cache = RiskIndexCache(3)
    t = time.perf_counter()
    index = cache.get(view, as_of)
    first = time.perf_counter() - t
    print(f"first index build: {first:.2f}s {({k: round(v, 2) for k, v in index.timings.items()})}; "
          f"{len(index.sources)} punished sources, {index.label_count()} labels, {index.nbytes() / 2**20:.0f} MB")
    keys = [p.key for p in view.iter_parties([PartyKind.ENTERPRISE, PartyKind.PERSON])]
    rng = random.Random(1)
    sample = rng.sample(keys, min(args.checks, len(keys)))
    for k in sample[:50]:
        check(view, k, as_of, index=index)  # warm-up
    times, grades = [], {}
    for k in sample:
        t = time.perf_counter()
        rep = check(view, k, as_of, index=index)
        times.append((time.perf_counter() - t) * 1000)
        grades[rep.grade] = grades.get(rep.grade, 0) + 1
    times.sort()
    p50 = statistics.median(times)
    p99 = times[int(len(times) * 0.99) - 1]
    print(f"check (index) over {len(times)}: p50 {p50:.3f} ms  p99 {p99:.3f} ms  max {times[-1]:.2f} ms; grades {grades}")
    firm = next(k for k in sample if k.startswith("org:"))
    with store.writer("bench") as w:
        w.put_records([Record(fact_id("bench-entry", firm, time.time()), RecordKind.LIST_ENTRY, firm,
                              as_of - dt.timedelta(days=1), attrs={"list_type": "严重失信主体名单",
                                                                   "decision_no": "测〔新〕1号"})])
    view = store.view()
    t = time.perf_counter()
    index = cache.get(view, as_of)
    rebuild = time.perf_counter() - t
    print(f"index rebuild after a new list entry: {rebuild:.2f}s {({k: round(v, 2) for k, v in index.timings.items()})}")
    print(f"memory: process RSS {rss_mb():.0f} MB ({rss_mb() - base:+.0f} MB since open), index {index.nbytes() / 2**20:.0f} MB")
    ok = p99 <= 2.0 and rebuild <= 5.0
    print(f"targets p99 <= 2 ms and rebuild <= 5 s: {'met' if ok else 'NOT met'} on this store "
          f"({counts.get('parties.enterprise', 0) + counts.get('parties.individual_business', 0):,} firms)")
    store.close()


if __name__ == "__main__":
    main()
