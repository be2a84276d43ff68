"""Load benchmark of ``GET /api/v1/risk/{key}`` over loopback HTTP, side by side with a trivial endpoint.

    .venv/bin/python bench/api.py --db bench/out/bench-1000000.sqlite --repeat 3   # copied first: never written
    .venv/bin/python bench/api.py --firms 2000                             # builds a demo store first

``--db`` is copied into a temporary folder first (4.4 GB, about a minute, for the 1M store;
the folder is removed afterwards). The copy is needed: the benchmark only reads, but opening
a store with newer code may bring it up to date in place (e.g. fill a search index), and a
hard link (``--link``) would let that reach the original file (ext4 has no reflink copies,
and the embedded store has no read-only opening). ``--link`` saves the copy when the store
is known to be current; the original's size and modification time are checked after the run.

The server (uvicorn, one worker, the real app with auth, rate limits, masking and audit) runs in
a second process; this process drives it with a minimal asyncio HTTP/1.1 client over
``--concurrency`` keep-alive connections, ``--requests`` requests per phase, after a warm-up
of ``--warm-up`` checks of other firms (its figures are printed apart):

* ``trivial``     ``GET /bench/trivial`` (no auth, returns {"ok": true}): the ceiling on this machine
* ``risk-cold``   every request a different firm (no answer cache can help; risk index only),
  the firms of each phase a seeded random sample of all firms
* ``risk-warm``   ``--warm-keys`` firms asked over and over (answers cached per store version)
* ``batch``       (``--batches N``) N batches of 1,000 different firms to ``POST /api/v1/risk/check``
  one after another, then the same N again (answers cached per store version): keys/s and
  ms per batch, the approval desks' way of calling
* ``after-write`` (``--write``) every request a different firm, and 0.2 s in a credit repair is
  posted: what approval desks see while the risk index catches up with a change (max = the
  longest wait)

The server runs with its risk worker (``api.risk_worker``, as ``creditgraph serve`` on two cores)
unless ``--no-worker``. Each phase also prints the CPU used per request by the server process
(and, of that, in the kernel), by its risk worker and by this client: on a machine this noisy
the server's CPU per request compares endpoints more steadily than throughput does.

``--repeat`` runs the three phases that many times (new firms for every cold phase), then
``trivial`` once more; the ratios are against the mean of all trivial phases of the run.

Targets (issue 6): risk throughput >= 0.8x trivial, p99 <= 25 ms. Client and server share the
machine's cores, so figures are a floor and noisy on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def serve(db: str, port: int, key_file: str, worker: bool, stalls: str = "") -> None:
    """The server process: the real app plus a trivial endpoint (``worker``: with the risk worker;
    ``stalls``: a file to note each stall of the event loop in, see :func:`_watch_stalls`)."""
    import uvicorn

    from api.app import create_app
    from api.auth import ApiSettings, create_key

    settings = ApiSettings(db=db, rate_per_second=1e6, rate_burst=1_000_000, webhooks_enabled=False,
                           risk_worker=worker)
    app = create_app(settings)

    @app.get("/bench/trivial", include_in_schema=False)
    async def trivial() -> dict[str, bool]:
        return {"ok": True}

    key = create_key(app.state.api.db, "supervision_system", "bench")[1]
    writer = create_key(app.state.api.db, "investigator", "bench-writer")[1]
    Path(key_file + ".writer").write_text(writer)
    Path(key_file).write_text(key)
    if not stalls:
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)

    async def watched() -> None:
        watch = asyncio.create_task(_watch_stalls(stalls))
        try:
            await server.serve()
        finally:
            watch.cancel()

    # what uvicorn.run does (its event loop, uvloop when installed), with the watch on the loop
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(watched())


async def _watch_stalls(path: str, over: float = 0.05) -> None:
    """Note in ``path`` every stall of the event loop longer than ``over`` seconds: when (also on
    the wall clock, to match with the client's slowest requests), how long, the garbage
    collections during it, and the stacks of the loop thread and of the others as a watchdog
    thread saw them while it lasted (every 5 ms; while a thread holds the GIL the watchdog
    cannot look, so such a stall shows once, as it ends)."""
    import gc
    import traceback

    beat = [time.perf_counter()]
    loop_thread = threading.get_ident()
    collections: list[tuple[float, float, int]] = []  # (start, seconds, generation)
    began: dict[str, float] = {}

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            began["t"] = time.perf_counter()
        elif "t" in began:
            collections.append((began["t"], time.perf_counter() - began.pop("t"), info["generation"]))
            del collections[:-200]

    gc.callbacks.append(timed)
    out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the server's life
    started = time.perf_counter()

    def watchdog() -> None:
        seen: dict[str, int] = {}
        stalled_at = None
        while True:
            time.sleep(0.005)
            now = time.perf_counter()
            lag = now - beat[0]
            if lag > over:
                stalled_at = stalled_at or beat[0]
                frames = sys._current_frames()
                frame = frames.get(loop_thread)
                if frame is not None:
                    where = "".join(traceback.format_stack(frame, limit=14))
                    # the other threads too: one holding the GIL in a long C call stalls the loop
                    names = {t.ident: t.name for t in threading.enumerate()}
                    for ident, other in frames.items():
                        if ident not in (loop_thread, threading.get_ident()):
                            where += f"  [thread {names.get(ident, ident)}]\n" + "".join(
                                "    " + line for line in traceback.format_stack(other, limit=4))
                    seen[where] = seen.get(where, 0) + 1
            elif stalled_at is not None:
                gcs = [f"gen{g} {1000 * d:.0f} ms" for t, d, g in collections if t >= stalled_at - 0.01 and d > 0.002]
                wall = time.time() - (time.perf_counter() - stalled_at)
                out.write(f"\n=== stall of {1000 * (beat[0] - stalled_at):.0f} ms at {stalled_at - started:.1f} s "
                          f"after the watch began (wall clock {wall:.3f}); collections in it: {gcs or 'none'}\n")
                for where, n in sorted(seen.items(), key=lambda kv: -kv[1])[:3]:
                    out.write(f"--- seen {n}x:\n{where}")
                out.flush()
                seen, stalled_at = {}, None

    threading.Thread(target=watchdog, name="stall-watch", daemon=True).start()
    while True:
        beat[0] = time.perf_counter()
        await asyncio.sleep(0.005)


async def load(base: str, paths: list[str], concurrency: int, key: str, starts: list[float] | None = None
               ) -> tuple[float, list[float], dict[int, int]]:
    """Send every path once over ``concurrency`` keep-alive connections; return seconds, latencies, statuses
    (``starts``: gets each request's wall-clock start, in the order of the latencies).

    A minimal HTTP/1.1 client on asyncio streams: httpx.AsyncClient's pool collapses above ~10
    concurrent connections (150 req/s at 50 on this machine, p99 1.7 s, even against a trivial
    endpoint), which would measure the client, not the server."""
    host, port = base.split("//", 1)[1].split(":")
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    todo = list(reversed(paths))
    head = f"Host: {host}:{port}\r\nX-API-Key: {key}\r\nAccept: application/json\r\n\r\n"

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while todo:
                path = todo.pop()
                t = time.perf_counter()
                writer.write(f"GET {path} HTTP/1.1\r\n{head}".encode())
                header = await reader.readuntil(b"\r\n\r\n")
                status = int(header[9:12])
                length = 0
                for line in header.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - t)
                if starts is not None:
                    starts.append(time.time() - latencies[-1])
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, statuses


def pct(values: list[float], q: float) -> float:
    """The q-quantile in milliseconds."""
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000 if s else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="store to benchmark (copied to a temporary folder first)")
    parser.add_argument("--link", action="store_true",
                        help="hard-link the store instead of copying it (only for a store current with the code)")
    parser.add_argument("--repeat", type=int, default=1, help="run the phases this many times")
    parser.add_argument("--firms", type=int, default=2000, help="without --db: build a demo store of this size")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--warm-keys", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=4000,
                        help="different firms checked after the start, before the phases (shown apart)")
    parser.add_argument("--write", action="store_true",
                        help="end with a phase of cold checks during which a credit repair is posted "
                             "(changes the store: not with --link)")
    parser.add_argument("--batches", type=int, default=0,
                        help="also time this many batch checks of 1,000 firms (then the same again)")
    parser.add_argument("--port", type=int, default=18731)
    parser.add_argument("--no-worker", action="store_true",
                        help="answer every check in the server process (no api.risk_worker), as before")
    parser.add_argument("--stalls", default="",
                        help="note every stall of the server's event loop over 50 ms in this file "
                             "(its garbage collections and the stacks of the server's threads)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--key-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.db, args.port, args.key_file, not args.no_worker, args.stalls)
        return

    if args.write and args.link:
        raise SystemExit("--write changes the store: it needs a copy, not --link")
    before = _stamp(args.db) if args.db else None
    tmp = Path(tempfile.mkdtemp(prefix="cg-bench-api-"))
    try:
        db = tmp / "store.sqlite"
        if args.db:
            print(f"{_place(args.db, db, args.link)} {args.db}")
        else:
            from graph.backends.memory import open_store
            from ingest.demo import generate
            from ingest.pipeline import ingest_paths

            generate(tmp / "files", firms=args.firms, progress=False, xlsx=False)
            store = open_store(db)
            ingest_paths(store, [str(tmp / "files")], progress=False)
            store.close()
        conn = sqlite3.connect(db)
        # not the registers' no-code marker: a check by it is refused at once (422), no check at all
        firms = [r[0] for r in conn.execute("SELECT code FROM parties WHERE kind = 'enterprise' AND code != '' "
                                            "AND code != '00000000000000000X' ORDER BY id")]
        parties = conn.execute("SELECT COUNT(*) FROM parties").fetchone()[0]
        # an entry to repair in the --write phase: a black-list entry in force
        entry = conn.execute("SELECT fid FROM records WHERE kind = 'list_entry' AND end IS NULL "
                             "AND attrs LIKE '%失信%' ORDER BY id LIMIT 1").fetchone()
        links = conn.execute("SELECT COUNT(*) FROM links").fetchone()[0]
        conn.close()
        # every phase a uniform sample of the same firms: taken in id order, the phases had
        # different mixes (at 1M, 31.7 % of the first phase's firms had something to report and
        # 23.7 % of the second's, against 27.0 % of all firms: the demo's warned firms cluster
        # by id), and the first phase always looked slowest
        random.Random(20261126).shuffle(firms)
        batch_keys = 1000 * args.batches
        # a small store: at most a quarter of its firms for the warm-up, the rest for the phases
        warm_up = min(args.warm_up, len(firms) // 4)
        step = max(1, len(firms) // (args.requests * (args.repeat + args.write) + batch_keys + warm_up))
        cold = firms[::step]
        first, cold = cold[:warm_up], cold[warm_up:]
        batch_firms = cold[len(cold) - batch_keys:] if batch_keys else []
        warm = firms[:: max(1, len(firms) // args.warm_keys)][: args.warm_keys]
        key_file = tmp / "key"
        proc = subprocess.Popen([sys.executable, __file__, "--serve", "--db", str(db), "--port", str(args.port),
                                 "--key-file", str(key_file)] + (["--no-worker"] if args.no_worker else [])
                                + (["--stalls", str(Path(args.stalls).resolve())] if args.stalls else []))
        base = f"http://127.0.0.1:{args.port}"
        try:
            import httpx

            t = time.perf_counter()
            while True:
                try:
                    if key_file.exists() and httpx.get(base + "/healthz", timeout=60).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.perf_counter() - t > 600:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            key = key_file.read_text().strip()
            started = time.perf_counter()
            r = httpx.get(f"{base}/api/v1/risk/{warm[0]}", headers={"X-API-Key": key}, timeout=600)
            print(f"store: {len(firms):,} enterprises, {parties:,} parties, {links:,} links; server up in "
                  f"{started - t:.1f} s; first risk answer (index build) {time.perf_counter() - started:.1f} s "
                  f"[{r.status_code}]")
            if not args.no_worker:  # the phases measure the server with its risk worker answering
                while (state := httpx.get(base + "/healthz", timeout=60).json()["risk_worker"]) != "serving":
                    if time.perf_counter() - started > 900 or state in ("off", "stopped"):
                        raise SystemExit(f"the risk worker is {state}")
                    time.sleep(0.5)
                print(f"risk worker serving {time.perf_counter() - started:.1f} s after the first answer")
            else:
                print("no risk worker: the server answers every check itself")
            asyncio.run(load(base, ["/bench/trivial"] * 300 + [f"/api/v1/risk/{k}" for k in warm[:50]],
                             args.concurrency, key))  # connections, code paths
            if first:
                # the first checks after a start fill the server's memos (punished parties and
                # their paths recur in many answers) and touch the store's pages for the first
                # time: shown, not counted in the phases, which measure the server as approval
                # desks meet it all day
                starts: list[float] = []
                faults = _major_faults(proc.pid)
                seconds, lat, statuses = asyncio.run(load(base, [f"/api/v1/risk/{k}" for k in first],
                                                          args.concurrency, key, starts))
                print(f"warm-up: the first {len(first):,} checks after the start, all different firms: "
                      f"{len(first) / seconds:,.0f} req/s, p50 {pct(lat, 0.5):.1f} ms, p99 {pct(lat, 0.99):.1f} ms "
                      f"{statuses}; {_major_faults(proc.pid) - faults:,} major page faults in the server and worker")
                if args.stalls:  # to match with the server's stalls (wall clock)
                    slow = sorted(zip(lat, starts, strict=True), reverse=True)[:5]
                    print("  slowest: " + ", ".join(f"{1000 * d:.0f} ms from {t:.3f}" for d, t in slow))
            phases = []
            for r in range(args.repeat):
                fresh = cold[r * args.requests : (r + 1) * args.requests]
                phases += [("trivial", ["/bench/trivial"] * args.requests),
                           ("risk-cold", [f"/api/v1/risk/{k}" for k in fresh]),
                           ("risk-warm", [f"/api/v1/risk/{warm[i % len(warm)]}" for i in range(args.requests)])]
            phases.append(("trivial", ["/bench/trivial"] * args.requests))
            if args.write and entry is not None:
                fresh = cold[args.repeat * args.requests : (args.repeat + 1) * args.requests]
                phases.append(("after-write", [f"/api/v1/risk/{k}" for k in fresh]))
            results: dict[str, list[tuple[float, float, float]]] = {}
            print(f"\n{args.requests:,} requests per phase, {args.concurrency} connections, loopback, "
                  f"{os.cpu_count()} cores shared by client and server")
            print(f"{'phase':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'server':>7} {'of sys':>7} {'worker':>7} {'client':>7}  statuses"
                  "   (µs of CPU per request: the server process, of that in the kernel, its risk worker, the client)")
            for name, paths in phases:
                if not paths:  # a store too small for this many phases
                    print(f"{name:<10} (no firms left for this phase)")
                    continue
                poster = None
                if name == "after-write":  # the repair is posted while the checks run
                    poster = threading.Thread(target=_post_repair, args=(base, key_file, entry[0]))
                    poster.start()
                cpu = _cpu(proc.pid), os.times(), _children_cpu(proc.pid)
                seconds, lat, statuses = asyncio.run(load(base, paths, args.concurrency, key))
                used = _cpu(proc.pid)
                server_us = (sum(used) - sum(cpu[0])) / len(paths) * 1e6
                system_us = (used[1] - cpu[0][1]) / len(paths) * 1e6
                worker_us = (_children_cpu(proc.pid) - cpu[2]) / len(paths) * 1e6
                now = os.times()
                client_us = (now.user + now.system - cpu[1].user - cpu[1].system) / len(paths) * 1e6
                if poster is not None:
                    poster.join()
                rps = len(paths) / seconds
                results.setdefault(name, []).append((rps, pct(lat, 0.5), pct(lat, 0.99)))
                print(f"{name:<10} {rps:>8,.0f} {pct(lat, 0.5):>8.1f} {pct(lat, 0.99):>8.1f} {server_us:>7.0f} {system_us:>7.0f} {worker_us:>7.0f} "
                      f"{client_us:>7.0f}  {statuses}"
                      + (f"  max {max(lat) * 1000:.0f} ms" if name == "after-write" else ""))
            trivial = statistics.mean(r[0] for r in results["trivial"])
            print(f"\ntrivial: mean {trivial:,.0f} req/s, p99 "
                  f"{', '.join(f'{r[2]:.1f}' for r in results['trivial'])} ms")
            for name in ("risk-cold", "risk-warm"):
                for i, (rps, _p50, p99) in enumerate(results.get(name, [])):
                    # the trivial phase of the same round (just before risk-cold): on a machine
                    # whose speed drifts between phases, the fairer comparison
                    own = results["trivial"][i][0]
                    print(f"{name}: {rps / trivial:.2f}x the mean trivial throughput, {rps / own:.2f}x its round's "
                          f"(target >= 0.8), p99 {p99:.1f} ms (target <= 25 ms at {args.concurrency} connections)")
            if len(results.get("risk-cold", [])) > 1:
                pairs = [rps / results["trivial"][i][0] for i, (rps, _p50, _p99) in enumerate(results["risk-cold"])]
                print(f"risk-cold over {len(pairs)} phases: median {statistics.median(pairs):.2f}x its round's trivial, "
                      f"median p99 {statistics.median(r[2] for r in results['risk-cold']):.1f} ms")
            if batch_firms:
                _batches(base, key, batch_firms)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if args.db and _stamp(args.db) != before:  # the server must only have read it
            print(f"warning: {args.db} changed during the run (size or modification time)")


def _batches(base: str, key: str, firms: list[str]) -> None:
    """Batch checks of 1,000 firms each, one after another on one connection; then the same again."""
    import httpx

    chunks = [firms[i : i + 1000] for i in range(0, len(firms), 1000)]
    print(f"\nbatch checks: {len(chunks)} x 1,000 different firms, one connection")
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=600) as client:
        for label in ("first time", "asked again"):
            times, sizes, statuses = [], [], {}
            for chunk in chunks:
                t = time.perf_counter()
                r = client.post("/api/v1/risk/check", json={"items": [{"key": k} for k in chunk]})
                times.append(time.perf_counter() - t)
                sizes.append(len(r.content))
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            keys = sum(len(c) for c in chunks)
            print(f"batch {label:<11} {keys / sum(times):>8,.0f} keys/s; ms per batch "
                  f"{', '.join(f'{x * 1000:.0f}' for x in times)}; {statistics.mean(sizes) / 1e6:.1f} MB per "
                  f"answer; {statuses}")


def _post_repair(base: str, key_file: Path, entry_id: str) -> None:
    """Post a credit repair of ``entry_id`` (0.2 s into the phase) and say how long it took."""
    import httpx

    time.sleep(0.2)
    writer = Path(str(key_file) + ".writer").read_text().strip()
    t = time.perf_counter()
    r = httpx.post(f"{base}/api/v1/list-entries/{entry_id}/repair", timeout=600, headers={"X-API-Key": writer},
                   json={"date": time.strftime("%Y-%m-%d"), "by": "bench", "note": "bench --write"})
    print(f"(a credit repair of entry {entry_id} posted 0.2 s into the phase, answered in "
          f"{time.perf_counter() - t:.2f} s [{r.status_code}])")


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu(pid: int) -> tuple[float, float]:
    """Seconds of CPU (user, system) the process ``pid`` has used, its threads included."""
    fields = _stat(pid)
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (the risk worker, a resource tracker)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _major_faults(pid: int) -> int:
    """Major page faults (a page read from disk) of ``pid`` and its child processes so far."""
    total = 0
    for p in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            total += int(_stat(p)[9])
    return total


def _children_cpu(pid: int) -> float:
    """Seconds of CPU the child processes of ``pid`` have used."""
    total = 0.0
    for child in _children(pid):
        with contextlib.suppress(OSError):  # it ended meanwhile
            total += sum(_cpu(child))
    return total


def _stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def _place(src: str, dst: Path, link: bool) -> str:
    """Copy (or hard-link) the store ``src`` to ``dst``; return what was done."""
    t = time.perf_counter()
    if link:
        try:
            os.link(src, dst)
            return "hard-linked"
        except OSError:
            pass  # another file system, or links not allowed: copy
    shutil.copy(src, dst)
    copied = time.perf_counter() - t
    # the copy's 4.4 GB of dirty pages were still being written out while the first phases
    # ran (their p99 fell from 229 to 35 ms over three phases, against 53 ms with --link)
    os.sync()
    return f"copied in {copied:.1f} s (written out in {time.perf_counter() - t - copied:.1f} s more)"


if __name__ == "__main__":
    main()
