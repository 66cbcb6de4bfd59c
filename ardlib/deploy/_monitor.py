"""``monitor``: sample a deployed ARD backend on a clock, log every sample, raise alerts.

Every ``interval`` seconds for ``duration`` seconds, :func:`~._sample.take_sample` measures
``/health``, each listing, the cost analysis and one reasoning stream; the sample's metrics
(:data:`~._rules.MONITOR_METRICS`) are checked against the alert rules (:mod:`._rules`) and
the sample is appended, as one JSON line, to the monitor log, tagged with the deployment
record it monitors.  Samples are scheduled at ``k * interval`` from the first one, for
``k = 0 .. ceil(duration / interval) - 1``; a sample that overruns delays the next (it never
overlaps it), and none starts after ``duration`` has passed, so a run ends within
``duration`` plus one sample's time.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pandas as pd

from .._io import utc_now
from .._validation import check_int
from ._duration import parse_duration
from ._record import previous_record
from ._rules import MONITOR_METRICS, Alert, Rule, Streaks, load_rules
from ._sample import take_sample

__all__ = ["DEFAULT_DEPLOYMENTS_LOG", "DEFAULT_MONITOR_LOG", "MonitorResult", "monitor"]

DEFAULT_MONITOR_LOG = "data/deployments/monitor.jsonl"
DEFAULT_DEPLOYMENTS_LOG = "data/deployments/log.jsonl"


@dataclass(frozen=True)
class MonitorResult:
    """Outcome of :func:`monitor`.

    Attributes
    ----------
    url : str
    run_id : str
        Tags this run's lines in the log (12 hex digits).
    record_id : str or None
        The deployment record monitored (:attr:`DeploymentRecord.id`), when known.
    rules : tuple of Rule
    samples : DataFrame
        One row per sample: ``sample``, ``time`` (UTC ISO 8601), ``elapsed_s`` (since the
        first sample started), ``sample_s`` (time the sample took), every metric of
        :data:`MONITOR_METRICS`, and ``alerts`` (labels of the rules that fired).
    endpoints : DataFrame
        One row per sample and endpoint: ``sample``, ``elapsed_s``, ``endpoint``, ``n``,
        ``median_s``, ``max_s``.
    alerts : list of Alert
    seconds : float
        Wall time of the run.
    stopped : str
        ``"duration"``, or ``"fail_fast"`` when an alert ended the run.
    log : Path or None
        Where the samples were appended.
    """

    url: str
    run_id: str
    record_id: str | None
    rules: tuple[Rule, ...]
    samples: pd.DataFrame
    endpoints: pd.DataFrame
    alerts: list[Alert]
    seconds: float
    stopped: str
    log: Path | None

    @property
    def passed(self) -> bool:
        """True when no alert fired."""
        return not self.alerts

    def summary(self) -> pd.DataFrame:
        """Median, 95th percentile and maximum of every metric over the samples.

        Returns
        -------
        DataFrame
            Indexed by metric, columns ``median``, ``p95``, ``max`` (NaN where no sample
            measured the metric).
        """
        values = self.samples[list(MONITOR_METRICS)].astype(float)
        return pd.DataFrame(
            {"median": values.median(), "p95": values.quantile(0.95), "max": values.max()}
        )


def monitor(
    base_url: str,
    *,
    duration: float | str,
    interval: float | str = 10.0,
    rules: str | os.PathLike[str] | Iterable[Any] | None = None,
    log: str | os.PathLike[str] | None = DEFAULT_MONITOR_LOG,
    record_id: str | None = None,
    deployments_log: str | os.PathLike[str] | None = DEFAULT_DEPLOYMENTS_LOG,
    api_key: str | None = None,
    requests: int = 3,
    reasoning: bool = True,
    timeout: float = 10.0,
    fail_fast: bool = False,
    progress: bool = False,
    on_alert: Callable[[Alert], object] | None = None,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
) -> MonitorResult:
    """Sample the service at ``base_url`` every ``interval`` for ``duration``; alert on rules.

    Parameters
    ----------
    base_url : str
        The service root, ``http(s)://host[:port]``.
    duration, interval : float or str
        Seconds, or durations such as ``"90s"``, ``"10m"``, ``"1h"`` (:func:`parse_duration`).
    rules : path, list or None
        Alert rules (:func:`load_rules`); None: :func:`default_rules`.
    log : path or None, default "data/deployments/monitor.jsonl"
        JSON-lines log each sample is appended to as it is taken; None: no log.
    record_id : str, optional
        The deployment record monitored; default: the id of the last record for ``base_url`` in
        ``deployments_log``, if any.
    deployments_log : path or None, default "data/deployments/log.jsonl"
        Where to look the record up.
    api_key : str, optional
        Sent as ``X-API-Key`` (reasoning needs it when the service enables auth).
    requests : int, default 3
        Rounds of ``GET /health`` and the listings per sample.
    reasoning : bool, default True
        Send one reasoning query per sample (the service logs each one as an AI query,
        tagged ``created_by="ardlib-monitor"``).
    timeout : float, default 10
        Seconds per request.
    fail_fast : bool, default False
        End the run at the first alert.
    progress : bool, default False
        Show a progress bar on stderr (tqdm) with the last sample's key numbers.
    on_alert : callable, optional
        Called with each :class:`Alert` as it fires.
    transport : httpx.BaseTransport, optional
        The HTTP transport (tests inject faults through it).
    clock, sleep : callable
        Monotonic clock and sleep, in seconds.

    Returns
    -------
    MonitorResult
        ``.passed`` is False when any alert fired.

    Raises
    ------
    ValueError
        A bad URL, duration, interval, rule or setting (one line naming it).
    FileNotFoundError
        If ``rules`` names a file that does not exist.
    """
    duration = parse_duration(duration, "duration")
    interval = parse_duration(interval, "interval")
    url = _check_url(base_url)
    requests = check_int(requests, "requests", owner="monitor", low=1)
    rule_set = load_rules(rules)
    if record_id is None and deployments_log is not None:
        found = previous_record(deployments_log, url)
        record_id = found.id if found is not None else None
    n = max(1, math.ceil(duration / interval - 1e-9))
    run = _Run(url, uuid.uuid4().hex[:12], record_id, Streaks(rule_set), on_alert)
    headers = {"X-API-Key": api_key} if api_key else {}
    with (
        httpx.Client(base_url=url, timeout=timeout, headers=headers, transport=transport) as client,
        _open_log(log) as out,
        _progress_bar(progress, n, url) as bar,
    ):
        start = clock()
        for k in range(n):
            if k and clock() - start >= duration:
                break
            wait = start + k * interval - clock()
            if wait > 0:
                sleep(wait)
            line = run.sample(client, k, clock() - start, requests, reasoning, clock)
            if out is not None:
                out.write(json.dumps(line, sort_keys=True, allow_nan=False) + "\n")
                out.flush()
            bar(line)
            if fail_fast and run.alerts:
                break
        seconds = clock() - start
    stopped = "fail_fast" if fail_fast and run.alerts else "duration"
    return run.result(rule_set, seconds, stopped, None if log is None else Path(log))


class _Run:
    """State of one monitor run: the samples so far, the streaks, the cost baseline."""

    def __init__(
        self,
        url: str,
        run_id: str,
        record_id: str | None,
        streaks: Streaks,
        on_alert: Callable[[Alert], object] | None,
    ) -> None:
        self.url, self.run_id, self.record_id = url, run_id, record_id
        self.streaks, self.on_alert = streaks, on_alert
        self.rows: list[dict[str, Any]] = []
        self.endpoint_rows: list[dict[str, Any]] = []
        self.alerts: list[Alert] = []
        self._cost0: tuple[float, float] | None = None  # (elapsed_s, cost_usd) first seen

    def sample(
        self,
        client: httpx.Client,
        k: int,
        elapsed: float,
        requests: int,
        reasoning: bool,
        clock: Callable[[], float],
    ) -> dict[str, Any]:
        """Take sample ``k``, evaluate the rules; returns the sample's log line."""
        stamp, t0 = utc_now(), clock()
        metrics, detail = take_sample(client, requests=requests, reasoning=reasoning, clock=clock)
        metrics["cost_per_hour"] = self._cost_per_hour(elapsed, metrics["cost_usd"])
        failures = detail["failures"]
        detail_text = (
            f"{len(failures)} of {metrics['requests']:.0f} requests failed, first {failures[0]}"
            if failures
            else ""
        )
        fired = [
            Alert(rule, k, stamp, elapsed, value, detail_text)
            for rule, value in self.streaks.update(metrics)
        ]
        for alert in fired:
            self.alerts.append(alert)
            if self.on_alert is not None:
                self.on_alert(alert)
        row = {"sample": k, "time": stamp, "elapsed_s": elapsed, "sample_s": clock() - t0}
        self.rows.append({**row, **metrics, "alerts": [a.rule.label for a in fired]})
        for endpoint, e in detail["endpoints"].items():
            self.endpoint_rows.append(
                {
                    "sample": k,
                    "elapsed_s": elapsed,
                    "endpoint": endpoint,
                    "n": e["n"],
                    "median_s": e["median_s"],
                    "max_s": e["max_s"],
                }
            )
        return {
            "run": self.run_id,
            "record_id": self.record_id,
            "url": self.url,
            **row,
            "metrics": {k: _json_number(v) for k, v in metrics.items()},
            **detail,
            "alerts": [a.rule.label for a in fired],
        }

    def _cost_per_hour(self, elapsed: float, cost: float) -> float:
        if math.isnan(cost):
            return math.nan
        if self._cost0 is None:
            self._cost0 = (elapsed, cost)
        t0, c0 = self._cost0
        return (cost - c0) / ((elapsed - t0) / 3600.0) if elapsed > t0 else math.nan

    def result(
        self, rules: tuple[Rule, ...], seconds: float, stopped: str, log: Path | None
    ) -> MonitorResult:
        """The run as a :class:`MonitorResult`."""
        columns = ["sample", "time", "elapsed_s", "sample_s", *MONITOR_METRICS, "alerts"]
        endpoint_columns = ["sample", "elapsed_s", "endpoint", "n", "median_s", "max_s"]
        return MonitorResult(
            url=self.url,
            run_id=self.run_id,
            record_id=self.record_id,
            rules=rules,
            samples=pd.DataFrame(self.rows, columns=columns),
            endpoints=pd.DataFrame(self.endpoint_rows, columns=endpoint_columns),
            alerts=list(self.alerts),
            seconds=seconds,
            stopped=stopped,
            log=log,
        )


