"""Resilience measurements against a live service: client calls through injected faults
(:func:`chaos_client_calls`) and through the TCP chaos proxy (:func:`proxy_client_calls`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

import httpx
import pandas as pd

from .._rng import derive_seed
from ..client import ARDError, Client
from ._chaos import FaultInjectingTransport
from ._proxy import ChaosProxy

__all__ = ["ChaosLevel", "chaos_client_calls", "proxy_client_calls"]


@dataclass(frozen=True)
class ChaosLevel:
    """One fault level of :func:`chaos_client_calls`.

    Attributes
    ----------
    rate : float
        Injected fault rate.
    calls : int
        Client calls made.
    succeeded : int
        Calls that returned a result.
    attempts : int
        Requests sent (retries included).
    injected : dict
        Fault kind -> times injected.
    writes : int
        Records the service stored.
    duplicated_writes : int
        Stored records beyond one per write call (0 means idempotency held).
    seconds : float
        Wall time of the level.
    failures : dict
        Exception name -> calls that raised it.
    """

    rate: float
    calls: int
    succeeded: int
    attempts: int
    injected: dict[str, int]
    writes: int
    duplicated_writes: int
    seconds: float
    failures: dict[str, int]

    @property
    def success_rate(self) -> float:
        """Share of calls that returned a result."""
        return self.succeeded / self.calls if self.calls else float("nan")

    @property
    def retries(self) -> int:
        """Requests sent beyond one per call."""
        return self.attempts - self.calls


def chaos_client_calls(
    base_url: str,
    *,
    rates: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3),
    calls: int = 1000,
    api_key: str | None = None,
    seed: int = 0,
    retry_after: str = "1",
) -> pd.DataFrame:
    """Make ``calls`` client calls per fault rate through :class:`FaultInjectingTransport`.

    The mix per call ``i``: three listing reads (experiments, optimization runs, AI queries)
    and, every fourth call, a ``create_experiment`` write with its own idempotency key,
    tagged ``created_by="chaos-<seed>-<rate>-<random>"`` (at most 1000 writes per level,
    the listing cap that reading them back relies on). After each level the tagged experiments are
    read back through a fault-free client: a write stored twice shows up as two rows with
    the same ``parameters.call`` and is counted in ``duplicated_writes``.

    Parameters
    ----------
    base_url : str
        The service.
    rates : tuple of float
        Fault rates, one level each.
    calls : int, default 1000
        Client calls per level (at most 4000).
    api_key : str, optional
        Key for the writes.
    seed : int, default 0
        Seeds the injected faults.
    retry_after : str, default "1"
        ``Retry-After`` of injected 429 and 503 responses.

    Returns
    -------
    DataFrame
        One row per rate: ``rate``, ``calls``, ``succeeded``, ``success_rate``, ``retries``,
        ``attempts``, ``writes``, ``duplicated_writes``, ``seconds``, ``injected`` (faults by
        kind) and ``failures`` (error types of calls that failed).
    """
    if calls // 4 > 1000:
        raise ValueError(
            f"The 'calls' parameter of chaos_client_calls must be <= 4000. Got {calls}."
        )
    rows = []
    for rate in rates:
        tag = f"chaos-{seed}-{rate}-{uuid.uuid4().hex[:8]}"
        inner = httpx.HTTPTransport()
        transport = FaultInjectingTransport(
            inner, rate=rate, rng=derive_seed(seed, "chaos", rate), retry_after=retry_after
        )
        t0 = time.perf_counter()
        with Client(base_url, api_key=api_key, transport=transport, rng=seed) as client:
            ok, failures = _call_mix(client, calls, [
                lambda c, i: c.experiments(limit=20),
                lambda c, i: c.optimization_runs(limit=20),
                lambda c, i: c.ai_queries(limit=20),
                partial(_write, tag=tag),
            ])  # fmt: skip
        seconds = time.perf_counter() - t0
        with Client(base_url, api_key=api_key) as clean:
            stored = clean.experiments(created_by=tag, limit=1000)  # the service's cap
        keys = [(e.parameters or {}).get("call") for e in stored]
        level = ChaosLevel(
            rate=rate,
            calls=calls,
            succeeded=ok,
            attempts=transport.log.requests,
            injected=dict(transport.log.injected or {}),
            writes=calls // 4,
            duplicated_writes=len(keys) - len(set(keys)),
            seconds=seconds,
            failures=failures,
        )
        rows.append(
            {**level.__dict__, "success_rate": level.success_rate, "retries": level.retries}
        )
    return pd.DataFrame(rows)


def proxy_client_calls(
    base_url: str,
    *,
    rates: Sequence[float] = (0.0, 0.1, 0.3),
    calls: int = 300,
    api_key: str | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Make ``calls`` client reads per fault rate through a :class:`ChaosProxy`.

    Parameters
    ----------
    base_url : str
        The service, on loopback (the proxy forwards to it).
    rates : sequence of float
        Fault rates; each is used as the proxy's reset, fragment and latency rate.
    calls : int, default 300
        Reads per rate, in turn ``health``, experiments and optimization runs (20 each),
        every one on a new connection (no keep-alive), so every call meets the proxy's
        per-connection faults.
    api_key : str or None
        Sent as ``X-API-Key``.
    seed : int, default 0
        Seeds the proxy's fault schedule and the client's backoff jitter.

    Returns
    -------
    DataFrame
        One row per rate: ``fault_rate``, ``requests``, ``succeeded``, ``success_rate``,
        ``connections``, ``resets``, ``fragmented`` (from the proxy's statistics) and
        ``failures`` (error types of calls that failed).
    """
    url = urlsplit(base_url)
    if url.hostname is None or url.port is None:
        raise ValueError(
            "The 'base_url' parameter of proxy_client_calls must be http://host:port. "
            f"Got {base_url!r}."
        )
    rows = []
    for rate in rates:
        upstream = (url.hostname, url.port)
        faults = {"reset_rate": rate, "fragment_rate": rate, "latency_rate": rate}
        with ChaosProxy(upstream, **faults, rng=seed) as proxy:
            fresh = httpx.HTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
            with Client(
                f"http://127.0.0.1:{proxy.port}", api_key=api_key, rng=seed, transport=fresh
            ) as client:
                ok, failures = _call_mix(client, calls, [
                    lambda c, i: c.health(),
                    lambda c, i: c.experiments(limit=20),
                    lambda c, i: c.optimization_runs(limit=20),
                ])  # fmt: skip
        rows.append({
            "fault_rate": rate, "requests": calls, "succeeded": ok,
            "success_rate": ok / calls if calls else float("nan"),
            "connections": proxy.stats.connections, "resets": proxy.stats.resets,
            "fragmented": proxy.stats.fragmented, "failures": failures,
        })  # fmt: skip
    return pd.DataFrame(rows)


def _call_mix(
    client: Client, calls: int, mix: Sequence[Callable[[Client, int], object]]
) -> tuple[int, dict[str, int]]:
    """Make call ``i`` with ``mix[i % len(mix)]``; the successes and the failures by type."""
    ok, failures = 0, dict[str, int]()
    for i in range(calls):
        try:
            mix[i % len(mix)](client, i)
            ok += 1
        except ARDError as exc:
            failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
    return ok, failures


def _write(client: Client, i: int, *, tag: str) -> object:
    """Call ``i`` of the chaos mix that writes: an experiment tagged ``tag``."""
    return client.create_experiment(parameters={"call": i}, status="completed", created_by=tag)
