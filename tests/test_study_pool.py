"""The default process pool of Study.run: kept between runs of ardlib's own code, made
afresh for code from elsewhere, ended by shutdown_workers."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ardlib.study import PlannerSpec, Study, shutdown_workers

RANDOM = PlannerSpec("random", "ardlib.planners.RandomSearch")


def _ardlib_study(planners: list[PlannerSpec] | None = None) -> Study:
    """Branin x the given planners x 3 replicates, budget 4: ardlib's code only."""
    return Study(
        problems=["branin"],
        planners=planners or [RANDOM],
        noises=[None],
        replicates=3,
        budget=4,
        master_seed=0,
    )


def _children() -> set[int]:
    return {p.pid for p in multiprocessing.active_children() if p.pid is not None}


def _wait_gone(pids: set[int], timeout: float = 30.0) -> set[int]:
    """The pids of ``pids`` still alive after up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (alive := pids & _children()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


@pytest.fixture(autouse=True)
def _no_kept_pool() -> object:
    shutdown_workers()
    yield None
    shutdown_workers()


def test_ardlib_studies_reuse_one_pool_until_shutdown_workers(tmp_path: Path) -> None:
    before = _children()
    study = _ardlib_study()
    first = study.run(tmp_path / "a", max_workers=2, progress=False)
    workers = _children() - before
    assert 1 <= len(workers) <= 2  # kept after the run
    second = study.run(tmp_path / "b", max_workers=2, progress=False)
    assert _children() - before == workers  # the same processes ran the second study
    here = study.run(tmp_path / "c", max_workers=1, progress=False)
    assert first.digest == second.digest == here.digest
    shutdown_workers()
    assert not _wait_gone(workers)
    third = study.run(tmp_path / "d", max_workers=2, progress=False)  # a new pool
    assert third.digest == first.digest and not (_children() - before) & workers


def test_another_worker_count_replaces_the_kept_pool(tmp_path: Path) -> None:
    before = _children()
    study = _ardlib_study()
    study.run(tmp_path / "two", max_workers=2, progress=False)
    two = _children() - before
    study.run(tmp_path / "three", max_workers=3, progress=False)
    assert not _wait_gone(two)  # the pool of two has gone
    assert 1 <= len(_children() - before) <= 3


def test_an_interrupt_leaves_idle_kept_workers_running(tmp_path: Path) -> None:
    # Ctrl-C, Jupyter's "interrupt kernel" and papermill's kernel shutdown send SIGINT to
    # the whole process group, idle pool workers included.
    before = _children()
    study = _ardlib_study()
    first = study.run(tmp_path / "a", max_workers=2, progress=False)
    workers = _children() - before
    for pid in workers:
        os.kill(pid, signal.SIGINT)
    time.sleep(0.5)
    assert _children() - before == workers  # still alive
    second = study.run(tmp_path / "b", max_workers=2, progress=False)
    assert second.digest == first.digest and _children() - before == workers


def test_a_kept_worker_killed_while_idle_is_replaced(tmp_path: Path) -> None:
    before = _children()
    study = _ardlib_study()
    first = study.run(tmp_path / "a", max_workers=2, progress=False)
    victim = min(_children() - before)
    os.kill(victim, signal.SIGKILL)
    assert not _wait_gone({victim})
    time.sleep(0.2)  # the pool's manager thread marks it broken
    second = study.run(tmp_path / "b", max_workers=2, progress=False)
    assert second.digest == first.digest and victim not in _children()


PLANNER = """\
import numpy as np
from ardlib.planners import RandomSearch


class Fixed(RandomSearch):
    def _ask(self, n):
        return np.full((n, 2), {value})
