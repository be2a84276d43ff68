"""A second process that answers today's risk checks, so that a server uses two cores.

A server is one Python process: whatever its machine has, it answers on one core. Measured
on the 1M-firm store (``bench/api.py``, CPU per request), a cold risk check cost the server
about 1.45 times what a trivial endpoint cost, and almost all of the difference is the check
itself (the risk index's walks, the warning texts, serialising and masking), about 300 µs for
the 27 % of firms with something to report. No piece of that is large enough to remove.

So the check moves out. :class:`RiskWorker` starts a process (``spawn``: the server has threads
by then) that opens the same store read-only in effect (it never writes), builds its own risk
index for today, and answers ``(key, day, hops, masked, version)`` with the finished body, as
the server's own handler would have made it. The server keeps everything else: the key, the
rate limit, the audit row, the answer cache. Requests of one pass of the event loop go over a
socket pair as one message, and their answers come back as one.

The worker answers only for the store version the server asked about and only from an index
built on exactly that version; for anything else it says so (``None``) and the server answers
itself, as before. So a change through the API (a repair, an objection's resolution) is in the
next check's answer at once (the server rebuilds its own index before the writer returns, as
before), while the worker rebuilds in the background and takes over again when it is done (it
looks for a new store version or a new day whenever it has had nothing to do for a second,
which is soon after the server stops sending). A worker that dies or is still building only
costs speed, never an answer. Like the server, it builds the next day's index before midnight
(:func:`api.routes.common.prebuild_each_day`) and serves it from the first check of the day.

Memory: the worker holds a second copy of the store's link index and of the risk index (the
risk index alone is 1.19 GB at 1M firms); ``CREDITGRAPH_RISK_WORKER=0`` turns it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import multiprocessing
import pickle
import select
import socket
import struct
import sys
import threading
from collections.abc import Callable
from typing import Any

import graph.store as errors
from api.malloc_arena import one_arena_env
from api.masking import mask_body, warm_up
from api.routes.common import GIL_SWITCH_INTERVAL, RiskService, dump, prebuild_each_day
from graph.backends.memory import open_store

log = logging.getLogger("creditgraph.api")

HOPS = 3  # the default check (the only one offloaded: other hops or dates are rare)
_POLL_SECONDS = 1.0  # how often an idle worker looks for a new store version or a new day


class RiskWorker:
    """The server's side: sends checks to the worker process and awaits their bodies.

    Use :meth:`start` inside the running event loop (the lifespan), :meth:`answer` from a
    handler, and :meth:`close` at shutdown."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self._sock: socket.socket | None = None
        self._proc: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._outbox: list[tuple[Any, ...]] = []
        self._inbuf = bytearray()  # what arrived of the worker's next messages
        self._outbuf = bytearray()  # what the socket did not take yet
        self._writing = False
        self._seq = 0
        # (store version, day) of the index the worker last said it answers from
        self.serving: tuple[int, int] | None = None
        self.answered = 0  # checks the worker answered (for the tests and for whoever debugs)

    def start(self) -> None:
        """Start the worker process and listen for its messages on the running loop."""
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = socket.socketpair()
        self._proc = ctx.Process(target=serve_checks, args=(theirs, self.db_path), name="creditgraph-risk-worker",
                                 daemon=True)
        with one_arena_env():  # its index builds run on threads too (see api.malloc_arena)
            self._proc.start()
        theirs.close()
        ours.setblocking(False)  # the event loop's end: it never waits on the worker
        self._sock = ours
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(ours.fileno(), self._on_readable)

    def ready_for(self, version: int, day: dt.date, hops: int = HOPS) -> bool:
        """True when the worker answers checks of ``day`` (its today) looking ``hops`` out on
        store ``version``."""
        return hops == HOPS and self.serving == (version, day.toordinal())

    def state(self, version: int, day: dt.date) -> str:
        """What the worker does for checks of store ``version`` on ``day``, in a word (for /healthz)."""
        if self._sock is None and self._proc is not None:
            return "stopped"
        if self.serving is None:
            return "starting"
        return "serving" if self.ready_for(version, day) else "catching up"

    async def answer(self, key: str, day: dt.date, hops: int, masked: bool, version: int) -> tuple[str, bytes] | None:
        """The worker's answer: (the subject's party key, the body), or None when it does not
        answer this (another version, index not built, worker gone): the caller answers itself.
        A :class:`~graph.store.CreditGraphError` raised by the check is raised here."""
        if self._sock is None or self._loop is None:
            return None
        self._seq += 1
        future: asyncio.Future[Any] = self._loop.create_future()
        self._pending[self._seq] = future
        if not self._outbox:
            self._loop.call_soon(self._flush)  # everything asked in this pass goes as one message
        self._outbox.append((self._seq, key, day.toordinal(), hops, masked, version))
        got = await future
        if got is None:
            return None
        if got[0] == "error":
            raise _error(got[1], got[2], got[3])
        self.answered += 1
        return got[1], got[2]

    def _flush(self) -> None:
        batch, self._outbox = self._outbox, []
        if batch and self._sock is not None:
            self._outbuf += _frame(batch)
            self._write()

    def _write(self) -> None:
        assert self._sock is not None and self._loop is not None
        try:
            sent = self._sock.send(self._outbuf)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._gone(f"sending to it failed: {exc}")
            return
        del self._outbuf[:sent]
        if self._outbuf and not self._writing:  # the rest when the socket takes it
            self._loop.add_writer(self._sock.fileno(), self._write)
            self._writing = True
        elif not self._outbuf and self._writing:
            self._loop.remove_writer(self._sock.fileno())
            self._writing = False

    def _on_readable(self) -> None:
        assert self._sock is not None
        try:
            data = self._sock.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError as exc:
            self._gone(f"reading from it failed: {exc}")
            return
        if not data:
            self._gone("it closed its end")
            return
        self._inbuf += data
        while len(self._inbuf) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._inbuf)
            if len(self._inbuf) < _HEADER.size + size:
                return  # the rest of this message is still on its way
            message = pickle.loads(self._inbuf[_HEADER.size : _HEADER.size + size])
            del self._inbuf[: _HEADER.size + size]
            self._received(message)

    def _received(self, message: Any) -> None:
        if message[0] == "serving":
            self.serving = message[1]
            return
        for seq, got in message[1]:
            future = self._pending.pop(seq, None)
            if future is not None and not future.done():
                future.set_result(got)

    def _gone(self, why: str = "") -> None:
        """The worker died or closed its end (``why``), or the server stops it (no reason):
        every check waiting on it is answered by the server."""
        sock = self._sock
        if why and sock is not None:
            log.warning("the risk worker stopped, %s: the server answers every check itself", why)
        if self._loop is not None and sock is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(sock.fileno())
                if self._writing:
                    self._loop.remove_writer(sock.fileno())
        self._writing = False
        self.serving = None
        self._sock = None
        if sock is not None:
            sock.close()
        for future in self._pending.values():
            if not future.done():
                future.set_result(None)
        self._pending.clear()

    def close(self) -> None:
        """Stop the worker (checks still waiting are answered by the server)."""
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setblocking(True)
                sock.sendall(_frame(None))  # its sign to stop
        self._gone()
        if self._proc is not None:
            self._proc.join(timeout=10)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join(timeout=10)
            self._proc = None


