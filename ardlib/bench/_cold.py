"""Cold asks: a fresh planner told ``n`` observations, then asked once.

A cold ask fits the model's hyperparameters from scratch on every observation and then
optimizes the acquisition: what BoTorch's standard loop does on every ask, and what a
service answering from stored history does.  :func:`cold_ask_times` times exactly one such
ask per fresh planner, for ardlib's GP-BO and the peers of :data:`~ardlib.bench.PEERS`
side by side (``ardlib bench peers --cold``):

* **Same data.** For each size ``n`` and data set, ``n`` points are drawn uniformly in the
  problem's box from a seed derived from (``rng``, problem, ``n``, data set) and evaluated
  without noise; every planner is told the same points and values, and gets the same seed.
* **Same factory.** Planners named in :data:`~ardlib.bench.PEERS` are built as the peer
  study builds them (default settings), with ``n_initial = min(5, n)`` so that no initial
  design point is left and the timed ask is model-based.
* **One ask timed, one thread.** Only ``ask()`` is timed (:func:`time.perf_counter`),
  with BLAS limited to one thread and, when torch is loaded, ``torch.set_num_threads(1)``
  (restored afterwards).  Planners alternate within each data set.

:func:`cold_summary` turns the times into the table: the median per planner and size, and
each planner's time over the reference's (median over data sets of the per-data-set ratio,
with a bootstrap interval).
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator, Sequence
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd

from .._rng import RNGLike, as_generator, derive_seed
from .._threads import single_threaded_blas
from .._validation import check_int
from ..objectives import get_problem, list_problems
from ..stats import bootstrap_ci
from ..study import PlannerSpec
from ._peers import PEERS, _peer_spec

__all__ = ["COLD_SIZES", "cold_ask_times", "cold_summary"]

#: Observation counts of issue 9's cold-ask table.
COLD_SIZES: tuple[int, ...] = (10, 100, 500, 1000, 2000)
_N_INITIAL = 5  # the peer study's initial design size
_COLUMNS = ("problem", "planner", "n", "dataset", "seconds")
_OWNER = "cold_ask_times"


def _check_problem(problem: str) -> None:
    if not isinstance(problem, str) or problem not in list_problems():
        raise ValueError(
            f"The 'problem' parameter of {_OWNER} must be a registered problem name "
            f"(ardlib.objectives.list_problems()). Got {problem!r}."
        )


def _check_sizes(sizes: Sequence[int]) -> list[int]:
    bad = isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence) or not sizes
    ok = not bad and all(
        isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 2 for n in sizes
    )
    if not ok or len(set(sizes)) != len(sizes):
        raise ValueError(
            f"The 'sizes' parameter of {_OWNER} must be a non-empty sequence of distinct ints "
            f">= 2 (observations told before the ask). Got {sizes!r}."
        )
    return [int(n) for n in sizes]


def _check_planners(planners: Sequence[str | PlannerSpec]) -> list[str | PlannerSpec]:
    """Names of :data:`PEERS` or specs, with distinct labels."""
    items = [] if isinstance(planners, str) else list(planners)
    known = all(p in PEERS if isinstance(p, str) else isinstance(p, PlannerSpec) for p in items)
    labels = [p if isinstance(p, str) else p.name for p in items] if known else []
    if not items or not known or len(set(labels)) != len(labels):
        raise ValueError(
            f"The 'planners' parameter of {_OWNER} must be a non-empty sequence of distinct "
            f"names from {sorted(PEERS)} or PlannerSpec objects. Got {planners!r}."
        )
    return items


def _spec(planner: str | PlannerSpec, n: int) -> PlannerSpec:
    if isinstance(planner, PlannerSpec):
        return planner
    return _peer_spec(planner, n_initial=min(_N_INITIAL, n))


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """One BLAS thread and, when torch is loaded, one torch thread (restored after)."""
    torch = sys.modules.get("torch")
    if torch is None or not hasattr(torch, "get_num_threads"):
        torch = None
    before = torch.get_num_threads() if torch is not None else None
    with single_threaded_blas():
        if torch is not None:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)


def _set_up(spec: PlannerSpec, problem: Any) -> None:
    """Build a planner and let it validate its settings and import its library."""
    _ = spec.build(bounds=problem.bounds.copy(), goal=problem.goal, rng=0).dim  # first use


def _dataset(problem: Any, seed: int, n: int) -> tuple[Any, Any]:
    """``n`` points uniform in the problem's box and their noiseless values."""
    lo, hi = problem.bounds[:, 0], problem.bounds[:, 1]
    X = lo + (hi - lo) * np.random.default_rng(seed).random((n, problem.dim))
    return X, problem.evaluate_true(X)


