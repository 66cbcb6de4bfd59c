"""single_threaded_blas: one BLAS thread in whichever thread enters, restored by the last.

The thread counts are read with threadpoolctl from inside the threads that compute, not
timed: a limit that is not in force shows as the library's default count there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from ardlib._threads import single_threaded_blas


def blas_threads() -> dict[str, int]:
    """{library path: thread count} of every loaded BLAS, as the calling thread sees it."""
    return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


@pytest.fixture
def two_blas_threads() -> Iterator[dict[str, int]]:
    """Every BLAS at 2 threads (so that a limit of 1 is visible), restored afterwards."""
    import scipy.linalg  # noqa: F401  (scipy bundles its own OpenBLAS)

    with threadpool_limits(limits=2, user_api="blas"):
        counts = blas_threads()
        if not counts or set(counts.values()) != {2}:
            pytest.skip(f"BLAS cannot run 2 threads here: {counts}")
        yield counts


def in_thread(fn: Callable[[], object]) -> Callable[[], None]:
    """Start ``fn`` on a new thread; returns a join that re-raises what ``fn`` raised."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=run)
    thread.start()

    def join() -> None:
        thread.join()
        if errors:
            raise errors[0]

    return join


def test_limit_is_one_thread_inside_and_restored_after(two_blas_threads: dict[str, int]) -> None:
    with single_threaded_blas():
        assert set(blas_threads().values()) == {1}
        with single_threaded_blas():  # reentrant
            assert set(blas_threads().values()) == {1}
        assert set(blas_threads().values()) == {1}
    assert blas_threads() == two_blas_threads


def test_a_worker_thread_gets_the_limit_after_the_main_thread_used_it(
    two_blas_threads: dict[str, int],
) -> None:
    # threadpoolctl >= 3.8 lets only one "controlling" thread change OpenBLAS's
    # process-wide pool; the main thread kept that role after leaving, so a worker
    # thread's limit was silently ignored and a study on a thread pool ran GP-BO on
    # multithreaded BLAS (several times the CPU of the same study in processes).
    with single_threaded_blas():
        pass
    seen: dict[str, dict[str, int]] = {}

    def work() -> None:
        with single_threaded_blas():
            seen["inside"] = blas_threads()
        seen["after"] = blas_threads()

    in_thread(work)()
    assert set(seen["inside"].values()) == {1}
    assert seen["after"] == two_blas_threads


def test_the_last_thread_to_leave_restores_even_if_another_entered_first(
    two_blas_threads: dict[str, int],
) -> None:
    a_inside, b_inside, a_left, b_left = (threading.Event() for _ in range(4))
    seen: dict[str, dict[str, int]] = {}

    def first() -> None:  # enters first, leaves first, stays alive until the end
        with single_threaded_blas():
            a_inside.set()
            assert b_inside.wait(10)
        a_left.set()
        assert b_left.wait(10)

    def second() -> None:
        assert a_inside.wait(10)
        with single_threaded_blas():
            b_inside.set()
            assert a_left.wait(10)
            seen["alone_inside"] = blas_threads()
        seen["after_last"] = blas_threads()
        b_left.set()

    join_first, join_second = in_thread(first), in_thread(second)
    join_second()
    join_first()
    assert set(seen["alone_inside"].values()) == {1}
    assert seen["after_last"] == two_blas_threads


@pytest.mark.slow
def test_scipy_blas_is_limited_when_loaded_after_the_first_entry() -> None:
    # A study cell may enter before anything imported scipy.linalg (the GP's BLAS); the
    # controller, built once, must still limit scipy's own OpenBLAS.
    code = (
        "import json\nimport numpy\n"
        "from threadpoolctl import threadpool_info\n"
        "from ardlib._threads import single_threaded_blas\n"
        "with single_threaded_blas():\n"
        "    import scipy.linalg\n"
        "    print(json.dumps([(i['filepath'], i['num_threads']) for i in threadpool_info()\n"
        "                      if i['user_api'] == 'blas']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    pairs = json.loads(out)
    assert any("scipy" in path for path, _ in pairs), pairs
    assert {n for _, n in pairs} == {1}, pairs
