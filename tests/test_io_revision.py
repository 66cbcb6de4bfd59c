"""ardlib._io.revision_state: the commit a result came from and what differed from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ardlib._io import RevisionState, git_revision, provenance, revision_state

LOCK = """\
schema: '2.0'
stages:
  alpha:
    cmd: run alpha
    deps:
    - path: ardlib/x.py
      hash: md5
      md5: 3253b41059cac6e987c5a5e9233ea5d0
      size: 6
  beta:
    cmd: run beta
    outs:
    - path: data/beta.json
      hash: md5
      md5: 00000000000000000000000000000001
      size: 10
  gamma:
    cmd: run gamma
"""


def _git(repo: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    return subprocess.run(
        [*cmd, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    """A committed tree with code, parameters and a dvc.lock of three stages; its HEAD."""
    (tmp_path / "ardlib").mkdir()
    (tmp_path / "ardlib" / "x.py").write_text("x = 1\n")
    (tmp_path / "ardlib" / "y.py").write_text("y = 1\n")
    (tmp_path / "params.yaml").write_text("alpha: {seed: 0}\n")
    (tmp_path / "dvc.lock").write_text(LOCK)
    (tmp_path / ".gitignore").write_text("data/\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "c")
    return tmp_path, _git(tmp_path, "rev-parse", "--short", "HEAD")


def test_clean_tree_is_its_bare_commit_whatever_lies_outside_the_watched_paths(
    repo: tuple[Path, str],
) -> None:
    root, head = repo
    (root / "scratch.txt").write_text("notes")  # untracked, outside ardlib/ and notebooks/
    (root / "data").mkdir()
    (root / "data" / "beta.json").write_text("{}")  # ignored by git
    state = revision_state(root)
    assert state == RevisionState(head)
    assert state.clean and state.describe() == head
    assert revision_state(root, short=False).commit.startswith(head)


def test_a_lock_rewritten_by_the_pipeline_names_the_stages_not_the_code(
    repo: tuple[Path, str],
) -> None:
    root, head = repo
    lock = LOCK.replace("00000000000000000000000000000001", "0123456789abcdef0123456789abcdef")
    lock = lock.replace("  gamma:\n    cmd: run gamma\n", "  delta:\n    cmd: run delta\n")
    (root / "dvc.lock").write_text(lock)
    state = revision_state(root)
    assert state.dirty_files == ("dvc.lock",) and state.code_files == ()
    assert state.lock_stages_changed == ("beta", "delta", "gamma")  # rewritten, added, removed
    assert state.describe() == f"{head} (dvc.lock re-run: beta, delta, gamma)"
    assert git_revision(root) == f"{head}-dirty"  # the single-string form is unchanged


def test_a_lock_changed_only_in_layout_or_unreadable_says_so_without_stages(
    repo: tuple[Path, str],
) -> None:
    root, head = repo
    (root / "dvc.lock").write_text(LOCK.replace("schema: '2.0'", 'schema: "2.0"  # same'))
    assert revision_state(root).describe() == f"{head} (dvc.lock changed)"
    (root / "dvc.lock").write_text("stages: [unclosed\n")
    state = revision_state(root)
    assert state.lock_stages_changed == () and state.describe() == f"{head} (dvc.lock changed)"


def test_code_changes_are_named_file_by_file_from_any_folder_of_the_tree(
    repo: tuple[Path, str],
) -> None:
    root, head = repo
    (root / "ardlib" / "x.py").write_text("x = 2\n")  # modified
    _git(root, "rm", "-q", "ardlib/y.py")  # staged deletion
    (root / "ardlib" / "new module.py").write_text("")  # untracked, watched (and a space)
    (root / "notebooks").mkdir()
    (root / "notebooks" / "n.ipynb").write_text("{}")
    (root / "params-paper.yaml").write_text("alpha: {seed: 1}\n")
    (root / "scratch.txt").write_text("notes")  # untracked, not watched
    (root / "dvc.lock").write_text(LOCK.replace("run gamma", "run gamma --fast"))
    expected = (
        "ardlib/new module.py",
        "ardlib/x.py",
        "ardlib/y.py",
        "dvc.lock",
        "notebooks/n.ipynb",
        "params-paper.yaml",
    )
    state = revision_state(root / "ardlib")  # a subfolder names the same root-relative paths
    assert state == RevisionState(head, expected, ("gamma",))
    assert state.describe() == (
        f"{head} + 5 changed files: ardlib/new module.py, ardlib/x.py, ardlib/y.py and 2 more"
        " (dvc.lock re-run: gamma)"
    )
    assert state.describe(max_files=5).endswith(
        "ardlib/y.py, notebooks/n.ipynb, params-paper.yaml (dvc.lock re-run: gamma)"
    )


def test_one_changed_file_is_singular_and_max_files_is_validated() -> None:
    state = RevisionState("abc1234", ("params.yaml",))
    assert state.describe() == "abc1234 + 1 changed file: params.yaml"
    with pytest.raises(ValueError, match=r"'max_files' parameter .* int >= 1. Got 0."):
        state.describe(max_files=0)


def test_outside_git_or_before_the_first_commit_the_revision_is_unknown(tmp_path: Path) -> None:
    assert revision_state(tmp_path) == RevisionState("unknown")
    _git(tmp_path, "init", "-q")
    (tmp_path / "ardlib").mkdir()
    (tmp_path / "ardlib" / "x.py").write_text("")
    assert revision_state(tmp_path).describe() == "unknown"


def test_provenance_carries_the_commit_the_line_and_the_lists(repo: tuple[Path, str]) -> None:
    root, head = repo
    (root / "ardlib" / "x.py").write_text("x = 3\n")
    meta = provenance(root)
    assert meta["git_revision"] == head
    assert meta["revision"] == f"{head} + 1 changed file: ardlib/x.py"
    assert meta["revision_state"] == {"dirty_files": ["ardlib/x.py"], "lock_stages_changed": []}


def test_files_a_pipeline_stage_writes_are_not_counted_as_changed_inputs(
    repo: tuple[Path, str],
) -> None:
    # A run rewrites its tracked outputs (metrics, logs): the stamp names the commit alone,
    # as the issue asks of a fresh clone whose dvc.lock is current.
    root, head = repo
    (root / "dvc.yaml").write_text(
        "stages:\n  alpha:\n    cmd: run alpha\n    deps: [ardlib/x.py]\n"
        "    outs: [reports/figures]\n    metrics:\n    - reports/metrics/alpha.json:\n"
        "        cache: false\n"
    )
    (root / "reports" / "metrics").mkdir(parents=True)
    (root / "reports" / "metrics" / "alpha.json").write_text("{}\n")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "pipeline")
    head = _git(root, "rev-parse", "--short", "HEAD")
    (root / "reports" / "metrics" / "alpha.json").write_text('{"passed": true}\n')
    assert revision_state(root) == RevisionState(head)
    (root / "ardlib" / "x.py").write_text("x = 2\n")  # an input still counts
    assert revision_state(root).dirty_files == ("ardlib/x.py",)
