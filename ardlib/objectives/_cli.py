"""``ardlib data import`` and ``ardlib emulators build``: the pipeline's first two stages."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_data_parsers", "run_data_command"]


def add_data_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``data import`` and ``emulators build`` on the ``ardlib`` subparsers."""
    data = sub.add_parser("data", help="lab datasets")
    dsub = data.add_subparsers(dest="data_cmd", required=True)
    imp = dsub.add_parser("import", help="copy the lab datasets with provenance and hashes")
    imp.add_argument("--src", default=None, help="default: ../shared/datasets")
    imp.add_argument("--dst", default="data/raw")
    emu = sub.add_parser("emulators", help="emulators of the lab datasets")
    esub = emu.add_subparsers(dest="emulators_cmd", required=True)
    build = esub.add_parser("build", help="fit, cross-validate and save every emulator")
    build.add_argument("--data", default="data/raw")
    build.add_argument("--out", default="data/emulators")
    build.add_argument("--min-r2", type=float, default=0.7, help="CV R^2 floor (default 0.7)")
    build.add_argument("--seed", type=int, default=0)


def run_data_command(args: argparse.Namespace) -> int:
    """Run ``data import`` or ``emulators build``; returns the exit status."""
    from .._io import write_json
    from ._datasets import import_datasets
    from ._emulator_build import build_emulators

    if args.cmd == "data":
        manifest = import_datasets(args.src, args.dst)
        print(f"imported {len(manifest['files'])} files; dataset_hash {manifest['dataset_hash']}")
        return 0
    out = Path(args.out)
    metrics = build_emulators(args.data, out, min_r2=args.min_r2, rng=args.seed)
    summary = {"min_r2": args.min_r2, "emulators": metrics}
    write_json(out / "metrics.json", summary, sort_keys=False, default=str)
    for name, m in metrics.items():
        print(
            f"{name:<15} R2 {m['r2']:.3f} cov90 {m['coverage90']:.2f} noise_sd {m['noise_sd']:.4g}"
        )
    return 0
