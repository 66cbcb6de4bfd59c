"""``ardlib smoke URL``: run the deployment smoke checks and print the table.

Exit status: 0 when every check passed (skipped checks allowed), 1 when any failed,
2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_smoke_parser", "run_smoke_command"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def add_smoke_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``smoke`` on the ``ardlib`` command's subparsers."""
    p = sub.add_parser(
        "smoke",
        help="check a deployed ARD backend (health, endpoints, SSE, CORS, headers, latency)",
        description="Run the deployment smoke checks against URL; exit 0 when all pass, "
        "1 when any fails, 2 on usage errors.",
    )
    p.add_argument("url", metavar="URL", help="service root, e.g. http://127.0.0.1:8080")
    p.add_argument(
        "--api-key",
        default=None,
        help="sent as X-API-Key (reasoning needs it; the listings and the dashboard too when "
        "the service protects reads)",
    )
    p.add_argument(
        "--requests",
        type=_positive_int,
        default=20,
        metavar="N",
        help="requests per endpoint for the latency percentiles (default 20)",
    )
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the report")
    p.add_argument(
        "--origin-allowed",
        default=None,
        metavar="O",
        help="origin CORS must allow (without it that check is skipped)",
    )
    p.add_argument(
        "--origin-disallowed",
        default=None,
        metavar="O",
        help="origin CORS must refuse (default https://disallowed.invalid)",
    )
    p.add_argument("--no-browser", action="store_true", help="skip the dashboard browser check")
    p.add_argument("--screenshot", type=Path, default=None, metavar="FILE", help="dashboard PNG")
    p.add_argument(
        "--timeout", type=_positive_float, default=10.0, help="per-request seconds (default 10)"
    )
    p.add_argument(
        "--latency-bound",
        type=_positive_float,
        default=2.0,
        metavar="S",
        help="p99 latency bound in seconds (default 2)",
    )
    p.set_defaults(func=run_smoke_command)


def run_smoke_command(args: argparse.Namespace) -> int:
    """Run :func:`ardlib.deploy.smoke` from parsed arguments; print the table; exit status."""
    # httpx imported here, not at the top: every ``ardlib`` command imports this module to
    # build its parser, and httpx cost about 0.1 s of each command's start-up.
    import httpx

    from ._smoke import DISALLOWED_ORIGIN, smoke

    try:
        url = httpx.URL(args.url)
    except httpx.InvalidURL as exc:
        print(f"error: URL {args.url!r} is not valid: {exc}", file=sys.stderr)
        return 2
    if url.scheme not in ("http", "https") or not url.host:
        print(f"error: URL must be http(s)://host[:port], got {args.url!r}", file=sys.stderr)
        return 2
    report = smoke(
        args.url,
        api_key=args.api_key,
        n_requests=args.requests,
        origins=(args.origin_allowed, args.origin_disallowed or DISALLOWED_ORIGIN),
        browser=not args.no_browser,
        latency_bound=args.latency_bound,
        screenshot=args.screenshot,
        timeout=args.timeout,
    )
    print(report.render())
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(report.to_json() + "\n")
        print(f"report written to {args.json}")
    return 0 if report.passed else 1