"""


@pytest.mark.slow  # two process pools started from scratch (~2 s)
def test_code_from_elsewhere_gets_a_fresh_pool_that_sees_its_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "pkg_fixed_planner.py"
    module.write_text(PLANNER.format(value=0.25))
    monkeypatch.syspath_prepend(str(tmp_path))
    before = _children()
    study = _ardlib_study([PlannerSpec("fixed", "pkg_fixed_planner.Fixed")])
    old = study.run(tmp_path / "old", max_workers=2, progress=False)
    assert not _wait_gone(_children() - before)  # not kept
    module.write_text(PLANNER.format(value=0.75))
    # same size and, within a second, the same mtime: the bytecode cache would pass for
    # the new source (an editor's save comes later than that)
    later = module.stat().st_mtime + 5
    os.utime(module, (later, later))
    sys.modules.pop("pkg_fixed_planner", None)
    new = study.run(tmp_path / "new", max_workers=2, progress=False)
    assert set(old.results["y_true"].round(9)) != set(new.results["y_true"].round(9))
    assert old.digest != new.digest


@pytest.mark.slow  # the child's pool spawns its workers, which import ardlib (~2 s)
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_wait_forever_on_the_parents_pool(tmp_path: Path) -> None:
    # A pool kept by the parent has no threads in a forked child (the test-selection
    # collector forks pytest sessions): a submit to it would wait forever.  The child
    # forgets it, and since the parent's fork server is not the child's (multiprocessing
    # checks it with waitpid: every cell failed with ChildProcessError before), the
    # child's pool spawns its workers instead and gives the parent's results.
    study = _ardlib_study()
    parent = study.run(tmp_path / "parent", max_workers=2, progress=False)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child reports through the pipe)
        try:
            child = study.run(tmp_path / "child", max_workers=2, progress=False)
            os.write(write, f"ok {child.digest}".encode())
        except BaseException as exc:
            os.write(write, f"error {type(exc).__name__}".encode())
        finally:
            os._exit(0)
    os.close(write)
    deadline = time.monotonic() + 60
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child's study did not finish in 60 s")
        time.sleep(0.05)
    report = os.read(read, 200).decode()
    os.close(read)
    assert report == f"ok {parent.digest}", report


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie nobody reaps has ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.mark.slow  # a fresh interpreter and pool (~3 s)
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc")
def test_kept_workers_end_when_their_owner_is_killed(tmp_path: Path) -> None:
    # A Jupyter kernel that dies, or a run killed with SIGKILL, cannot stop its kept
    # pool: its idle workers used to wait for work forever (with the fork server).
    code = (
        "import os, signal\n"
        "from ardlib.study import PlannerSpec, Study, _execute\n"
        "if __name__ == '__main__':\n"
        "    study = Study(problems=['branin'], noises=[None], replicates=3, budget=4,\n"
        "                  master_seed=0,\n"
        "                  planners=[PlannerSpec('random', 'ardlib.planners.RandomSearch')])\n"
        f"    study.run({str(tmp_path / 'store')!r}, max_workers=2, progress=False)\n"
        "    print(*_execute._kept[1]._processes, flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    script, out, err = (tmp_path / name for name in ("owner.py", "out.txt", "err.txt"))
    script.write_text(code)
    # files, not pipes: workers that outlive the script would hold a pipe open
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.run([sys.executable, str(script)], stdout=stdout, stderr=stderr)
    assert proc.returncode == -signal.SIGKILL, err.read_text()
    workers = [int(pid) for pid in out.read_text().split()]
    assert len(workers) == 2, out.read_text()
    deadline = time.monotonic() + 10
    while (alive := [p for p in workers if _running(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in alive:  # do not leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived the process that made their pool"


@pytest.mark.slow  # a fresh interpreter and pool (~3 s)
def test_ctrl_c_stops_the_cells_the_workers_are_running(tmp_path: Path) -> None:
    # SIGINT to the process group, as a terminal's Ctrl-C sends it: the busy workers stop
    # their cells (each would sleep 6 x 5 s) instead of finishing them.
    tests = Path(__file__).parent
    code = (
        "import signal\n"
        "from test_study_support import sleepy_study\n"
        "if __name__ == '__main__':\n"
        "    # as in a terminal, whatever this test runs under (nohup, a background job)\n"
        "    signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        f"    sleepy_study(5.0).run({str(tmp_path / 'store')!r}, max_workers=2, "
        "progress=False)\n"
    )
    script = tmp_path / "study_script.py"
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests), *sys.path])}
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, start_new_session=True, stderr=subprocess.PIPE
    )
    try:
        store = tmp_path / "store"
        deadline = time.monotonic() + 60
        # the manifest is written just before the cells are submitted, slow ones first
        while not any(store.glob("**/manifest.json")):
            assert proc.poll() is None and time.monotonic() < deadline, "no progress"
            time.sleep(0.05)
        time.sleep(2.0)  # both workers are now asleep in a slow cell
        stopped = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        elapsed = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()  # reap it and close its pipe
    assert proc.returncode != 0 and b"KeyboardInterrupt" in err
    assert elapsed < 4.0, f"the interrupted study took {elapsed:.1f} s to stop"


def test_without_a_fork_server_the_pool_spawns_and_start_does_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Windows has no fork server: asking for its context there raises ValueError.
    from ardlib.study import _forkserver

    real = multiprocessing.get_context

    def get_context(method: str | None = None) -> object:
        if method == "forkserver":
            raise ValueError("cannot find context for 'forkserver'")
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    monkeypatch.setattr(multiprocessing, "get_context", get_context)
    assert _forkserver.pool_context().get_start_method() == "spawn"
    _forkserver.start()  # returns without starting anything


def test_a_process_forked_from_the_servers_owner_spawns(monkeypatch: pytest.MonkeyPatch) -> None:
    from ardlib.study import _forkserver

    monkeypatch.setattr(_forkserver, "_server_owner", None)
    assert _forkserver.pool_context().get_start_method() == "forkserver"
    assert _forkserver._server_owner == os.getpid()
    monkeypatch.setattr(_forkserver, "_server_owner", os.getpid() + 1)  # as in a child
    assert _forkserver.pool_context().get_start_method() == "spawn"
