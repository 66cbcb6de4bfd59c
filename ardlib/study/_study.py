"""Define a study: the grid problems × noises × planners × replicates, its cells and hashes.

A :class:`Study` is a value: validated at construction, hashed from its canonical JSON
(with ``ardlib.__version__``), and split into :class:`CellSpec` cells, each one campaign.
The seed of a cell is ``derive_seed(master_seed, problem.key, noise.label, replicate)``:
never the planner (every planner in a cell shares it) nor the worker that runs it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from .. import __version__
from .._io import canonical_json
from .._io import sha256_json as spec_hash
from .._rng import derive_seed
from .._validation import check_int
from ._specs import NoiseSpec, PlannerSpec, ProblemSpec

if TYPE_CHECKING:
    from ._result import StudyResult
    from ._store import ResultStore

__all__ = ["RESULTS_FORMAT", "CellSpec", "Study"]

#: Version of the stored table layout; part of every hash.
RESULTS_FORMAT = 1


@dataclass(frozen=True)
class CellSpec:
    """One campaign of a study: everything that determines its results.

    Attributes
    ----------
    problem : ProblemSpec
    planner : PlannerSpec
    noise : NoiseSpec
    replicate : int
    budget : int
    batch_size : int
    master_seed : int
    """

    problem: ProblemSpec
    planner: PlannerSpec
    noise: NoiseSpec
    replicate: int
    budget: int
    batch_size: int
    master_seed: int

    @property
    def seed(self) -> int:
        """Cell seed: ``derive_seed(master_seed, problem.key, noise.label, replicate)``."""
        return derive_seed(self.master_seed, self.problem.key, self.noise.label, self.replicate)

    def to_json(self) -> dict[str, Any]:
        """JSON-able description that determines the cell's results.

        Returns
        -------
        dict
            Problem, planner, noise, replicate, budget, batch size, seed and version.
        """
        return {
            "format": RESULTS_FORMAT,
            "ardlib_version": __version__,
            "problem": self.problem.to_json(),
            "planner": self.planner.to_json(),
            "noise": self.noise.to_json(),
            "replicate": self.replicate,
            "budget": self.budget,
            "batch_size": self.batch_size,
            "master_seed": self.master_seed,
        }

    @property
    def hash(self) -> str:
        """SHA-256 of :meth:`to_json`; names the cell's files in a store."""
        return spec_hash(self.to_json())

    def identity(self) -> dict[str, Any]:
        """The identity columns stored with every row of the cell.

        Returns
        -------
        dict
            ``problem``, ``noise``, ``planner``, ``replicate``, ``cell_seed``.
        """
        return {
            "problem": self.problem.key,
            "noise": self.noise.label,
            "planner": self.planner.name,
            "replicate": self.replicate,
            "cell_seed": self.seed,
        }

    def describe(self) -> str:
        """Short human-readable identity, used in error messages.

        Returns
        -------
        str
        """
        return (
            f"problem={self.problem.key!r}, noise={self.noise.label!r}, "
            f"planner={self.planner.name!r}, replicate={self.replicate}"
        )


def _coerce(items: Any, name: str, kind: type, convert: Any, what: str) -> tuple[Any, ...]:
    """Validate a non-empty sequence of ``kind`` (after ``convert``), as a tuple."""
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise TypeError(f"The '{name}' parameter of Study must be a list of {what}. Got {items!r}.")
    out = tuple(convert(x) for x in items)
    if not out:
        raise ValueError(f"The '{name}' parameter of Study must be a non-empty list of {what}.")
    for x in out:
        if not isinstance(x, kind):
            raise TypeError(f"The '{name}' parameter of Study must be a list of {what}. Got {x!r}.")
    return out


def _check_unique(keys: Sequence[str], name: str, attr: str) -> None:
    """Raise if a key appears more than once in ``keys``."""
    dup = sorted(k for k, c in Counter(keys).items() if c > 1)
    if dup:
        raise ValueError(
            f"The '{name}' parameter of Study must have unique {attr}s; "
            f"{', '.join(map(repr, dup))} appear(s) more than once."
        )


