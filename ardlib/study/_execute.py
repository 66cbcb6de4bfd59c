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
The default pool is kept between runs of ardlib's own planners and problems (warm workers;
:func:`shutdown_workers` ends it) and made afresh for code from elsewhere.
:func:`scheduler_executor` connects to a dask.distributed scheduler (``local:N`` starts a
``LocalCluster``), the ``--scheduler`` option of ``ardlib study run``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from .._threads import single_threaded_blas
from .._validation import check_int
from ._campaign import run_campaign_tables
from ._forkserver import n_workers, pool_context
from ._store import ResultStore
from ._tables import parquet_bytes, with_identity

if TYPE_CHECKING:
    from ._result import StudyResult
    from ._study import CellSpec, Study

__all__ = [
    "CellError",
    "cell_cost",
    "run_cell",
    "run_study",
    "scheduler_executor",
    "shutdown_workers",
]

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
    computed. On the 48-cell study of :func:`ardlib.bench.scaling_study` the storing
    process had spent about 0.1 s serializing and 0.13 s re-reading, out of about 2.9 s
    on two workers.
    """
    global _busy
    _busy = True
    try:
        results, timings = run_cell(cell)
        return results, timings, parquet_bytes(results), parquet_bytes(timings)
    finally:
        _busy = False


#: Whether this process is running a cell (read by a pool worker's SIGINT handler).
_busy = False


def _worker_init(parent_ignores_sigint: bool) -> None:
    """Start-up of a default-pool worker: an interrupt stops the cell it runs, and an idle
    worker ignores it (a worker ignores it always when the process that made the pool
    does, e.g. under ``nohup``).

    Ctrl-C in a terminal, "interrupt kernel" in Jupyter and papermill's kernel shutdown
    send SIGINT to the whole process group.  An idle worker of a kept pool used to die of
    it, printing a KeyboardInterrupt traceback and breaking the pool for the next run.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN if parent_ignores_sigint else _on_sigint)
    owner = multiprocessing.parent_process()
    if owner is not None:
        threading.Thread(target=_exit_with, args=(owner,), daemon=True).start()


def _exit_with(owner: multiprocessing.process.BaseProcess) -> None:
    """Wait for the process that made the pool to end, then end this worker.

    A pool's owner normally stops its workers on exit; killed (SIGKILL, the out-of-memory
    killer, a Jupyter kernel that dies) it cannot, and a kept pool's idle workers waited
    for work forever, keeping the fork server alive too (after the 48-cell scaling study
    each idle worker held 133 MB resident, 27 MB of its own). The owner's end of a pipe
    closes when it dies, which wakes this thread: no polling.
    """
    owner.join()
    os._exit(1)


def _on_sigint(signum: int, frame: Any) -> None:
    if _busy:
        raise KeyboardInterrupt


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


def _code_paths(cells: list[CellSpec]) -> Iterator[str]:
    """Dotted paths of the planner classes, problem factories and noise model classes of
    ``cells`` (one per use)."""
    for cell in cells:
        noise = cell.noise.model
        for obj in (
            cell.planner.cls,
            cell.problem.factory,
            None if noise is None or isinstance(noise, Mapping) else type(noise),
        ):
            if obj is not None:
                yield obj if isinstance(obj, str) else f"{obj.__module__}.{obj.__qualname__}"


def _main_only(cells: list[CellSpec]) -> str | None:
    """A planner class, problem factory or noise model class of ``cells`` that lives only
    in this interpreter's ``__main__`` (a notebook, a REPL, stdin), or None.

    Worker processes cannot import those: the forkserver and spawn start methods re-import
    ``__main__`` from its file, and these have none.
    """
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file and os.path.isfile(main_file):  # not None, nor "<stdin>"
        return None
    return next((p for p in _code_paths(cells) if p.startswith("__main__.")), None)


def _default_executor(max_workers: int | None, n_cells: int) -> ProcessPoolExecutor:
    """A process pool of :func:`~ardlib.study._forkserver.n_workers` workers."""
    workers = n_workers(max_workers, n_cells)
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=pool_context(),
        initializer=_worker_init,
        initargs=(ignored,),
    )


#: The default pool, kept between runs (like joblib's reusable executor) when every cell
#: runs ardlib's own planners, problems and noise models. A new pool paid, on every run,
#: its start-up and a cold first cell in each worker (the first GP-BO campaign of a fresh
#: worker took about 90 ms more CPU than the next, whatever the fork server had run
#: before): on the 48-cell study of :func:`ardlib.bench.scaling_study`, 2 workers against
#: 1 went from 1.64-1.84x (median 1.80) with a new pool per run to 1.92-1.98x (median
#: 1.97) with one pool, eight alternating rounds, load 0.7-1.6, same digest. Code from
#: elsewhere (a user's planner module) gets a fresh pool each run, so its edits are seen.
_kept: tuple[int, ProcessPoolExecutor] | None = None  # (workers, pool)
_kept_lock = threading.Lock()


