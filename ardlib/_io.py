"""Files, digests and provenance: the one place ardlib writes atomically, hashes and asks git.

- :func:`write_atomic` / :func:`write_json`: write to a temporary name in the target's
  folder, fsync, then :func:`os.replace`, so a reader sees the whole file or none.
- :func:`canonical_json`, :func:`sha256_json`, :func:`sha256_bytes`, :func:`sha256_file`:
  the digests that address studies, datasets and artifacts.
- :func:`git`, :func:`git_revision`: the revision a result was computed from.
- :func:`provenance`, :func:`machine_info`: what a stored record says it was built from.

Every other module goes through these helpers, so there is one atomic-write rule, one JSON
canonical form and one way of naming a revision (``<sha>`` plus ``-dirty`` when tracked
files differ from it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "canonical_json",
    "git",
    "git_revision",
    "machine_info",
    "provenance",
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
    return proc.stdout.strip()


def git_revision(cwd: PathLike | None = None, *, short: bool = True) -> str:
    """The commit checked out in ``cwd`` (default: the working directory).

    ``git rev-parse [--short] HEAD``, plus ``-dirty`` when tracked files differ from it;
    ``"unknown"`` outside a git work tree or without git.
    """
    rev = git("rev-parse", *(["--short"] if short else []), "HEAD", cwd=cwd)
    if not rev:
        return "unknown"
    status = git("status", "--porcelain", "--untracked-files=no", cwd=cwd)
    return f"{rev}-dirty" if status else rev


def utc_now() -> str:
    """The current time, UTC, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def provenance(cwd: PathLike | None = None) -> dict[str, str]:
    """What a stored record was built from: when, which commit, which ardlib and Python.

    Returns
    -------
    dict
        ``generated_at`` (:func:`utc_now`), ``git_revision`` (:func:`git_revision` of
        ``cwd``), ``ardlib_version`` and ``python``.
    """
    from . import __version__

    return {
        "generated_at": utc_now(),
        "git_revision": git_revision(cwd),
        "ardlib_version": __version__,
        "python": platform.python_version(),
    }


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
