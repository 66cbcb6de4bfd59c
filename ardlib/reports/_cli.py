"""The ``ardlib report``, ``report-index`` and ``report-all`` subcommands.

- ``ardlib report NAME [-p KEY VALUE ...] [--params-file F] [--out DIR]`` runs
  ``notebooks/NAME.ipynb`` with the parameters of section NAME of ``params.yaml`` (when the
  file and section exist), overridden by ``-p``, and renders ``DIR/NAME.html``.
  ``NAME = problems`` without ``notebooks/problems.ipynb`` writes the plain catalog.
- ``ardlib report-index [--out DIR]`` writes ``DIR/index.html`` from ``DIR/metrics/*.json``.
- ``ardlib report-all`` runs the catalog and every notebook, each with its section of the
  parameter file, then the index; failures do not stop the others.

A report that passed is signed (``DIR/NAME.html.intoto.jsonl``, see
:func:`ardlib.reports._run.sign_outputs`); the index shows whether each envelope verifies.

Exit status: 0 when every report passed, 1 when a report failed (one line per failure on
stderr), 2 for bad input (unknown notebook or parameter, unreadable parameter file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_report_parsers"]

CATALOG = "problems"


class _Failed(Exception):
    """A report ran and failed; the message is its one-line reason."""


def add_report_parsers(subparsers: Any) -> None:
    """Add ``report``, ``report-index`` and ``report-all`` to an argparse subparsers object.

    Each parser sets ``func``: call ``args.func(args)`` for the exit status.
    """
    rep = subparsers.add_parser("report", help="run one report notebook and render its HTML")
    rep.add_argument("name", help="notebook stem in notebooks/, e.g. validation")
    rep.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        default=[],
        dest="overrides",
        metavar=("KEY", "VALUE"),
        help="override a parameter; VALUE is YAML (30, true, '[a, b]'); KEY may be dotted",
    )
    rep.add_argument("--max-ulps", type=float, help="problems only: same as -p max_error_ulps X")
    _common(rep)
    rep.set_defaults(func=_cmd_report)
    idx = subparsers.add_parser("report-index", help="write reports/index.html from the metrics")
    idx.add_argument("--out", default="reports", help="reports directory (default: reports)")
    idx.set_defaults(func=_cmd_index)
    every = subparsers.add_parser("report-all", help="build every report and the index")
    _common(every)
    every.set_defaults(func=_cmd_all)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--params-file",
        default=None,
        help="parameter file with one section per report (default: params.yaml if present)",
    )
    parser.add_argument("--out", default="reports", help="output directory (default: reports)")
    parser.add_argument("--notebooks", default="notebooks", help="notebook directory")
    parser.add_argument("--timeout", type=float, default=None, help="seconds allowed per cell")


def _params(args: argparse.Namespace, name: str, valid: set[str], overrides: list[Any]) -> Any:
    from ._params import load_params

    path = args.params_file
    if path is None and Path("params.yaml").is_file():
        path = "params.yaml"
    return load_params(path, section=name, overrides=overrides, valid=valid)


def _redirect_outputs(
    params: dict[str, Any], valid: set[str], out: Path, explicit: set[str]
) -> None:
    """With ``--out`` elsewhere than ``reports``, move a notebook's figures and metrics there
    too (parameters ``figures_dir`` / ``metrics_path`` under ``reports/``), so a quick look
    never overwrites the pipeline's tracked outputs. Values given with ``-p`` win."""
    if out.resolve() == Path("reports").resolve():
        return
    for key in ("figures_dir", "metrics_path"):
        value = str(params.get(key, ""))
        if key in valid and key not in explicit and value.startswith("reports/"):
            params[key] = str(out / value.removeprefix("reports/"))


def _run_one(args: argparse.Namespace, name: str, overrides: list[Any]) -> str:
    """Build report ``name``; the path of its page.  Raises _Failed when it fails."""
    from ._run import ReportFailed, notebook_parameters, notebook_path, run_report

    nb_dir = Path(args.notebooks)
    if name == CATALOG and not (nb_dir / f"{CATALOG}.ipynb").is_file():
        return _run_catalog(args, overrides)
    valid = set(notebook_parameters(notebook_path(name, nb_dir)))
    params = _params(args, name, valid, overrides)
    _redirect_outputs(params, valid, Path(args.out), explicit={k for k, _ in overrides})
    try:
        result = run_report(
            name, params, notebooks_dir=nb_dir, out_dir=args.out, timeout=args.timeout
        )
    except ReportFailed as exc:
        reason = (exc.result.error or "failed").strip().splitlines()[0]
        raise _Failed(f"{name} failed: {reason} (see {exc.result.html_path})") from None
    print(f"{name}: passed in {result.seconds:.1f} s -> {result.html_path}")
    if result.envelope is not None:
        print(f"{name}: signed -> {result.envelope}")
    return str(result.html_path)


def _run_catalog(args: argparse.Namespace, overrides: list[Any]) -> str:
    from ._catalog import write_catalog
    from ._run import sign_outputs

    params = _params(args, CATALOG, {"max_error_ulps"}, overrides)
    report = write_catalog(args.out, float(params.get("max_error_ulps", 64.0)))
    page = Path(args.out) / "problems.html"
    if not report.passed:
        raise _Failed(f"{CATALOG} failed: {report.checks[0].detail} (see {page})")
    print(f"{CATALOG}: passed -> {page}")
    envelope = sign_outputs(CATALOG, args.out, ".", params)
    if envelope is not None:
        print(f"{CATALOG}: signed -> {envelope}")
    return str(page)


def _guard(func: Any, *args: Any) -> int:
    """Map failures to exit statuses and one-line messages on stderr."""
    try:
        func(*args)
    except _Failed as exc:
        print(f"ardlib: {exc}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError) as exc:
        print(f"ardlib: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        print(
            f"ardlib: error: {exc}; reports need the 'reports' extra: "
            "pip install 'ardlib[reports]'",
            file=sys.stderr,
        )
        return 2
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    overrides = list(map(tuple, args.overrides))
    if args.max_ulps is not None:
        if args.name != CATALOG:
            print("ardlib: error: --max-ulps applies to 'problems' only", file=sys.stderr)
            return 2
        overrides.append(("max_error_ulps", repr(args.max_ulps)))
    return _guard(_run_one, args, args.name, overrides)


def _cmd_index(args: argparse.Namespace) -> int:
    from ._index import write_index

    def build() -> None:
        if not (Path(args.out) / "metrics").is_dir():
            raise FileNotFoundError(
                f"No {Path(args.out) / 'metrics'} folder: build the reports first "
                "('ardlib report NAME' or 'dvc repro')."
            )
        print(f"wrote {write_index(args.out)}")

    return _guard(build)


def _cmd_all(args: argparse.Namespace) -> int:
    return _guard(_build_all, args)


def _build_all(args: argparse.Namespace) -> None:
    from ._index import write_index

    if args.params_file is not None and not Path(args.params_file).is_file():
        raise FileNotFoundError(f"Parameter file {args.params_file!r} does not exist.")

    names = sorted({CATALOG, *(p.stem for p in Path(args.notebooks).glob("*.ipynb"))})
    failures = []
    for name in names:
        try:
            _run_one(args, name, [])
        except _Failed as exc:
            failures.append(str(exc))
        except (ValueError, FileNotFoundError) as exc:
            failures.append(f"{name} not run: {exc}")
    print(f"wrote {write_index(args.out)}")
    for line in failures:
        print(f"ardlib: {line}", file=sys.stderr)
    if failures:
        raise _Failed(f"{len(failures)} of {len(names)} reports failed")
