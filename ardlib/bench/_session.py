"""Timing inside one process: set benchmarks up, calibrate, take samples.

Used in-process by ``ardlib bench run`` and, through ``_runner``, in the child processes
that ``ardlib bench compare`` drives.  Imports nothing from ``ardlib`` itself (see
``_registry``).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from contextlib import ExitStack

from ._registry import get_benchmark

__all__ = ["CLOCKS", "BenchSession"]

#: Clocks a sample can be taken with.
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


class BenchSession:
    """Benchmarks set up once, then sampled on demand.

    A sample is the mean time per call over ``number`` back-to-back calls, with the
    garbage collector paused (as :mod:`timeit` does; a full collection costs ~0.1 s with
    pandas and SciPy loaded, so none is forced).  The clock is ``"wall"``
    (:func:`time.perf_counter`) or ``"cpu"`` (:func:`time.process_time`: CPU seconds of the
    whole process, so time spent waiting for a core that other programs hold is not
    counted).
    ``slowdown`` > 0 injects a real slowdown: after each call the process busy-waits for
    ``slowdown`` times that call's duration (used to measure the detector's power).
    """

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._fns: dict[str, Callable[[], object]] = {}

    def setup(self, name: str) -> None:
        """Enter the setup of benchmark ``name`` (kept until :meth:`close`)."""
        if name not in self._fns:
            self._fns[name] = self._stack.enter_context(get_benchmark(name).setup())

    def function(self, name: str) -> Callable[[], object]:
        """The timed callable of benchmark ``name`` (after :meth:`setup`)."""
        return self._fns[name]

    def calibrate(self, name: str, *, min_time: float) -> int:
        """Calls per sample so a sample lasts at least ``min_time`` seconds (1 to 10^6)."""
        fn = self._fns[name]
        fn()  # warm-up: imports, caches, first-call allocations
        number = 1
        while number < 1_000_000:
            if self._timed(fn, number, 0.0, time.perf_counter) * number >= min_time:
                break
            number *= 2
        return number

    def sample(
        self, name: str, *, number: int, repeat: int, slowdown: float = 0.0, clock: str = "wall"
    ) -> list[float]:
        """``repeat`` samples of benchmark ``name``: seconds per call on ``clock``."""
        if clock not in CLOCKS:
            raise ValueError(
                f"The 'clock' parameter must be one of {sorted(CLOCKS)}. Got {clock!r}."
            )
        fn = self._fns[name]
        return [self._timed(fn, number, slowdown, CLOCKS[clock]) for _ in range(repeat)]

    @staticmethod
    def _timed(
        fn: Callable[[], object], number: int, slowdown: float, clock: Callable[[], float]
    ) -> float:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            start = clock()
            for _ in range(number):
                t0 = clock()
                fn()
                if slowdown > 0.0:
                    until = clock() + slowdown * (clock() - t0)
                    while clock() < until:
                        pass
            return (clock() - start) / number
        finally:
            if was_enabled:
                gc.enable()

    def close(self) -> None:
        """Tear every benchmark down."""
        self._stack.close()
        self._fns.clear()
