"""The result of :func:`~ardlib.deploy.smoke`: checks, latency percentiles, renderings."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["LatencySummary", "SmokeCheck", "SmokeReport"]


@dataclasses.dataclass(frozen=True)
class SmokeCheck:
    """One smoke check.

    Attributes
    ----------
    name : str
        What was checked, e.g. ``"GET /api/experiments"`` or ``"cors allowed origin"``.
    passed : bool
        True only when the check ran and held; a skipped check never passes.
    skipped : bool
        True when the check could not run (e.g. no browser); it neither passes nor fails.
    detail : str
        What was seen: the evidence for a pass, the reason for a failure or a skip.
    seconds : float
        Time the check took.
    """

    name: str
    passed: bool
    skipped: bool = False
    detail: str = ""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.passed and self.skipped:
            raise ValueError(f"check {self.name!r}: a skipped check cannot have passed")

    @property
    def failed(self) -> bool:
        """True when the check ran and did not hold."""
        return not self.passed and not self.skipped

    @property
    def status(self) -> str:
        """``"PASS"``, ``"FAIL"`` or ``"SKIP"``."""
        return "PASS" if self.passed else "SKIP" if self.skipped else "FAIL"


@dataclasses.dataclass(frozen=True)
class LatencySummary:
    """Latency of one endpoint over ``n`` sequential requests (seconds, linear percentiles).

    ``statuses`` counts the HTTP statuses seen and ``errors`` the requests that got no
    response; percentiles are over the requests that got one (NaN when none did).

    Attributes
    ----------
    endpoint : str
        ``"GET /path"``.
    n : int
        Requests sent.
    p50, p95, p99, max : float
        Latency percentiles and maximum, seconds.
    bound : float
        The p99 bound of :attr:`within_bound`.
    statuses : dict
        HTTP status -> count.
    errors : int
        Requests without a response.
    """

    endpoint: str
    n: int
    p50: float
    p95: float
    p99: float
    max: float
    bound: float
    statuses: dict[int, int]
    errors: int

    @property
    def within_bound(self) -> bool:
        """True when every request got a response and the p99 is under ``bound``."""
        return self.errors == 0 and self.n > 0 and self.p99 < self.bound


@dataclasses.dataclass(frozen=True)
class SmokeReport:
    """Everything one :func:`~ardlib.deploy.smoke` run saw.

    ``passed`` is True only if no check failed (skipped checks do not fail the run).
    ``str(report)`` is the text table; :meth:`to_json` the machine-readable record.

    Attributes
    ----------
    url : str
        The service checked.
    checks : list of SmokeCheck
        Every check, in order.
    latency : dict
        Endpoint -> LatencySummary.
    started_at : datetime.datetime
        When the run started (UTC).
    seconds : float
        Wall time of the run.
    requests : int
        Requests sent.
    status_counts : dict
        HTTP status -> count over the run.
    service_version : str or None
        What ``/health`` reported.
    screenshot : pathlib.Path or None
        The dashboard screenshot, when taken.
    """

    url: str
    checks: list[SmokeCheck]
    latency: dict[str, LatencySummary]
    started_at: datetime
    seconds: float
    requests: int
    status_counts: dict[int, int]
    service_version: str | None = None
    screenshot: Path | None = None

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return not any(c.failed for c in self.checks)

    @property
    def failed(self) -> list[SmokeCheck]:
        """The checks that failed."""
        return [c for c in self.checks if c.failed]

    @property
    def skipped(self) -> list[SmokeCheck]:
        """The checks that could not run."""
        return [c for c in self.checks if c.skipped]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: url, passed, checks, latency (ms), request and status counts.

        Returns
        -------
        dict
        """
        return {
            "url": self.url,
            "passed": self.passed,
            "started_at": self.started_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "service_version": self.service_version,
            "requests": self.requests,
            "status_counts": {str(k): v for k, v in sorted(self.status_counts.items())},
            "checks": [
                {**dataclasses.asdict(c), "status": c.status, "seconds": round(c.seconds, 4)}
                for c in self.checks
            ],
            "latency_ms": {
                name: {
                    "n": s.n,
                    **{q: _ms(getattr(s, q)) for q in ("p50", "p95", "p99", "max")},
                    "bound": _ms(s.bound),
                    "within_bound": s.within_bound,
                    "statuses": {str(k): v for k, v in sorted(s.statuses.items())},
                    "errors": s.errors,
                }
                for name, s in self.latency.items()
            },
            "screenshot": None if self.screenshot is None else str(self.screenshot),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text.

        Parameters
        ----------
        indent : int or None, default 2
            Passed to :func:`json.dumps`.

        Returns
        -------
        str
        """
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def render(self) -> str:
        """The checks and the latency percentiles as a plain-text table.

        Returns
        -------
        str
            The text table.
        """
        n_fail, n_skip = len(self.failed), len(self.skipped)
        verdict = "PASSED" if self.passed else "FAILED"
        head = f"ardlib smoke {self.url}"
        if self.service_version:
            head += f" (service {self.service_version})"
        lines = [
            f"{head}: {verdict}, {len(self.checks)} checks, {n_fail} failed, {n_skip} skipped, "
            f"{self.requests} requests in {self.seconds:.1f} s",
            "",
        ]
        width = max([len(c.name) for c in self.checks] + [5])
        lines.append(f"{'STATUS':<6}  {'CHECK':<{width}}  {'SECONDS':>7}  DETAIL")
        for c in self.checks:
            lines.append(f"{c.status:<6}  {c.name:<{width}}  {c.seconds:>7.3f}  {c.detail}")
        if self.latency:
            lines += ["", _latency_table(self.latency)]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def _ms(seconds: float) -> float | None:
    return None if seconds != seconds else round(seconds * 1000.0, 2)


def _latency_table(latency: dict[str, LatencySummary]) -> str:
    width = max(len(k) for k in latency)
    rows = [
        f"{'LATENCY (ms)':<{width}}  {'n':>4}  {'p50':>8}  {'p95':>8}  {'p99':>8}  {'max':>8}  "
        f"{'bound':>7}  errors"
    ]
    for name, s in latency.items():
        vals = "  ".join(
            f"{'-' if v is None else f'{v:.1f}':>8}"
            for v in (_ms(s.p50), _ms(s.p95), _ms(s.p99), _ms(s.max))
        )
        rows.append(f"{name:<{width}}  {s.n:>4}  {vals}  {s.bound * 1000:>7.0f}  {s.errors}")
    return "\n".join(rows)
