"""``ardlib bench``: list, run, compare two revisions, history with change points, the
detector's error rates, and profiles.

- ``ardlib bench list [-k PATTERN] [--slow]``
- ``ardlib bench run [-k PATTERN] [--slow] [--rounds 5] [--out data/benchmarks/runs]``
- ``ardlib bench compare BASE HEAD [-k PATTERN] [--slow] [--rounds 12] [--processes 3]
  [--clock cpu|wall] [--threshold 0.1] [--alpha 0.002] [--json FILE]``: exit 1 when a
  benchmark is slower (a regression), 2 on a usage error.  ``.`` names the working tree.
- ``ardlib bench history [--dir data/benchmarks/runs] [-k PATTERN]``
- ``ardlib bench detector [--pairs 10] [--out data/benchmarks/detector.json]``
- ``ardlib bench profile [-k PATTERN] [--out DIR] [--seconds 1]``
- ``ardlib bench planners [--seeds 30] [--reps 3] [--budget 60] [--sizes N ...]
  [--out FILE]``: GP-BO ``ask()`` latency by dimension and size, and evaluations to a
  target regret on Branin.
- ``ardlib bench peers [--problems P ...] [--planners ardlib botorch skopt optuna]
  [--seeds 10] [--budget 40] [--budgets B ...] [--store DIR]
  [--out data/benchmarks/peers.json]``: ardlib's GP-BO beside the peer libraries as one
  study, compared by paired tests (after each of ``--budgets`` evaluations) and ask times.
- ``ardlib bench peers --cold [--problems hartmann6] [--planners ardlib botorch]
  [--sizes 10 100 500 1000 2000] [--datasets 5] [--out data/benchmarks/peers_cold.json]``:
  one cold ``ask()`` (a fresh planner told n observations, the same for every planner) per
  planner, size and data set, timed side by side (:func:`~ardlib.bench.cold_ask_times`).
- ``ardlib bench batches [--problems P ...] [--planners ardlib botorch] [--batch-sizes 1 4 8]
  [--peer-batch-sizes 1 4] [--seeds 10] [--budget 40] [--store DIR]
  [--out data/benchmarks/batches.json]``: batches of q points against sequential asks at
  equal evaluations, and ardlib against the peers at the same q.
- ``ardlib bench scaling [--workers 2] [--rounds 5] [--out FILE]``: a 48-cell study on one
  worker and on ``--workers``, alternating (:func:`~ardlib.bench.study_scaling`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_bench_parser", "run_bench_command"]


# ``ardlib bench peers`` defaults: the peer study, and the cold mode (``--cold``).
_STUDY: dict[str, Any] = {
    "problems": ["branin", "hartmann6", "emulator:suzuki"],
    "planners": ["ardlib", "botorch", "skopt", "optuna"],
    "replicates": 10,
    "budget": 40,
    "budgets": None,
    "store": "data/benchmarks/peer_store",
    "out": "data/benchmarks/peers.json",
}
_COLD: dict[str, Any] = {
    "problems": ["hartmann6"],
    "planners": ["ardlib", "botorch"],
    "sizes": [10, 100, 500, 1000, 2000],  # ardlib.bench.COLD_SIZES (not imported: CLI start-up)
    "datasets": 5,
    "out": "data/benchmarks/peers_cold.json",
}


def _selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("-k", "--pattern", help="benchmarks whose name or group matches (fnmatch)")
    p.add_argument("--slow", action="store_true", help="include slow benchmarks (study, client)")


def add_bench_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``bench`` and its subcommands on the ``ardlib`` command's subparsers."""
    bench = sub.add_parser("bench", help="benchmarks, side-by-side comparisons, profiles")
    bsub = bench.add_subparsers(dest="bench_cmd", required=True)
    _selection(bsub.add_parser("list", help="list the registered benchmarks"))
    run = bsub.add_parser("run", help="measure this checkout and store the result")
    _selection(run)
    run.add_argument("--rounds", type=int, default=5)
    run.add_argument("--repeat", type=int, default=3)
    run.add_argument("--min-time", type=float, default=0.02, help="seconds per sample, at least")
    run.add_argument("--out", default="data/benchmarks/runs", help="directory of run files")
    cmp = bsub.add_parser("compare", help="BASE and HEAD side by side; exit 1 on regression")
    cmp.add_argument("base", help="revision (branch, tag, commit) or '.' for the working tree")
    cmp.add_argument("head", help="revision or '.' for the working tree")
    _selection(cmp)
    cmp.add_argument("--rounds", type=int, default=12)
    cmp.add_argument("--repeat", type=int, default=2)
    cmp.add_argument("--processes", type=int, default=3, help="runner processes per side")
    cmp.add_argument(
        "--clock", choices=["cpu", "wall"], default="cpu", help="CPU or wall seconds per call"
    )
    cmp.add_argument("--min-time", type=float, default=0.02)
    cmp.add_argument("--alpha", type=float, default=0.002, help="Mann-Whitney level")
    cmp.add_argument("--threshold", type=float, default=0.10, help="smallest relative change")
    cmp.add_argument("--json", help="write the comparison (samples included) here")
    hist = bsub.add_parser("history", help="stored runs in commit order, with change points")
    hist.add_argument("--dir", default="data/benchmarks/runs")
    hist.add_argument("-k", "--pattern")
    det = bsub.add_parser("detector", help="measure false-positive and detection rates")
    det.add_argument("--pairs", type=int, default=10, help="runner pairs per slowdown level")
    det.add_argument(
        "--aa-pairs", type=int, help="runner pairs for the A/A level (default --pairs)"
    )
    det.add_argument("--out", default="data/benchmarks/detector.json")
    prof = bsub.add_parser("profile", help="flame graphs and top self-time frames")
    _selection(prof)
    prof.add_argument("--out", default="data/benchmarks/profiles/worktree")
    prof.add_argument("--seconds", type=float, default=1.0)
    plan = bsub.add_parser("planners", help="GP-BO ask() latency and evaluations to target")
    plan.add_argument("--seeds", type=int, default=30, help="Branin campaigns (>= 30)")
    plan.add_argument("--reps", type=int, default=3, help="campaigns per latency cell")
    plan.add_argument("--budget", type=int, default=60, help="evaluations per Branin campaign")
    plan.add_argument(
        "--sizes", type=int, nargs="+", default=[10, 50, 100, 200], help="n of the latency cells"
    )
    plan.add_argument("--out", help="also write the result as JSON here")
    _add_peers_parser(bsub)
    _add_batches_parser(bsub)
    scale = bsub.add_parser("scaling", help="a study on one worker against several")
    scale.add_argument("--workers", type=int, default=2, help="parallel workers (default 2)")
    scale.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    scale.add_argument("--out", help="also write the JSON here")


