"""Study scaling: one worker against several on the same study, side by side.

The question of ``ardlib study run --workers N``: how much faster is a study on ``N``
workers than on one, and are the results the same?  :func:`study_scaling` runs one study
repeatedly, alternating one worker (the calling process) and ``N`` workers (the default
process pool), each round into a fresh store so no cell is cached, after one warm-up run
of each: as in a long session, the calling process has imported what a cell needs and the
default pool is kept between runs (:func:`ardlib.study.shutdown_workers`). A one-shot
``ardlib study run`` pays both start-ups in every process instead. Alternating rounds and
medians, not a single timing: this machine is shared and its speed drifts between minutes.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from .._validation import check_int
from ..study import PlannerSpec, Study

__all__ = ["ScalingResult", "scaling_study", "study_scaling"]


def scaling_study(replicates: int = 8, budget: int = 30) -> Study:
    """The study timed by :func:`study_scaling`.

    Branin and Hartmann-6 x GP-BO, random search and Sobol' x ``replicates``, noiseless:
    48 cells by default, a few GP-BO campaigns costing as much as all the rest.

    Parameters
    ----------
    replicates : int, default 8
        Seeds per (problem, planner).
    budget : int, default 30
        Evaluations per campaign.

    Returns
    -------
    ardlib.study.Study
    """
    return Study(
        problems=["branin", "hartmann6"],
        planners=[
            PlannerSpec("gp-bo", "ardlib.planners.BayesianOptimization"),
            PlannerSpec("random", "ardlib.planners.RandomSearch"),
            PlannerSpec("sobol", "ardlib.planners.Sobol"),
        ],
        noises=[None],
        replicates=check_int(replicates, "replicates", owner="scaling_study", low=1),
        budget=check_int(budget, "budget", owner="scaling_study", low=2),
        master_seed=0,
    )


@dataclass(frozen=True)
class ScalingResult:
    """Wall times of alternating runs of one study on one worker and on ``workers``.

    Attributes
    ----------
    workers : int
        Workers of the parallel runs.
    n_cells : int
        Cells of the study.
    serial_s, parallel_s : list of float
        Wall seconds of each round's run on one worker and on ``workers``.
    ratios : list of float
        ``serial_s[i] / parallel_s[i]`` for each round.
    digests : list of str
        Distinct results digests seen over all runs (one when results are identical).
    """

    workers: int
    n_cells: int
    serial_s: list[float]
    parallel_s: list[float]
    ratios: list[float]
    digests: list[str]

    @property
    def speedup(self) -> float:
        """Median serial time over median parallel time."""
        return statistics.median(self.serial_s) / statistics.median(self.parallel_s)

    def format(self) -> str:
        """A few lines for the terminal: medians, ranges, ratio and digest.

        Returns
        -------
        str
        """

        def span(xs: list[float]) -> str:
            return f"{min(xs):.2f}-{max(xs):.2f} s (median {statistics.median(xs):.2f})"

        return "\n".join(
            [
                f"{self.n_cells} cells, {len(self.serial_s)} alternating rounds",
                f"1 worker (calling process): {span(self.serial_s)}",
                f"{self.workers} workers (process pool): {span(self.parallel_s)}",
                f"speed-up {self.speedup:.3f}x (per round {min(self.ratios):.3f}-"
                f"{max(self.ratios):.3f}x); digests {', '.join(d[:12] for d in self.digests)}",
            ]
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-able form, with the speed-up.

        Returns
        -------
        dict
        """
        return {**asdict(self), "speedup": self.speedup}


def study_scaling(
    study: Study | None = None,
    *,
    workers: int = 2,
    rounds: int = 5,
    progress: Callable[[str], None] | None = None,
) -> ScalingResult:
    """Time ``study`` on one worker and on ``workers``, alternating, after a warm-up run.

    Parameters
    ----------
    study : ardlib.study.Study, optional
        Default :func:`scaling_study` (48 cells).
    workers : int, default 2
        Workers of the parallel runs (at least 2).
    rounds : int, default 5
        Alternating rounds; each runs the study once on one worker and once on
        ``workers``, each into a fresh temporary store.
    progress : callable, optional
        Called with one line per run.

    Returns
    -------
    ScalingResult

    Raises
    ------
    ValueError
        If ``workers`` < 2 or ``rounds`` < 1.
    """
    workers = check_int(workers, "workers", owner="study_scaling", low=2)
    rounds = check_int(rounds, "rounds", owner="study_scaling", low=1)
    study = scaling_study() if study is None else study
    digests: list[str] = []

    def run(n: int) -> float:
        with tempfile.TemporaryDirectory(prefix="ardlib-scaling-") as store:
            start = time.perf_counter()
            result = study.run(store, max_workers=n, progress=False)
            seconds = time.perf_counter() - start
        if result.digest not in digests:
            digests.append(result.digest)
        return seconds

    run(1)  # warm-up of each: imports and first-call caches here, and the kept pool
    run(workers)
    serial: list[float] = []
    parallel: list[float] = []
    for i in range(rounds):
        for n, out in ((1, serial), (workers, parallel)):
            out.append(run(n))
            if progress is not None:
                progress(f"round {i + 1}/{rounds}: {n} worker(s) {out[-1]:.3f} s")
    return ScalingResult(
        workers=workers,
        n_cells=len(study.cells()),
        serial_s=serial,
        parallel_s=parallel,
        ratios=[s / p for s, p in zip(serial, parallel, strict=True)],
        digests=digests,
    )
