"""``ardlib testsel evaluate`` and ``ardlib testsel run``.

- ``ardlib testsel evaluate [--data data/testsel] [--out FILE.json] [--model-out FILE]
  [--target-recall 0.99] [--seed 0] ...`` evaluates the model and the baselines on held-out
  mutants (module-grouped and time-ordered splits) and writes the metrics JSON; with
  ``--model-out`` it also trains a selector on every mutant and saves it for ``run``.
  The pipeline's ``test-selection`` stage writes the same numbers through the report
  notebook instead (``ardlib report test_selection``).
- ``ardlib testsel run [--base HEAD] [--data data/testsel] [--method coverage|model]
  [--model FILE] [--dry-run] [--fallback full|none] [-v] [-- PYTEST_ARGS]`` runs the
  tests the working tree's changes against ``--base`` need (``make test-changed``); prints
  what it selected and skipped and why; exits with pytest's status.  The default is
  ``coverage`` (every test executing a changed line): on the dataset collected at 5fce4ae
  the model caught 0.986 of held-out faulty changes, below its 0.99 target, to save 0.3
  points of test-seconds over coverage's 1.000 (``reports/metrics/test_selection.json``).

Bad input (a missing dataset for ``evaluate``, a base that is not a commit) raises
ValueError or OSError, printed by :func:`ardlib.cli.main` as one ``ardlib: error:`` line
with exit status 2.  For ``run``, missing or stale data is not bad input: it falls back to
the full fast tier (or, with ``--fallback none``, to nothing) and says why.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["COMMANDS", "add_parsers", "run"]

COMMANDS: tuple[str, ...] = ("evaluate", "run")
DEFAULT_MODEL = "data/testsel_model/model.joblib"


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1]; got {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def add_parsers(tsub: argparse._SubParsersAction) -> None:
    """Register ``evaluate`` and ``run`` on the ``ardlib testsel`` subparsers.

    Parameters
    ----------
    tsub : argparse._SubParsersAction
        The subparsers of ``ardlib testsel``.
    """
    ev = tsub.add_parser("evaluate", help="evaluate test selection on held-out mutants")
    ev.add_argument("--data", default="data/testsel", help="dataset folder (default data/testsel)")
    ev.add_argument(
        "--out", default="reports/metrics/test_selection.json", help="metrics JSON to write"
    )
    ev.add_argument(
        "--model-out",
        default=None,
        help=f"also train on every mutant and save the model (e.g. {DEFAULT_MODEL})",
    )
    ev.add_argument(
        "--target-recall",
        type=_share,
        default=0.99,
        help="change-level recall the threshold is calibrated for (default 0.99)",
    )
    ev.add_argument("--n-splits", type=_positive, default=5, help="module-grouped folds")
    ev.add_argument(
        "--train-share",
        type=_share,
        default=0.7,
        help="time-ordered split: quantile of line time where it cuts",
    )
    ev.add_argument("--n-resamples", type=_positive, default=2000, help="bootstrap resamples")
    ev.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    rn = tsub.add_parser("run", help="run the tests the working tree's changes need")
    rn.add_argument("--base", default="HEAD", help="base revision (default HEAD)")
    rn.add_argument("--data", default="data/testsel", help="dataset folder (default data/testsel)")
    rn.add_argument("--model", default=DEFAULT_MODEL, help=f"selector (default {DEFAULT_MODEL})")
    rn.add_argument(
        "--method",
        choices=("coverage", "model"),
        default="coverage",
        help="coverage (default): every test executing a changed line; model: the covering "
        "tests the model keeps",
    )
    rn.add_argument("--dry-run", action="store_true", help="print the pytest command only")
    rn.add_argument(
        "--fallback",
        choices=("full", "none"),
        default="full",
        help="when the selection cannot be trusted: the full fast tier or nothing",
    )
    rn.add_argument(
        "-v", "--verbose", action="store_true", help="list every selected and skipped test"
    )
    rn.add_argument(
        "pytest_args", nargs="*", metavar="-- PYTEST_ARGS", help="arguments for pytest, after --"
    )


def run(args: argparse.Namespace) -> int:
    """Run one of :data:`COMMANDS`; returns the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by the parsers :func:`add_parsers` registered.

    Returns
    -------
    int
        0 on success; pytest's status for ``run``.
    """
    if args.testsel_cmd == "evaluate":
        return _evaluate(args)
    if args.testsel_cmd == "run":
        return _run(args)
    raise ValueError(f"unknown testsel command {args.testsel_cmd!r}")


def _evaluate(args: argparse.Namespace) -> int:
    from .._io import write_json
    from ._evaluate import evaluate_selection
    from ._load import load_selection_data
    from ._model import save_selector, train_selector

    data = load_selection_data(args.data, repo=".")
    ev = evaluate_selection(
        data,
        target_recall=args.target_recall,
        n_splits=args.n_splits,
        train_share=args.train_share,
        n_resamples=args.n_resamples,
        rng=args.seed,
    )
    metrics = json.loads(json.dumps(ev.to_metrics(), default=float))
    write_json(args.out, metrics)
    for name, res in ev.splits.items():
        print(f"{name}:")
        for m, r in res.methods.items():
            print(
                f"  {m:<10} recall {r.recall:.3f} [{r.recall_low:.3f}, {r.recall_high:.3f}]  "
                f"seconds_share {r.seconds_share:.3f} "
                f"[{r.seconds_share_low:.3f}, {r.seconds_share_high:.3f}]"
            )
    print(f"metrics -> {args.out}")
    if args.model_out:
        sel = train_selector(data, target_recall=args.target_recall, random_state=args.seed)
        print(
            f"model (threshold {sel.model.threshold_:.3g}) -> {save_selector(sel, args.model_out)}"
        )
    return 0


def _run(args: argparse.Namespace) -> int:
    from ._select import plan_selection, run_selection

    model = None if args.method == "coverage" else Path(args.model)
    plan = plan_selection(args.base, data=args.data, model=model)
    print(plan.summary(verbose=args.verbose))
    return run_selection(plan, args.pytest_args, fallback=args.fallback, dry_run=args.dry_run)
