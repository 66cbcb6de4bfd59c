"""ardlib's benchmarks: GP fit and predict, acquisition optimization, ``ask()`` end to end,
objective evaluation, a small study with 1 and 2 workers, and client request overhead
against the reference service on loopback.

Every setup is seeded, so two revisions time the same work.  Imports of ardlib happen
inside the setups (see ``_registry``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ._registry import benchmark

__all__: list[str] = []

Fn = Callable[[], object]


def _data(problem: str, n: int, seed: int = 0) -> tuple[Any, np.ndarray, np.ndarray]:
    from ardlib.objectives import get_problem

    obj = get_problem(problem)
    rng = np.random.default_rng(seed)
    lo, hi = np.asarray(obj.bounds, dtype=float).T
    X = lo + (hi - lo) * rng.random((n, obj.dim))
    return obj, X, obj.evaluate_true(X)


_PROBLEM = {2: "branin", 6: "hartmann6"}


def _gp_fit(n: int, d: int) -> None:
    @benchmark(
        f"gp.fit[n={n},d={d}]",
        group="gp",
        description=f"MAP fit of the Matern-5/2 GP (3 restarts) on {n} points of {_PROBLEM[d]}",
    )
    @contextmanager
    def setup() -> Iterator[Fn]:
        from ardlib.gp import GaussianProcess

        obj, X, y = _data(_PROBLEM[d], n)
        lo, hi = np.asarray(obj.bounds, dtype=float).T
        U = (X - lo) / (hi - lo)
        yield lambda: GaussianProcess(n_restarts=3, rng=0).fit(U, y)


def _gp_predict(n: int, d: int, m: int = 1000) -> None:
    @benchmark(
        f"gp.predict[n={n},d={d},m={m}]",
        group="gp",
        description=f"posterior mean and variance at {m} points, GP fitted on {n} points",
    )
    @contextmanager
    def setup() -> Iterator[Fn]:
        from ardlib.gp import GaussianProcess

        obj, X, y = _data(_PROBLEM[d], n)
        lo, hi = np.asarray(obj.bounds, dtype=float).T
        gp = GaussianProcess(n_restarts=3, rng=0).fit((X - lo) / (hi - lo), y)
        Xs = np.random.default_rng(1).random((m, d))
        yield lambda: gp.predict(Xs)


def _told_planner(obj: Any, X: np.ndarray, y: np.ndarray) -> Any:
    """GP-BO (log EI, no exploitation steps) told ``X, y``, past its initial design: its
    next ask fits the GP and optimizes the acquisition."""
    from ardlib.planners import BayesianOptimization

    p = BayesianOptimization(bounds=obj.bounds, rng=0, exploit_every=None, n_initial=1)
    p.tell(X, y)
    p.ask()  # the one initial-design point (no model involved)
    return p


def _acq(n: int, d: int) -> None:
    @benchmark(
        f"acquisition.optimize[n={n},d={d}]",
        group="acquisition",
        description="one ask() of GP-BO (log EI) whose GP is already fitted: acquisition "
        "optimization only",
    )
    @contextmanager
    def setup() -> Iterator[Fn]:
        p = _told_planner(*_data(_PROBLEM[d], n))
        p.ask()  # fits the GP; later asks without a tell reuse it
        yield p.ask


def _ask(n: int, d: int) -> None:
    @benchmark(
        f"planner.ask[n={n},d={d}]",
        group="planner",
        description=f"ask() of a new GP-BO planner told {n} points: full GP fit and "
        "acquisition optimization",
    )
    @contextmanager
    def setup() -> Iterator[Fn]:
        obj, X, y = _data(_PROBLEM[d], n)
        yield lambda: _told_planner(obj, X, y).ask()


def _objective(problem: str, m: int = 10_000) -> None:
    @benchmark(
        f"objective.evaluate[{problem},m={m}]",
        group="objective",
        description=f"evaluate_true of {problem} at {m} points",
    )
    @contextmanager
    def setup() -> Iterator[Fn]:
        obj, X, _ = _data(problem, m)
        yield lambda: obj.evaluate_true(X)


for _n, _d in ((50, 2), (100, 6), (200, 6)):
    _gp_fit(_n, _d)
for _n, _d in ((100, 6), (200, 6)):
    _gp_predict(_n, _d)
for _n, _d in ((50, 6), (100, 6)):
    _acq(_n, _d)
    _ask(_n, _d)
for _p in ("branin", "hartmann6", "michalewicz"):
    _objective(_p)


def _study(workers: int) -> None:
    @benchmark(
        f"study.run[workers={workers}]",
        group="study",
        description=f"a study of 8 random-search campaigns (budget 40) on Branin with "
        f"{workers} worker process(es), empty store each time",
        slow=True,
    )
    @contextmanager
    def setup() -> Iterator[Fn]:
        from concurrent.futures import ProcessPoolExecutor

        from ardlib.study import PlannerSpec, Study

        study = Study(
            problems=["branin"],
            planners=[PlannerSpec("random", "ardlib.planners.RandomSearch")],
            noises=[None],
            replicates=8,
            budget=40,
            master_seed=0,
        )
        with (
            tempfile.TemporaryDirectory(prefix="ardlib-bench-") as tmp,
            ProcessPoolExecutor(workers) as pool,
        ):
            counter = iter(range(1_000_000))

            def run() -> object:
                store = os.path.join(tmp, str(next(counter)))
                return study.run(store, executor=pool, progress=False)

            run()  # start the worker processes outside the timing
            yield run


for _w in (1, 2):
    _study(_w)


@benchmark(
    "client.experiments[limit=100]",
    group="client",
    description="Client.experiments(limit=100) against the seeded reference service on "
    "loopback (request, JSON decoding, records)",
    slow=True,
)
@contextmanager
def _client_setup() -> Iterator[Fn]:
    from ardlib.client import Client
    from ardlib.deploy import ServiceProcess

    with ServiceProcess(demo_data=True) as svc, Client(svc.url) as client:
        yield lambda: client.experiments(limit=100)
