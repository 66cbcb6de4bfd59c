"""Fixtures for the service tests: the real app under uvicorn on loopback, on SQLite and on
a throw-away PostgreSQL cluster.  Test modules import what they use from here explicitly.

- ``backend``: "sqlite" or "postgresql" (session-scoped parameter; PostgreSQL tests are
  skipped, with the reason, when no server can be started).  The PostgreSQL runs are marked
  slow: a cluster per test process and a database per server cost the fast tier ~15 % of
  its time, and every test still runs on SQLite there.
- ``postgres``: a temporary cluster started with ``initdb``/``pg_ctl`` (as the ``postgres``
  user when the tests run as root), or the server at ``$ARDLIB_TEST_POSTGRES_URL``.
- ``api_server``: one live server per backend (auth off, rate limit off, CORS allowing
  ``ALLOWED_ORIGIN``); ``api``: an httpx client on it, with every table emptied first.
- ``new_database_url``: a fresh, empty database of the current backend.
- ``serve_app``: ``live_server``, a context manager serving any app on a free loopback port;
  ``settings_for``: ``service_settings``, test settings for a database URL;
  ``allowed_origin``: the origin the test settings allow.

Test modules load this file with ``pytest_plugins = ["conftest_service"]`` and import
nothing from it at run time (an import would stop pytest from rewriting its asserts).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import delete

from ardlib.service import Settings, create_app
from ardlib.service import _tables as t

ALLOWED_ORIGIN = "http://allowed.example"


@dataclass
class LiveServer:
    """A running app: its base URL and the app (for its database)."""

    url: str
    app: FastAPI

    def wipe(self) -> None:
        """Delete every row of every table."""
        db = self.app.state.db
        with db.writing() as session:
            for table in (t.Experiment, t.OptimizationRun, t.AIQuery, t.IdempotencyRecord):
                session.execute(delete(table))


class _Server(uvicorn.Server):
    """uvicorn's server, stopping in milliseconds rather than 150-200 ms.

    uvicorn checks ``should_exit`` every 100 ms and its shutdown then sleeps 100 ms before
    waiting (in 100 ms steps) for connections and tasks; the fast tier stops about 22
    servers, 3.3 s of waiting. The same sequence as ``uvicorn.Server.shutdown`` (close the
    listeners, shut connections down, wait for them and the tasks within the graceful
    timeout, then the lifespan's shutdown), polling every 5 ms.
    """

    async def main_loop(self) -> None:
        tick = 0
        while not await self.on_tick(tick):  # refreshes the date header every 10 ticks
            tick += 1
            await asyncio.sleep(0.005)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        grace = self.config.timeout_graceful_shutdown  # None: no limit, as in uvicorn
        deadline = time.monotonic() + (float("inf") if grace is None else float(grace))
        state = self.server_state
        while (state.connections or state.tasks) and not self.force_exit:
            if time.monotonic() > deadline:
                for task in state.tasks:
                    task.cancel()
                break
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()


@contextlib.contextmanager
def live_server(
    app: FastAPI, *, timeout: float = 20.0, healthy: bool = True
) -> Iterator[LiveServer]:
    """Serve ``app`` with uvicorn in a background thread on a free loopback port; wait until
    it listens and ``/health`` answers (200, or anything when ``healthy`` is False)."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that declare it,
    # and without it every keep-alive request waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        ws="none",
        lifespan="on",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the service did not start on {url}")
            time.sleep(0.01)
        # verify=False: plain HTTP on loopback, no TLS, so no CA bundle to load (~40 ms of
        # CPU for each client httpx builds with certificate verification)
        response = httpx.get(f"{url}/health", timeout=timeout, verify=False)
        assert response.status_code == 200 or not healthy, response.text
        yield LiveServer(url, app)
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
        assert not thread.is_alive(), "the service did not shut down"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postgres:
    """A PostgreSQL server reachable as ``postgres`` without a password; makes databases."""

    def __init__(self, host: str, port: int, user: str = "postgres", password: str = "") -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self._names = itertools.count()
        self._prefix = f"ardlib_test_{os.getpid()}_"

    def _url(self, dbname: str, driver: str = "postgresql+psycopg") -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"{driver}://{auth}@{self.host}:{self.port}/{dbname}"

    def new_database(self) -> str:
        """Create an empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"{self._prefix}{next(self._names)}"
        with psycopg.connect(self._url("postgres", "postgresql"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self._url(name)


def _start_cluster() -> tuple[Postgres, Callable[[], None]]:
    """initdb + pg_ctl start in a temp dir; returns the server and its stop function."""
    initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdbs:
        raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    bindir = Path(initdbs[-1]).parent
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="ardlib-pg-"))
    data, sockets, log = base / "data", base / "sockets", base / "server.log"
    sockets.mkdir()
    if as_postgres:
        for path in (base, sockets):
            shutil.chown(path, "postgres", "postgres")

    def run(*cmd: str | Path) -> None:
        proc = subprocess.run(
            [*as_postgres, *map(str, cmd)], capture_output=True, text=True, timeout=120
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{Path(str(cmd[0])).name} failed: {proc.stderr.strip()[-500:]}")

    port = _free_port()
    options = (
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    try:
        run(
            bindir / "initdb",
            "-D",
            data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        run(bindir / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start")
    except (RuntimeError, OSError, subprocess.TimeoutExpired):
        shutil.rmtree(base, ignore_errors=True)
        raise

    def stop() -> None:
        with contextlib.suppress(RuntimeError, OSError, subprocess.TimeoutExpired):
            run(bindir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)

    return Postgres("127.0.0.1", port), stop


_POSTGRES = pytest.StashKey[tuple[Postgres | None, str]]()


@pytest.fixture(scope="session")
def postgres(request: pytest.FixtureRequest) -> Postgres:
    """A PostgreSQL server for this test session (per xdist worker), or a skip saying why
    there is none.  Started on first use and stopped when the session ends; cached on the
    config because pytest may re-create session fixtures that depend on a parameter."""
    stash = request.config.stash
    if _POSTGRES not in stash:
        given = os.environ.get("ARDLIB_TEST_POSTGRES_URL")
        if given:
            from sqlalchemy.engine import make_url

            u = make_url(given)
            server = Postgres(
                u.host or "127.0.0.1", u.port or 5432, u.username or "postgres", u.password or ""
            )
            stash[_POSTGRES] = (server, "")
        else:
            try:
                started, stop = _start_cluster()
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                stash[_POSTGRES] = (None, f"cannot start a PostgreSQL server: {exc}")
            else:
                stash[_POSTGRES] = (started, "")
                request.config.add_cleanup(stop)
    server, reason = stash[_POSTGRES]
    if server is None:
        pytest.skip(reason)
    return server


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)]
)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend a test runs against."""
    return str(request.param)


_sqlite_names = itertools.count()


@pytest.fixture(scope="session")
def database_factory(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[], str]:
    """Makes fresh empty databases of the current backend."""
    if backend == "postgresql":
        pg: Postgres = request.getfixturevalue("postgres")
        return pg.new_database
    root = tmp_path_factory.mktemp("sqlite")
    return lambda: f"sqlite:///{root / f'service-{next(_sqlite_names)}.db'}"


@pytest.fixture
def new_database_url(database_factory: Callable[[], str]) -> str:
    """A fresh empty database of the current backend."""
    return database_factory()


def service_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for tests: rate limiting off and ``ALLOWED_ORIGIN`` allowed unless overridden."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "rate_limit_per_minute": 0,
        "cors_origins": (ALLOWED_ORIGIN,),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def api_server(database_factory: Callable[[], str]) -> Iterator[LiveServer]:
    """One live server per backend, shared by the tests (each starts from empty tables)."""
    with live_server(create_app(service_settings(database_factory()))) as server:
        yield server


@pytest.fixture
def api(api_server: LiveServer) -> Iterator[httpx.Client]:
    """A client of the shared server, whose tables were just emptied."""
    api_server.wipe()
    # verify=False: plain HTTP (see live_server); skips loading the CA bundle per test
    with httpx.Client(base_url=api_server.url, timeout=30.0, verify=False) as client:
        yield client


@pytest.fixture(scope="session")
def serve_app() -> Callable[..., contextlib.AbstractContextManager[LiveServer]]:
    """:func:`live_server`: ``with serve_app(app) as server: ...``."""
    return live_server


@pytest.fixture(scope="session")
def settings_for() -> Callable[..., Settings]:
    """:func:`service_settings`: ``settings_for(url, api_key="k")``."""
    return service_settings


@pytest.fixture(scope="session")
def allowed_origin() -> str:
    """The origin CORS allows in the test settings."""
    return ALLOWED_ORIGIN