def _add_peers_parser(bsub: argparse._SubParsersAction) -> None:
    """``bench peers``: the peer study, or ``--cold``; each mode's defaults apply in _peers."""
    peers = bsub.add_parser("peers", help="ardlib's GP-BO beside BoTorch, skopt and Optuna")
    add = peers.add_argument
    study, cold = _STUDY, _COLD
    add("--problems", nargs="+", help=f"default {study['problems']}; cold {cold['problems']}")
    add("--planners", nargs="+", help=f"default {study['planners']}; cold {cold['planners']}")
    add("--seeds", "--replicates", dest="replicates", type=int, help="default 10 (not cold)")
    add(
        "--budget",
        type=int,
        help="evaluations per campaign (default 40, or the largest of --budgets; not cold)",
    )
    add(
        "--budgets",
        type=int,
        nargs="+",
        help="compare regret after each of these many "
        "evaluations too, Holm over all (default: the budget; not cold)",
    )
    add("--store", help=f"result store (default {study['store']}; not cold)")
    add("--out", help=f"default {study['out']}; cold {cold['out']}")
    add("--cold", action="store_true", help="time one ask of fresh planners told n observations")
    add("--sizes", type=int, nargs="+", help=f"cold only: n (default {cold['sizes']})")
    add("--datasets", type=int, help=f"cold only: data sets per n (default {cold['datasets']})")


def _add_batches_parser(bsub: argparse._SubParsersAction) -> None:
    """``bench batches``: batch asks against sequential ones, ardlib against the peers."""
    bat = bsub.add_parser("batches", help="batch asks against sequential ones, ardlib vs peers")
    bat.add_argument("--problems", nargs="+", default=["branin", "hartmann6"])
    bat.add_argument("--planners", nargs="+", default=["ardlib", "botorch"])
    bat.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 4, 8], help="ardlib's q")
    bat.add_argument("--peer-batch-sizes", nargs="+", type=int, default=[1, 4], help="the peers' q")
    bat.add_argument("--seeds", "--replicates", dest="replicates", type=int, default=10)
    bat.add_argument("--budget", type=int, default=40, help="evaluations per campaign")
    bat.add_argument("--store", default="data/benchmarks/batch_store", help="result store")
    bat.add_argument("--out", default="data/benchmarks/batches.json")


