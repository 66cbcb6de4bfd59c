"""A report's revision stamp: the bare commit, and what in the tree differed from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_io_revision import _git

from ardlib.reports import Report, write_index

LOCK = "schema: '2.0'\nstages:\n  problems:\n    cmd: a\n  validation:\n    cmd: b\n"


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """The working directory: a committed tree whose dvc.lock the pipeline then rewrote."""
    (tmp_path / "dvc.lock").write_text(LOCK)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "c")
    (tmp_path / "dvc.lock").write_text(LOCK.replace("cmd: b", "cmd: b --rerun"))
    monkeypatch.chdir(tmp_path)
    return tmp_path, _git(tmp_path, "rev-parse", "--short", "HEAD")


def test_header_and_metrics_say_only_the_lock_was_rewritten(checkout: tuple[Path, str]) -> None:
    root, head = checkout
    rep = Report("demo", "Demo", metrics_path=root / "reports" / "metrics" / "demo.json")
    assert rep.header().endswith(f"revision `{head} (dvc.lock re-run: validation)`.")
    rep.check("ran", True)
    rec = json.loads(rep.finish().read_text())["report"]
    assert rec["git_revision"] == head  # the bare commit, as old readers expect a revision
    assert rec["revision"] == f"{head} (dvc.lock re-run: validation)"
    assert rec["revision_state"] == {
        "dirty_files": ["dvc.lock"],
        "lock_stages_changed": ["validation"],
    }
    (root / "reports" / "demo.html").write_text("<html></html>")
    page = write_index(root / "reports").read_text()
    assert f"<code>{head} (dvc.lock re-run: validation)</code>" in page


def test_index_shows_git_revision_of_metrics_written_before_the_description(
    tmp_path: Path,
) -> None:
    rec = {
        "name": "old",
        "title": "Old",
        "html": "old.html",
        "passed": True,
        "generated_at": "2026-11-26T18:41:07+00:00",
        "git_revision": "18af70a-dirty",
        "summary": "s",
    }
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "old.json").write_text(json.dumps({"report": rec}))
    assert "<code>18af70a-dirty</code>" in write_index(tmp_path).read_text()
