"""The state folder of ``ardlib deploy``: what runs, how to stop it, which record to go
back to.

A state folder (default ``<repo>/.ardlib/deployments/``, git-ignored) holds
``current.json`` (the deployment last started, :class:`RunningDeployment`), ``service.pid``,
``service.log``, ``worktrees/<commit>`` and, by default, the SQLite database
``service.db``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .._io import git
from ._background import terminate
from ._record import DeploymentRecord, read_records

__all__ = [
    "RunningDeployment",
    "current_deployment",
    "previous_passing_record",
    "repo_root",
    "state_dir",
    "stop_deployment",
]

_STATE_SUBDIR = Path(".ardlib") / "deployments"


@dataclass(frozen=True)
class RunningDeployment:
    """The deployment a state folder runs (its ``current.json``).

    Attributes
    ----------
    revision : str
        Full commit id.
    pid : int
        The ``ardlib serve`` process.
    url : str
    port : int
    database_url : str
        Password hidden.
    api_key : bool
        Whether it runs with an API key.
    worktree : str
    record_id : str
        The id of its deployment record.
    started : str
        UTC ISO 8601.
    """

    revision: str
    pid: int
    url: str
    port: int
    database_url: str
    api_key: bool
    worktree: str
    record_id: str
    started: str


def repo_root(repo: str | os.PathLike[str]) -> Path:
    """The top folder of the git work tree holding ``repo`` (ValueError outside one)."""
    top = git("-C", str(repo), "rev-parse", "--show-toplevel")
    if not top:
        raise ValueError(
            f"{Path(repo).resolve()} is not in a git repository: deployments check revisions "
            "out of one (--repo)"
        )
    return Path(top)


def state_dir(repo: str | os.PathLike[str], state: str | os.PathLike[str] | None) -> Path:
    """``state`` made absolute, or the default ``<repo>/.ardlib/deployments``."""
    if state is not None:
        return Path(state).resolve()
    return repo_root(repo) / _STATE_SUBDIR


def current_deployment(
    *, repo: str | os.PathLike[str] = ".", state: str | os.PathLike[str] | None = None
) -> RunningDeployment | None:
    """The deployment the state folder last started (running or not), or None.

    Parameters
    ----------
    repo : path, default "."
        The git repository (locates the default state folder).
    state : path, optional
        The state folder; default ``<repo>/.ardlib/deployments``.

    Returns
    -------
    RunningDeployment or None
    """
    path = state_dir(repo, state) / "current.json"
    if not path.is_file():
        return None
    return RunningDeployment(**json.loads(path.read_text(encoding="utf-8")))


def stop_deployment(
    *,
    repo: str | os.PathLike[str] = ".",
    state: str | os.PathLike[str] | None = None,
    timeout: float = 10.0,
) -> RunningDeployment | None:
    """Stop the running deployment of a state folder (by its pid file) and remove its
    worktree; the database is left as it is.

    Parameters
    ----------
    repo : path, default "."
    state : path, optional
        Default ``<repo>/.ardlib/deployments``.
    timeout : float, default 10
        Seconds between SIGTERM and SIGKILL.

    Returns
    -------
    RunningDeployment or None
        What was stopped; None when nothing ran.

    Raises
    ------
    ValueError
        When ``state`` is given and does not exist.
    """
    folder = state_dir(repo, state)
    if state is not None and not folder.is_dir():
        raise ValueError(f"no deployment state folder {folder} (nothing was deployed from it)")
    pid_file = folder / "service.pid"
    current = current_deployment(repo=repo, state=folder)
    stopped = False
    if pid_file.is_file():
        text = pid_file.read_text().strip()
        if not text.isdigit():
            raise ValueError(f"{pid_file} does not hold a pid: {text[:40]!r}")
        stopped = terminate(int(text), timeout=timeout)
        pid_file.unlink()
    if current is not None:
        if Path(current.worktree).is_dir():
            git("-C", str(repo_root(repo)), "worktree", "remove", "--force", current.worktree)
        git("-C", str(repo_root(repo)), "worktree", "prune")
    return current if stopped else None


def previous_passing_record(
    path: str | os.PathLike[str], target: str, *, before: str | None = None
) -> DeploymentRecord | None:
    """The last passing record of a revision deployed to ``target`` (by
    :func:`deploy_revision`), before the record with id ``before``.

    Parameters
    ----------
    path : path
        The JSON-lines deployment log.
    target : str
        The deployment URL.
    before : str, optional
        A record id; only records above it in the log count (all when it is not found).

    Returns
    -------
    DeploymentRecord or None
    """
    records = read_records(path)
    ids = [r.id for r in records]
    if before is not None and before in ids:
        records = records[: ids.index(before)]
    for record in reversed(records):
        if record.target == target and record.passed and "deployment" in record.extra:
            return record
    return None
