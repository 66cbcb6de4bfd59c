"""Files, digests and provenance: the one place ardlib writes atomically, hashes and asks git.

- :func:`write_atomic` / :func:`write_json`: write to a temporary name in the target's
  folder, fsync, then :func:`os.replace`, so a reader sees the whole file or none.
- :func:`canonical_json`, :func:`sha256_json`, :func:`sha256_bytes`, :func:`sha256_file`:
  the digests that address studies, datasets and artifacts.
- :func:`git`, :func:`git_revision`, :func:`revision_state`: the revision a result was
  computed from, and what in the working tree differed from it; :func:`resolve_commit`
  and :func:`lock_differs` for tools that check out other revisions.
- :func:`provenance`, :func:`machine_info`, :func:`dist_version`: what a stored record says
  it was built from.
- :func:`load_yaml`: YAML read by pyyaml's safe loader, the C one when built.

Every other module goes through these helpers, so there is one atomic-write rule, one JSON
canonical form and one way of naming a revision: the bare commit, and
:meth:`RevisionState.describe` for what differs from it (``abc1234 (dvc.lock re-run:
validation)``, ``abc1234 + 2 changed files: ...``). :func:`git_revision` keeps the older
``<sha>-dirty`` form for records that store a single string.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "RevisionState",
    "canonical_json",
    "dist_version",
    "git",
    "git_revision",
    "json_records",
    "load_yaml",
    "machine_info",
    "provenance",
    "revision_state",
    "safe_yaml_loader",
    "sha256_bytes",
    "sha256_file",
    "sha256_json",
    "utc_now",
    "write_atomic",
    "write_json",
]

PathLike = str | os.PathLike[str]


def write_atomic(path: PathLike, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file and :func:`os.replace`.

    Parent folders are created; ``str`` data is encoded as UTF-8. Returns the path.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def write_json(path: PathLike, obj: Any, *, sort_keys: bool = True, default: Any = None) -> Path:
    """Write ``obj`` as indented JSON with a trailing newline, atomically. Returns the path."""
    text = json.dumps(obj, indent=2, sort_keys=sort_keys, default=default) + "\n"
    return write_atomic(path, text)


def safe_yaml_loader() -> Any:
    """pyyaml's safe loader class: the C one (libyaml) when pyyaml was built with it.

    Both read the same documents (checked on every YAML file of the repository); the C one
    read ``params.yaml`` in 1.5 ms instead of 13 ms (best of three, 2026-12-06).
    """
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``text`` read as YAML by :func:`safe_yaml_loader` (``yaml.safe_load``, faster).

    Raises ``yaml.YAMLError`` as ``yaml.safe_load`` does.
    """
    import yaml

    return yaml.load(text, Loader=safe_yaml_loader())


def json_records(frame: Any) -> list[dict[str, Any]]:
    """A DataFrame's rows as JSON-able dicts at full precision, NaN as None."""
    rows: list[dict[str, Any]] = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return rows


def canonical_json(obj: object) -> str:
    """Serialise ``obj`` to canonical JSON: sorted keys, no whitespace, no NaN/inf.

    Parameters
    ----------
    obj : JSON-able object
        Dicts with str keys, lists, str, int, finite float, bool and None.

    Returns
    -------
    str

    Raises
    ------
    TypeError, ValueError
        If ``obj`` holds something JSON cannot represent exactly.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def sha256_bytes(data: bytes) -> str:
    """SHA-256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_json(obj: object) -> str:
    """SHA-256 hex digest of :func:`canonical_json` of ``obj``."""
    return sha256_bytes(canonical_json(obj).encode())


