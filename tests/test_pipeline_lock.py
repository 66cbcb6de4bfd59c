"""ardlib._dvclock.stale_stages: is dvc.lock still true of the git-tracked pipeline inputs?

The check on this checkout warns (a UserWarning, shown in the warnings summary) rather than
fails: a stale lock means `dvc repro` will re-run those stages, and the reports it builds
name the re-run stages in their revision stamp. (A category defined here would break
pytest-xdist, whose controller unpickles each warning's class by module name.)
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import pytest

from ardlib._dvclock import stale_stages
from ardlib._io import git

ROOT = Path(__file__).resolve().parents[1]

# A folder DVC 3.67 hashed (`dvc add pkg` beside the same .dvcignore): 3 files, 19 bytes;
# the .pyc, __pycache__ and .ipynb_checkpoints entries are ignored, the CRLF is hashed as is.
PKG = {
    "a.py": b"x = 1\n",
    "sub/b.txt": b"b\r\n",
    "sub/with space.json": b'{"z": [1]}',
    "c.pyc": b"junk",
    "__pycache__/a.cpython-311.pyc": b"\x00junk",
    ".ipynb_checkpoints/a-checkpoint.py": b"cp",
}
PKG_MD5 = "d23d650319ed3c4c1b02307e54d4ea5a.dir"
TOOL_MD5 = "3253b41059cac6e987c5a5e9233ea5d0"  # md5 of b"x = 1\n"

DVC_YAML = """\
stages:
  build:
    cmd: python tool.py
    deps: [data/raw.csv, pkg, tool.py]
    params: [train]
  legacy:
    cmd: python tool.py
    deps: [tool.py]
"""
LOCK = f"""\
schema: '2.0'
stages:
  build:
    cmd: python tool.py
    deps:
    - path: data/raw.csv
      hash: md5
      md5: 00000000000000000000000000000000
      size: 1
    - path: pkg
      hash: md5
      md5: {PKG_MD5}
      size: 19
      nfiles: 3
    - path: tool.py
      hash: md5
      md5: {TOOL_MD5}
      size: 6
    params:
      params.yaml:
        train:
          lr: 0.1
          epochs: 3
  legacy:
    cmd: python tool.py
    deps:
    - path: tool.py
      md5: ffffffffffffffffffffffffffffffff
      size: 6
"""


def _git(repo: Path, *args: str) -> None:
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run([*cmd, *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    """A committed pipeline whose lock is up to date with its tracked inputs."""
    for rel, data in PKG.items():
        (tmp_path / "pkg" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "pkg" / rel).write_bytes(data)
    (tmp_path / "tool.py").write_bytes(b"x = 1\n")
    (tmp_path / "params.yaml").write_text("train: {lr: 0.1, epochs: 3}\nother: 1\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw.csv").write_text("a,b\n")  # a DVC output: not in git
    (tmp_path / ".gitignore").write_text("data/\n__pycache__/\n*.pyc\n.ipynb_checkpoints/\n")
    (tmp_path / ".dvcignore").write_text((ROOT / ".dvcignore").read_text())
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    (tmp_path / "dvc.lock").write_text(LOCK)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "pipeline")
    return tmp_path


def test_an_up_to_date_lock_matches_dvcs_own_folder_hash(pipeline: Path) -> None:
    assert stale_stages(pipeline) == {}  # pkg hashes to what DVC wrote; legacy is not checked
    (pipeline / "pkg" / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"new")
    (pipeline / "pkg" / "sub" / "d.pyc").write_bytes(b"new")
    (pipeline / "data" / "raw.csv").write_text("changed")  # outside git: not hashed
    (pipeline / "params.yaml").write_text("train: {epochs: 3, lr: 0.1}\nother: 2\n")
    assert stale_stages(pipeline) == {}
    (pipeline / "pkg" / "sub" / "new.txt").write_text("")  # DVC counts untracked files too
    assert stale_stages(pipeline) == {"build": ("pkg",)}


def test_a_changed_file_parameter_or_declared_dependency_makes_its_stage_stale(
    pipeline: Path,
) -> None:
    (pipeline / "pkg" / "sub" / "b.txt").write_bytes(b"b\n")  # CRLF -> LF is a change
    assert stale_stages(pipeline) == {"build": ("pkg",)}
    (pipeline / "tool.py").write_bytes(b"x = 2\n")
    (pipeline / "params.yaml").write_text("train: {lr: 0.2, epochs: 3}\n")
    dvc_yaml = DVC_YAML.replace("pkg, tool.py]", "pkg, tool.py, extra.py]")
    dvc_yaml += "  report:\n    cmd: python report.py\n    deps: [tool.py]\n"
    (pipeline / "dvc.yaml").write_text(dvc_yaml)
    assert stale_stages(pipeline) == {
        "build": ("pkg", "tool.py", "extra.py", "params.yaml:train"),
        "report": ("tool.py",),  # declared, never run
    }
    (pipeline / "tool.py").unlink()
    (pipeline / "params.yaml").unlink()
    assert stale_stages(pipeline) == {
        "build": ("pkg", "tool.py", "extra.py", "params.yaml:train"),
        "report": ("tool.py",),
    }


def test_without_a_lock_nothing_is_stale_and_outside_git_it_raises(tmp_path: Path) -> None:
    assert stale_stages(tmp_path) == {}
    (tmp_path / "dvc.lock").write_text(LOCK)
    with pytest.raises(ValueError, match="not a git repository"):
        stale_stages(tmp_path)
    (tmp_path / "dvc.lock").write_text("stages: [unclosed\n")
    with pytest.raises(ValueError, match=r"not a dvc\.lock that pyyaml can read"):
        stale_stages(tmp_path)


@pytest.mark.filterwarnings("default::UserWarning")
def test_this_checkouts_lock_matches_its_tracked_inputs() -> None:
    """Warn, per stale stage, when dvc.lock no longer matches the tracked inputs here."""
    if not (ROOT / "dvc.lock").is_file() or git("rev-parse", "HEAD", cwd=ROOT) is None:
        pytest.skip("needs a git checkout with dvc.lock")
    stale = stale_stages(ROOT)
    for stage, changed in stale.items():
        warnings.warn(
            f"dvc.lock is stale for stage {stage!r}: {', '.join(changed)} changed since it "
            f"was recorded; `dvc repro {stage}` re-runs it (commit the new dvc.lock).",
            UserWarning,
            stacklevel=1,
        )
    assert all(isinstance(v, tuple) and v for v in stale.values())


def test_pipeline_smoke_params_keep_the_detector_settings_of_params_yaml() -> None:
    """The pipeline test swaps in tests/pipeline_smoke_params.yaml; if its bench_detector
    section differs from params.yaml, the 25-minute detector stage reruns and the test
    times out (it did when params.yaml went to 40/10 pairs)."""
    import yaml

    root = Path(__file__).resolve().parents[1]
    main = yaml.safe_load((root / "params.yaml").read_text())
    smoke = yaml.safe_load((root / "tests" / "pipeline_smoke_params.yaml").read_text())
    assert smoke["bench_detector"] == main["bench_detector"]