def _json_number(value: float) -> float | None:
    return None if math.isnan(value) else value


def _check_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ValueError(f"The 'base_url' parameter of monitor is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(
            f"The 'base_url' parameter of monitor must be http(s)://host[:port]. Got {url!r}."
        )
    return url.rstrip("/")


@contextmanager
def _open_log(log: str | os.PathLike[str] | None) -> Iterator[IO[str] | None]:
    if log is None:
        yield None
        return
    path = Path(log)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        yield fh


@contextmanager
def _progress_bar(show: bool, total: int, url: str) -> Iterator[Callable[[dict[str, Any]], None]]:
    if not show:
        yield lambda line: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=f"monitor {url}", unit="sample", file=sys.stderr) as bar:

        def update(line: dict[str, Any]) -> None:
            bar.set_postfix_str(_progress_text(line["metrics"]), refresh=False)
            bar.update(1)

        yield update


def _progress_text(m: dict[str, float | None]) -> str:
    def ms(key: str) -> str:
        value = m.get(key)
        return "-" if value is None else f"{1e3 * value:.0f}ms"

    return (
        f"health {'ok' if m.get('health_ok') else 'DOWN'}, p95 {ms('p95_latency_s')}, "
        f"stream {ms('stream_first_event_s')}/{ms('stream_total_s')}, "
        f"5xx {m.get('errors_5xx'):.0f}, errors {m.get('errors'):.0f}"
    )