_HEADER = struct.Struct("!I")  # each message: its length, then its pickle


def _frame(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


def _read_message(sock: socket.socket) -> Any:
    """The next message on the worker's (blocking) end; EOFError when the server closed it."""
    head = _read_exactly(sock, _HEADER.size)
    return pickle.loads(_read_exactly(sock, _HEADER.unpack(head)[0]))


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the server closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _error(name: str, message: str, field: str) -> Exception:
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, errors.CreditGraphError)):
        cls = errors.CreditGraphError
    try:
        return cls(message, field=field) if field else cls(message)  # type: ignore[call-arg]
    except TypeError:
        return cls(message)


# -- the worker process ----------------------------------------------------------------------
def serve_checks(sock: socket.socket, db_path: str, now: Callable[[], dt.datetime] = dt.datetime.now) -> None:
    """The worker process: answer batches of checks from ``sock`` until told to stop (None) or
    the server goes away. ``now``: the clock (tests set it)."""
    store = open_store(db_path)
    service = RiskService(max_answers=0)
    warm_up()
    gc.set_threshold(20_000, 20, 10)  # as the server's event loop has them (see api.app's lifespan)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)  # checks keep their turn while tomorrow's index builds
    sending = threading.Lock()  # the builder threads announce, the main loop answers
    announced: list[tuple[int, int] | None] = [None]
    building: dict[str, threading.Thread] = {}
    stop = threading.Event()

    def send(message: Any) -> None:
        with sending:
            sock.sendall(_frame(message))

    def announce(version: int, day: dt.date) -> None:
        with sending:
            if announced[0] != (version, day.toordinal()):
                announced[0] = (version, day.toordinal())
                sock.sendall(_frame(("serving", announced[0])))

    def build(day: dt.date) -> None:
        try:
            index = service.index(store.view(), day, HOPS)
            announce(index.version, day)
        except Exception:  # the server answers meanwhile; the next look tries again
            log.exception("the risk worker could not build its index")
        finally:
            building.pop("index", None)

    def look() -> None:
        """Say which index answers today's checks; build it when there is none for today's store
        version (in a thread: checks of the version it has go on being answered meanwhile).
        Tomorrow's is built before midnight (prebuild_each_day), as the server builds its own."""
        day = now().date()
        index = service.ready(store.view(), day, HOPS)
        if index is not None:
            announce(index.version, day)
        elif "index" not in building:
            thread = building["index"] = threading.Thread(target=build, args=(day,), daemon=True)
            thread.start()

    try:
        look()
        threading.Thread(target=prebuild_each_day, args=(service, store, stop), kwargs={"now": now},
                         name="risk-index-ahead", daemon=True).start()
        while True:
            if not select.select([sock], [], [], _POLL_SECONDS)[0]:
                look()
                continue
            batch = _read_message(sock)
            if batch is None:
                return
            view = store.view()  # one look at the store's version for the whole batch
            send(("answers", [(seq, _check(view, service, *args)) for seq, *args in batch]))
    except (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        return  # the server went away
    except BaseException:
        log.exception("the risk worker failed")
        raise
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            store.close()
        sock.close()


def _check(view: Any, service: Any, key: str, day_ordinal: int, hops: int, masked: bool, version: int) -> Any:
    """One check on ``view`` as the server's handler makes it, or None when this worker does not
    answer it (the server asked about another store version, or the index is not built)."""
    day = dt.date.fromordinal(day_ordinal)
    index = service.ready(view, day, hops) if view.version() == version else None
    if index is None:
        return None
    try:
        report = service.report(view, key, day, hops, index)
    except errors.CreditGraphError as exc:
        return ("error", type(exc).__name__, str(exc), getattr(exc, "field", "") or "")
    body = dump(report)
    return ("ok", report.key, mask_body(body) if masked else body)


__all__ = ["HOPS", "RiskWorker", "serve_checks"]