@dataclass(frozen=True)
class Study:
    """A grid of campaigns: problems × noises × planners × replicates, each with ``budget``.

    Parameters
    ----------
    problems : list of ProblemSpec or str
        Problems (a str is a registry name); keys must be unique.
    planners : list of PlannerSpec
        Planners; names must be unique.
    noises : list of NoiseSpec or None
        Noise settings (None means noise-free, labelled ``"none"``); labels must be unique.
    replicates : int
        Independent repetitions of every combination, >= 1.
    budget : int
        Evaluations per campaign, >= 1.
    master_seed : int
        Seed of the whole study, >= 0.  Cell seeds derive from it (see :class:`CellSpec`).
    batch_size : int, default 1
        Points asked per round.

    Raises
    ------
    TypeError
        If ``problems``, ``planners`` or ``noises`` is not a list of the specs above.
    ValueError
        If one of those lists is empty or repeats a key, name or label, or an int setting
        is out of range.

    Notes
    -----
    The study hash (:attr:`study_hash`) covers the canonical JSON of every spec (lists in
    sorted order, so reordering them does not change it), the settings above, the results
    format and ``ardlib.__version__``.  Adding a planner makes a new study, computed anew.
    """

    problems: Sequence[ProblemSpec | str]
    planners: Sequence[PlannerSpec]
    noises: Sequence[NoiseSpec | None]
    replicates: int
    budget: int
    master_seed: int
    batch_size: int = 1

    def __post_init__(self) -> None:
        def as_problem(p: Any) -> Any:
            return ProblemSpec(p) if isinstance(p, str) else p

        def as_noise(n: Any) -> Any:
            return NoiseSpec("none") if n is None else n

        probs = _coerce(self.problems, "problems", ProblemSpec, as_problem, "ProblemSpec")
        plans = _coerce(self.planners, "planners", PlannerSpec, lambda p: p, "PlannerSpec")
        noises = _coerce(self.noises, "noises", NoiseSpec, as_noise, "NoiseSpec (or None)")
        _check_unique([p.key for p in probs], "problems", "key")
        _check_unique([p.name for p in plans], "planners", "name")
        _check_unique([n.label for n in noises], "noises", "label")
        for name, value in (("problems", probs), ("planners", plans), ("noises", noises)):
            object.__setattr__(self, name, value)
        for name in ("replicates", "budget", "batch_size"):
            object.__setattr__(
                self, name, check_int(getattr(self, name), name, owner="Study", low=1)
            )
        seed = check_int(self.master_seed, "master_seed", owner="Study", low=0)
        object.__setattr__(self, "master_seed", seed)

    def spec(self) -> dict[str, Any]:
        """JSON-able description of everything that determines the study's results.

        Returns
        -------
        dict
            Problems, planners and noises (sorted), replicates, budget, batch size, seed.
        """

        def ordered(specs: Iterable[Any]) -> list[Any]:
            return sorted((s.to_json() for s in specs), key=canonical_json)

        return {
            "format": RESULTS_FORMAT,
            "ardlib_version": __version__,
            "problems": ordered(self.problems),
            "planners": ordered(self.planners),
            "noises": ordered(self.noises),
            "replicates": self.replicates,
            "budget": self.budget,
            "master_seed": self.master_seed,
            "batch_size": self.batch_size,
        }

    @cached_property
    def study_hash(self) -> str:
        """SHA-256 of :meth:`spec`: the study's address in a :class:`ResultStore`."""
        return spec_hash(self.spec())

    def cells(self) -> list[CellSpec]:
        """Every cell, in canonical order (problem key, noise label, planner name, replicate).

        Returns
        -------
        list of CellSpec
        """
        problems = cast("tuple[ProblemSpec, ...]", self.problems)  # coerced in __post_init__
        noises = cast("tuple[NoiseSpec, ...]", self.noises)
        return [
            CellSpec(p, pl, n, r, self.budget, self.batch_size, self.master_seed)
            for p in sorted(problems, key=lambda s: s.key)
            for n in sorted(noises, key=lambda s: s.label)
            for pl in sorted(self.planners, key=lambda s: s.name)
            for r in range(self.replicates)
        ]

    def run(
        self,
        store: ResultStore | str | os.PathLike[str],
        *,
        executor: Executor | None = None,
        max_workers: int | None = None,
        progress: bool = True,
    ) -> StudyResult:
        """Compute the cells missing from ``store`` and return the combined results.

        Parameters
        ----------
        store : ResultStore or path
            Where cells are kept: ``<root>/cells/<cell_hash>.parquet``.  Cells already
            there are reused, so an interrupted study resumes where it stopped and an
            extended study computes only its new cells.
        executor : concurrent.futures.Executor, optional
            Runs the cells, e.g. a ``ThreadPoolExecutor`` or ``distributed.Client(...)
            .get_executor()``; it is not shut down.  Default: a ``ProcessPoolExecutor``
            (forkserver start method where available; spawn in a process forked after
            its parent used the fork server), kept for the next run when every
            planner, problem and noise model is ardlib's own (a warm pool; see
            :func:`~ardlib.study.shutdown_workers`) and otherwise shut down by this call,
            or, with one worker, this process: the cells then run here one after another
            (as scikit-learn's ``n_jobs=1``), which is also how a planner, problem
            factory or noise model defined in a notebook runs.  As with any non-fork
            process pool, a *script* that calls ``run`` with several workers must guard
            it with ``if __name__ == "__main__":`` (notebooks need nothing).  The
            workers end with the process that made the pool, even when it is killed.
        max_workers : int, optional
            Workers of the default executor; default ``min(2, os.cpu_count())``, and at
            most one per cell to compute.  Only valid without ``executor``.
        progress : bool, default True
            Show a tqdm progress bar (cells done / total, cached cells).

        Returns
        -------
        StudyResult

        Raises
        ------
        CellError
            If a cell raises; cells completed before are kept in the store, so fixing the
            cause and calling ``run`` again computes only what is missing.
        ValueError
            If the default executor would start several worker processes and a planner,
            problem factory or noise model is defined only in ``__main__`` of a notebook or
            interactive session (workers cannot import it): use ``max_workers=1`` or a
            ``ThreadPoolExecutor``.
        """
        from ._execute import run_study

        return run_study(self, store, executor=executor, max_workers=max_workers, progress=progress)
