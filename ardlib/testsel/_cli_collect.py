"""``ardlib testsel collect``: the mutant, coverage and history dataset.

``ardlib testsel collect --out data/testsel [--mutants N] [--seed S] [--workers W]
[--check-sample K] [--cost-cap SECONDS] [--progress/--no-progress] [--repo DIR]`` runs
:func:`ardlib.testsel.collect` and prints one summary line; exit status 0.  Bad arguments
raise ValueError naming the argument, which :func:`ardlib.cli.main` prints as one
``ardlib: error:`` line with exit status 2.
"""

from __future__ import annotations

import argparse

__all__ = ["COMMANDS", "add_parsers", "run"]

COMMANDS: tuple[str, ...] = ("collect",)


def add_parsers(tsub: argparse._SubParsersAction) -> None:
    """Register ``collect`` on the ``ardlib testsel`` subparsers."""
    col = tsub.add_parser("collect", help="mutants, per-test coverage and history of ardlib/")
    col.add_argument("--out", required=True, help="output folder (e.g. data/testsel)")
    col.add_argument("--mutants", default="1700", help="mutation sites drawn (default 1700)")
    col.add_argument("--seed", default="0", help="seed of the samples (default 0)")
    col.add_argument("--workers", default="2", help="worker processes (default 2)")
    col.add_argument(
        "--check-sample", default="4", help="killed mutants run against the whole universe"
    )
    col.add_argument(
        "--cost-cap", default="2.0", help="seconds of covering tests above which a drawn "
        "site is kept with probability cap/cost (default 2.0)",
    )  # fmt: skip
    col.add_argument("--repo", default=".", help="repository root (default: .)")
    col.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="progress bars"
    )


def _int(text: str, option: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{option} must be an integer >= {low}; got {text!r}") from None
    if value < low:
        raise ValueError(f"{option} must be an integer >= {low}; got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    """Run ``ardlib testsel collect``; returns the exit status."""
    if args.testsel_cmd != "collect":
        raise ValueError(f"unknown testsel command {args.testsel_cmd!r}")
    from ._collect import collect

    n = _int(args.mutants, "--mutants", 1)
    seed = _int(args.seed, "--seed", 0)
    workers = _int(args.workers, "--workers", 1)
    check = _int(args.check_sample, "--check-sample", 0)
    try:
        cap = float(args.cost_cap)
    except ValueError:
        raise ValueError(f"--cost-cap must be a number > 0; got {args.cost_cap!r}") from None
    if not cap > 0 or cap == float("inf"):
        raise ValueError(f"--cost-cap must be a number > 0; got {args.cost_cap!r}")
    result = collect(
        args.out, repo=args.repo, n_mutants=n, seed=seed, workers=workers,
        check_sample=check, cost_cap=cap, progress=args.progress,
    )  # fmt: skip
    c = result.meta["counts"]
    print(
        f"{result.out}: {c['run']} mutants run ({c['killed']} killed, {c['survived']} "
        f"survived), {c['not_covered']} not covered, {result.meta['n_tests']} tests, "
        f"{result.meta['wall_s']:.0f} s"
    )
    return 0
