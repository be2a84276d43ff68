"""A real `creditgraph ingest` killed with SIGKILL mid-run loses no committed batch, leaves
no partial batch, and a re-run completes the file with the same result as a clean run."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from graph.backends.memory import open_store
from graph.identifiers import make_resident_id, make_uscc

ROWS = 60_000
BATCH = 2_000


def _officers(path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("统一社会信用代码,姓名,证件号码,职务,任职日期\n")
        for i in range(ROWS):
            firm = make_uscc("9", "1", "410105", f"{i // 3:08d}")
            born = dt.date(1960, 1, 1) + dt.timedelta(days=i % 9000)
            person = make_resident_id("410105", born, i // 9000)
            fh.write(f"{firm},测试{i % 97}号,{person},董事,2015-03-05\n")


def _cli() -> list[str]:
    return [sys.executable, "-c", "from api.cli import main; main()"]


def _marks(db: Path) -> dict[str, tuple[str, int]]:
    """Progress marks: one per file, or one per row range when workers share a file."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("SELECT sha256, status, rows FROM files").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return {}
    return {sha: (status, n) for sha, status, n in rows}


def test_sigkill_mid_ingest_keeps_whole_batches_and_rerun_completes(tmp_path: Path) -> None:
    data = tmp_path / "officers.csv"
    _officers(data)
    db = tmp_path / "killed.sqlite"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    # the whole job (the CLI and the worker processes it started) dies at once, as in an
    # out-of-memory kill or a crash of the machine
    proc = subprocess.Popen(
        [*_cli(), "ingest", "--db", str(db), "--batch-rows", str(BATCH), "--quiet", str(data)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if sum(n for _, n in _marks(db).values()) >= 5 * BATCH:
                break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.5)  # let the kernel finish reaping the workers

    marks = _marks(db)
    rows_done = sum(n for _, n in marks.values())
    assert all(status == "partial" for status, _ in marks.values())
    assert 0 < rows_done < ROWS
    assert all(n % BATCH == 0 for _, n in marks.values())
    store = open_store(db)
    try:
        counts = store.view().counts()
        # each row is one director link: exactly the committed rows are there, no half batch
        assert counts["links"] == rows_done
        assert counts["parties.person"] == rows_done
    finally:
        store.close()

    rerun = subprocess.run(
        [*_cli(), "ingest", "--db", str(db), "--batch-rows", str(BATCH), "--quiet", str(data)],
        env=env, capture_output=True, timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr.decode()
    from ingest.readers import file_sha256

    assert _marks(db)[file_sha256(data)] == ("complete", ROWS)

    clean_db = tmp_path / "clean.sqlite"
    clean = subprocess.run(
        [*_cli(), "ingest", "--db", str(clean_db), "--quiet", str(data)], env=env, capture_output=True, timeout=300
    )
    assert clean.returncode == 0, clean.stderr.decode()
    killed, fresh = open_store(db), open_store(clean_db)
    try:
        a, b = killed.view().counts(), fresh.view().counts()
        assert a == b and a["links"] == ROWS
        assert sorted(lk.id for lk in killed.view().iter_links()) == sorted(lk.id for lk in fresh.view().iter_links())
    finally:
        killed.close()
        fresh.close()
