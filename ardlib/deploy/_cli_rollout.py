"""``ardlib deploy up|down|rollback``: run a git revision of the reference service, stop
it, roll it back (see :mod:`ardlib.deploy._rollout`).

``up`` and ``rollback`` exit 0 when the deployment passes the smoke checks, 1 when it does
not (the verdict says whether to roll back), 2 on a usage error; ``down`` exits 0.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

__all__ = ["add_rollout_parsers"]


def _port(text: str) -> int:
    from ..service._cli import _port as service_port

    return service_port(text)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL (default: the current deployment's, else "
        "sqlite:///STATE/service.db); never migrated, reset or copied",
    )
    p.add_argument(
        "--api-key",
        default=None,
        help="run the service with this key (default $ARDLIB_DEPLOY_API_KEY; needed again "
        "when the current deployment has one)",
    )
    p.add_argument("--state", type=Path, default=None, help="default .ardlib/deployments/")
    p.add_argument(
        "--log",
        type=Path,
        default=Path("data/deployments/log.jsonl"),
        help="deployment records (default data/deployments/log.jsonl)",
    )
    p.add_argument("--repo", type=Path, default=Path("."), help="git repository (default .)")
    p.add_argument("--browser", action="store_true", help="also smoke the dashboard in Chromium")


def add_rollout_parsers(dsub: argparse._SubParsersAction) -> None:
    """Register ``up``, ``down`` and ``rollback`` on the ``deploy`` subparsers."""
    up = dsub.add_parser(
        "up",
        help="deploy a git revision of the reference service on loopback, smoke it, record it",
        description="Check REV out into a worktree under the state folder, start ardlib serve "
        "from it in the background (replacing the current deployment), wait for /health, run "
        "the smoke checks, append a record with the verdict. Exit 0 when smoke passes, else 1.",
    )
    up.add_argument("--rev", required=True, help="branch, tag or commit")
    up.add_argument("--port", type=_port, default=None, help="default: current, else 8000")
    _common(up)
    up.set_defaults(func=run_up_command)
    down = dsub.add_parser("down", help="stop the running deployment (by its pid file)")
    down.add_argument("--state", type=Path, default=None, help="default .ardlib/deployments/")
    down.add_argument("--repo", type=Path, default=Path("."), help="git repository (default .)")
    down.set_defaults(func=run_down_command)
    back = dsub.add_parser(
        "rollback",
        help="stop the current deployment; bring the last passing revision back up",
        description="Stop the current deployment and deploy the previous passing record's "
        "revision (or REV) on the same port and database; record it as a rollback. Exit 0 "
        "when smoke passes, else 1. The database is not touched.",
    )
    back.add_argument("--to", default="previous", metavar="previous|REV")
    _common(back)
    back.set_defaults(func=run_rollback_command)


def _api_key(args: argparse.Namespace) -> str | None:
    return args.api_key or os.environ.get("ARDLIB_DEPLOY_API_KEY") or None


def _show(result: object) -> int:
    from ._rollout import DeploymentResult

    assert isinstance(result, DeploymentResult)
    print(result.report.render())
    d = result.deployment
    print(
        f"deployed {d.revision[:12]} at {d.url} (pid {d.pid}, database {d.database_url}); "
        f"record {result.record.id}"
    )
    for note in result.record.extra["deployment"]["notes"]:
        print(f"note: {note}")
    print(f"verdict: {result.verdict.message}")
    return 0 if result.passed else 1


def run_up_command(args: argparse.Namespace) -> int:
    """Run :func:`ardlib.deploy.deploy_revision` from parsed arguments."""
    from ._rollout import deploy_revision

    result = deploy_revision(
        args.rev, repo=args.repo, port=args.port, database_url=args.database_url,
        api_key=_api_key(args), state=args.state, log=args.log, browser=args.browser,
    )  # fmt: skip
    return _show(result)


def run_down_command(args: argparse.Namespace) -> int:
    """Run :func:`ardlib.deploy.stop_deployment` from parsed arguments."""
    from ._rollout import stop_deployment

    stopped = stop_deployment(repo=args.repo, state=args.state)
    if stopped is None:
        print("no deployment was running")
    else:
        print(f"stopped {stopped.revision[:12]} at {stopped.url} (pid {stopped.pid})")
    return 0


def run_rollback_command(args: argparse.Namespace) -> int:
    """Run :func:`ardlib.deploy.rollback` from parsed arguments."""
    from ._rollout import rollback

    result = rollback(
        args.to, repo=args.repo, database_url=args.database_url, api_key=_api_key(args),
        state=args.state, log=args.log, browser=args.browser,
    )  # fmt: skip
    print(f"rolled back record {result.record.extra['rollback_of']}")
    return _show(result)
