"""The benchmark registry: named, deterministic pieces of work over ardlib's hot paths.

This module and ``_suite.py`` import nothing from ``ardlib.bench`` and only ardlib's public
API, inside the setup functions: ``ardlib bench compare`` copies them next to its runner
and measures older revisions (which may predate ``ardlib.bench``) with the same benchmark
definitions as the newer one.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

__all__ = ["Benchmark", "benchmark", "get_benchmark", "list_benchmarks"]

Setup = Callable[[], AbstractContextManager[Callable[[], object]]]


@dataclass(frozen=True)
class Benchmark:
    """One benchmark.

    Attributes
    ----------
    name : str
        Unique, e.g. ``"gp.fit[n=100,d=6]"``.
    group : str
        ``gp``, ``acquisition``, ``planner``, ``objective``, ``study`` or ``client``.
    setup : callable
        Returns a context manager yielding the callable to time.  Everything the setup
        builds (data, fitted models, servers) is seeded and torn down by the context manager.
    description : str
        What one call does.
    slow : bool
        Seconds per call rather than milliseconds; left out of quick runs.
    """

    name: str
    group: str
    setup: Setup
    description: str
    slow: bool = False


_REGISTRY: dict[str, Benchmark] = {}


def benchmark(
    name: str, *, group: str, description: str, slow: bool = False
) -> Callable[[Setup], Setup]:
    """Register the decorated setup function as benchmark ``name``.

    Parameters
    ----------
    name : str
        Unique name, e.g. ``"gp.fit[n=50,d=2]"``.
    group : str
        Group shown in tables and plots.
    description : str
        One line: what is timed.
    slow : bool, default False
        Left out of comparisons unless asked for.

    Returns
    -------
    callable
        A decorator that registers a setup context manager and returns it unchanged.
    """

    def register(setup: Setup) -> Setup:
        if name in _REGISTRY:
            raise ValueError(f"Benchmark {name!r} is registered twice.")
        _REGISTRY[name] = Benchmark(name, group, setup, description, slow)
        return setup

    return register


def _registry() -> dict[str, Benchmark]:
    """The registry, after ardlib's own definitions (``_suite``) have registered."""
    from . import _suite  # noqa: F401  (importing registers the benchmarks)

    return _REGISTRY


def get_benchmark(name: str) -> Benchmark:
    """The registered benchmark ``name``.

    Parameters
    ----------
    name : str
        A registered name.

    Returns
    -------
    Benchmark

    Raises
    ------
    KeyError
        Naming the registered benchmarks when ``name`` is unknown.
    """
    try:
        return _registry()[name]
    except KeyError:
        raise KeyError(
            f"No benchmark named {name!r}. Registered: {', '.join(sorted(_REGISTRY))}."
        ) from None


def list_benchmarks(pattern: str | None = None, *, include_slow: bool = True) -> list[Benchmark]:
    """Registered benchmarks in registration order, optionally filtered.

    Parameters
    ----------
    pattern : str, optional
        A shell-style pattern (``fnmatch``) or a plain substring of the name or the group,
        e.g. ``"gp.*"`` or ``"planner"``.
    include_slow : bool, default True
        Whether to keep benchmarks marked ``slow``.

    Returns
    -------
    list of Benchmark
    """

    def keep(b: Benchmark) -> bool:
        if b.slow and not include_slow:
            return False
        if pattern is None:
            return True
        return fnmatch.fnmatchcase(b.name, pattern) or pattern in b.name or pattern == b.group

    return [b for b in _registry().values() if keep(b)]