def _time_cold_ask(spec: PlannerSpec, problem: Any, X: Any, y: Any, seed: int) -> float:
    """Seconds of the one ``ask()`` of a fresh planner told ``(X, y)``."""
    with _one_thread():
        planner = spec.build(bounds=problem.bounds.copy(), goal=problem.goal, rng=seed)
        planner.tell(X.copy(), y.copy())
        # No collector pauses inside the timed ask (as timeit does): a full gc.collect()
        # before each ask instead cost ~0.6 s in a large process (a test run).
        enabled = gc.isenabled()
        gc.disable()
        try:
            start = perf_counter()
            planner.ask()
            return perf_counter() - start
        finally:
            if enabled:
                gc.enable()


def cold_ask_times(
    problem: str = "hartmann6",
    *,
    sizes: Sequence[int] = COLD_SIZES,
    planners: Sequence[str | PlannerSpec] = ("ardlib", "botorch"),
    n_datasets: int = 5,
    rng: RNGLike = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Time one ``ask()`` of a fresh planner told ``n`` observations, for each planner.

    For every size ``n`` and data set, ``n`` points are drawn uniformly in the problem's
    box and evaluated without noise; each planner is built fresh (same bounds, goal and
    seed), told all of them, and asked once. Only the ask is timed, with one BLAS thread
    and one torch thread.

    Parameters
    ----------
    problem : str, default "hartmann6"
        A registered problem name (:func:`ardlib.objectives.list_problems`).
    sizes : sequence of int, default (10, 100, 500, 1000, 2000)
        Distinct observation counts ``n >= 2``.
    planners : sequence of str or PlannerSpec, default ("ardlib", "botorch")
        Names from :data:`PEERS`, built as :func:`peer_study` builds them with
        ``n_initial = min(5, n)`` (so the ask is model-based), or specs built as given.
    n_datasets : int, default 5
        Data sets per size, at least 1.
    rng : None, int, SeedSequence or Generator, default 0
        Seeds the data sets and the planners: data set ``k`` of size ``n`` and the
        planners' seed for it depend only on (``rng``, ``problem``, ``n``, ``k``).
    progress : bool, default True
        Show a tqdm progress bar (one step per timed ask).

    Returns
    -------
    pandas.DataFrame
        One row per (size, data set, planner): ``problem``, ``planner`` (its name),
        ``n``, ``dataset`` (0-based) and ``seconds`` (wall time of the ask).

    Raises
    ------
    ValueError
        Naming ``problem``, ``sizes``, ``planners`` or ``n_datasets`` when it is not as
        stated above, or a planner setting its class rejects.
    ImportError
        Naming ``pip install -e .[peers]`` when a peer's library is not installed (checked
        before anything is timed).

    See Also
    --------
    cold_summary : Medians and ratios to ardlib.

    Examples
    --------
    >>> from ardlib.study import PlannerSpec
    >>> times = cold_ask_times(
    ...     "branin", sizes=[4], planners=[PlannerSpec("sobol", "ardlib.planners.Sobol")],
    ...     n_datasets=2, progress=False)
    >>> times[["planner", "n", "dataset"]].to_dict(orient="list")
    {'planner': ['sobol', 'sobol'], 'n': [4, 4], 'dataset': [0, 1]}
    """
    _check_problem(problem)
    ns = _check_sizes(sizes)
    items = _check_planners(planners)
    n_datasets = check_int(n_datasets, "n_datasets", owner=_OWNER, low=1)
    master = int(as_generator(rng).integers(2**62))
    objective = get_problem(problem)
    for item in items:  # settings and imports fail here, before anything is timed
        _set_up(_spec(item, min(ns)), objective)

    from tqdm.auto import tqdm

    rows: list[dict[str, Any]] = []
    total = len(ns) * n_datasets * len(items)
    with tqdm(total=total, desc=f"cold asks ({problem})", unit="ask", disable=not progress) as bar:
        for n in ns:
            for k in range(n_datasets):
                X, y = _dataset(objective, derive_seed(master, problem, n, k, "data"), n)
                seed = derive_seed(master, problem, n, k, "planner")
                for item in items:
                    spec = _spec(item, n)
                    bar.set_postfix_str(f"{spec.name} n={n} data set {k}")
                    seconds = _time_cold_ask(spec, objective, X, y, seed)
                    rows.append(
                        {"problem": problem, "planner": spec.name, "n": n, "dataset": k,
                         "seconds": seconds}
                    )  # fmt: skip
                    bar.update()
    return pd.DataFrame(rows, columns=list(_COLUMNS))


def _ratio(ratio: Any, confidence: float, rng: np.random.Generator) -> dict[str, float]:
    """Median of per-data-set ratios and its percentile bootstrap interval (NaN for one)."""
    out = {"ratio": float(np.median(ratio)), "ratio_low": np.nan, "ratio_high": np.nan}
    if ratio.size >= 2:
        ci = bootstrap_ci(
            ratio, statistic="median", method="percentile", confidence=confidence, rng=rng
        )
        out |= {"ratio_low": ci.low, "ratio_high": ci.high}
    return out


def cold_summary(
    times: pd.DataFrame,
    *,
    reference: str = "ardlib",
    confidence: float = 0.95,
    rng: RNGLike = 0,
) -> pd.DataFrame:
    """Median cold-ask time per planner and size, and each planner's ratio to the reference.

    Parameters
    ----------
    times : pandas.DataFrame
        A :func:`cold_ask_times` table (or its JSON records read back).
    reference : str, default "ardlib"
        The planner the others are divided by; it must be timed at every size and data set.
    confidence : float, default 0.95
        Level of the ratio's bootstrap interval.
    rng : None, int, SeedSequence or Generator, default 0
        Seeds the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per (problem, n, planner), sorted by problem and ``n``: ``datasets``,
        ``median_ms`` (median over data sets), ``ratio`` (this planner's time / the
        reference's, median over data sets of the per-data-set ratio; above 1: the
        reference is faster; empty for the reference itself) and ``ratio_low``,
        ``ratio_high`` (percentile bootstrap interval of that median; empty with one
        data set).

    Raises
    ------
    ValueError
        If ``times`` lacks a column of :func:`cold_ask_times`' table, or ``reference`` was
        not timed on every data set another planner was.

    Examples
    --------
    >>> times = pd.DataFrame({"problem": "p", "planner": ["a", "b", "a", "b"], "n": 10,
    ...                       "dataset": [0, 0, 1, 1], "seconds": [1.0, 4.0, 2.0, 10.0]})
    >>> cold_summary(times, reference="a")[["planner", "median_ms", "ratio"]]
      planner  median_ms  ratio
    0       a     1500.0    NaN
    1       b     7000.0    4.5
    """
    missing = [c for c in _COLUMNS if c not in getattr(times, "columns", ())]
    if missing:
        raise ValueError(
            "The 'times' parameter of cold_summary must be a cold_ask_times table; it lacks "
            f"the columns {missing}."
        )
    keys = ["problem", "n", "dataset"]
    ref = times[times["planner"] == reference].set_index(keys)["seconds"]
    if ref.empty or ref.index.has_duplicates:
        raise ValueError(
            "The 'reference' parameter of cold_summary must name a planner timed once per "
            f"data set. Got {reference!r} (planners: {sorted(times['planner'].unique())})."
        )
    gen = as_generator(rng)
    rows = []
    order = list(dict.fromkeys(times["planner"]))
    for (problem, n), cell in times.groupby(["problem", "n"], sort=True):
        for planner in sorted(cell["planner"].unique(), key=order.index):
            g = cell[cell["planner"] == planner].set_index(keys)["seconds"]
            row = {"problem": problem, "n": int(cell["n"].iloc[0]), "planner": planner}
            row |= {"datasets": len(g), "median_ms": float(g.median() * 1e3)}
            if planner == reference:
                row |= {"ratio": np.nan, "ratio_low": np.nan, "ratio_high": np.nan}
            elif not g.index.isin(ref.index).all():
                raise ValueError(
                    f"The 'reference' parameter of cold_summary must name a planner timed on "
                    f"every data set; {reference!r} misses some of {planner!r} at n = {n}."
                )
            else:
                row |= _ratio((g / ref.loc[g.index]).to_numpy(dtype=float), confidence, gen)
            rows.append(row)
    return pd.DataFrame(rows)