def _forget_after_fork() -> None:
    """In a forked child the kept pool is the parent's (its threads did not survive the
    fork; a submit would wait forever): forget it and renew the lock."""
    global _kept, _kept_lock
    _kept_lock = threading.Lock()
    _kept = None


os.register_at_fork(after_in_child=_forget_after_fork)


def _shared_pool(max_workers: int | None) -> ProcessPoolExecutor:
    """The kept default pool of ``max_workers`` workers (replacing one of another size)."""
    global _kept
    workers = n_workers(max_workers, sys.maxsize)
    with _kept_lock:
        # A worker killed while idle (out of memory, a signal) breaks the pool; the
        # executor says so only through its private ``_broken`` (stable since 3.8).
        if _kept is None or _kept[0] != workers or getattr(_kept[1], "_broken", False):
            _drop_kept()
            # workers start on demand, so a pool of 8 runs a 3-cell study on 3 processes
            _kept = (workers, _default_executor(workers, sys.maxsize))
        return _kept[1]


def shutdown_workers() -> None:
    """Stop the worker processes :meth:`Study.run` keeps between runs.

    The default executor's pool stays alive after a run whose planners, problems and noise
    models are all ardlib's own, so the next run starts warm; it ends with the interpreter.
    Call this to free its memory, or after editing ardlib's source in a live session (the
    workers keep the code they imported).  A study running meanwhile is not interrupted:
    the workers exit once the cells queued for them are done.  Safe to call when no pool
    is kept.
    """
    with _kept_lock:
        _drop_kept()


def _drop_kept() -> None:
    """Forget the kept pool; its workers exit once their queued cells are done. The caller
    holds ``_kept_lock``."""
    global _kept
    if _kept is not None:
        _kept[1].shutdown(wait=False)
        _kept = None


def _forget_kept(pool: Executor) -> None:
    """Forget the kept pool if it is ``pool``, without shutting it down: the caller stops
    it (shutdown drops the worker handles an interrupted run terminates)."""
    global _kept
    with _kept_lock:
        if _kept is not None and _kept[1] is pool:
            _kept = None


def _reusable(cells: list[CellSpec]) -> bool:
    """Whether the cells' planners, problem factories and noise models are all ardlib's
    (importable, and unchanged for the session's workers)."""
    return all(p.startswith("ardlib.") for p in _code_paths(cells))


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
    if own and n_workers(max_workers, len(cells)) == 1:
        _compute_here(cells, store, study_hash, bar, done)
        return
    if own and (path := _main_only(cells)) is not None:
        raise ValueError(
            f"Study.run: {path} is defined in this notebook or interactive session, which "
            "worker processes cannot import. Run the study in this process with "
            "max_workers=1 (or --workers 1), pass executor=concurrent.futures."
            "ThreadPoolExecutor(...), or move it into an importable module."
        )
    keep = own and _reusable(cells)
    if executor is not None:
        pool = executor
    else:
        pool = _shared_pool(max_workers) if keep else _default_executor(max_workers, len(cells))
    futures: dict[Future[Any], CellSpec] = {}
    failure: tuple[CellSpec, BaseException, int] | None = None
    finished = False
    try:
        # longest first; sorted() is stable, so equal costs keep the study's order
        for cell in sorted(cells, key=cell_cost, reverse=True):
            futures[pool.submit(_run_cell_stored, cell)] = cell
        failure = _drain(futures, store, study_hash, bar, done)
        finished = True
    finally:
        for fut in futures:
            fut.cancel()
        if own and not (keep and finished and failure is None):
            # after a failure or an interrupt, a kept pool is dropped: it may be broken
            if keep:
                _forget_kept(pool)
            if not finished:
                _stop_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)
    if failure is not None:
        cell, exc, n_failed = failure
        raise _cell_error(cell, exc, n_failed, store, study_hash) from exc


def _stop_workers(pool: Any) -> None:
    """Terminate the worker processes of an interrupted run's own pool.

    An interrupt (Ctrl-C, a notebook's "interrupt kernel") stops the cells the workers
    run, but each worker then took the next cell already queued to it and ran it to the
    end, so an interrupted study of long cells went on for a cell's duration.  Cells
    stored before stay; a rerun computes the rest.  Python 3.14's
    ``ProcessPoolExecutor.terminate_workers`` does this; before it, only the private
    ``_processes`` reach the workers.
    """
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


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
    # Imported here, not at the top: the pool's workers import this module for
    # _run_cell_stored and need neither (pandas and tqdm were about 0.25 s of the fork
    # server's preload, which the workers' first cells wait for).
    from tqdm.auto import tqdm

    from ._result import collect

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
