"""``ardlib serve`` and ``ardlib service seed-demo``.

The ``ardlib`` command registers them with :func:`add_service_parsers` and runs them with
:func:`run_service_command`.  Options override the environment (see
:class:`~ardlib.service.Settings`).

Options are checked while the command line is parsed, before anything starts: ``--port``
is a TCP port from 1 to 65535 (0, "any free port", is refused: the address printed at
start would be wrong), and ``--database-url`` (or ``$DATABASE_URL`` when the option is not
given) must be a SQLAlchemy URL of a backend SQLAlchemy knows, with its driver installed
and, for SQLite, a file in a folder that exists (:func:`check_database_url`).  Nothing
connects to the database then: ``serve`` starts even when PostgreSQL is down (``/health``
reports it), while ``seed-demo`` answers an unreachable database with one ``error:`` line.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_service_parsers", "check_database_url", "run_service_command"]

_URL_EXPECTED = (
    "a SQLAlchemy URL such as sqlite:///path/to/file.db or "
    "postgresql://user:password@host:5432/dbname"
)
_PORT_MAX = 65535


def _port(text: str) -> int:
    """``--port``: an int from 1 to 65535 (argparse type)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= _PORT_MAX:
        note = " (0, any free port, is not supported)" if port == 0 else ""
        raise argparse.ArgumentTypeError(
            f"expected a TCP port, an int from 1 to {_PORT_MAX}{note}; got {text!r}"
        )
    return port


def _database_url_problem(url: str) -> tuple[str, str] | None:
    """Why ``url`` cannot serve as the service's database, or None when it can.

    Returns (what to show of the URL, password hidden; the reason).  Only parses the URL and
    loads its dialect and driver: nothing connects.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from ._settings import normalize_database_url

    try:
        parsed = make_url(normalize_database_url(url))
    except (ArgumentError, ValueError):  # ValueError: empty, or a port that is not a number
        masked = re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)  # no password in messages
        return repr(masked), "not a URL of the form backend://[user[:password]@host[:port]]/db"
    shown = parsed.render_as_string(hide_password=True) if parsed.password else url
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        return repr(shown), f"SQLAlchemy has no database backend {parsed.drivername!r}"
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        return repr(shown), f"the {parsed.drivername} driver is not installed: {exc}"
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if database in (None, "", ":memory:") or "mode=memory" in str(parsed.query):
        return repr(shown), "an in-memory SQLite database loses its data; name a file"
    if str(parsed.query.get("uri", "")).lower() in ("true", "1"):
        return None  # a sqlite3 "file:" URI: its path is SQLite's to resolve
    path = Path(database)
    if path.is_dir():
        return repr(shown), f"{database} is a folder, not a SQLite file"
    folder = path.parent
    if not folder.is_dir():
        return repr(shown), f"folder {str(folder)!r} does not exist"
    return None


def check_database_url(url: str, source: str = "--database-url") -> str:
    """``url`` when it can serve as the service's database; else ValueError naming ``source``.

    Checks without connecting: the URL parses, SQLAlchemy knows its backend and driver (the
    driver is installed), and a SQLite URL names a file (not ``:memory:``) in a folder that
    exists (relative paths from the working directory).  ``postgres://`` URLs are checked as
    the ``postgresql+psycopg://`` URLs the service turns them into.

    Parameters
    ----------
    url : str
        The URL as given.
    source : str, default "--database-url"
        Where it came from (an option or an environment variable), for the message.

    Returns
    -------
    str
        ``url`` unchanged.

    Raises
    ------
    ValueError
        ``"{source}: expected a SQLAlchemy URL such as ...; got '...' (why)"``.
    """
    problem = _database_url_problem(url)
    if problem is None:
        return url
    shown, why = problem
    raise ValueError(f"{source}: expected {_URL_EXPECTED}; got {shown} ({why})")


def _database_url_option(text: str) -> str:
    """``--database-url`` (argparse type): argparse names the option in the message."""
    problem = _database_url_problem(text)
    if problem is None:
        return text
    shown, why = problem
    raise argparse.ArgumentTypeError(f"expected {_URL_EXPECTED}; got {shown} ({why})")


def _database_url(args: argparse.Namespace) -> tuple[str, str]:
    """The URL the command uses and where it came from: ``--database-url`` (checked while
    parsing), else ``$DATABASE_URL`` (checked here), else the default SQLite file."""
    from ._settings import DEFAULT_DATABASE_URL

    if args.database_url is not None:
        return str(args.database_url), "--database-url"
    env = os.environ.get("DATABASE_URL")
    if env:
        source = "DATABASE_URL (used when --database-url is not given)"
        return check_database_url(env, source), "DATABASE_URL"
    return check_database_url(DEFAULT_DATABASE_URL), "the default --database-url"


def add_service_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``serve`` and ``service seed-demo`` on the ``ardlib`` subparsers."""
    serve = sub.add_parser("serve", help="run the reference ARD backend service")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, default=8000, help="TCP port, 1 to 65535 (default 8000)"
    )
    serve.add_argument(
        "--database-url",
        type=_database_url_option,
        default=None,
        help="SQLAlchemy URL, e.g. sqlite:///path/to/file.db or postgresql://user:pw@host/db "
        "(default $DATABASE_URL or sqlite:///ardlib-service.db)",
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
    seed.add_argument(
        "--database-url", type=_database_url_option, default=None, help="as for serve"
    )
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
            database_url=_database_url(args)[0],
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
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    from ._seed import seed_demo
    from ._settings import normalize_database_url

    url, source = _database_url(args)
    try:
        # Normalized as Settings does for serve (postgres:// -> the psycopg 3 driver).
        report = seed_demo(normalize_database_url(url), rng=args.seed, replace=not args.keep)
    except OperationalError as exc:  # unreachable server, unwritable file, ...
        if os.environ.get("ARDLIB_DEBUG"):
            raise
        shown = make_url(url).render_as_string(hide_password=True)
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise ValueError(f"{source}: cannot use the database {shown}: {reason}") from exc
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
