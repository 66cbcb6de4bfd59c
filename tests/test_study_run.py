"""Study.run on real executors and real files: determinism, caching, resume, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import types
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_study_support import RANDOM, SOBOL, CountingExecutor, Flaky, sleepy_study, small_study

import ardlib.study._store
from ardlib._io import sha256_file, write_atomic
from ardlib._rng import derive_seed
from ardlib.planners import RandomSearch
from ardlib.study import (
    CellError,
    PlannerSpec,
    ResultStore,
    StudyRecord,
    StudyResult,
    load_study,
    run_campaign,
)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> StudyResult:
    """The small study, run once on the default executor: a pool of two worker processes."""
    return small_study().run(tmp_path_factory.mktemp("ref"), max_workers=2, progress=False)


def test_one_and_two_workers_write_byte_identical_files(
    reference: StudyResult, tmp_path: Path
) -> None:
    one = small_study().run(tmp_path / "one", max_workers=1, progress=False)  # this process
    assert one.n_computed == 16 and one.n_cached == 0
    assert sha256_file(one.results_path) == sha256_file(reference.results_path)
    assert one.digest == reference.digest == sha256_file(reference.results_path)
    saved = one.save(tmp_path / "export" / "results.parquet")
    assert sha256_file(saved) == reference.digest


def test_a_notebook_planner_runs_on_one_worker_and_is_refused_by_a_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A class defined in a notebook cell lives in a __main__ without a file, which the
    # pool's worker processes cannot re-import.
    notebook = types.ModuleType("__main__")
    monkeypatch.setitem(sys.modules, "__main__", notebook)
    cls = type("CellPlanner", (RandomSearch,), {"__module__": "__main__"})
    notebook.CellPlanner = cls
    study = small_study(planners=[PlannerSpec("random", cls)])
    with pytest.raises(
        ValueError,
        match=r"__main__\.CellPlanner is defined in this notebook.*"
        r"max_workers=1",
    ):
        study.run(tmp_path / "pool", max_workers=2, progress=False)
    assert not (tmp_path / "pool" / "cells").exists()  # nothing ran
    here = study.run(tmp_path / "here", max_workers=1, progress=False)
    assert here.n_computed == 8
    # the same seeds and the same campaigns as the importable RandomSearch
    plain = small_study(planners=[RANDOM]).run(tmp_path / "plain", max_workers=1, progress=False)
    pd.testing.assert_frame_equal(here.results, plain.results)


def test_saved_study_round_trips_with_its_record(reference: StudyResult, tmp_path: Path) -> None:
    path = reference.save(tmp_path / "s" / "small.parquet", seconds=1.23456)
    loaded = load_study(path)
    rec = loaded.record
    assert rec.study == "small" and rec.seconds == 1.235
    assert rec.study_hash == small_study().study_hash and rec.spec == small_study().spec()
    assert rec.digest == loaded.digest == reference.digest
    assert rec.n_cells == 16 and loaded.results.equals(reference.results)
    assert StudyRecord.load(path.with_suffix(".json")) == rec
    named = reference.save(tmp_path / "t" / "other.parquet", name="branin")
    assert load_study(named).record.study == "branin"


def test_load_study_names_what_is_missing_or_malformed(
    reference: StudyResult, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError, match=r"No study results at .*absent\.parquet"):
        load_study(tmp_path / "absent.parquet")
    path = reference.save(tmp_path / "x.parquet")
    path.with_suffix(".json").unlink()
    with pytest.raises(FileNotFoundError, match=r"no record .*x\.json"):
        load_study(path)
    path.with_suffix(".json").write_text(json.dumps({"study": "x"}))
    with pytest.raises(ValueError, match="lacks study_hash, digest, spec"):
        load_study(path)
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_study(path)


def test_results_are_canonical_and_tidy(reference: StudyResult) -> None:
    r = reference.results
    keys = ["problem", "noise", "planner", "replicate", "step"]
    assert len(r) == 16 * 6 and list(r.columns[:5]) == [*keys[:4], "cell_seed"]
    assert r.equals(r.sort_values(keys, ignore_index=True))
    assert list(r.index) == list(range(len(r)))
    assert r["replicate"].dtype == np.int64 and r["failed"].dtype == np.bool_
    assert r.groupby(keys[:4]).size().eq(6).all()
    assert not {"ask_seconds", "recommend_seconds"} & set(r.columns)
    assert {"ask_seconds", "recommend_seconds"} <= set(reference.timings.columns)
    cell = r[(r.problem == "peak") & (r.noise == "offset") & (r.replicate == 1)]
    assert cell["cell_seed"].unique().tolist() == [derive_seed(0, "peak", "offset", 1)]


def test_planners_in_a_cell_share_noise_and_initial_seed(reference: StudyResult) -> None:
    r = reference.results.assign(offset=lambda d: d.y_obs - d.y_true)
    noisy = r[r.noise == "offset"].pivot_table(
        index=["problem", "replicate", "step"], columns="planner", values="offset"
    )
    np.testing.assert_allclose(noisy["random"], noisy["sobol"], rtol=0, atol=1e-12)
    assert noisy["random"].std() > 0.01
    assert (r[r.noise == "none"].offset == 0).all()


def test_same_seed_same_bytes_other_seed_other_results(
    reference: StudyResult, tmp_path: Path
) -> None:
    # On a thread pool: the default executor's process start-up (seconds) is not the point
    # here, and test_any_executor_thread_pool_gives_the_same_bytes pins the executor.
    with ThreadPoolExecutor(1) as pool:
        again = small_study().run(tmp_path / "again", executor=pool, progress=False)
        other = small_study(master_seed=1).run(tmp_path / "other", executor=pool, progress=False)
    assert again.digest == reference.digest
    assert other.digest != reference.digest
    assert other.results["x"].tolist() != reference.results["x"].tolist()


@pytest.mark.slow
def test_rerun_computes_only_missing_cells(reference: StudyResult) -> None:
    store, h = reference.store, reference.study.study_hash
    cells = reference.study.cells()
    deleted = [cells[1], cells[6], cells[15]]
    for c in deleted:
        store.cell_path(h, c.hash).unlink()
    with ProcessPoolExecutor(max_workers=2) as pool:
        counting = CountingExecutor(pool)
        again = reference.study.run(store, executor=counting, progress=False)
        assert {c.hash for c in counting.submitted} == {c.hash for c in deleted}
        assert len(counting.submitted) == 3
        assert (again.n_computed, again.n_cached) == (3, 13)
        assert again.digest == reference.digest
        counting.submitted.clear()
        cached = reference.study.run(store, executor=counting, progress=False)
        assert counting.submitted == [] and cached.n_cached == 16
    assert cached.digest == reference.digest


@pytest.mark.slow
def test_an_extended_study_computes_only_its_new_cells(tmp_path: Path) -> None:
    with ThreadPoolExecutor(2) as pool:
        base = small_study().run(tmp_path, executor=pool, progress=False)
    lhs = PlannerSpec("lhs", "ardlib.planners.LatinHypercube")
    extended = small_study(planners=[RANDOM, SOBOL, lhs])
    assert extended.study_hash != base.study.study_hash
    with ThreadPoolExecutor(2) as pool:
        counting = CountingExecutor(pool)
        result = extended.run(tmp_path, executor=counting, progress=False)
    assert {c.planner.name for c in counting.submitted} == {"lhs"}
    assert (result.n_computed, result.n_cached) == (8, 16)
    shared = result.results[result.results["planner"] != "lhs"].reset_index(drop=True)
    pd.testing.assert_frame_equal(shared, base.results)


def test_a_crashed_cell_keeps_completed_cells_and_the_rerun_finishes(tmp_path: Path) -> None:
    flag = tmp_path / "crash-once"
    flag.touch()
    # One planner, so every cell has the same cost and cells are submitted in study order
    # (longest first is stable); the last cell crashes once, after all others completed.
    probe = small_study(planners=[PlannerSpec("unstable", Flaky)])
    last = probe.cells()[-1]
    params = {"flag": str(flag), "fail_seed": derive_seed(last.seed, "planner")}
    study = small_study(planners=[PlannerSpec("unstable", Flaky, params)])
    n = len(study.cells())
    store = ResultStore(tmp_path / "store")
    # One worker: the cells run in this process, in order.
    with pytest.raises(
        CellError,
        match=r"problem='sphere', noise='offset', planner='unstable', "
        r"replicate=1.*RuntimeError: simulated crash",
    ) as info:
        study.run(store, max_workers=1, progress=False)
    assert info.value.cell.hash == study.cells()[-1].hash and info.value.n_failed == 1
    assert isinstance(info.value.__cause__, RuntimeError)
    stored = sorted(p.name for p in (store.root / "cells").iterdir())
    assert len(stored) == n - 1 and f"{last.hash}.parquet" not in stored
    assert not flag.exists()
    with ThreadPoolExecutor(1) as pool:
        resumed = study.run(store, executor=pool, progress=False)
        assert (resumed.n_computed, resumed.n_cached) == (1, n - 1)
    clean = study.run(tmp_path / "clean", max_workers=1, progress=False)
    assert clean.digest == resumed.digest


def test_any_executor_thread_pool_gives_the_same_bytes(
    reference: StudyResult, tmp_path: Path
) -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = small_study().run(tmp_path, executor=pool, progress=False)
    assert threaded.digest == reference.digest


def test_store_layout_manifest_and_no_temporary_files(reference: StudyResult) -> None:
    store, h = reference.store, reference.study.study_hash
    root = store.study_dir(h)
    assert reference.results_path == root / "results.parquet"
    assert len(list((store.root / "cells").glob("*.parquet"))) == 16
    assert len(list((store.root / "timings").glob("*.parquet"))) == 16
    assert not list(store.root.rglob("*.tmp"))
    manifest = json.loads(store.manifest_path(h).read_text())
    assert manifest["study_hash"] == h and manifest["spec"] == reference.study.spec()
    assert [c["cell_hash"] for c in manifest["cells"]] == [c.hash for c in reference.study.cells()]


def test_a_foreign_manifest_is_not_overwritten(tmp_path: Path) -> None:
    study = small_study(budget=1, replicates=1)
    store = ResultStore(tmp_path)
    store.write_manifest(study.study_hash, {"spec": {"something": "else"}})
    with pytest.raises(RuntimeError, match="different study"):
        study.run(store, max_workers=1, progress=False)


def test_atomic_write_leaves_nothing_behind_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(ardlib.study._store.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(tmp_path / "cells" / "a.parquet", b"data")
    assert os.listdir(tmp_path / "cells") == []


def test_progress_bar_shows_done_total_and_cached(
    reference: StudyResult, capsys: pytest.CaptureFixture[str]
) -> None:
    reference.study.run(reference.store, progress=True)
    err = capsys.readouterr().err
    assert "16/16" in err and "cached=16" in err
    reference.study.run(reference.store, progress=False)
    assert capsys.readouterr().err == ""


def test_run_argument_errors(reference: StudyResult) -> None:
    study = reference.study
    with (
        ThreadPoolExecutor(1) as pool,
        pytest.raises(ValueError, match=r"'max_workers' parameter of Study\.run applies only"),
    ):
        study.run(reference.store, executor=pool, max_workers=2)
    with pytest.raises(TypeError, match=r"'executor' parameter of Study\.run"):
        study.run(reference.store, executor="dask")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"'store' parameter of Study\.run"):
        study.run(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"'max_workers' parameter of Study\.run must be an int"):
        study.run(reference.store, max_workers=0, progress=False)


@pytest.mark.slow
@pytest.mark.slow  # a fresh interpreter and a process pool whose workers die (~3 s)
def test_a_script_without_a_main_guard_is_told_why_its_workers_died(tmp_path: Path) -> None:
    # Each worker re-imports the script, which starts a study again while the worker is
    # still starting: Python stops that worker, and the pool breaks.
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from test_study_support import small_study\n"
        f"small_study().run({str(tmp_path / 'store')!r}, max_workers=2, progress=False)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    proc = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1
    # the traceback's last line, though warnings (leaked semaphores) may follow it
    head = "ardlib.study._execute.CellError: Study cell failed"
    lines = [line for line in proc.stderr.splitlines() if line.startswith(head)]
    assert len(lines) == 1, proc.stderr[-3000:]
    last = lines[0]
    assert "BrokenProcessPool: A process in the process pool was terminated abruptly" in last
    assert 'under `if __name__ == "__main__":`' in last and ".." not in last


def test_a_killed_study_process_resumes_where_it_stopped(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "store")
    # 0.02 s naps: eight slow cells of 0.12 s each, still enough for the kill to land
    # after the fourth stored cell and before the last (0.05 s naps took about 1 s more)
    nap = 0.02
    study = sleepy_study(nap)
    cells_dir = store.root / "cells"
    code = (
        "from test_study_support import sleepy_study\n"
        "if __name__ == '__main__':\n"
        f"    sleepy_study({nap}).run({str(store.root)!r}, max_workers=1, progress=False)\n"
    )
    script = tmp_path / "study_script.py"
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    proc = subprocess.Popen([sys.executable, str(script)], env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(cells_dir.glob("*.parquet"))) < 4 and proc.poll() is None:
            assert time.monotonic() < deadline, "the study process made no progress"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    stored = len(list(cells_dir.glob("*.parquet")))
    assert 4 <= stored < 16, "kill the study while it is running"
    resumed = study.run(store, max_workers=2, progress=False)
    assert (resumed.n_cached, resumed.n_computed) == (stored, 16 - stored)
    clean = study.run(tmp_path / "clean", max_workers=2, progress=False)
    assert clean.digest == resumed.digest


def test_a_cell_is_reproduced_by_run_campaign_with_its_seed(reference: StudyResult) -> None:
    cell = [c for c in reference.study.cells() if c.noise.label == "offset"][-1]
    alone = run_campaign(
        cell.problem.build(), cell.planner, cell.budget, cell.noise, rng=cell.seed
    ).results
    r = reference.results
    rows = r[(r.problem == cell.problem.key) & (r.noise == "offset")]
    rows = rows[(rows.planner == cell.planner.name) & (rows.replicate == cell.replicate)]
    pd.testing.assert_frame_equal(rows[list(alone.columns)].reset_index(drop=True), alone)
