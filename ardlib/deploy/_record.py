"""Deployment records: what was deployed, how it checked out, and whether to roll back.

Records are appended, one JSON object per line, to a log kept in the repository
(``data/deployments/log.jsonl`` by default), so the history is versioned with the code.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._io import git_revision, utc_now

__all__ = [
    "SPEED_KEY",
    "DeploymentRecord",
    "Verdict",
    "append_record",
    "compare_records",
    "machine_speed_ms",
    "previous_record",
    "read_records",
    "record_deployment",
]


@dataclass(frozen=True)
class DeploymentRecord:
    """One verification of one deployment.

    Attributes
    ----------
    time : str
        UTC ISO 8601.
    target : str
        The service URL verified.
    service_version : str
    ardlib_revision : str
    checks : dict
        Check name -> passed (True/False); skipped checks are left out.
    latency_p95_ms : dict
        Endpoint -> 95th percentile latency in milliseconds.
    passed : bool
    extra : dict
    """

    time: str
    target: str
    service_version: str
    ardlib_revision: str
    checks: dict[str, bool]
    latency_p95_ms: dict[str, float]
    passed: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The record's id: the first 12 hex digits of the SHA-256 of its line in the log
        (``json.dumps(asdict(record), sort_keys=True)``), so it is recomputed from the log
        alone and needs no field of its own."""
        line = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(line.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Verdict:
    """Comparison of a deployment with the previous one for the same target.

    Attributes
    ----------
    rollback : bool
        Whether a rollback is recommended.
    reasons : list of str
        Why (checks that passed before and fail now, p95 growth).
    previous : DeploymentRecord or None
        The record compared with.
    notes : list of str
        How the latencies were made comparable (the machine-speed scale), or why they
        were not compared.
    """

    rollback: bool
    reasons: list[str]
    previous: DeploymentRecord | None
    notes: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """``"rollback recommended: ..."`` or ``"no regression against ..."``, with the
        notes (e.g. how latencies were made comparable, or why they were not compared)."""
        if self.previous is None:
            return "first deployment record for this target; nothing to compare"
        if self.rollback:
            text = "rollback recommended: " + "; ".join(self.reasons)
        else:
            text = f"no regression against the deployment of {self.previous.time}"
        return text + "".join(f" ({note})" for note in self.notes)


def append_record(path: str | os.PathLike[str], record: DeploymentRecord) -> Path:
    """Append ``record`` as one JSON line to ``path`` (created with its folder if missing).

    Parameters
    ----------
    path : str or path-like
        The JSON-lines log.
    record : DeploymentRecord
        The record to append.

    Returns
    -------
    pathlib.Path
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(record), sort_keys=True) + "\n")
    return p


def read_records(path: str | os.PathLike[str]) -> list[DeploymentRecord]:
    """Every record of the JSON-lines log at ``path``, in order (empty when it is missing).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    list of DeploymentRecord

    Raises
    ------
    ValueError
        Naming the line that is not JSON or not a deployment record.
    """
    p = Path(path)
    if not p.is_file():
        return []
    records = []
    for no, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{p}: line {no} is not a deployment record (not JSON: {exc.msg})."
            ) from exc
        try:
            records.append(DeploymentRecord(**data))
        except TypeError as exc:
            raise ValueError(f"{p}: line {no} is not a deployment record ({exc}).") from exc
    return records


def previous_record(path: str | os.PathLike[str], target: str) -> DeploymentRecord | None:
    """The last record for ``target`` in the log, or None.

    Parameters
    ----------
    path : str or path-like
        The JSON-lines log.
    target : str
        The deployment target.

    Returns
    -------
    DeploymentRecord or None
    """
    p = Path(path)
    last = None
    for record in read_records(p):
        if record.target == target:
            last = record
    return last


#: ``extra`` key of a record's machine-speed measurement (:func:`machine_speed_ms`).
SPEED_KEY = "machine_speed_ms"


def machine_speed_ms(*, repeat: int = 7) -> float:
    """How fast this machine runs Python right now: the median milliseconds of a fixed
    CPU-bound workload (JSON encoding and decoding, dict and string work, as a request
    handler does), ``repeat`` times in this process.

    Latencies measured at different times are comparable only on an equally busy machine:
    on this 2-core machine the same service's p95 went from 3.1 ms (quiet) to 9.6 ms with
    other jobs holding both cores (load average 7.7).  A record keeps this measurement
    (``extra["machine_speed_ms"]``) so that :func:`compare_records` can scale the previous
    latencies by how much slower the machine is now.

    Parameters
    ----------
    repeat : int >= 3, default 7

    Returns
    -------
    float
    """
    import time

    if not isinstance(repeat, int) or repeat < 3:
        raise ValueError(
            f"The 'repeat' parameter of machine_speed_ms must be an int >= 3. Got {repeat!r}."
        )
    rows = [{"id": i, "name": f"run-{i}", "score": i * 0.5, "tags": ["a", "b"]} for i in range(300)]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(5):
            text = json.dumps(rows, sort_keys=True)
            back = json.loads(text)
            sum(len(r["name"]) + r["id"] for r in back)
        times.append(time.perf_counter() - start)
    times.sort()
    return 1e3 * times[len(times) // 2]


def compare_records(
    previous: DeploymentRecord | None, current: DeploymentRecord, *, p95_factor: float = 1.5
) -> Verdict:
    """Recommend a rollback when a check that passed before fails now, or an endpoint's
    p95 latency grew by more than ``p95_factor`` (and by more than 5 ms, so that noise on
    sub-millisecond endpoints does not trigger it), on a machine of comparable speed.

    Latencies are compared only when both records carry a machine-speed measurement
    (:data:`SPEED_KEY` in ``extra``, see :func:`machine_speed_ms`): the previous p95 is
    first multiplied by how much slower (or faster) the machine is now.  Without both
    measurements the latencies are not compared, and the verdict's notes say so.

    Parameters
    ----------
    previous : DeploymentRecord or None
        The last record for the target.
    current : DeploymentRecord
        This deployment.
    p95_factor : float, default 1.5
        Allowed growth of an endpoint's p95 latency.

    Returns
    -------
    Verdict
    """
    if previous is None:
        return Verdict(False, [], None)
    reasons = [
        f"check '{name}' passed before and fails now"
        for name, ok in current.checks.items()
        if not ok and previous.checks.get(name) is True
    ]
    speed_then, speed_now = previous.extra.get(SPEED_KEY), current.extra.get(SPEED_KEY)
    if not (isinstance(speed_then, int | float) and isinstance(speed_now, int | float)):
        missing = "the previous record" if speed_now is not None else "this record"
        note = f"latencies not compared: {missing} has no machine-speed measurement"
        return Verdict(bool(reasons), reasons, previous, [note])
    slower = float(speed_now) / float(speed_then)
    for ep, p95 in current.latency_p95_ms.items():
        before = previous.latency_p95_ms.get(ep)
        if before is None:
            continue
        expected = before * slower
        if p95 > p95_factor * expected and p95 - expected > 5.0:
            reasons.append(
                f"p95 of {ep} grew from {before:.1f} ms ({expected:.1f} ms at today's machine "
                f"speed) to {p95:.1f} ms (> {p95_factor}x)"
            )
    note = f"previous latencies scaled by {slower:.2f}, the machine's speed now relative to then"
    return Verdict(bool(reasons), reasons, previous, [note])


def record_deployment(
    path: str | os.PathLike[str],
    *,
    target: str,
    service_version: str,
    checks: dict[str, bool],
    latency_p95_ms: dict[str, float],
    extra: dict[str, Any] | None = None,
    p95_factor: float = 1.5,
) -> Verdict:
    """Record this verification in the log at ``path`` and compare it with the last one.

    The record (time now, the checked-out ardlib revision, ``passed`` when every check
    passed, and in ``extra`` the machine's speed now, :func:`machine_speed_ms`, unless
    ``extra`` gives one measured closer to the latencies) is compared by
    :func:`compare_records` with the previous record for ``target``, then appended.

    Parameters
    ----------
    path : path-like
        The JSON-lines log (created with its folder if missing).
    target : str
        What was verified; records are compared per target.
    service_version : str
        The version the service reported.
    checks : dict of str to bool
        Check name -> passed.
    latency_p95_ms : dict of str to float
        Endpoint -> 95th percentile latency in milliseconds.
    extra : dict, optional
        Anything else worth keeping with the record.
    p95_factor : float, default 1.5
        The latency growth that recommends a rollback (see :func:`compare_records`).

    Returns
    -------
    Verdict
        Whether to roll back, why, and the previous record.
    """
    record = DeploymentRecord(
        time=utc_now(),
        target=target,
        service_version=service_version,
        ardlib_revision=git_revision(),
        checks=dict(checks),
        latency_p95_ms=dict(latency_p95_ms),
        passed=all(checks.values()),
        extra={SPEED_KEY: round(machine_speed_ms(), 3), **(extra or {})},
    )
    verdict = compare_records(previous_record(path, target), record, p95_factor=p95_factor)
    append_record(path, record)
    return verdict