def sha256_file(path: PathLike) -> str:
    """SHA-256 hex digest of the file at ``path``, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git(
    *args: str, cwd: PathLike | None = None, check: bool = False, timeout: float = 30.0
) -> str | None:
    """Stripped stdout of ``git args`` run in ``cwd``.

    Returns None when git fails or is missing, unless ``check`` is true: then a
    :class:`ValueError` names the command, the folder and git's message.
    """
    out = _git_raw(args, cwd, check=check, timeout=timeout)
    return None if out is None else out.strip()


def _git_raw(
    args: tuple[str, ...], cwd: PathLike | None, *, check: bool = False, timeout: float = 30.0
) -> str | None:
    """Unstripped stdout of ``git args`` (``-z`` and porcelain output keep leading blanks)."""
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout
        )
    except (OSError, subprocess.SubprocessError) as exc:
        if check:
            raise ValueError(f"git {' '.join(args)} could not run in {cwd}: {exc}") from exc
        return None
    if proc.returncode != 0:
        if check:
            raise ValueError(f"git {' '.join(args)} failed in {cwd}: {proc.stderr.strip()}")
        return None
    return proc.stdout


def resolve_commit(repo: PathLike, rev: str) -> str:
    """The full commit id of ``rev`` (a branch, tag or commit) in the repository ``repo``.

    Raises
    ------
    ValueError
        If ``rev`` is not a non-empty string that cannot be read as an option, or git does
        not know it (the message names both).
    """
    if not isinstance(rev, str) or not rev.strip() or rev.startswith("-"):
        raise ValueError(f"The 'rev' parameter must name a git revision. Got {rev!r}.")
    out = git("-C", str(repo), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if not out:
        raise ValueError(f"Unknown revision {rev!r} in {repo} (git rev-parse failed).")
    return out


def lock_differs(a: PathLike, b: PathLike) -> bool:
    """Whether two source trees lock different packages (``requirements/lock.txt``).

    False when either tree has no lock file.
    """
    fa, fb = Path(a, "requirements", "lock.txt"), Path(b, "requirements", "lock.txt")
    return fa.is_file() and fb.is_file() and fa.read_bytes() != fb.read_bytes()


def git_revision(cwd: PathLike | None = None, *, short: bool = True) -> str:
    """The commit checked out in ``cwd``, as one string: ``<sha>`` or ``<sha>-dirty``.

    For records that keep a single revision string (deployment records, detector
    measurements); :func:`revision_state` says what differs instead of ``-dirty``.

    Parameters
    ----------
    cwd : str or path-like, optional
        A folder inside the work tree (default: the working directory).
    short : bool, default True
        Abbreviate the commit hash.

    Returns
    -------
    str
        ``git rev-parse [--short] HEAD``, plus ``-dirty`` when tracked files differ from
        it; ``"unknown"`` outside a git work tree, before the first commit or without git.
    """
    rev = git("rev-parse", *(["--short"] if short else []), "HEAD", cwd=cwd)
    if not rev:
        return "unknown"
    status = git("status", "--porcelain", "--untracked-files=no", cwd=cwd)
    return f"{rev}-dirty" if status else rev


_LOCK = "dvc.lock"
# Untracked paths that change what a run computes: new modules, notebooks, parameter files.
_WATCHED_UNTRACKED = ("ardlib", "notebooks", ":(glob)params*.yaml", "dvc.yaml")


@dataclass(frozen=True)
class RevisionState:
    """The commit a working tree is at, and what in the tree differs from it.

    Attributes
    ----------
    commit : str
        ``git rev-parse [--short] HEAD``, or ``"unknown"`` outside a git work tree, before
        the first commit or without git.
    dirty_files : tuple of str
        Paths relative to the repository root, sorted, that differ from ``commit``:
        tracked files changed, staged or deleted, and untracked files under ``ardlib/`` or
        ``notebooks/`` or named ``params*.yaml`` or ``dvc.yaml``; outputs of ``dvc.yaml``
        stages (metrics, logs, reports a run rewrites) are left out.
    lock_stages_changed : tuple of str
        Stages whose ``dvc.lock`` entry differs from the committed one (rewritten, added or
        removed), in the working file's order. Empty when ``dvc.lock`` is unchanged, and
        when either version cannot be read as YAML.
    """

    commit: str
    dirty_files: tuple[str, ...] = ()
    lock_stages_changed: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        """True when nothing differs from :attr:`commit`."""
        return not self.dirty_files

    @property
    def code_files(self) -> tuple[str, ...]:
        """The dirty files other than ``dvc.lock``: code, notebooks, configuration."""
        return tuple(f for f in self.dirty_files if f != _LOCK)

    def describe(self, max_files: int = 3) -> str:
        """One line naming the commit and what differs from it.

        Parameters
        ----------
        max_files : int, default 3
            How many changed files to name before ``"and <n> more"``.

        Returns
        -------
        str
            ``"abc1234"`` when clean; ``"abc1234 (dvc.lock re-run: validation, benchmark)"``
            when only ``dvc.lock`` differs; ``"abc1234 + 2 changed files: ardlib/x.py,
            params.yaml"`` when code or configuration differs, followed by the ``dvc.lock``
            part when the lock differs too.
        """
        if not isinstance(max_files, int) or max_files < 1:
            raise ValueError(
                "The 'max_files' parameter of RevisionState.describe must be an int >= 1. "
                f"Got {max_files!r}."
            )
        text, files = self.commit, self.code_files
        if files:
            more = f" and {len(files) - max_files} more" if len(files) > max_files else ""
            plural = "s" if len(files) != 1 else ""
            text += f" + {len(files)} changed file{plural}: {', '.join(files[:max_files])}{more}"
        if _LOCK in self.dirty_files:
            stages = ", ".join(self.lock_stages_changed)
            text += f" (dvc.lock re-run: {stages})" if stages else " (dvc.lock changed)"
        return text


def revision_state(cwd: PathLike | None = None, *, short: bool = True) -> RevisionState:
    """The commit checked out in ``cwd`` and what in the working tree differs from it.

    Where :func:`git_revision` appends ``-dirty`` for any difference, this names the
    differing files and, when ``dvc.lock`` is one of them, the stages whose lock entries
    differ from the committed ``dvc.lock``: a report built by ``dvc repro`` on a clean
    checkout (which rewrites stale lock entries) is told apart from one built from changed
    code.

    Parameters
    ----------
    cwd : str or path-like, optional
        A folder inside the work tree (default: the working directory).
    short : bool, default True
        Abbreviate the commit hash.

    Returns
    -------
    RevisionState
        ``RevisionState("unknown")`` outside a git work tree, before the first commit or
        without git.
    """
    top = git("rev-parse", "--show-toplevel", cwd=cwd)
    rev = git("rev-parse", *(["--short"] if short else []), "HEAD", cwd=cwd)
    if not top or not rev:
        return RevisionState("unknown")
    status = _git_raw(("status", "--porcelain", "-z", "--untracked-files=no", "--no-renames"), top)
    others = _git_raw(
        ("ls-files", "--others", "--exclude-standard", "-z", "--", *_WATCHED_UNTRACKED), top
    )
    files = {rec[3:] for rec in (status or "").split("\0") if rec}  # "XY path"
    files |= {rec for rec in (others or "").split("\0") if rec}
    files = _inputs_only(files, Path(top))
    lock = _lock_stages_changed(Path(top)) if _LOCK in files else ()
    return RevisionState(rev, tuple(sorted(files)), lock)


def _inputs_only(files: set[str], top: Path) -> set[str]:
    """``files`` without the outputs of ``dvc.yaml`` stages: what a run writes (metrics,
    logs, reports) is not what it was built from."""
    from ._dvclock import pipeline_outputs

    outputs = pipeline_outputs(top)
    return {
        f
        for f in files
        if not any((n := os.path.normpath(f)) == o or n.startswith(o + os.sep) for o in outputs)
    }


def _lock_stages_changed(top: Path) -> tuple[str, ...]:
    """Stages whose entry in ``top/dvc.lock`` differs from ``HEAD:dvc.lock``."""
    from ._dvclock import lock_stages

    work = top / _LOCK
    old = lock_stages(git("show", f"HEAD:{_LOCK}", cwd=top) or "")
    new = lock_stages(work.read_text(encoding="utf-8") if work.is_file() else "")
    if old is None or new is None:
        return ()
    names = [*new, *(s for s in old if s not in new)]
    return tuple(s for s in names if old.get(s) != new.get(s))


def utc_now() -> str:
    """The current time, UTC, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def provenance(cwd: PathLike | None = None) -> dict[str, Any]:
    """What a stored record was built from: when, which commit, which ardlib and Python.

    Parameters
    ----------
    cwd : str or path-like, optional
        A folder inside the work tree (default: the working directory).

    Returns
    -------
    dict
        ``generated_at`` (:func:`utc_now`); ``git_revision``, the bare commit
        (:attr:`RevisionState.commit`); ``revision``, one line saying what differs from it
        (:meth:`RevisionState.describe`); ``revision_state``, the same as data
        (``dirty_files`` and ``lock_stages_changed`` lists); ``ardlib_version`` and
        ``python``.
    """
    from . import __version__

    state = revision_state(cwd)
    return {
        "generated_at": utc_now(),
        "git_revision": state.commit,
        "revision": state.describe(),
        "revision_state": {
            "dirty_files": list(state.dirty_files),
            "lock_stages_changed": list(state.lock_stages_changed),
        },
        "ardlib_version": __version__,
        "python": platform.python_version(),
    }


def dist_version(dist: str) -> str | None:
    """The installed version of the distribution ``dist``, or None when it is not installed."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """What a timing depends on: CPU, cores, load, Python, NumPy and its BLAS.

    Returns
    -------
    dict
        ``hostname``, ``cpu`` (model name), ``cores``, ``load_average`` (1, 5, 15 min, or
        None), ``platform``, ``python``, ``numpy`` and ``blas`` (threadpoolctl's view).
    """
    import numpy as np

    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    from threadpoolctl import threadpool_info

    blas = ", ".join(f"{i['internal_api']} {i['version']}" for i in threadpool_info())
    return {
        "hostname": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
    }