def _names(args: argparse.Namespace) -> list[str]:
    from . import list_benchmarks

    names = [b.name for b in list_benchmarks(args.pattern, include_slow=args.slow)]
    if not names:
        raise ValueError(f"no benchmark matches {args.pattern!r} (see 'ardlib bench list')")
    return names


def run_bench_command(args: argparse.Namespace) -> int:
    """Run one ``ardlib bench`` subcommand; returns the exit status."""
    try:
        return _COMMANDS[args.bench_cmd](args)
    except KeyError as exc:  # a name missing from a benchmark table; the rest reach cli.main
        print(f"ardlib: error: {exc}", file=sys.stderr)
        return 2


def _list(args: argparse.Namespace) -> int:
    from . import list_benchmarks

    found = list_benchmarks(args.pattern, include_slow=args.slow)
    if not found and args.pattern:
        raise ValueError(f"no benchmark matches {args.pattern!r} (see 'ardlib bench list')")
    for b in found:
        print(f"{b.name:<42} {b.group:<12} {'slow ' if b.slow else ''}{b.description}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from . import run_benchmarks, save_run

    run = run_benchmarks(
        _names(args),
        rounds=args.rounds,
        repeat=args.repeat,
        min_time=args.min_time,
        progress=lambda s: print(s, file=sys.stderr),
    )
    print(run.table.to_string(index=False))
    print(f"wrote {save_run(run, args.out)}")
    return 1 if any(r.get("error") for r in run.results.values()) else 0


def _compare(args: argparse.Namespace) -> int:
    from . import compare_revisions

    result = compare_revisions(
        args.base,
        args.head,
        benchmarks=_names(args),
        rounds=args.rounds,
        repeat=args.repeat,
        processes=args.processes,
        clock=args.clock,
        min_time=args.min_time,
        alpha=args.alpha,
        threshold=args.threshold,
        progress=lambda s: print(s, file=sys.stderr, flush=True),
    )
    t = result.table
    print(f"BASE {result.base}\nHEAD {result.head}")
    for note in result.notes:
        print(f"note: {note}")
    for r in t.to_dict(orient="records"):
        verdict = str(r["verdict"])
        if verdict == "unavailable":
            print(f"{r['benchmark']:<42} unavailable: {r['error']}")
            continue
        print(
            f"{r['benchmark']:<42} {1e3 * r['base_median']:10.3f} ms -> "
            f"{1e3 * r['head_median']:10.3f} ms  ratio {r['ratio']:6.3f} "
            f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]  p={r['p_value']:8.2g}  "
            f"{verdict.upper() if verdict == 'slower' else verdict}"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result.to_json(), indent=1) + "\n")
    slower = t.loc[t["verdict"] == "slower", "benchmark"].tolist()
    rule = f"p < {args.alpha} and ratio > {1 + args.threshold:.2f}"
    if slower:
        print(f"REGRESSION ({rule}): {', '.join(slower)}")
        return 1
    print(f"no regression ({rule} for none of {len(t)} benchmarks)")
    return 0


def _history(args: argparse.Namespace) -> int:
    from . import history_changes, load_runs

    if not Path(args.dir).is_dir():
        raise ValueError(
            f"--dir {args.dir!r} is not a folder of stored runs ('ardlib bench run' writes them)."
        )
    runs = load_runs(args.dir)
    if args.pattern:
        runs = runs[runs["benchmark"].str.contains(args.pattern, regex=False)]
    if runs.empty:
        print(f"no stored runs in {args.dir}")
        return 0
    n = runs["revision"].nunique()
    print(f"{n} revision(s), {runs['benchmark'].nunique()} benchmark(s)")
    changes = history_changes(runs)
    if changes.empty:
        print("no change points")
    else:
        print(changes.to_string(index=False))
    return 0


def _detector(args: argparse.Namespace) -> int:
    from . import measure_detector

    levels = (0.0, 0.05, 0.10, 0.25)
    aa = args.aa_pairs if args.aa_pairs is not None else args.pairs
    rates = measure_detector(
        slowdowns=levels,
        pairs=[aa] + [args.pairs] * (len(levels) - 1),
        progress=lambda s: print(s, file=sys.stderr),
    )
    print(rates.table.to_string(index=False))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "settings": rates.settings,
        "rates": json.loads(rates.table.to_json(orient="records")),
        "trials": json.loads(rates.trials.to_json(orient="records")),
    }
    out.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


def _profile(args: argparse.Namespace) -> int:
    from ._profiles import profile_benchmarks

    table = profile_benchmarks(_names(args), args.out, seconds=args.seconds)
    print(table.to_string(index=False))
    return 0


