"""Keep BLAS single-threaded inside ardlib's hot loops.

GP fits and acquisition optimization multiply matrices of order 10-500. Multithreaded
OpenBLAS makes those 5-20x slower on a 2-core machine (thread wake-up costs more than the
arithmetic), so the planners run them with one BLAS thread via threadpoolctl; one
controller is built lazily and reused (entering its limit costs ~10 us, building one ~400 us).

BLAS thread limits are process-wide, so the limit is reference-counted across threads: the
first thread to enter sets it and the last to leave restores it.  Without the count, one
thread leaving restored multithreaded BLAS while another was still computing, whose results
then changed in the last bits (a study run on a thread pool stopped being byte-identical
to the same study run in processes).

Two things make that work with threadpoolctl:

* **Any thread may set the limit.**  For OpenBLAS's process-wide pool (pthreads layer),
  threadpoolctl >= 3.8 lets only one *controlling* thread change it: the first thread to
  set a limit, until it exits or its ``with`` block ends; a ``set`` from any other thread
  is silently ignored.  The limiter here is entered and restored outside a ``with`` block
  (the first and the last thread differ), so the controlling thread was never released:
  once the main thread had used this context manager, a study's worker threads entered it
  with no effect and ran GP-BO on multithreaded BLAS (2-7x the CPU time of the same
  campaign with the limit in force, and results whose last bits can depend on it).  Every
  change is therefore made under ``_lock`` with the controlling thread released before and
  after it.
* **Every BLAS ardlib uses is controlled.**  The controller knows only the libraries loaded
  when it is built, and numpy and scipy each bundle their own OpenBLAS; ``scipy.linalg``
  (the GP's Cholesky) is imported before building it, or a controller built by a study cell
  before its first GP fit left scipy's BLAS multithreaded for the life of the process.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from threadpoolctl import ThreadpoolController

try:  # threadpoolctl >= 3.8: one controlling thread per process-wide OpenBLAS pool
    from threadpoolctl import OpenBLASController as _OpenBLAS

    _release_control: Any = getattr(_OpenBLAS, "clear_controlling_thread", None)
except ImportError:  # pragma: no cover - older threadpoolctl: any thread may set limits
    _release_control = None

__all__ = ["single_threaded_blas"]

_controller: ThreadpoolController | None = None
_lock = threading.Lock()
_depth = 0
_limiter: Any = None


def _released(change: Any) -> Any:
    """Run ``change()`` (a BLAS limit change) as the controlling thread; needs ``_lock``."""
    if _release_control is None:
        return change()
    _release_control(force=True)
    try:
        return change()
    finally:
        _release_control(force=True)


def _get_controller() -> ThreadpoolController:
    global _controller
    if _controller is None:
        import numpy  # noqa: F401  (their BLAS libraries must be loaded to be controlled)
        import scipy.linalg  # noqa: F401

        _controller = ThreadpoolController()
    return _controller


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Context manager limiting BLAS libraries to one thread while any thread is inside
    it (reentrant and thread-safe)."""
    global _depth, _limiter
    with _lock:
        if _depth == 0:
            controller = _get_controller()
            _limiter = _released(lambda: controller.limit(limits=1, user_api="blas"))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _released(_limiter.restore_original_limits)
                _limiter = None
