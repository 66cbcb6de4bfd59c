"""``ardlib study run``: run the studies a params file describes (the pipeline's stage).

``--workers N`` sizes the local process pool (default 2; ``--workers 1`` runs the cells in
this process); ``--scheduler ADDRESS`` runs the cells on an existing dask.distributed
scheduler and ``--scheduler local:N`` on a ``LocalCluster`` of N worker processes.  Every
way gives byte-identical results.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["add_study_parser", "run_study_command"]


def add_study_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``study run`` on the ``ardlib`` command's subparsers."""
    study = sub.add_parser("study", help="run studies")
    ssub = study.add_subparsers(dest="study_cmd", required=True)
    run = ssub.add_parser("run", help="run the studies of a params file section")
    run.add_argument("--params", default="params.yaml", help="YAML file (default params.yaml)")
    run.add_argument("--section", default="studies", help="section holding the studies")
    run.add_argument("--out", default="data/studies", help="output directory")
    run.add_argument("--only", action="append", help="run only this study (repeatable)")
    where = run.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default 2; 1 runs the cells in this process)",
    )
    where.add_argument(
        "--scheduler",
        help="run the cells on a dask.distributed cluster: a scheduler address "
        "(tcp://host:8786) or local:N for N local worker processes (the dask extra)",
    )
    run.add_argument("--no-progress", action="store_true")


def run_study_command(args: argparse.Namespace) -> int:
    """Run each study; write ``<out>/<name>.parquet`` and ``<out>/<name>.json`` (spec, hash,
    digest, seconds). Cells are kept in ``<out>/store`` so an interrupted run resumes."""
    from ._forkserver import n_workers, start

    if args.scheduler is None and n_workers(args.workers, sys.maxsize) > 1:
        # The default pool's fork server preloads on the other core while this process
        # imports the same modules below (about 0.5 s sooner to the first cell). On one
        # core (or --workers 1) no pool starts, and the server would only compete.
        start()
    from .._io import load_yaml
    from ._config import studies_from_config
    from ._execute import scheduler_executor

    cfg = load_yaml(Path(args.params).read_text(encoding="utf-8"))
    if not isinstance(cfg, dict) or args.section not in cfg:
        print(f"error: {args.params} has no section {args.section!r}")
        return 2
    studies = studies_from_config(cfg[args.section])
    if args.only:
        unknown = set(args.only) - set(studies)
        if unknown:
            print(f"error: unknown study {sorted(unknown)}; known: {sorted(studies)}")
            return 2
        studies = {k: v for k, v in studies.items() if k in args.only}
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1. Got {args.workers}.")
    executor, client = (None, None)
    scheduler = args.scheduler
    if scheduler is not None:
        executor, client = scheduler_executor(scheduler)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        for name, study in studies.items():
            t0 = time.perf_counter()
            result = study.run(
                out / "store",
                executor=executor,
                max_workers=args.workers,
                progress=not args.no_progress,
            )
            seconds = time.perf_counter() - t0
            path = result.save(out / f"{name}.parquet", name=name, seconds=seconds)
            print(f"{name}: {len(study.cells())} cells -> {path} (sha256 {result.digest[:12]})")
    finally:
        if client is not None:
            cluster = client.cluster
            client.close()
            if cluster is not None and str(scheduler).startswith("local:"):
                cluster.close()
    return 0
