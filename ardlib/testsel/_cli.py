"""``ardlib testsel collect``, ``evaluate`` and ``run``: one parser, two halves.

Collection (``_cli_collect``) and the model, evaluation and selection (``_cli_select``)
register their own subcommands; this module only joins them under ``ardlib testsel``.
"""

from __future__ import annotations

import argparse

from . import _cli_collect, _cli_select

__all__ = ["add_testsel_parser", "run_testsel_command"]


def add_testsel_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ardlib testsel ...`` on the ``ardlib`` subparsers."""
    ts = sub.add_parser("testsel", help="test selection: collect mutants, evaluate, run")
    tsub = ts.add_subparsers(dest="testsel_cmd", required=True)
    _cli_collect.add_parsers(tsub)
    _cli_select.add_parsers(tsub)


def run_testsel_command(args: argparse.Namespace) -> int:
    """Run the parsed ``ardlib testsel`` subcommand; returns the exit status."""
    if args.testsel_cmd in _cli_collect.COMMANDS:
        return _cli_collect.run(args)
    return _cli_select.run(args)
