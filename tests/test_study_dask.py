"""Study.run on a real dask.distributed cluster gives the process pool's bytes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_study_support import small_study

from ardlib.study import StudyResult

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def process_pool_result(tmp_path_factory: pytest.TempPathFactory) -> StudyResult:
    # The default process pool's bytes, computed on threads: test_study_run shows both give
    # the same bytes, and a process pool's start-up would cost seconds more per run.
    with ThreadPoolExecutor(2) as pool:
        return small_study().run(tmp_path_factory.mktemp("pool"), executor=pool, progress=False)


def run_on_dask(path: Path, *, processes: bool) -> StudyResult:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        return small_study().run(path, executor=client.get_executor(), progress=False)


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
