"""``ardlib monitor URL`` and ``ardlib deploy load URL``: watch a deployment, load it.

``monitor`` exits 0 when no alert fired, 1 when any did (at once with ``--fail-fast``), 2 on
a usage error (a bad duration, interval or rules file is reported while parsing, before
anything is sent) and 130 when interrupted (the samples taken are in the log).
``deploy load`` exits 0 after a measurement, 1 when ``--require-rps`` is not sustained, 2 on
a usage error.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_deploy_parsers"]


def _duration(text: str) -> float:
    from ._duration import parse_duration

    try:
        return parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a duration such as 90s, 10m, 1h or 1h30m (units ms, s, m, h), > 0; "
            f"got {text!r}"
        ) from None


def _rules(text: str) -> tuple[Any, ...]:
    from ._rules import load_rules

    try:
        return load_rules(Path(text))
    except (OSError, ValueError, ImportError) as exc:
        raise argparse.ArgumentTypeError(str(exc).splitlines()[0]) from None


def _number(low: float, integer: bool = False) -> Any:
    kind = "an integer" if integer else "a number"

    def parse(text: str) -> float | int:
        try:
            value: float | int = int(text) if integer else float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= low):
            raise argparse.ArgumentTypeError(f"expected {kind} >= {low:g}; got {text!r}")
        return value

    return parse


def _rates(text: str) -> list[float]:
    try:
        rates = [float(part) for part in text.split(",")]
    except ValueError:
        rates = []
    if not rates or not all(math.isfinite(r) and r > 0 for r in rates):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated rates > 0 (requests/s), e.g. 20,50,100; got {text!r}"
        )
    return rates


def add_deploy_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``monitor`` and ``deploy load|up|down|rollback`` on the ``ardlib`` command's
    subparsers."""
    _add_monitor(sub)
    from ._cli_rollout import add_rollout_parsers

    deploy = sub.add_parser(
        "deploy", help="deploy a revision (up, down, rollback) or load a deployment"
    )
    dsub = deploy.add_subparsers(dest="deploy_cmd", required=True)
    _add_load(dsub)
    add_rollout_parsers(dsub)


def _add_monitor(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "monitor",
        help="sample a deployed ARD backend over time; alert on rules (exit 1 on an alert)",
        description="Every --interval for --duration, time /health, each listing, the cost "
        "analysis and one reasoning stream; append each sample to --log; print alerts. Exit 0 "
        "without alerts, 1 with any, 2 on usage errors. Rules: METRIC OP NUMBER [for N "
        "samples], one per list item in a YAML/JSON file (see ardlib.deploy.load_rules).",
    )
    p.add_argument("url", metavar="URL", help="service root, e.g. http://127.0.0.1:8080")
    p.add_argument("--duration", type=_duration, required=True, help="e.g. 90s, 10m, 1h")
    p.add_argument("--interval", type=_duration, default=10.0, help="default 10s")
    p.add_argument(
        "--rules",
        type=_rules,
        default=None,
        metavar="FILE",
        help="alert rules (YAML or JSON); default: the built-in rules",
    )
    p.add_argument(
        "--budget",
        type=_number(0),
        default=None,
        metavar="USD_PER_HOUR",
        help="add the rule cost_per_hour > USD_PER_HOUR",
    )
    p.add_argument(
        "--log",
        type=Path,
        default=Path("data/deployments/monitor.jsonl"),
        help="JSON-lines log of the samples (default data/deployments/monitor.jsonl)",
    )
    p.add_argument(
        "--record-id",
        default=None,
        help="deployment record monitored (default: the last one for URL in --deployments-log)",
    )
    p.add_argument("--deployments-log", type=Path, default=Path("data/deployments/log.jsonl"))
    p.add_argument("--api-key", default=None, help="sent as X-API-Key")
    p.add_argument(
        "--requests",
        type=_number(1, integer=True),
        default=3,
        help="rounds of /health and the listings per sample (default 3)",
    )
    p.add_argument("--no-reasoning", action="store_true", help="send no reasoning query")
    p.add_argument("--timeout", type=_number(0.001), default=10.0, help="per request (s)")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first alert")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=run_monitor_command)


def _add_load(dsub: argparse._SubParsersAction) -> None:
    p = dsub.add_parser(
        "load",
        help="load test a loopback deployment: closed loop (clients) or open loop (rates)",
        description="Closed loop: --clients clients without think time. Open loop "
        "(--open-loop --rates R1,R2,..): requests on a clock at each rate, latency from the "
        "scheduled time; reports the highest rate with p99 < --p99-bound and no error.",
    )
    p.add_argument("url", metavar="URL", help="loopback service root")
    p.add_argument("--duration", type=_duration, default=10.0, help="per rate (default 10s)")
    p.add_argument("--open-loop", action="store_true", help="fixed arrival rates")
    p.add_argument("--rates", type=_rates, default=None, help="open loop: e.g. 20,50,100")
    p.add_argument("--arrivals", choices=("poisson", "constant"), default="poisson")
    p.add_argument("--seed", type=_number(0, integer=True), default=0)
    p.add_argument("--p99-bound", type=_number(0.001), default=2.0, metavar="S")
    p.add_argument(
        "--refine",
        type=_number(0, integer=True),
        default=0,
        help="bisection steps between the last passing and first failing rate",
    )
    p.add_argument(
        "--require-rps",
        type=_number(0),
        default=None,
        metavar="R",
        help="exit 1 unless the sustainable rate is >= R",
    )
    p.add_argument(
        "--clients",
        type=_number(1, integer=True),
        default=None,
        help="closed loop: concurrent clients (default 50)",
    )
    p.add_argument(
        "--generator",
        choices=("auto", "wrk", "threads"),
        default="auto",
        help="closed loop: wrk when installed (auto), or Python threads",
    )
    p.add_argument(
        "--endpoint",
        action="append",
        default=None,
        metavar="PATH",
        help="GET path (repeatable; default the three listings)",
    )
    p.add_argument("--timeout", type=_number(0.001), default=10.0)
    p.add_argument("--api-key", default=None)
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the table")
    p.set_defaults(func=run_load_command)


