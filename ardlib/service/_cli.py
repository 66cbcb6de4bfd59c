"""``ardlib serve`` and ``ardlib service seed-demo``.

The ``ardlib`` command registers them with :func:`add_service_parsers` and runs them with
:func:`run_service_command`.  Options override the environment (see
:class:`~ardlib.service.Settings`).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = ["add_service_parsers", "run_service_command"]


def add_service_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``serve`` and ``service seed-demo`` on the ``ardlib`` subparsers."""
    serve = sub.add_parser("serve", help="run the reference ARD backend service")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL (default $DATABASE_URL or sqlite:///ardlib-service.db)",
    )
    serve.add_argument(
        "--api-key",
        default=None,
        help="require X-API-Key for writes and reasoning (default $ARDLIB_API_KEY; none: off)",
    )
    serve.add_argument(
        "--protect-reads",
        action="store_true",
        default=None,  # None: $ARDLIB_PROTECT_READS decides
        help="listings need X-API-Key too; /health and the dashboard files stay open "
        "(default $ARDLIB_PROTECT_READS; needs --api-key)",
    )
    serve.add_argument(
        "--read-key",
        default=None,
        help="a second key that may read but not write (default $ARDLIB_READ_KEY; "
        "needs --protect-reads)",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=None,
        help="origin CORS allows (repeatable; default $ARDLIB_CORS_ORIGINS, comma-separated)",
    )
    serve.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        help="requests per minute per client, 0 = off (default $ARDLIB_RATE_LIMIT or 600)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default 1; each has its own rate-limit budget)",
    )
    serve.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    service = sub.add_parser("service", help="reference-service utilities")
    ssub = service.add_subparsers(dest="service_cmd", required=True)
    seed = ssub.add_parser(
        "seed-demo", help="fill the database with campaigns really run by ardlib's planners"
    )
    seed.add_argument("--database-url", default=None, help="default as for serve")
    seed.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    seed.add_argument(
        "--keep", action="store_true", help="keep earlier seed-demo rows instead of replacing"
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy.engine import make_url

    from ._app import create_app
    from ._settings import Settings

    try:
        settings = Settings.from_env(
            database_url=args.database_url,
            api_key=args.api_key,
            protect_reads=args.protect_reads,
            read_key=args.read_key,
            cors_origins=tuple(args.cors_origin) if args.cors_origin else None,
            rate_limit_per_minute=args.rate_limit,
        )
        if args.workers < 1:
            raise ValueError(f"--workers must be >= 1. Got {args.workers}.")
        app = create_app(settings)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    auth = "on" if settings.api_key else "off"
    if settings.protect_reads:
        auth += ", reads protected" + (" (read key set)" if settings.read_key else "")
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    print(
        f"ardlib service {settings.version} on http://{args.host}:{args.port} "
        f"(database {database}, auth {auth})",
        flush=True,
    )
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "ws": "none",
        "proxy_headers": False,
    }
    if args.workers == 1:
        uvicorn.run(app, **options)
        return 0
    # Worker processes build their own app from the environment: hand the settings over.
    os.environ.update(_environment(settings))
    uvicorn.run("ardlib.service:create_app", factory=True, workers=args.workers, **options)
    return 0


def _environment(settings: Any) -> dict[str, str]:
    env = {
        "DATABASE_URL": settings.database_url,
        "ARDLIB_RATE_LIMIT": str(settings.rate_limit_per_minute),
        "ARDLIB_CORS_ORIGINS": ",".join(settings.cors_origins),
    }
    if settings.api_key:
        env["ARDLIB_API_KEY"] = settings.api_key
    env["ARDLIB_PROTECT_READS"] = "1" if settings.protect_reads else "0"
    if settings.read_key:
        env["ARDLIB_READ_KEY"] = settings.read_key
    return env


def _seed(args: argparse.Namespace) -> int:
    from ._seed import seed_demo

    report = seed_demo(args.database_url, rng=args.seed, replace=not args.keep)
    print(
        f"seeded {report.n_runs} optimization runs, {report.n_experiments} experiments and "
        f"{report.n_ai_queries} AI queries from {', '.join(report.problems)} "
        f"in {report.seconds:.1f} s"
    )
    for reason in report.skipped:
        print(f"skipped {reason}")
    return 0


def run_service_command(args: argparse.Namespace) -> int:
    """Run ``serve`` or ``service seed-demo``; returns the exit status (2 for bad options)."""
    if args.cmd == "serve":
        return _serve(args)
    if args.cmd == "service" and args.service_cmd == "seed-demo":
        try:
            return _seed(args)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(f"error: unknown service command {args.cmd!r}", file=sys.stderr)
    return 2
