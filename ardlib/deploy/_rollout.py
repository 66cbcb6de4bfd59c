"""Deploy a git revision of the reference service, stop it, roll it back.

:func:`deploy_revision` checks a revision out into a ``git worktree`` under a state folder
(default ``<repo>/.ardlib/deployments/``, git-ignored), starts ``ardlib serve`` from it in
the background (this environment's packages, the revision's source: ``PYTHONPATH`` points
at the worktree and ``import ardlib`` is checked to resolve there), waits for ``/health``,
runs :func:`~ardlib.deploy.smoke`, and appends a :class:`~ardlib.deploy.DeploymentRecord`
naming the revision, how it ran and its configuration, with the verdict against the
previous record for the same URL.  :func:`stop_deployment` stops it by the pid file;
:func:`rollback` stops the current deployment and brings the last passing one's revision
back on the same port and database.

The database is never touched: no migration, no reset, no copy; a redeployment or a
rollback serves the same database, so no data is lost (and a revision whose schema differs
meets the data as it is).

State folder: ``current.json`` (the running deployment, :class:`RunningDeployment`),
``service.pid``, ``service.log`` (the service's output, appended), ``worktrees/<commit>``,
``service.db`` (the default SQLite database).  No secret is written there: a database URL
with a password is kept with the password hidden, and an API key only as "present"; a
redeployment of such a deployment must be given them again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .._io import git, lock_differs, resolve_commit, utc_now
from ._background import is_running, launch
from ._deployments import (
    RunningDeployment,
    current_deployment,
    previous_passing_record,
    repo_root,
    state_dir,
    stop_deployment,
)
from ._record import (
    SPEED_KEY,
    DeploymentRecord,
    Verdict,
    append_record,
    compare_records,
    machine_speed_ms,
    previous_record,
)
from ._smoke_report import SmokeReport

__all__ = ["DeploymentResult", "deploy_revision", "rollback"]

DEFAULT_LOG = Path("data/deployments/log.jsonl")
HOST = "127.0.0.1"  # the reference deployment serves loopback only


@dataclass(frozen=True)
class DeploymentResult:
    """Outcome of :func:`deploy_revision` or :func:`rollback`.

    Attributes
    ----------
    record : DeploymentRecord
        The record appended to the log.
    verdict : Verdict
        Against the previous record for the same URL.
    report : SmokeReport
    deployment : RunningDeployment
    """

    record: DeploymentRecord
    verdict: Verdict
    report: SmokeReport
    deployment: RunningDeployment

    @property
    def passed(self) -> bool:
        """Whether every smoke check passed."""
        return self.record.passed


def _database(given: str | None, current: RunningDeployment | None, folder: Path) -> str:
    """The database URL to serve: ``given`` (a relative SQLite path made absolute), else the
    current deployment's, else ``sqlite:///<state>/service.db``."""
    from sqlalchemy.engine import make_url

    from ..service._cli import check_database_url

    if given is None and current is not None:
        if "***" in current.database_url:
            raise ValueError(
                "the current deployment's database URL has a password, which is not kept: "
                "pass --database-url again"
            )
        given = current.database_url
    if given is None:
        return f"sqlite:///{folder / 'service.db'}"
    check_database_url(given)
    url = make_url(given)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=False)


