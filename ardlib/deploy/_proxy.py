"""A loopback TCP proxy that injects network faults between a client and a real server.

Each accepted connection is forwarded to ``upstream``; on a seeded schedule the proxy
delays chunks (latency), splits them into small fragments sent separately
(fragmentation), or aborts the connection with a TCP reset after a few bytes (reset).
It binds to 127.0.0.1 only.

Written by hand (threads and sockets from the standard library): a fault-injecting proxy is
~100 lines, and tools like toxiproxy are separate server binaries the project cannot fetch.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from .._rng import RNGLike, as_generator
from .._validation import check_real

__all__ = ["ChaosProxy", "ProxyStats"]


@dataclass
class ProxyStats:
    """Connections seen and faults injected by a :class:`ChaosProxy`.

    Attributes
    ----------
    connections : int
        Connections accepted.
    resets, fragmented, delayed : int
        Connections given each fault.
    errors : list of str
        Unexpected errors while forwarding.
    """

    connections: int = 0
    resets: int = 0
    fragmented: int = 0
    delayed: int = 0
    errors: list[str] = field(default_factory=list)


class ChaosProxy:
    """Forward TCP connections from a loopback port to ``upstream`` with injected faults.

    Parameters
    ----------
    upstream : (host, port)
        The real server; must be a loopback address.
    reset_rate, fragment_rate, latency_rate : float
        Per-connection probabilities of each fault (independent).
    latency : float, default 0.02
        Seconds added before each forwarded chunk of a delayed connection.
    rng : None, int, SeedSequence or Generator

    Notes
    -----
    Use as a context manager; ``port`` is the proxy's listening port.
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        reset_rate: float = 0.0,
        fragment_rate: float = 0.0,
        latency_rate: float = 0.0,
        latency: float = 0.02,
        rng: RNGLike = None,
    ) -> None:
        if not upstream[0].startswith("127.") and upstream[0] not in ("localhost", "::1"):
            raise ValueError(
                f"The 'upstream' parameter of ChaosProxy must be loopback. Got {upstream!r}."
            )
        self.upstream = upstream
        owner = "ChaosProxy"
        self.reset_rate = check_real(reset_rate, "reset_rate", owner=owner, low=0, high=1)
        self.fragment_rate = check_real(fragment_rate, "fragment_rate", owner=owner, low=0, high=1)
        self.latency_rate = check_real(latency_rate, "latency_rate", owner=owner, low=0, high=1)
        self.latency = check_real(latency, "latency", owner=owner, low=0)
        self._rng = as_generator(rng)
        self._lock = threading.Lock()
        self.stats = ProxyStats()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ChaosProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting and close the listening socket."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self._thread.join(timeout=2)
        with contextlib.suppress(OSError):
            self._sock.close()

    def _plan(self) -> tuple[bool, bool, bool, int]:
        with self._lock:
            self.stats.connections += 1
            r = self._rng.random(3)
            reset, frag, slow = (
                r[0] < self.reset_rate,
                r[1] < self.fragment_rate,
                r[2] < self.latency_rate,
            )
            after = int(self._rng.integers(0, 200))
            self.stats.resets += reset
            self.stats.fragmented += frag
            self.stats.delayed += slow
            return reset, frag, slow, after

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            if self._stop.is_set():
                client.close()
                return
            threading.Thread(target=self._handle, args=(client, *self._plan()), daemon=True).start()

    def _handle(
        self, client: socket.socket, reset: bool, frag: bool, slow: bool, after: int
    ) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=10)
        except OSError as exc:
            self.stats.errors.append(str(exc))
            _reset(client)
            return
        budget = [after] if reset else None
        up = threading.Thread(
            target=self._pump, args=(client, server, False, False, None), daemon=True
        )
        up.start()
        try:
            self._pump(server, client, frag, slow, budget)
            up.join(timeout=10)
        finally:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.close()

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        frag: bool,
        slow: bool,
        budget: list[int] | None,
    ) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if budget is not None:
                    if len(data) >= budget[0]:
                        dst.sendall(data[: budget[0]])
                        _reset(dst)
                        _reset(src)
                        return
                    budget[0] -= len(data)
                if slow:
                    time.sleep(self.latency)
                if frag:
                    for i in range(0, len(data), 7):
                        dst.sendall(data[i : i + 7])
                        time.sleep(0.0005)
                else:
                    dst.sendall(data)
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
        except OSError:
            for s in (src, dst):
                _reset(s)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of an orderly FIN.

    ``shutdown(SHUT_RD)`` first: it sends nothing on Linux but wakes a thread blocked in
    ``recv`` on this socket, which ``close`` alone would not.
    """
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