def run_monitor_command(args: argparse.Namespace) -> int:
    """Run :func:`ardlib.deploy.monitor` from parsed arguments; print alerts and a summary."""
    from tqdm import tqdm

    from ._monitor import monitor
    from ._rules import default_rules, parse_rule

    rules = list(args.rules) if args.rules is not None else list(default_rules())
    if args.budget is not None:
        rules.append(parse_rule(f"cost_per_hour > {args.budget!r}", "over budget"))
    try:
        result = monitor(
            args.url,
            duration=args.duration,
            interval=args.interval,
            rules=rules,
            log=args.log,
            record_id=args.record_id,
            deployments_log=args.deployments_log,
            api_key=args.api_key,
            requests=args.requests,
            reasoning=not args.no_reasoning,
            timeout=args.timeout,
            fail_fast=args.fail_fast,
            progress=not args.quiet,
            on_alert=lambda alert: tqdm.write(alert.message, file=sys.stdout),
        )
    except KeyboardInterrupt:
        print(f"monitor: interrupted; the samples taken are in {args.log}", file=sys.stderr)
        return 130
    summary = result.summary()
    print(summary.map(lambda v: f"{v:.4g}").to_string())
    record = f", deployment record {result.record_id}" if result.record_id else ""
    print(
        f"{len(result.samples)} samples in {result.seconds:.1f} s appended to {args.log}"
        f" (run {result.run_id}{record})"
    )
    if result.alerts:
        print(
            f"{len(result.alerts)} alerts"
            + (" (stopped early: --fail-fast)" if result.stopped == "fail_fast" else "")
        )
        return 1
    print(f"no alerts ({len(result.rules)} rules)")
    return 0


def run_load_command(args: argparse.Namespace) -> int:
    """Run :func:`ardlib.deploy.open_loop_load` or :func:`ardlib.deploy.load_test`."""
    from ._smoke_checks import LISTINGS

    endpoints = tuple(args.endpoint) if args.endpoint else tuple(LISTINGS)
    if not args.open_loop:
        if args.rates is not None or args.require_rps is not None or args.api_key:
            raise ValueError("deploy load: --rates, --require-rps and --api-key need --open-loop")
        return _closed(args, endpoints)
    if args.clients is not None:
        raise ValueError("deploy load: --clients is for the closed loop; drop --open-loop")
    if args.rates is None:
        raise ValueError("deploy load --open-loop needs --rates, e.g. --rates 20,50,100")
    from ._openloop import open_loop_load

    def show(row: dict[str, Any]) -> None:
        print(
            f"  {row['target_rps']:g}/s: p99 {row['p99_ms']:.1f} ms, {row['errors']} errors, "
            f"achieved {row['achieved_rps']:.1f}/s",
            file=sys.stderr,
            flush=True,
        )

    result = open_loop_load(
        args.url,
        rates=args.rates,
        duration=args.duration,
        arrivals=args.arrivals,
        rng=args.seed,
        p99_bound=args.p99_bound,
        refine=args.refine,
        timeout=args.timeout,
        api_key=args.api_key,
        progress=show,
        endpoints=endpoints,
    )
    rate = _print_open_loop(result)
    _write_json(
        args.json,
        {
            "sustainable_rps": rate,
            "first_failing_rps": result.first_failing_rps,
            "p99_bound_s": result.p99_bound_s,
            "duration_s": result.duration,
            "arrivals": result.arrivals,
            "table": result.table.to_dict(orient="records"),
        },
    )
    if args.require_rps is not None and (rate is None or rate < args.require_rps):
        print(f"sustainable rate below the required {args.require_rps:g}/s")
        return 1
    return 0


_OPEN_LOOP_COLUMNS = [
    *("target_rps", "phase", "requests", "errors", "offered_rps", "achieved_rps"),
    *("p50_ms", "p95_ms", "p99_ms", "max_ms", "lag_p99_ms", "sustainable"),
]


def _print_open_loop(result: Any) -> float | None:
    """Print the table and the sustainable rate; return the rate."""
    table = result.table[_OPEN_LOOP_COLUMNS]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    rate: float | None = result.sustainable_rps
    above = (
        f"first failing {result.first_failing_rps:g}/s"
        if result.first_failing_rps
        else "every rate passed: a lower bound"
    )
    shown = f"{rate:g}/s" if rate is not None else "none"
    print(f"sustainable rate (p99 < {result.p99_bound_s:g} s, no errors): {shown} ({above})")
    return rate


def _closed(args: argparse.Namespace, endpoints: tuple[str, ...]) -> int:
    from ._load import load_test

    result = load_test(
        args.url,
        clients=args.clients or 50,
        duration=args.duration,
        timeout=args.timeout,
        endpoints=endpoints,
        generator=args.generator,
    )
    print(result.table.drop(columns=["statuses"]).to_string(index=False, float_format="%.1f"))
    print(f"{result.clients} clients ({result.generator}) for {result.seconds:.1f} s")
    _write_json(
        args.json,
        {
            "clients": result.clients,
            "generator": result.generator,
            "table": result.table.to_dict(orient="records"),
        },
    )
    return 0


def _write_json(path: Path | None, data: dict[str, Any]) -> None:
    from .._io import write_json

    if path is not None:
        write_json(path, data, sort_keys=False, default=str)
        print(f"written to {path}")
