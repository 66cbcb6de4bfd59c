"""The ``ardlib`` command.

Subcommands:

- ``ardlib problems``: list registered benchmark problems with dimension, goal and optimum.
- ``ardlib report NAME [-p KEY VALUE ...] [--params-file F] [--out DIR]``: run
  ``notebooks/NAME.ipynb`` with section NAME of ``params.yaml`` overridden by ``-p`` and
  render ``DIR/NAME.html``; ``report problems`` is the problem catalog (the plain-HTML
  writer when ``notebooks/problems.ipynb`` is absent).  Exits 1 when the report fails.
- ``ardlib report-index [--out DIR]``: write ``DIR/index.html`` from ``DIR/metrics/*.json``.
- ``ardlib report-all``: the catalog, every notebook and the index (see
  :mod:`ardlib.reports._cli`).
- ``ardlib data import [--src DIR] [--dst data/raw]``: copy the lab datasets with provenance.
- ``ardlib emulators build [--data data/raw] [--out data/emulators]``: fit, cross-validate
  and save every lab emulator (refusing any below the R^2 floor).
- ``ardlib serve [--port 8000] [--api-key K [--protect-reads]] ...`` / ``ardlib service
  seed-demo``: the reference ARD backend (FastAPI + SQLAlchemy) and a database of real
  campaigns.
- ``ardlib smoke URL [--api-key K] ...``: verify a deployed ARD backend (exit 1 on failure).
- ``ardlib monitor URL --duration 1h`` / ``ardlib deploy load URL [--open-loop --rates ...]``:
  watch a deployment over time (exit 1 on an alert) / load it (see :mod:`ardlib.deploy._cli_ops`).
- ``ardlib bench list|run|compare|history|detector|profile``: benchmarks, side-by-side
  revision comparisons (exit 1 on a regression), change points and profiles.
- ``ardlib regress check|update``: scientific results against their stored baseline (exit 1
  on a regression); the baseline changes only by ``update --why``.
- ``ardlib provenance keygen|sign|verify``: signed in-toto provenance (DSSE, ed25519) of
  wheels, images and reports; ``verify`` exits 1 when a signature or a file digest fails.
- ``ardlib testsel collect|evaluate|run``: test selection measured on mutants of ``ardlib/``
  (see :mod:`ardlib.testsel`).
- ``ardlib study run [--params params.yaml] [--section studies] [--out data/studies]
  [--workers N | --scheduler ADDRESS|local:N]``: run the studies a params file describes
  (the pipeline's ``studies`` stage), on a process pool or a dask.distributed cluster.
"""

from __future__ import annotations

import argparse
import os
import sys

from .bench._cli import add_bench_parser, run_bench_command
from .deploy._cli import add_smoke_parser
from .deploy._cli_ops import add_deploy_parsers
from .objectives._cli import add_data_parsers, run_data_command
from .provenance._cli import add_provenance_parser, run_provenance_command
from .regress._cli import add_regress_parser, run_regress_command
from .reports._cli import add_report_parsers
from .service._cli import add_service_parsers, run_service_command
from .study._cli import add_study_parser, run_study_command
from .testsel._cli import add_testsel_parser, run_testsel_command

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ardlib`` command; returns the exit status.

    Bad input anywhere (a ``ValueError``, ``OSError`` or ``ImportError`` from a subcommand)
    prints one ``ardlib: error: ...`` line and returns 2; set ``ARDLIB_DEBUG=1`` for the
    traceback.  argparse reports malformed command lines itself (usage, then the error;
    exit 2).

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``ardlib``; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 when a check or report fails, 2 for bad input.
    """
    ap = argparse.ArgumentParser(prog="ardlib", description="ardlib command line")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("problems", help="list registered benchmark problems")
    add_report_parsers(sub)
    add_study_parser(sub)
    add_data_parsers(sub)
    add_smoke_parser(sub)
    add_deploy_parsers(sub)
    add_service_parsers(sub)
    add_bench_parser(sub)
    add_regress_parser(sub)
    add_provenance_parser(sub)
    add_testsel_parser(sub)
    args = ap.parse_args(argv)
    try:
        return _dispatch(args)
    except (ValueError, OSError, ImportError) as exc:
        # Bad input (a missing file, a wrong value, an absent optional package): one line,
        # exit 2, no traceback.  ARDLIB_DEBUG=1 shows the traceback.
        if os.environ.get("ARDLIB_DEBUG"):
            raise
        text = str(exc).strip()
        print(
            f"ardlib: error: {text.splitlines()[0] if text else type(exc).__name__}",
            file=sys.stderr,
        )
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.cmd == "bench":
        return run_bench_command(args)
    if args.cmd == "regress":
        return run_regress_command(args)
    if args.cmd == "provenance":
        return run_provenance_command(args)
    if args.cmd == "testsel":
        return run_testsel_command(args)
    if args.cmd in ("serve", "service"):
        return run_service_command(args)
    if args.cmd == "study":
        return run_study_command(args)
    if args.cmd in ("data", "emulators"):
        return run_data_command(args)
    if args.cmd == "problems":
        from .reports._catalog import problem_catalog  # scipy and the emulators: ~0.4 s

        for r in problem_catalog():
            print(f"{r['name']:<18} d={r['dim']:<3} {r['goal']:<9} optimum={r['optimal_value']}")
        return 0
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
