"""Alert rules of :func:`ardlib.deploy.monitor`: a threshold on one metric of each sample.

A rule is one line, ``METRIC OP NUMBER [for N samples]``, e.g.
``p95_latency_s > 2 for 3 samples``: it fires when the last N samples (default 1) in a row
each had ``METRIC OP NUMBER``.  ``OP`` is one of ``>``, ``>=``, ``<``, ``<=``, ``==``,
``!=``; ``METRIC`` is one of :data:`MONITOR_METRICS`.  A metric a sample could not measure
(NaN, e.g. ``cost_usd`` when the cost analysis failed, or ``cost_per_hour`` at the first
sample) breaches nothing and breaks a streak; the request failure behind it is counted in
``errors``.  A rule fires once per streak: it fires again only after a sample that did not
breach it.

A rules file (YAML, or JSON, which YAML reads too) is a list of rules, or a mapping with
``rules`` (that list) and optionally ``include_defaults`` (bool, default false: the file
replaces :func:`default_rules`).  Each rule is the one-line expression, or a mapping with
``when`` (the expression) and optionally ``name``::

    rules:
      - name: slow reads
        when: p95_latency_s > 2 for 3 samples
      - errors_5xx > 0
      - name: over budget
        when: cost_per_hour > 0.5
"""

from __future__ import annotations

import json
import math
import operator
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MONITOR_METRICS",
    "Alert",
    "Rule",
    "Streaks",
    "default_rules",
    "load_rules",
    "parse_rule",
]

#: Metrics of every monitor sample (name -> meaning); rules may name any of them.
MONITOR_METRICS: dict[str, str] = {
    "health_ok": "1 when GET /health answered 200 with status 'ok', else 0",
    "health_latency_s": "median seconds of the sample's GET /health requests",
    "p95_latency_s": "95th percentile seconds of the sample's GET requests (health, listings, "
    "cost analysis; a failed request counts with the time until it failed)",
    "max_latency_s": "slowest of the sample's GET requests (seconds)",
    "stream_ok": "1 when the reasoning query streamed preliminary, final, done without an error "
    "event, else 0 (NaN when the monitor sends no reasoning query)",
    "stream_ttfb_s": "seconds from sending the reasoning query to the first byte of its body",
    "stream_first_event_s": "seconds from sending the reasoning query to its first complete event",
    "stream_total_s": "seconds from sending the reasoning query to the end of its stream",
    "requests": "requests the sample sent",
    "errors": "requests without a response, with status >= 400, or a stream that was not ok",
    "errors_5xx": "responses with status >= 500",
    "error_rate": "errors / requests",
    "rate_5xx": "errors_5xx / requests",
    "cost_usd": "total AI cost the service's cost analysis reports (USD)",
    "queries": "AI queries the service's cost analysis counts",
    "cost_per_hour": "growth of cost_usd since the monitor's first sample, per hour (USD/h; "
    "NaN at the first sample)",
}

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_RULE = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>>=|<=|==|!=|>|<)\s*"
    r"(?P<threshold>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
    r"(?:\s+for\s+(?P<samples>\d+)(?:\s+samples?)?)?\s*$"
)
_FORM = "METRIC OP NUMBER [for N samples], e.g. 'p95_latency_s > 2 for 3 samples'"


@dataclass(frozen=True)
class Rule:
    """Fire when ``metric op threshold`` held in ``samples`` consecutive samples.

    Attributes
    ----------
    metric : str
        One of :data:`MONITOR_METRICS`.
    op : str
        ``">"``, ``">="``, ``"<"``, ``"<="``, ``"=="`` or ``"!="``.
    threshold : float
    samples : int, default 1
        Consecutive breaching samples needed.
    name : str, default ""
        What alerts call the rule; empty: the expression.
    """

    metric: str
    op: str
    threshold: float
    samples: int = 1
    name: str = ""

    @property
    def expression(self) -> str:
        """The rule as one line, ``"p95_latency_s > 2 for 3 samples"``."""
        text = f"{self.metric} {self.op} {self.threshold:g}"
        return text + (f" for {self.samples} samples" if self.samples > 1 else "")

    @property
    def label(self) -> str:
        """``name`` when set, else :attr:`expression`."""
        return self.name or self.expression

    def breached_by(self, value: float) -> bool:
        """Whether one sample's ``value`` of :attr:`metric` breaches the threshold.

        Parameters
        ----------
        value : float
            The metric in one sample; NaN never breaches.

        Returns
        -------
        bool
        """
        return not math.isnan(value) and _OPS[self.op](value, self.threshold)


