"""Deployment records: what was deployed, how it checked out, and whether to roll back.

Records are appended, one JSON object per line, to a log kept in the repository
(``data/deployments/log.jsonl`` by default), so the history is versioned with the code.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._io import git_revision, utc_now

__all__ = [
    "DeploymentRecord",
    "Verdict",
    "append_record",
    "compare_records",
    "previous_record",
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
    """

    rollback: bool
    reasons: list[str]
    previous: DeploymentRecord | None

    @property
    def message(self) -> str:
        """``"rollback recommended: ..."`` or ``"no regression against ..."``."""
        if self.previous is None:
            return "first deployment record for this target; nothing to compare"
        if self.rollback:
            return "rollback recommended: " + "; ".join(self.reasons)
        return f"no regression against the deployment of {self.previous.time}"


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
    if not p.is_file():
        return None
    last = None
    for no, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{p}: line {no} is not JSON ({exc.msg}).") from exc
        if data.get("target") == target:
            last = DeploymentRecord(**data)
    return last


def compare_records(
    previous: DeploymentRecord | None, current: DeploymentRecord, *, p95_factor: float = 1.5
) -> Verdict:
    """Recommend a rollback when a check that passed before fails now, or an endpoint's
    p95 latency grew by more than ``p95_factor`` (and by more than 5 ms, so that noise on
    sub-millisecond endpoints does not trigger it).

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
    for ep, p95 in current.latency_p95_ms.items():
        before = previous.latency_p95_ms.get(ep)
        if before is not None and p95 > p95_factor * before and p95 - before > 5.0:
            reasons.append(
                f"p95 of {ep} grew from {before:.1f} ms to {p95:.1f} ms (> {p95_factor}x)"
            )
    return Verdict(bool(reasons), reasons, previous)


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
    passed) is compared by :func:`compare_records` with the previous record for
    ``target``, then appended.

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
        extra=dict(extra or {}),
    )
    verdict = compare_records(previous_record(path, target), record, p95_factor=p95_factor)
    append_record(path, record)
    return verdict
