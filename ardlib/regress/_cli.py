"""``ardlib regress check`` and ``ardlib regress update``.

- ``ardlib regress check [--baseline F] [--studies DIR] [--alpha A] [--kind K ...]
  [--only STUDY ...] [--json OUT] [--all]`` prints the verdict table; exit status 0 when
  every quantity matches, 1 on a regression (or a missing or incomparable group), 2 when
  the baseline is missing or corrupt or an argument is invalid.
- ``ardlib regress update --why TEXT [--who NAME] [--baseline F] [--studies DIR]
  [--kind K ...] [--only STUDY ...]`` records today's results as the baseline; exit
  status 0, or 2 with a message on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_regress_parser", "run_regress_command"]


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a float in (0, 1); got {text!r}")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    from ._baseline import DEFAULT_BASELINE
    from ._check import DEFAULT_STUDIES, KINDS

    parser.add_argument(
        "--baseline", default=DEFAULT_BASELINE, help=f"baseline file (default {DEFAULT_BASELINE})"
    )
    parser.add_argument(
        "--studies", default=DEFAULT_STUDIES, help=f"study results (default {DEFAULT_STUDIES})"
    )
    parser.add_argument(
        "--kind", action="append", choices=KINDS, help="only this kind (repeatable; default all)"
    )
    parser.add_argument("--only", action="append", help="only this study (repeatable)")


def add_regress_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``regress check`` and ``regress update`` on the ``ardlib`` subparsers."""
    reg = sub.add_parser("regress", help="compare results with the stored baseline")
    rsub = reg.add_subparsers(dest="regress_cmd", required=True)
    check = rsub.add_parser("check", help="compare today's results with the baseline")
    _common(check)
    check.add_argument(
        "--alpha", type=_alpha, default=0.01, help="family-wise error rate (default 0.01)"
    )
    check.add_argument("--json", metavar="OUT", help="also write the report as JSON to OUT")
    check.add_argument("--all", action="store_true", help="print every reference row")
    update = rsub.add_parser("update", help="record today's results as the baseline")
    _common(update)
    update.add_argument("--why", required=True, help="why the baseline changes (required)")
    update.add_argument("--who", help="who updates it (default: git user.name, else $USER)")


def _check(args: argparse.Namespace) -> int:
    from ._check import KINDS, check_results

    report = check_results(
        args.baseline, args.studies, alpha=args.alpha, kinds=args.kind or KINDS, only=args.only
    )
    print(report.format(all_rows=args.all))
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report.to_json(), indent=2, allow_nan=False) + "\n")
    return 0 if report.passed else 1


def _update(args: argparse.Namespace) -> int:
    from ._check import KINDS
    from ._update import update_baseline

    new = update_baseline(
        args.baseline,
        args.studies,
        why=args.why,
        who=args.who,
        kinds=args.kind or KINDS,
        only=args.only,
    )
    entry = new.history[-1]
    print(
        f"wrote {args.baseline}: {', '.join(entry['updated'])} "
        f"(by {entry['who']} at {entry['when']}, revision {entry['ardlib_revision']})"
    )
    return 0


def run_regress_command(args: argparse.Namespace) -> int:
    """Run ``regress check`` or ``regress update``; returns the exit status (0, 1 or 2)."""
    from ._baseline import BaselineError

    try:
        return _check(args) if args.regress_cmd == "check" else _update(args)
    except (BaselineError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
