"""Private copies of the repository in which mutants are written and tests run.

A worker never touches the checkout it was started from: :func:`make_sandbox` copies the
working tree (tracked and untracked, not ignored, files as they are now) into a folder with
its own ``git clone --local`` (so tests that ask git about the repository get the same
answers without writing to the checkout's index), and links the ignored top-level data
(``.venv``, DVC outputs, ...) back to the checkout.  :func:`sandbox_env` is the environment
that makes the copy's ``ardlib`` win over the editable install, for the worker and for the
interpreters its tests start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["make_sandbox", "sandbox_env"]

# Ignored paths that stay private to each copy (caches, and the collection's own output).
_PRIVATE = (".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".cache")


def _git_lines(repo: Path, *args: str) -> list[str]:
    proc = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=False, timeout=120
    )
    if proc.returncode != 0:
        raise ValueError(f"git {' '.join(args)} failed in {repo}: {proc.stderr.strip()}")
    return [p for p in proc.stdout.split("\0") if p]


def make_sandbox(
    repo: Path,
    dest: Path,
    *,
    exclude: tuple[str, ...] = (),
    siblings: tuple[str, ...] = ("shared",),
) -> Path:
    """Copy the working tree of ``repo`` into the new folder ``dest``.

    Parameters
    ----------
    repo : Path
        Root of a git work tree.
    dest : Path
        Folder to create (it must not exist, or be empty).
    exclude : tuple of str
        Repository-relative paths (files or folders) neither copied nor linked, such as the
        collection's output folder.
    siblings : tuple of str
        Folders beside ``repo`` linked beside ``dest`` (tests find the shared datasets at
        ``../shared``).

    Returns
    -------
    Path
        ``dest``, holding a ``git clone --local --no-checkout`` of ``repo`` whose index is
        HEAD, every tracked and untracked non-ignored file of ``repo``'s working tree as it
        is now, and symbolic links to the ignored paths (except caches and ``exclude``).

    Raises
    ------
    ValueError
        If ``repo`` is not a git work tree.
    """
    repo = Path(repo).resolve()
    dest = Path(dest)
    files = _git_lines(repo, "ls-files", "-z", "-c", "-o", "--exclude-standard")
    ignored = _git_lines(
        repo, "ls-files", "-z", "-o", "-i", "--exclude-standard", "--directory"
    )  # fmt: skip
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "clone", "--quiet", "--local", "--no-checkout", str(repo), str(dest)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    subprocess.run(["git", "read-tree", "HEAD"], cwd=dest, check=True, capture_output=True)
    for name in siblings:
        beside = dest.parent / name
        if (repo.parent / name).exists() and not (beside.exists() or beside.is_symlink()):
            beside.symlink_to(repo.parent / name)

    def skipped(rel: str) -> bool:
        rel = rel.rstrip("/")
        return any(rel == e or rel.startswith(e.rstrip("/") + "/") for e in exclude)

    for rel in files:
        src = repo / rel
        if skipped(rel) or not src.is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    for rel in ignored:
        rel = rel.rstrip("/")
        parts = Path(rel).parts
        if skipped(rel) or "__pycache__" in parts or parts[0] in _PRIVATE:
            continue
        target = dest / rel
        if target.exists() or target.is_symlink():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(repo / rel)
    return dest


def sandbox_env(sandbox: Path, pycache: Path) -> dict[str, str]:
    """Environment for a worker running in ``sandbox``.

    Parameters
    ----------
    sandbox : Path
        A folder made by :func:`make_sandbox`.
    pycache : Path
        A private ``PYTHONPYCACHEPREFIX``: bytecode of the copy never mixes with the
        checkout's or another worker's.

    Returns
    -------
    dict of str to str
        ``os.environ`` with ``PYTHONPATH`` starting at the copy (ahead of the editable
        install's import hook), the bytecode prefix, ``PYTHONHASHSEED=0`` and one BLAS/OpenMP
        thread per process (two workers share two cores; forked children stay safe).
    """
    env = dict(os.environ)
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(sandbox) + (os.pathsep + old if old else "")
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env["PYTHONHASHSEED"] = "0"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    for var in ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG", "PYTEST_ADDOPTS"):
        env.pop(var, None)
    return env