@dataclass(frozen=True)
class Alert:
    """A rule that fired.

    Attributes
    ----------
    rule : Rule
    sample : int
        Index (from 0) of the sample at which it fired.
    time : str
        UTC ISO 8601 time of that sample.
    elapsed_s : float
        Seconds since the monitor's first sample.
    value : float
        The metric in that sample.
    detail : str
        What the sample saw (e.g. which endpoint answered 503); may be empty.
    """

    rule: Rule
    sample: int
    time: str
    elapsed_s: float
    value: float
    detail: str = ""

    @property
    def message(self) -> str:
        """``"ALERT any 5xx: errors_5xx = 2 > 0 at sample 3 (+20 s): GET /health -> 503"``."""
        r = self.rule
        head = f"ALERT {r.label}: {r.metric} = {self.value:.4g} {r.op} {r.threshold:g}"
        if r.samples > 1:
            head += f" for {r.samples} samples"
        tail = f" at sample {self.sample} (+{self.elapsed_s:.0f} s)"
        return head + tail + (f": {self.detail}" if self.detail else "")


def parse_rule(text: str, name: str = "") -> Rule:
    """Parse ``"METRIC OP NUMBER [for N samples]"``.

    Parameters
    ----------
    text : str
        The expression (see the module docstring).
    name : str, default ""
        The rule's name; empty: the expression.

    Returns
    -------
    Rule

    Raises
    ------
    ValueError
        Naming the expression and what was expected (the form, a known metric, N >= 1).
    """
    match = _RULE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"rule {text!r} is not of the form {_FORM}")
    metric = match["metric"]
    if metric not in MONITOR_METRICS:
        raise ValueError(
            f"rule {text!r} names the unknown metric {metric!r}; known: "
            + ", ".join(MONITOR_METRICS)
        )
    samples = int(match["samples"] or 1)
    if samples < 1:
        raise ValueError(f"rule {text!r}: 'for N samples' needs N >= 1")
    threshold = float(match["threshold"])
    return Rule(metric, match["op"], threshold, samples, str(name or ""))


def default_rules(budget_per_hour: float | None = None) -> tuple[Rule, ...]:
    """The rules used when none are given.

    ``health down``: ``health_ok < 1 for 2 samples``; ``any 5xx``: ``errors_5xx > 0``;
    ``slow reads``: ``p95_latency_s > 2 for 3 samples``; ``errors``: ``error_rate > 0.1 for
    3 samples``; ``reasoning stream broken``: ``stream_ok < 1 for 2 samples``; ``slow
    reasoning``: ``stream_first_event_s > 2 for 3 samples``; with a budget, ``over budget``:
    ``cost_per_hour > budget_per_hour``.

    Parameters
    ----------
    budget_per_hour : float, optional
        AI cost allowed per hour (USD); None: no cost rule.

    Returns
    -------
    tuple of Rule
    """
    rules = [
        parse_rule("health_ok < 1 for 2 samples", "health down"),
        parse_rule("errors_5xx > 0", "any 5xx"),
        parse_rule("p95_latency_s > 2 for 3 samples", "slow reads"),
        parse_rule("error_rate > 0.1 for 3 samples", "errors"),
        parse_rule("stream_ok < 1 for 2 samples", "reasoning stream broken"),
        parse_rule("stream_first_event_s > 2 for 3 samples", "slow reasoning"),
    ]
    if budget_per_hour is not None:
        rules.append(parse_rule(f"cost_per_hour > {float(budget_per_hour)!r}", "over budget"))
    return tuple(rules)