def _hidden(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _lock_notes(worktree: Path) -> list[str]:
    """Whether the revision locks other packages than those this environment runs."""
    import ardlib

    if lock_differs(Path(ardlib.__file__).resolve().parents[1], worktree):
        return [
            "requirements/lock.txt differs from this environment's; the revision runs with "
            "this environment's packages"
        ]
    return []


def _checkout(root: Path, commit: str, folder: Path) -> Path:
    tree = folder / "worktrees" / commit
    if tree.is_dir():
        git("-C", str(root), "worktree", "remove", "--force", str(tree))
    git("-C", str(root), "worktree", "prune")
    git("-C", str(root), "worktree", "add", "--detach", "--quiet", str(tree), commit, check=True)
    return tree


def _environment(tree: Path, api_key: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "ARDLIB_API_KEY", "PYTHONSTARTUP")
    }
    env.update(PYTHONPATH=str(tree), PYTHONUNBUFFERED="1")
    if api_key:
        env["ARDLIB_API_KEY"] = api_key  # not on the command line, where ps shows it
    probe = subprocess.run(
        [sys.executable, "-c", "import ardlib; print(ardlib.__file__)"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    where = Path(probe.stdout.strip() or "?").resolve()
    if probe.returncode != 0 or not where.is_relative_to(tree.resolve()):
        raise OSError(
            f"import ardlib in the worktree resolved to {where}, not to {tree} "
            f"(an installed copy shadows the source?) {probe.stderr.strip()[-300:]}"
        )
    return env


def _port_free(port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            s.bind((HOST, port))
        except OSError as exc:
            raise OSError(f"port {port} on {HOST} is in use ({exc.strerror})") from None


def _wait_healthy(url: str, pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_running(pid):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)


def deploy_revision(
    rev: str,
    *,
    repo: str | os.PathLike[str] = ".",
    port: int | None = None,
    database_url: str | None = None,
    api_key: str | None = None,
    state: str | os.PathLike[str] | None = None,
    log: str | os.PathLike[str] = DEFAULT_LOG,
    browser: bool = False,
    n_requests: int = 20,
    startup_timeout: float = 60.0,
    rollback_of: str | None = None,
) -> DeploymentResult:
    """Deploy revision ``rev`` of the reference service on loopback, smoke it, record it.

    The running deployment of the state folder, if any, is stopped first; the new one is
    started from a worktree of ``rev`` with this environment's packages, given ``/health``
    up to ``startup_timeout`` seconds, and checked by :func:`~ardlib.deploy.smoke` (a
    service that never answers fails every check).  The record appended to ``log`` has
    ``ardlib_revision`` = the full commit and ``extra["deployment"]`` = ``{"revision",
    "how": "worktree", "notes", "config": {"host", "port", "database_url" (password
    hidden), "api_key" (present or not), "workers"}, "pid", "log_file"}``.  The database is
    not touched.

    Parameters
    ----------
    rev : str
        A branch, tag or commit of ``repo``.
    repo : path, default "."
        The git repository.
    port : int, optional
        Default: the current deployment's port, else 8000.
    database_url : str, optional
        Default: the current deployment's database, else ``sqlite:///<state>/service.db``.
    api_key : str, optional
        Turn the service's auth on with this key (required when the current deployment has
        one: a redeployment must not drop auth).
    state : path, optional
        Default ``<repo>/.ardlib/deployments``.
    log : path, default "data/deployments/log.jsonl"
    browser : bool, default False
        Run smoke's dashboard check in headless Chromium.
    n_requests : int, default 20
        Requests per endpoint for smoke's latencies.
    startup_timeout : float, default 60
    rollback_of : str, optional
        The id of the record this deployment rolls back (kept in ``extra``).

    Returns
    -------
    DeploymentResult
    """
    from ._smoke import smoke

    if port is not None and not (isinstance(port, int) and 1 <= port <= 65535):
        raise ValueError(f"The 'port' parameter must be an int from 1 to 65535. Got {port!r}.")
    root = repo_root(repo)
    commit = resolve_commit(root, rev)
    folder = state_dir(repo, state)
    current = current_deployment(repo=repo, state=folder)
    if current is not None and current.api_key and not api_key:
        raise ValueError("the current deployment runs with an API key; pass --api-key again")
    port = port if port is not None else current.port if current is not None else 8000
    database = _database(database_url, current, folder)
    folder.mkdir(parents=True, exist_ok=True)
    stop_deployment(repo=root, state=folder)
    _port_free(port)
    tree = _checkout(root, commit, folder)
    env = _environment(tree, api_key)
    log_file = folder / "service.log"
    with log_file.open("a", encoding="utf-8") as fh:
        fh.write(f"== {utc_now()} deploy {commit} on port {port}\n")
    argv = [sys.executable, "-m", "ardlib.cli", "serve", "--host", HOST, "--port", str(port)]
    argv += ["--database-url", database, "--workers", "1"]
    pid = launch(argv, cwd=tree, log_file=log_file, env=env)
    (folder / "service.pid").write_text(f"{pid}\n")
    url = f"http://{HOST}:{port}"
    _wait_healthy(url, pid, startup_timeout)
    report = smoke(url, api_key=api_key, n_requests=n_requests, browser=browser)
    shown = _hidden(database)
    config: dict[str, Any] = {
        "host": HOST,
        "port": port,
        "database_url": shown,
        "api_key": bool(api_key),
        "workers": 1,
    }
    extra: dict[str, Any] = {
        SPEED_KEY: round(machine_speed_ms(), 3),
        "deployment": {
            "revision": commit,
            "how": "worktree",
            "notes": _lock_notes(tree),
            "config": config,
            "pid": pid,
            "log_file": str(log_file),
        },
    }
    if rollback_of is not None:
        extra["rollback_of"] = rollback_of
    record = DeploymentRecord(
        time=utc_now(),
        target=url,
        service_version=str(report.service_version or "unknown"),
        ardlib_revision=commit,
        checks={c.name: c.passed for c in report.checks if not c.skipped},
        latency_p95_ms={
            ep: 1e3 * s.p95 for ep, s in report.latency.items() if s.p95 == s.p95
        },  # NaN (no response) left out
        passed=report.passed,
        extra=extra,
    )
    verdict = compare_records(previous_record(log, url), record)
    append_record(log, record)
    running = RunningDeployment(
        revision=commit, pid=pid, url=url, port=port, database_url=shown,
        api_key=bool(api_key), worktree=str(tree), record_id=record.id, started=record.time,
    )  # fmt: skip
    (folder / "current.json").write_text(json.dumps(dataclasses.asdict(running), indent=2))
    return DeploymentResult(record, verdict, report, running)


def rollback(
    to: str = "previous",
    *,
    repo: str | os.PathLike[str] = ".",
    database_url: str | None = None,
    api_key: str | None = None,
    state: str | os.PathLike[str] | None = None,
    log: str | os.PathLike[str] = DEFAULT_LOG,
    browser: bool = False,
    n_requests: int = 20,
    startup_timeout: float = 60.0,
) -> DeploymentResult:
    """Stop the current deployment and bring back the last passing revision (or ``to``)
    on the same port and database; record it with ``extra["rollback_of"]`` = the id of the
    current deployment's record.

    Parameters
    ----------
    to : str, default "previous"
        ``"previous"``: the revision of the last passing record for the same URL above the
        current deployment's (:func:`previous_passing_record`); else a revision.
    repo, state, log, browser, n_requests, startup_timeout
        As for :func:`deploy_revision`.
    database_url, api_key : str, optional
        Needed again only when the current deployment's URL has a password / it has a key.

    Returns
    -------
    DeploymentResult
        ``.passed`` says whether the rolled-back deployment passed smoke.
    """
    folder = state_dir(repo, state)
    current = current_deployment(repo=repo, state=folder)
    if current is None:
        raise ValueError(f"nothing was deployed from {folder}: nothing to roll back")
    if to == "previous":
        good = previous_passing_record(log, current.url, before=current.record_id)
        if good is None:
            raise ValueError(
                f"no passing deployment of {current.url} before record {current.record_id} "
                f"in {log}: name a revision with --to REV"
            )
        to = good.ardlib_revision
    return deploy_revision(
        to, repo=repo, port=current.port, database_url=database_url, api_key=api_key,
        state=folder, log=log, browser=browser, n_requests=n_requests,
        startup_timeout=startup_timeout, rollback_of=current.record_id,
    )  # fmt: skip
