"""The default study pool's size and the fork server it forks its workers from (light to
import).

Kept apart from :mod:`ardlib.study._execute` so that ``ardlib study run`` can start the
server before it imports the study machinery itself: the server's preload (numpy, scipy,
pyarrow, the planners) then runs on the other core while this process does the same
imports, instead of after them.

The preload leaves out what only the main process uses (pandas for the user's frames, tqdm
for the bar, httpx for ``ardlib smoke``): from a fresh interpreter it took 1.07-1.09 s
without them and 1.34-1.46 s with them (three runs each, this machine, 2026-12-06).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
from typing import Any

__all__: list[str] = []

#: Modules the fork server imports before it forks a worker. The subpackages load lazily,
#: so preloading ``ardlib.study`` alone imported almost nothing and every worker then paid
#: for numpy, scipy, pandas, pyarrow and the planners itself, both at once on two cores.
#: Measured on a 48-cell study (Branin and Hartmann-6 x GP-BO, random, Sobol' x 8
#: replicates, budget 30, 2 cores, load ~1.3, two alternations of three rounds): 2 workers
#: 4.5-4.7 s -> 2.8-3.3 s, 1 worker 6.4-6.6 s -> 5.3-5.7 s, ratio 1.36-1.48 -> 1.62-2.06;
#: the same results digest either way.
PRELOAD = (
    "__main__",
    "ardlib.study._execute",
    "ardlib.planners._bo",
    "ardlib.objectives._registry",
)


def n_workers(max_workers: int | None, n_cells: int) -> int:
    """Workers of the default executor: ``max_workers`` (default 2 or the CPU count), at
    most one per cell."""
    workers = min(2, os.cpu_count() or 1) if max_workers is None else max_workers
    return max(1, min(workers, n_cells))


#: The process that first asked for the fork server. A process forked from it inherits
#: the parent's server handle, which it cannot use: multiprocessing checks the server with
#: ``waitpid``, and the server is not the child's own child ("No child processes", every
#: cell of the child's study failed).
_server_owner: int | None = None


def pool_context() -> Any:
    """The multiprocessing context of the default pool: forkserver with :data:`PRELOAD`
    where available (no fork of a threaded parent, no per-worker import cost), else spawn.
    The preload list takes effect if the server is not yet running.

    In a process forked after its parent used the fork server, spawn: the inherited
    server belongs to the parent, and each worker then imports what it needs itself.
    """
    global _server_owner
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    if _server_owner is None:
        _server_owner = os.getpid()
    elif _server_owner != os.getpid():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def start() -> None:
    """Start the fork server now (if the platform has one and it is not running); returns
    without waiting for its preload."""
    if pool_context().get_start_method() == "forkserver":
        multiprocessing.forkserver.ensure_running()
