"""``ardlib regress check``, ``update`` and ``detector``.

- ``ardlib regress check [--baseline F] [--studies DIR] [--alpha A] [--kind K ...]
  [--only STUDY ...] [--json OUT] [--all]`` prints the verdict table; exit status 0 when
  every quantity matches, 1 on a regression (or a missing or incomparable group), 2 when
  the baseline is missing or corrupt or an argument is invalid.  A study is compared only
  with the baseline of its own specification (study hash); one without is listed as
  ``no baseline`` and does not fail the check.
- ``ardlib regress update --why TEXT [--who NAME] [--baseline F] [--studies DIR]
  [--kind K ...] [--only STUDY ...]`` records today's results as the baseline, each study
  under its specification (other specifications of the same study are kept); exit
  status 0, or 2 with a message on stderr.
- ``ardlib regress detector [--out data/benchmarks/regress_detector.json] [--problems P ...]
  [--budget 30] [--replicates 20] [--pool 100] [--degraded-pool 50] [--draws 2000]
  [--alpha 0.01] [--factors F ...] [--shift-draws 1000] [--seed S] [--store DIR]`` measures
  the check's false-positive rate and power (:func:`measure_detector`) and writes them as
  JSON; exit status 0, or 2 with a message on stderr.
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
    from ._baseline import DEFAULT_BASELINE, DEFAULT_STUDIES, KINDS  # light: not _check

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
    """Register ``regress check``, ``update`` and ``detector`` on the ``ardlib`` subparsers."""
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
    det = rsub.add_parser("detector", help="measure the check's false-positive rate and power")
    det.add_argument("--out", default="data/benchmarks/regress_detector.json")
    det.add_argument("--problems", nargs="+", default=["branin", "hartmann3"])
    det.add_argument("--budget", type=int, default=30)
    det.add_argument("--replicates", type=int, default=20, help="per group, baseline and rerun")
    det.add_argument("--pool", type=int, default=100, help="honest replicates run per group")
    det.add_argument("--degraded-pool", type=int, default=50, help="degraded GP-BO runs/problem")
    det.add_argument("--draws", type=int, default=2000, help="simulated reruns per measurement")
    det.add_argument("--alpha", type=_alpha, default=0.01)
    det.add_argument(
        "--factors",
        type=float,
        nargs="*",
        default=[1.5, 2.0, 3.0, 5.0, 10.0],
        help="synthetic degradations: the rerun's GP-BO regrets multiplied by each factor",
    )
    det.add_argument("--shift-draws", type=int, default=1000, help="reruns per factor")
    det.add_argument("--seed", type=int, default=20261127, help="master seed of the pools")
    det.add_argument("--store", help="keep the campaigns in this result store (default: temporary)")


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


def _detector(args: argparse.Namespace) -> int:
    from .._io import write_json
    from ._detector import measure_detector

    result = measure_detector(
        problems=args.problems,
        budget=args.budget,
        replicates=args.replicates,
        pool=args.pool,
        degraded_pool=args.degraded_pool,
        draws=args.draws,
        alpha=args.alpha,
        factors=args.factors,
        shift_draws=args.shift_draws,
        seed=args.seed,
        store=args.store,
        progress=lambda s: print(s, file=sys.stderr, flush=True),
    )
    write_json(args.out, result.to_json())
    print(result.format())
    print(f"wrote {args.out} ({result.seconds}s)")
    return 0


def run_regress_command(args: argparse.Namespace) -> int:
    """Run one ``ardlib regress`` subcommand; returns the exit status (0, 1 or 2)."""
    from ._baseline import BaselineError

    commands = {"check": _check, "update": _update, "detector": _detector}
    try:
        return commands[args.regress_cmd](args)
    except (BaselineError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