def load_rules(source: str | os.PathLike[str] | Iterable[Any] | None) -> tuple[Rule, ...]:
    """Rules from a file, from a list, or the defaults.

    Parameters
    ----------
    source : path, list or None
        None: :func:`default_rules`; a path: a rules file (see the module docstring); a list
        of :class:`Rule`, expressions and ``{"when", "name"}`` mappings.

    Returns
    -------
    tuple of Rule

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        One line naming the file (when there is one), the rule and what was wrong.
    """
    if source is None:
        return default_rules()
    if isinstance(source, str | os.PathLike):
        return _rules_file(Path(source))
    return tuple(_rule_item(item, i) for i, item in enumerate(source, 1))


def _rules_file(path: Path) -> tuple[Rule, ...]:
    if not path.is_file():
        raise FileNotFoundError(f"rules file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        data = _parse_document(text, path)
    except ValueError as exc:
        raise ValueError(f"rules file {str(path)!r} is not valid YAML or JSON: {exc}") from exc
    defaults = False
    if isinstance(data, Mapping):
        unknown = sorted(set(map(str, data)) - {"rules", "include_defaults"})
        if unknown or not isinstance(data.get("include_defaults", False), bool):
            raise ValueError(
                f"rules file {str(path)!r}: expected the keys 'rules' and optionally "
                f"'include_defaults' (true/false); got {sorted(map(str, data))}"
            )
        defaults, data = bool(data.get("include_defaults", False)), data.get("rules")
    if not isinstance(data, list) or not data:
        raise ValueError(
            f"rules file {str(path)!r}: expected a non-empty list of rules ({_FORM}); "
            f"got {type(data).__name__}"
        )
    try:
        rules = tuple(_rule_item(item, i) for i, item in enumerate(data, 1))
    except ValueError as exc:
        raise ValueError(f"rules file {str(path)!r}: {exc}") from exc
    return (*default_rules(), *rules) if defaults else rules


def _parse_document(text: str, path: Path) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {exc.lineno}: {exc.msg}") from exc
    import yaml  # the reports extra; a YAML file needs it

    from .._io import load_yaml

    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ValueError(where + str(getattr(exc, "problem", None) or exc)) from exc


def _rule_item(item: Any, index: int) -> Rule:
    if isinstance(item, Rule):
        return item
    if isinstance(item, str):
        return _numbered(index, item, "")
    if isinstance(item, Mapping) and "when" in item and set(item) <= {"when", "name"}:
        name = item.get("name") or ""
        if not isinstance(item["when"], str) or not isinstance(name, str):
            raise ValueError(f"rule {index}: 'when' and 'name' must be strings; got {dict(item)}")
        return _numbered(index, item["when"], name)
    raise ValueError(
        f"rule {index}: expected an expression ({_FORM}) or a mapping with 'when' and "
        f"optionally 'name'; got {item!r}"
    )


def _numbered(index: int, text: str, name: str) -> Rule:
    try:
        return parse_rule(text, name)
    except ValueError as exc:
        raise ValueError(f"rule {index}: {exc}") from exc


class Streaks:
    """Consecutive breaching samples per rule; :meth:`update` returns the rules that fire.

    Parameters
    ----------
    rules : sequence of Rule
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        self._streak = [0] * len(self.rules)

    def update(self, metrics: Mapping[str, float]) -> list[tuple[Rule, float]]:
        """Count one sample; the rules whose streak reached their ``samples`` with it.

        Parameters
        ----------
        metrics : mapping of str to float
            One sample's metrics (a missing metric counts as NaN).

        Returns
        -------
        list of (Rule, float)
            Each rule that fires now and its metric's value.
        """
        fired = []
        for i, rule in enumerate(self.rules):
            value = float(metrics.get(rule.metric, math.nan))
            self._streak[i] = self._streak[i] + 1 if rule.breached_by(value) else 0
            if self._streak[i] == rule.samples:
                fired.append((rule, value))
        return fired