def _planners(args: argparse.Namespace) -> int:
    from .._io import write_json
    from ._planners import planner_benchmark

    result = planner_benchmark(
        seeds=args.seeds,
        reps=args.reps,
        budget=args.budget,
        sizes=args.sizes,
        progress=lambda s: print(s, file=sys.stderr, flush=True),
    )
    print(result.format())
    if args.out:
        write_json(args.out, result.to_json())
        print(f"wrote {args.out}")
    return 0


def _mode_options(args: argparse.Namespace, cold: bool) -> dict[str, Any]:
    """The peers command's options with its mode's defaults; options of the other mode
    are refused."""
    own, other = (_COLD, _STUDY) if cold else (_STUDY, _COLD)
    given = [k for k in other if k not in own and getattr(args, k, None) is not None]
    if given:
        flags = ", ".join("--" + ("seeds" if k == "replicates" else k) for k in given)
        mode = "the peer study (without --cold)" if cold else "--cold"
        raise ValueError(f"{flags}: only for {mode}")
    return {k: v if (v := getattr(args, k, None)) is not None else d for k, d in own.items()}


def _peers(args: argparse.Namespace) -> int:
    from .._io import machine_info, write_json
    from ._peers import run_peers

    if getattr(args, "cold", False):
        return _peers_cold(_mode_options(args, cold=True))
    opts = _mode_options(args, cold=False)
    budget = opts["budget"] if args.budget is not None or not opts["budgets"] else None
    comparison = run_peers(
        opts["problems"],
        opts["planners"],
        budget=budget if budget is not None else max(opts["budgets"]),
        replicates=opts["replicates"],
        budgets=opts["budgets"],
        store=opts["store"],
    )
    print(comparison.table.to_string(index=False))
    write_json(opts["out"], {**comparison.to_json(), "machine": machine_info()})
    print(f"wrote {opts['out']}")
    return 0


def _peers_cold(opts: dict[str, Any]) -> int:
    import pandas as pd

    from .._io import json_records, machine_info, provenance, write_json
    from ._cold import _check_problem, cold_ask_times, cold_summary
    from ._peers import peer_versions

    for problem in opts["problems"]:  # every problem checked before anything runs
        _check_problem(problem)
    load_before, origin = machine_info()["load_average"], provenance()  # the tree measured
    times = pd.concat(
        [
            cold_ask_times(
                p, sizes=opts["sizes"], planners=opts["planners"], n_datasets=opts["datasets"]
            )
            for p in opts["problems"]
        ],
        ignore_index=True,
    )
    reference = "ardlib" if "ardlib" in opts["planners"] else opts["planners"][0]
    summary = cold_summary(times, reference=reference)
    print(summary.to_string(index=False))
    settings = {k: v for k, v in opts.items() if k != "out"}
    payload = {
        "settings": {"mode": "cold", **settings, "seed": 0, "reference": reference},
        "versions": peer_versions(),
        "provenance": origin,
        "machine": {**machine_info(), "load_average_before": load_before},
        "rows": json_records(times),
        "summary": json_records(summary),
    }
    write_json(opts["out"], payload, sort_keys=False)  # rows keep their column order
    print(f"wrote {opts['out']}")
    return 0


def _batches(args: argparse.Namespace) -> int:
    from .._io import machine_info, write_json
    from ._batches import run_batches

    comparison = run_batches(
        args.problems,
        args.batch_sizes,
        args.planners,
        peer_batch_sizes=args.peer_batch_sizes,
        budget=args.budget,
        replicates=args.replicates,
        store=args.store,
    )
    print(comparison.table.to_string(index=False))
    if not comparison.peers.empty:
        print(comparison.peers.to_string(index=False))
    write_json(args.out, {**comparison.to_json(), "machine": machine_info()})
    print(f"wrote {args.out}")
    return 0


def _scaling(args: argparse.Namespace) -> int:
    from .._io import machine_info, write_json
    from ._scaling import study_scaling

    result = study_scaling(
        workers=args.workers,
        rounds=args.rounds,
        progress=lambda s: print(s, file=sys.stderr, flush=True),
    )
    print(result.format())
    if args.out:
        write_json(args.out, {**result.to_json(), "machine": machine_info()})
        print(f"wrote {args.out}")
    return 0


_COMMANDS = {
    "list": _list,
    "run": _run,
    "compare": _compare,
    "history": _history,
    "detector": _detector,
    "profile": _profile,
    "planners": _planners,
    "peers": _peers,
    "batches": _batches,
    "scaling": _scaling,
}
