"""Execute a study's missing cells on any :class:`concurrent.futures.Executor`.

Workers receive only a :class:`CellSpec` (specs, no live objects) and return Arrow tables;
this process alone writes to the store, as each cell completes.  A failing cell cancels
the cells not yet started, lets running ones finish and be stored, and is re-raised as
:class:`CellError` naming the cell.

With one worker (``max_workers=1``, one CPU or one cell to compute) the default executor is
this process itself: the cells run one after another here, as scikit-learn's ``n_jobs=1``
does, so a planner or problem defined in a notebook (which a worker process cannot import)
runs, and no pool is started.

Cells are submitted longest first (:func:`cell_cost`): a GP-BO campaign costs hundreds of
random-search campaigns, and one long cell started last keeps every other worker idle
while it runs.  The order changes when results arrive, never what they are: each cell is
seeded by its identity and the results are collected in the study's own cell order.
:func:`scheduler_executor` connects to a dask.distributed scheduler (``local:N`` starts a
``LocalCluster``), the ``--scheduler`` option of ``ardlib study run``.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from tqdm.auto import tqdm

from .._threads import single_threaded_blas
from .._validation import check_int
from ._campaign import run_campaign_tables
from ._result import StudyResult, collect
from ._store import ResultStore
from ._tables import parquet_bytes, with_identity

if TYPE_CHECKING:
    from ._study import CellSpec, Study

__all__ = ["CellError", "cell_cost", "run_cell", "run_study", "scheduler_executor"]

#: Planner classes whose asks cost O(1) (space-filling designs): their campaigns are cheap.
_DESIGN_PLANNERS = frozenset(
    {"ardlib.planners.RandomSearch", "ardlib.planners.Sobol", "ardlib.planners.LatinHypercube"}
)


class CellError(RuntimeError):
    """A study cell raised; the original exception is the ``__cause__``.

    Parameters
    ----------
    message : str
        What failed, naming the cell.
    cell : CellSpec
        The (first) failing cell (kept as ``.cell``).
    n_failed : int
        Number of cells that raised before the run stopped (kept as ``.n_failed``).
    """

    def __init__(self, message: str, cell: CellSpec, n_failed: int) -> None:
        super().__init__(message)
        self.cell = cell
        self.n_failed = n_failed


def run_cell(cell: CellSpec) -> tuple[pa.Table, pa.Table]:
    """Run one cell from its specs; returns (results, timings) with identity columns.

    Top-level and picklable, so any executor can run it in another process or machine.
    """
    problem = cell.problem.build()
    # The whole campaign on one BLAS thread, not only the planners' hot loops: BLAS limits
    # are process-wide, so on a thread pool the code between two asks (recommendations,
    # scoring) ran on 1 or 2 BLAS threads depending on what the other threads were doing,
    # and its last bits, hence the study digest, depended on timing.
    with single_threaded_blas():
        results, timings, _ = run_campaign_tables(
            problem, cell.planner, cell.budget, cell.noise.build(), cell.seed, cell.batch_size
        )
    ident = cell.identity()
    return with_identity(results, ident), with_identity(timings, ident)


#: What :func:`_run_cell_stored` returns: the results and timings tables and their parquet
#: bytes.
_CellOutput = tuple[pa.Table, pa.Table, bytes, bytes]


def _run_cell_stored(cell: CellSpec) -> _CellOutput:
    """:func:`run_cell`, plus both tables serialized as the store writes them.

    Serializing in the worker takes that CPU time off the one process that stores every
    cell, and keeping the tables lets :func:`collect` skip reading back what this run just
    computed; on the 48-cell study of :data:`_PRELOAD` the parent spent about 0.1 s
    serializing and 0.13 s re-reading, both out of about 2.9 s on two workers.
    """
    results, timings = run_cell(cell)
    return results, timings, parquet_bytes(results), parquet_bytes(timings)


def cell_cost(cell: CellSpec) -> float:
    """A relative cost estimate of a cell, for scheduling only (longest first).

    A model-based planner refits on every ask, so its campaign grows roughly with the
    square of the budget; a design planner's grows linearly.  The estimate orders the
    submissions and nothing else.

    Parameters
    ----------
    cell : CellSpec

    Returns
    -------
    float
        ``budget ** 2`` for model-based planners, ``budget / 100`` for design planners.
    """
    cls = cell.planner.cls
    path = cls if isinstance(cls, str) else f"{cls.__module__}.{cls.__qualname__}"
    path = path.replace("ardlib.planners._design.", "ardlib.planners.")
    if path in _DESIGN_PLANNERS:
        return cell.budget / 100.0
    return float(cell.budget) ** 2


def scheduler_executor(address: str) -> tuple[Executor, Any]:
    """An executor on a dask.distributed cluster, and the client to close after use.

    Parameters
    ----------
    address : str
        A scheduler address (``tcp://host:8786``) or ``local:N`` for a ``LocalCluster`` of
        ``N`` single-threaded worker processes on this machine.

    Returns
    -------
    executor : concurrent.futures.Executor
        ``client.get_executor()``: cells run as dask tasks, one per cell.
    client : distributed.Client
        Close it (``client.close()``; for ``local:N`` also its cluster) when done.

    Raises
    ------
    ImportError
        If dask.distributed is not installed (the ``dask`` extra).
    ValueError
        If ``address`` is neither ``local:N`` (N >= 1) nor a scheduler address.
    """
    if not isinstance(address, str) or not address:
        raise ValueError(f"--scheduler must be 'local:N' or a scheduler address. Got {address!r}.")
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError("--scheduler needs dask.distributed: pip install 'ardlib[dask]'") from exc
    if address.startswith("local:"):
        count = address.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"--scheduler local:N needs a worker count N >= 1. Got {address!r}.")
        cluster = LocalCluster(
            n_workers=int(count),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=40,
        )
        client = Client(cluster)
    else:
        if "://" not in address and ":" not in address:
            raise ValueError(
                f"--scheduler must be 'local:N' or a scheduler address such as "
                f"tcp://host:8786. Got {address!r}."
            )
        client = Client(address, timeout="10s")
    return client.get_executor(), client


#: Modules the fork server imports before it forks a worker. The subpackages load lazily,
#: so preloading ``ardlib.study`` alone imported almost nothing and every worker then paid
#: for numpy, scipy, pandas, pyarrow and the planners itself, both at once on two cores.
#: Measured on a 48-cell study (Branin and Hartmann-6 x GP-BO, random, Sobol' x 8
#: replicates, budget 30, 2 cores, load ~1.3, two alternations of three rounds): 2 workers
#: 4.5-4.7 s -> 2.8-3.3 s, 1 worker 6.4-6.6 s -> 5.3-5.7 s, ratio 1.36-1.48 -> 1.62-2.06;
#: the same results digest either way.
_PRELOAD = (
    "__main__",
    "ardlib.study._execute",
    "ardlib.planners._bo",
    "ardlib.objectives._registry",
)


def _n_workers(max_workers: int | None, n_cells: int) -> int:
    """Workers of the default executor: ``max_workers`` (default 2 or the CPU count), at
    most one per cell."""
    workers = min(2, os.cpu_count() or 1) if max_workers is None else max_workers
    return max(1, min(workers, n_cells))


def _main_only(cells: list[CellSpec]) -> str | None:
    """A planner class, problem factory or noise model class of ``cells`` that lives only
    in this interpreter's ``__main__`` (a notebook, a REPL, stdin), or None.

    Worker processes cannot import those: the forkserver and spawn start methods re-import
    ``__main__`` from its file, and these have none.
    """
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file and os.path.isfile(main_file):  # not None, nor "<stdin>"
        return None
    for cell in cells:
        planner, factory = cell.planner.cls, cell.problem.factory
        noise = cell.noise.model
        for obj in (
            planner,
            factory,
            None if noise is None or isinstance(noise, Mapping) else type(noise),
        ):
            if obj is None:
                continue
            path = obj if isinstance(obj, str) else f"{obj.__module__}.{obj.__qualname__}"
            if path.startswith("__main__."):
                return path
    return None


def _default_executor(max_workers: int | None, n_cells: int) -> ProcessPoolExecutor:
    """A process pool of :func:`_n_workers` workers."""
    workers = _n_workers(max_workers, n_cells)
    if "forkserver" in multiprocessing.get_all_start_methods():
        # Fork workers from a server that has imported ardlib once (no fork of a threaded
        # parent, no per-worker import cost). Effective if the server is not yet running.
        ctx: Any = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(_PRELOAD))
    else:
        ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def _keep(
    done: dict[str, tuple[pa.Table, pa.Table]],
    cell: CellSpec,
    output: _CellOutput,
    store: ResultStore,
    study_hash: str,
) -> None:
    """Store one computed cell and keep its tables in ``done`` for :func:`collect`."""
    results, timings, results_bytes, timings_bytes = output
    store.write_cell(study_hash, cell.hash, results_bytes, timings_bytes)
    done[cell.hash] = (results, timings)


def _drain(
    futures: Mapping[Future[Any], CellSpec],
    store: ResultStore,
    study_hash: str,
    bar: Any,
    done: dict[str, tuple[pa.Table, pa.Table]],
) -> tuple[CellSpec, BaseException, int] | None:
    """Store results as they complete (and keep them in ``done``); on the first error
    cancel what has not started."""
    first: tuple[CellSpec, BaseException] | None = None
    n_failed = 0
    for fut in as_completed(futures):
        if fut.cancelled():
            continue
        cell, exc = futures[fut], fut.exception()
        if exc is None:
            _keep(done, cell, fut.result(), store, study_hash)
            bar.update(1)
            continue
        n_failed += 1
        if first is None:
            first = (cell, exc)
            for other in futures:
                other.cancel()
    return None if first is None else (*first, n_failed)


def _cell_error(
    cell: CellSpec, exc: BaseException, n_failed: int, store: ResultStore, study_hash: str
) -> CellError:
    hint = ""
    if isinstance(exc, BrokenProcessPool):
        hint = (
            " A worker process died: out of memory, killed, or it could not start (a script "
            'that runs a study must do so under `if __name__ == "__main__":`, since each '
            "worker imports the script; the worker's own error is on stderr)."
        )
    return CellError(
        f"Study cell failed ({cell.describe()}; cell {cell.hash[:12]}): "
        f"{type(exc).__name__}: {str(exc).rstrip('.')}.{hint} {n_failed} cell(s) failed; "
        "completed cells are "
        f"stored under {store.study_dir(study_hash)} and a rerun computes only the rest.",
        cell,
        n_failed,
    )


def _compute_here(
    cells: list[CellSpec],
    store: ResultStore,
    study_hash: str,
    bar: Any,
    done: dict[str, tuple[pa.Table, pa.Table]],
) -> None:
    """Run ``cells`` one after another in this process, storing each as it completes."""
    for cell in cells:
        try:
            output = _run_cell_stored(cell)
        except Exception as exc:
            raise _cell_error(cell, exc, 1, store, study_hash) from exc
        _keep(done, cell, output, store, study_hash)
        bar.update(1)


def _compute(
    cells: list[CellSpec],
    store: ResultStore,
    study_hash: str,
    executor: Executor | None,
    max_workers: int | None,
    bar: Any,
    done: dict[str, tuple[pa.Table, pa.Table]],
) -> None:
    """Run ``cells`` on the executor (owning the default one), storing each as it completes
    and keeping its tables in ``done``."""
    own = executor is None
    if own and _n_workers(max_workers, len(cells)) == 1:
        _compute_here(cells, store, study_hash, bar, done)
        return
    if own and (path := _main_only(cells)) is not None:
        raise ValueError(
            f"Study.run: {path} is defined in this notebook or interactive session, which "
            "worker processes cannot import. Run the study in this process with "
            "max_workers=1 (or --workers 1), pass executor=concurrent.futures."
            "ThreadPoolExecutor(...), or move it into an importable module."
        )
    pool = _default_executor(max_workers, len(cells)) if executor is None else executor
    futures: dict[Future[Any], CellSpec] = {}
    try:
        # longest first; sorted() is stable, so equal costs keep the study's order
        for cell in sorted(cells, key=cell_cost, reverse=True):
            futures[pool.submit(_run_cell_stored, cell)] = cell
        failure = _drain(futures, store, study_hash, bar, done)
    finally:
        for fut in futures:
            fut.cancel()
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    if failure is not None:
        cell, exc, n_failed = failure
        raise _cell_error(cell, exc, n_failed, store, study_hash) from exc


def _manifest(study: Study, cells: list[CellSpec]) -> dict[str, Any]:
    """Manifest JSON: study hash, study spec, and the cells with their identities."""
    return {
        "study_hash": study.study_hash,
        "spec": study.spec(),
        "cells": [{"cell_hash": c.hash, **c.identity()} for c in cells],
    }


def run_study(
    study: Study,
    store: ResultStore | str | os.PathLike[str],
    *,
    executor: Executor | None,
    max_workers: int | None,
    progress: bool,
) -> StudyResult:
    """Implementation of :meth:`Study.run` (see there)."""
    if not isinstance(store, ResultStore):
        if not isinstance(store, str | os.PathLike):
            raise TypeError(
                "The 'store' parameter of Study.run must be a ResultStore or a path. "
                f"Got {store!r}."
            )
        store = ResultStore(store)
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(
            "The 'executor' parameter of Study.run must be a concurrent.futures.Executor. "
            f"Got {type(executor).__name__}."
        )
    if executor is not None and max_workers is not None:
        raise ValueError(
            "The 'max_workers' parameter of Study.run applies only to the default executor; "
            "size the executor you pass instead."
        )
    if max_workers is not None:
        max_workers = check_int(max_workers, "max_workers", owner="Study.run", low=1)
    h, cells = study.study_hash, study.cells()
    store.write_manifest(h, _manifest(study, cells))
    todo = [c for c in cells if not store.has_cell(h, c.hash)]
    n_cached = len(cells) - len(todo)
    done: dict[str, tuple[pa.Table, pa.Table]] = {}
    desc = f"study {h[:8]}"
    with tqdm(
        total=len(cells), initial=n_cached, desc=desc, unit="cell", disable=not progress
    ) as bar:
        bar.set_postfix(cached=n_cached)
        if todo:
            _compute(todo, store, h, executor, max_workers, bar, done)
    return collect(study, store, cells, n_computed=len(todo), n_cached=n_cached, computed=done)
