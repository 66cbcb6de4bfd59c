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
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = ["single_threaded_blas"]

_controller: ThreadpoolController | None = None
_lock = threading.Lock()
_depth = 0
_limiter: Any = None


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Context manager limiting BLAS libraries to one thread while any thread is inside
    it (reentrant and thread-safe)."""
    global _controller, _depth, _limiter
    with _lock:
        if _depth == 0:
            if _controller is None:
                _controller = ThreadpoolController()
            _limiter = _controller.limit(limits=1, user_api="blas")
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _limiter.restore_original_limits()
                _limiter = None
