"""Start the reference ARD service in a child process on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

__all__ = ["ServiceProcess"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServiceProcess:
    """``ardlib serve`` in a child process with a temporary SQLite database.

    Parameters
    ----------
    demo_data : bool, default True
        Fill the database with ``ardlib service seed-demo`` first (real campaigns).
    api_key : str, optional
        Turn auth on with this key.
    cors_origins : tuple of str
        Allowed CORS origins.
    startup_timeout : float, default 60
        Seconds to wait for ``/health``.
    rate_limit : int, default 0
        Requests per minute per client; 0 (the default here) turns the limiter off so a
        load or chaos run measures the service, not the limiter.
    workers : int, default 1
        uvicorn worker processes (``ardlib serve --workers``).

    Notes
    -----
    Use as a context manager; ``url`` is the base URL. The process and the database are
    removed on exit.
    """

    def __init__(
        self,
        *,
        demo_data: bool = True,
        api_key: str | None = None,
        cors_origins: tuple[str, ...] = ("http://allowed.example",),
        startup_timeout: float = 60.0,
        rate_limit: int = 0,
        workers: int = 1,
    ) -> None:
        if workers < 1:
            raise ValueError(
                f"The 'workers' parameter of ServiceProcess must be >= 1. Got {workers}."
            )
        self.workers = workers
        self.rate_limit = rate_limit
        self.demo_data = demo_data
        self.api_key = api_key
        self.cors_origins = cors_origins
        self.startup_timeout = startup_timeout
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._tmp = tempfile.TemporaryDirectory(prefix="ardlib-service-")
        self.database_url = f"sqlite:///{Path(self._tmp.name) / 'service.db'}"
        self._proc: subprocess.Popen[bytes] | None = None

    def _cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "ardlib.cli", *args]

    def __enter__(self) -> ServiceProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if self.demo_data:
            subprocess.run(
                self._cli("service", "seed-demo", "--database-url", self.database_url),
                check=True,
                env=env,
                capture_output=True,
                timeout=300,
            )
        cmd = self._cli(
            "serve",
            "--port",
            str(self.port),
            "--database-url",
            self.database_url,
            "--log-level",
            "warning",
            "--rate-limit",
            str(self.rate_limit),
            "--workers",
            str(self.workers),
        )
        for origin in self.cors_origins:
            cmd += ["--cors-origin", origin]
        if self.api_key:
            cmd += ["--api-key", self.api_key]
        self._proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RuntimeError(
                    f"ardlib serve exited with {self._proc.returncode}: {err[-2000:]}"
                )
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"ardlib serve did not answer /health within {self.startup_timeout} s")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc is not None and self._proc.stderr is not None:
            self._proc.stderr.close()
        self._tmp.cleanup()
