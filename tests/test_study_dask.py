"""Study.run on a real dask.distributed cluster gives the process pool's bytes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec
from pathlib import Path

import pytest
from test_study_support import RANDOM, small_study

from ardlib.study import StudyResult

# distributed is imported by the tests that start a cluster (~0.8 s to import), not at
# collection, which every xdist worker pays for every test module
pytestmark = pytest.mark.skipif(
    find_spec("distributed") is None, reason="could not import 'distributed'"
)


@pytest.fixture(scope="module")
def process_pool_result(tmp_path_factory: pytest.TempPathFactory) -> StudyResult:
    # The default process pool's bytes, computed on threads: test_study_run shows both give
    # the same bytes, and a process pool's start-up would cost seconds more per run.
    with ThreadPoolExecutor(2) as pool:
        return small_study().run(tmp_path_factory.mktemp("pool"), executor=pool, progress=False)


def run_on_dask(path: Path, *, processes: bool) -> StudyResult:
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        return small_study().run(path, executor=client.get_executor(), progress=False)


@pytest.mark.slow
def test_dask_threaded_cluster_matches_process_pool(
    process_pool_result: StudyResult, tmp_path: Path
) -> None:
    result = run_on_dask(tmp_path, processes=False)
    assert result.n_computed == 16
    assert result.digest == process_pool_result.digest


@pytest.mark.slow
def test_dask_worker_processes_match_process_pool(
    process_pool_result: StudyResult, tmp_path: Path
) -> None:
    result = run_on_dask(tmp_path, processes=True)
    assert result.digest == process_pool_result.digest


# -- ardlib study run --scheduler, longest cells first ------------------------------------

PARAMS = """studies:
  tiny:
    problems: [branin]
    planners: [random, gpbo]
    noises: {sd0: null}
    replicates: 2
    budget: 8
    master_seed: 3
"""


def _cli(tmp_path: Path, *extra: str) -> tuple[int, str]:
    from ardlib.cli import main

    params = tmp_path / "p.yaml"
    params.write_text(PARAMS)
    out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
    code = main(
        ["study", "run", "--params", str(params), "--out", str(out), "--no-progress", *extra]
    )
    return code, (out / "tiny.parquet").read_bytes().hex() if code == 0 else ""


@pytest.mark.slow  # starts a LocalCluster of worker processes (~3 s)
def test_scheduler_local_gives_the_process_pool_bytes(tmp_path: Path) -> None:
    code_pool, pool_bytes = _cli(tmp_path, "--workers", "2")
    code_dask, dask_bytes = _cli(tmp_path, "--scheduler", "local:2")
    assert (code_pool, code_dask) == (0, 0)
    assert dask_bytes == pool_bytes


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("local:0", "local:N needs a worker count N >= 1"),
        ("local:two", "local:N needs a worker count N >= 1"),
        ("nowhere", "'local:N' or a scheduler address"),
    ],
)
def test_scheduler_bad_values_are_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    code, _ = _cli(tmp_path, "--scheduler", value)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]


def test_scheduler_without_dask_names_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    code, _ = _cli(tmp_path, "--scheduler", "local:2")
    assert code == 2
    assert "pip install 'ardlib[dask]'" in capsys.readouterr().err


def test_workers_and_scheduler_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        _cli(tmp_path, "--workers", "2", "--scheduler", "local:2")
    assert exc.value.code == 2


@pytest.mark.slow
def test_cells_are_submitted_longest_first_and_results_keep_the_study_order(
    tmp_path: Path,
) -> None:
    from ardlib.study import cell_cost

    submitted: list[str] = []

    class Recording(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
            submitted.append(args[0].planner.name)
            return super().submit(fn, *args, **kwargs)

    from ardlib.study import PlannerSpec

    gpbo = PlannerSpec("gpbo", "ardlib.planners.BayesianOptimization")
    study = small_study(planners=[RANDOM, gpbo], replicates=1)  # 8 cells, 4 of them GP-BO
    costs = [cell_cost(c) for c in study.cells()]
    with Recording(1) as pool:
        result = study.run(tmp_path, executor=pool, progress=False)
    n_slow = sum(c == max(costs) for c in costs)
    assert len(set(costs)) > 1  # the study mixes cheap and expensive planners
    assert submitted[:n_slow] == ["gpbo"] * n_slow  # every expensive cell first
    with ThreadPoolExecutor(1) as pool:
        again = study.run(tmp_path / "again", executor=pool, progress=False)
    assert result.digest == again.digest
    assert list(result.results["planner"].drop_duplicates()) == list(
        dict.fromkeys(c.planner.name for c in study.cells())
    )
