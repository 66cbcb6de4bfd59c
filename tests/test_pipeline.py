"""The DVC pipeline, end to end, on a throw-away copy of the repository.

``dvc repro`` must build every stage and the report index from a clean clone (with
``tests/pipeline_smoke_params.yaml``, when present, as ``params.yaml``), and a second
``dvc repro`` must find nothing to do.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMOKE_PARAMS = ROOT / "tests" / "pipeline_smoke_params.yaml"
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _git(cwd: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.name=pipeline-test", "-c", "user.email=test@invalid"]
    cmd += ["-c", "commit.gpgsign=false", *args]
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


def _repo_files() -> list[str]:
    """Tracked files plus untracked, non-ignored ones (work in progress is part of it),
    except untracked files under reports/: outputs of earlier runs, not sources."""
    tracked = _git(ROOT, "ls-files", "-z", "--cached").split("\0")
    others = _git(ROOT, "ls-files", "-z", "--others", "--exclude-standard").split("\0")
    return sorted(
        {f for f in tracked if f} | {f for f in others if f and not f.startswith("reports/")}
    )


def _copy_repo(dest: Path) -> None:
    for rel in _repo_files():
        src = ROOT / rel
        if not (src.is_file() or src.is_symlink()):
            continue  # deleted in the working tree
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)
    if SMOKE_PARAMS.is_file():
        shutil.copy2(SMOKE_PARAMS, dest / "params.yaml")
    _drop_test_selection(dest / "dvc.yaml")


#: Stages the smoke pipeline leaves out: collecting the mutants runs the fast tier under
#: coverage and once per mutant (about 30 minutes); the report stage needs that data.
SKIPPED_STAGES = ("testsel-collect", "test-selection")


def _drop_test_selection(dvc_yaml: Path) -> None:
    import yaml

    spec = yaml.safe_load(dvc_yaml.read_text())
    outs = set()
    for name in SKIPPED_STAGES:
        stage = spec["stages"].pop(name, {})
        for out in [*stage.get("outs", []), *stage.get("metrics", [])]:
            outs.add(next(iter(out)) if isinstance(out, dict) else out)
    for stage in spec["stages"].values():
        if "deps" in stage:
            stage["deps"] = [d for d in stage["deps"] if d not in outs]
    dvc_yaml.write_text(yaml.safe_dump(spec, sort_keys=False))


def _dvc(repo: Path, env: dict[str, str], timeout: float) -> tuple[str, float]:
    start = time.perf_counter()
    proc = subprocess.run(
        [str(BIN / "dvc"), "repro"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.perf_counter() - start
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"dvc repro failed ({proc.returncode}):\n{out}"
    return out, seconds


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("pipeline")
    dest = base / "repo"
    _copy_repo(dest)
    shared = (ROOT.parent / "shared").resolve()
    if shared.is_dir():
        os.symlink(shared, base / "shared")  # ../shared/datasets keeps working
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "pipeline test snapshot")
    return dest


@pytest.fixture(scope="module")
def env(repo: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(repo),  # the copy's ardlib, not the editable install's
        "DVC_NO_ANALYTICS": "1",
    }


@pytest.fixture(scope="module")
def first_run(repo: Path, env: dict[str, str]) -> str:
    # a bound for a hung stage, not a speed target: 87 s alone here, >240 s under load 4-7
    out, _ = _dvc(repo, env, timeout=600)
    return out


def test_repro_builds_every_stage_and_the_index(repo: Path, first_run: str) -> None:
    assert "Running stage" in first_run
    index = repo / "reports" / "index.html"
    assert index.is_file(), f"no reports/index.html after dvc repro:\n{first_run}"
    assert 'class="fail"' not in index.read_text()


def test_second_repro_changes_nothing(repo: Path, env: dict[str, str], first_run: str) -> None:
    out, seconds = _dvc(repo, env, timeout=60)
    assert "Running stage" not in out, out
    up_to_date = "Data and pipelines are up to date" in out
    skipped = re.findall(r"Stage '([^']+)' didn't change, skipping", out)
    assert up_to_date or skipped, out
    assert seconds < 15, f"no-op dvc repro took {seconds:.1f} s"
