"""ardlib._io: atomic writes, canonical digests, git revisions and provenance."""

from __future__ import annotations

import json
import math
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

import ardlib
from ardlib._io import (
    canonical_json,
    git,
    git_revision,
    load_yaml,
    provenance,
    safe_yaml_loader,
    sha256_bytes,
    sha256_file,
    sha256_json,
    write_atomic,
    write_json,
)


def _git(repo: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    return subprocess.run(
        [*cmd, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_git_revision_clean_dirty_and_outside_git(tmp_path: Path) -> None:
    assert git_revision(tmp_path) == "unknown"
    _git(tmp_path, "init", "-q")
    assert git_revision(tmp_path) == "unknown"  # no commit yet
    (tmp_path / "f.txt").write_text("a")
    _git(tmp_path, "add", "f.txt")
    _git(tmp_path, "commit", "-q", "-m", "c")
    head = _git(tmp_path, "rev-parse", "--short", "HEAD")
    (tmp_path / "untracked.txt").write_text("u")
    assert git_revision(tmp_path) == head  # untracked files do not make it dirty
    assert git_revision(tmp_path, short=False).startswith(head)
    (tmp_path / "f.txt").write_text("b")
    assert git_revision(tmp_path) == f"{head}-dirty"
    meta = provenance(tmp_path)  # the bare commit, and what differs in its own field
    assert meta["git_revision"] == head
    assert meta["revision"] == f"{head} + 1 changed file: f.txt"


def test_git_returns_none_or_raises_with_gits_message(tmp_path: Path) -> None:
    assert git("rev-parse", "HEAD", cwd=tmp_path) is None
    with pytest.raises(ValueError, match=r"git rev-parse HEAD failed in .*not a git repository"):
        git("rev-parse", "HEAD", cwd=tmp_path, check=True)


def test_write_atomic_replaces_whole_files_and_leaves_no_temporaries(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.bin"
    assert write_atomic(target, b"one") == target and target.read_bytes() == b"one"
    write_atomic(target, "twö")
    assert target.read_text(encoding="utf-8") == "twö"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.bin"]


def test_write_atomic_keeps_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_write_json_is_sorted_indented_and_newline_terminated(tmp_path: Path) -> None:
    path = write_json(tmp_path / "m.json", {"b": 1, "a": [1.5, None]})
    text = path.read_text()
    assert text.endswith("}\n") and text.index('"a"') < text.index('"b"')
    assert json.loads(text) == {"a": [1.5, None], "b": 1}


def test_canonical_digests_ignore_key_order_and_refuse_nan(tmp_path: Path) -> None:
    assert canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == '{"a":{"c":3,"d":2},"b":1}'
    assert sha256_json({"x": 1, "y": 2}) == sha256_json({"y": 2, "x": 1})
    assert sha256_json({"x": 1}) != sha256_json({"x": 2})
    with pytest.raises(ValueError):
        canonical_json({"x": math.nan})
    # The well-known SHA-256 of "abc" (FIPS 180-2, appendix B.1).
    abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_bytes(b"abc") == abc
    (tmp_path / "f").write_bytes(b"abc")
    assert sha256_file(tmp_path / "f") == abc


def test_provenance_fields() -> None:
    meta = provenance()
    assert set(meta) == {
        "generated_at",
        "git_revision",
        "revision",
        "revision_state",
        "ardlib_version",
        "python",
    }
    assert meta["revision"].startswith(meta["git_revision"])
    when = datetime.fromisoformat(meta["generated_at"])
    assert when.utcoffset() is not None and when.utcoffset().total_seconds() == 0
    assert abs((datetime.now(UTC) - when).total_seconds()) < 60
    assert meta["ardlib_version"] == ardlib.__version__


REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "name",
    [
        "params.yaml",
        "dvc.yaml",
        "notebooks/validation.schema.yaml",
        "tests/pipeline_smoke_params.yaml",
    ],
)
def test_load_yaml_reads_what_the_safe_loader_reads(name: str) -> None:
    import yaml

    text = (REPO / name).read_text(encoding="utf-8")
    assert load_yaml(text) == yaml.safe_load(text)


def test_load_yaml_refuses_what_the_safe_loader_refuses() -> None:
    import yaml

    assert yaml.__with_libyaml__  # the locked pyyaml wheel is built with libyaml
    assert safe_yaml_loader() is yaml.CSafeLoader
    for bad in ["a: [1, 2", "!!python/object:os.system {}", "a: b: c"]:
        with pytest.raises(yaml.YAMLError):
            yaml.safe_load(bad)
        with pytest.raises(yaml.YAMLError):
            load_yaml(bad)
