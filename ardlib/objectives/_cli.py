"""``ardlib data import`` and ``ardlib emulators build``: the pipeline's first two stages."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_data_parsers", "run_data_command"]


def add_data_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``data import`` and ``emulators build`` on the ``ardlib`` subparsers."""
    data = sub.add_parser("data", help="lab datasets")
    dsub = data.add_subparsers(dest="data_cmd", required=True)
    imp = dsub.add_parser(
        "import",
        help="copy lab datasets (Olympus layout, or a CSV plus a spec) with provenance",
        description="Import datasets into --dst: every dataset folder of --src (or the "
        "--name ones), CSV files with a spec (--csv), or what a params file's 'datasets' "
        "section lists (--params). Each is checked by loading it.",
    )
    imp.add_argument(
        "--src",
        default=None,
        help="a folder of dataset folders (<name>/data.csv + config.json) or one dataset "
        "folder (default: ../shared/datasets unless --csv or --params is given)",
    )
    imp.add_argument("--name", action="append", help="import only this dataset of --src")
    imp.add_argument(
        "--csv",
        nargs=3,
        action="append",
        metavar=("NAME", "CSV", "SPEC"),
        help="a dataset as a CSV with a header plus a JSON/YAML spec (parameters with low "
        "and high, measurement, goal)",
    )
    imp.add_argument("--params", help="import what this params file's section lists")
    imp.add_argument("--section", default="datasets", help="params section (default datasets)")
    imp.add_argument("--dst", default="data/raw")
    emu = sub.add_parser("emulators", help="emulators of the lab datasets")
    esub = emu.add_subparsers(dest="emulators_cmd", required=True)
    build = esub.add_parser("build", help="fit, cross-validate and save every emulator")
    build.add_argument("--data", default="data/raw")
    build.add_argument("--out", default="data/emulators")
    build.add_argument("--min-r2", type=float, default=0.7, help="CV R^2 floor (default 0.7)")
    build.add_argument("--seed", type=int, default=0)


def _params_section(path: str, section: str) -> dict[str, object]:
    from .._io import load_yaml

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"--params {path!r} does not exist")
    data = load_yaml(p.read_text(encoding="utf-8")) or {}
    if section not in data:
        raise ValueError(f"--params {path!r} has no section {section!r}")
    return dict(data[section])


def run_data_command(args: argparse.Namespace) -> int:
    """Run ``data import`` or ``emulators build``; returns the exit status."""
    from .._io import write_json
    from ._datasets import import_datasets, import_from_params
    from ._emulator_build import build_emulators

    if args.cmd == "data":
        if args.params and (args.src or args.name or args.csv):
            raise ValueError("--params lists the datasets itself; drop --src, --name and --csv")
        if args.params:
            manifest = import_from_params(_params_section(args.params, args.section), args.dst)
        else:
            if args.name and not args.src:
                raise ValueError("--name picks datasets of --src; give --src too")
            csv = {name: (path, spec) for name, path, spec in args.csv or []}
            manifest = import_datasets(args.src, args.dst, names=args.name, csv=csv or None)
        datasets = sorted({rel.split("/")[0] for rel in manifest["files"] if "/" in rel})
        print(
            f"imported {len(datasets)} datasets ({', '.join(datasets)}), "
            f"{len(manifest['files'])} files; dataset_hash {manifest['dataset_hash']}"
        )
        return 0
    out = Path(args.out)
    metrics = build_emulators(args.data, out, min_r2=args.min_r2, rng=args.seed)
    # Timings go to the console only: the folder is a pipeline output that later stages
    # depend on, and a rebuild with the same data, settings and seed must not change it.
    seconds = {name: m.pop("build_seconds") for name, m in metrics.items()}
    summary = {"min_r2": args.min_r2, "emulators": metrics}
    write_json(out / "metrics.json", summary, sort_keys=False, default=str)
    for name, m in metrics.items():
        print(
            f"{name:<15} R2 {m['r2']:.3f} cov90 {m['coverage90']:.2f} "
            f"noise_sd {m['noise_sd']:.4g} built in {seconds[name]:.1f} s"
        )
    return 0
