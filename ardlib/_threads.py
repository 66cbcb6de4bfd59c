"""Keep BLAS single-threaded inside ardlib's hot loops.

GP fits and acquisition optimization multiply matrices of order 10-500. Multithreaded
OpenBLAS makes those 5-20x slower on a 2-core machine (thread wake-up costs more than the
arithmetic), so the planners run them with one BLAS thread via threadpoolctl; one
controller is built lazily and reused (entering its limit costs ~10 us, building one ~400 us).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from threadpoolctl import ThreadpoolController

__all__ = ["single_threaded_blas"]

_controller: ThreadpoolController | None = None


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Context manager limiting BLAS libraries to one thread for its duration."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    with _controller.limit(limits=1, user_api="blas"):
        yield
