"""Resilience measurements against a live service: client calls through injected faults,
and smoke checks through the chaos proxy."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import httpx
import pandas as pd

from .._rng import derive_seed
from ._chaos import FaultInjectingTransport

__all__ = ["ChaosLevel", "chaos_client_calls"]


@dataclass(frozen=True)
class ChaosLevel:
    """One fault level of :func:`chaos_client_calls`."""

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

    Returns
    -------
    DataFrame
        One row per rate: ``rate``, ``calls``, ``succeeded``, ``success_rate``, ``retries``,
        ``attempts``, ``writes``, ``duplicated_writes``, ``seconds``, ``injected`` (faults by
        kind) and ``failures`` (error types of calls that failed).
    """
    from ..client import ARDError, Client

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
        ok = writes = 0
        failures: dict[str, int] = {}
        t0 = time.perf_counter()
        with Client(base_url, api_key=api_key, transport=transport, rng=seed) as client:
            for i in range(calls):
                try:
                    kind = i % 4
                    if kind == 0:
                        client.experiments(limit=20)
                    elif kind == 1:
                        client.optimization_runs(limit=20)
                    elif kind == 2:
                        client.ai_queries(limit=20)
                    else:
                        writes += 1
                        client.create_experiment(
                            parameters={"call": i}, status="completed", created_by=tag
                        )
                    ok += 1
                except ARDError as exc:
                    failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
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
            writes=writes,
            duplicated_writes=len(keys) - len(set(keys)),
            seconds=seconds,
            failures=failures,
        )
        rows.append(
            {**level.__dict__, "success_rate": level.success_rate, "retries": level.retries}
        )
    return pd.DataFrame(rows)
