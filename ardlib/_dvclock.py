"""Is ``dvc.lock`` current?  DVC's own hashing of git-tracked dependencies, no cache needed.

:func:`stale_stages` names the pipeline stages whose git-tracked inputs no longer match
what ``dvc.lock`` recorded; the fast test tier warns about them, so a change that alters a
stage's dependencies is noticed before a fresh clone re-runs the stage.  Re-implemented
(about 100 lines) rather than calling ``dvc status``, which needs the DVC cache and waits
while a ``dvc repro`` holds the repository lock.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._io import PathLike, _git_raw, load_yaml

__all__ = ["lock_stages", "pipeline_outputs", "stale_stages"]

LOCK = "dvc.lock"
# What DVC skips inside a folder dependency before reading .dvcignore (dvc/ignore.py).
_DVC_DEFAULT_IGNORE = (".hg/", ".git/", ".git", ".dvc/")
_MISSING = object()


def lock_stages(text: str) -> dict[str, Any] | None:
    """The ``stages`` mapping of a ``dvc.lock`` text ({} if none); None if unreadable."""
    try:
        import yaml
    except ImportError:  # pyyaml comes with the reports extra
        return None
    try:
        doc = load_yaml(text)
    except yaml.YAMLError:
        return None
    stages = doc.get("stages") if isinstance(doc, dict) else None
    return stages if isinstance(stages, dict) else {}


def _dotted(doc: Any, key: str) -> Any:
    """``doc["a"]["b"]`` for the parameter key ``"a.b"``; :data:`_MISSING` when absent."""
    for part in key.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return _MISSING
        doc = doc[part]
    return doc


def _dvc_ignore(base: Path) -> Callable[[str], bool]:
    """DVC's ignore rule for ``base``: root-relative POSIX path (folders end in ``/``) ->
    ignored. DVC's default patterns plus the root ``.dvcignore`` (nested ones are not read)."""
    from pathspec import GitIgnoreSpec

    file = base / ".dvcignore"
    extra = file.read_text(encoding="utf-8").splitlines() if file.is_file() else []
    return GitIgnoreSpec.from_lines([*_DVC_DEFAULT_IGNORE, *extra]).match_file


def _dvc_md5(base: Path, rel: str, ignore: Callable[[str], bool]) -> str | None:
    """DVC's ``md5`` of ``base/rel``: a file's MD5, a folder's ``<md5 of listing>.dir``;
    None when missing."""
    path = base / rel
    if path.is_file():
        return _md5_file(path)
    if not path.is_dir():
        return None
    entries = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = [
            d for d in dirs if not ignore(Path(folder, d).relative_to(base).as_posix() + "/")
        ]
        entries += [
            {
                "md5": _md5_file(Path(folder, f)),
                "relpath": Path(folder, f).relative_to(path).as_posix(),
            }
            for f in files
            if not ignore(Path(folder, f).relative_to(base).as_posix())
        ]
    listing = json.dumps(sorted(entries, key=lambda e: e["relpath"]), sort_keys=True)
    return hashlib.md5(listing.encode(), usedforsecurity=False).hexdigest() + ".dir"


def _md5_file(path: Path) -> str:
    """MD5 hex digest of the file at ``path`` (DVC's file hash, not a security one)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, lambda: hashlib.md5(usedforsecurity=False)).hexdigest()


def stale_stages(root: PathLike = ".") -> dict[str, tuple[str, ...]]:
    """Pipeline stages whose git-tracked inputs differ from what ``dvc.lock`` recorded.

    A stage is stale when ``dvc.yaml`` lists a dependency its ``dvc.lock`` entry lacks,
    when a recorded dependency tracked in git (a file, or a folder holding tracked files)
    no longer has the recorded ``md5``, or when a recorded parameter has another value in
    its (tracked) parameters file. Hashes follow DVC 3: a file's MD5 is that of its bytes;
    a folder's is the MD5 of ``json.dumps`` (sorted keys) of its files'
    ``{"md5", "relpath"}`` sorted by path, plus ``".dir"``, skipping what DVC ignores (VCS
    folders and the root ``.dvcignore``). Dependencies outside git (DVC outputs, paths
    outside the repository) are not hashed, so a stage left out of the result is known to
    be up to date only when all its dependencies are tracked; ``dvc status`` gives the
    whole answer but needs the DVC cache and waits for a running ``dvc repro``. Changed
    commands are not compared.

    Parameters
    ----------
    root : str or path-like, default "."
        The repository root: the folder holding ``dvc.yaml``, ``dvc.lock`` and
        ``.dvcignore``.

    Returns
    -------
    dict
        Stage name -> what differs, in lock order then ``dvc.yaml`` order: dependency
        paths, and ``"<params file>:<key>"`` for parameters. Only stale stages appear;
        empty when there is no ``dvc.lock``.

    Raises
    ------
    ValueError
        If ``root`` is not in a git work tree or ``dvc.lock`` cannot be read.
    yaml.YAMLError
        If ``dvc.yaml`` or a recorded parameters file is not valid YAML.
    """
    base = Path(root)
    lock = base / LOCK
    if not lock.is_file():
        return {}
    locked = lock_stages(lock.read_text(encoding="utf-8"))
    if locked is None:
        raise ValueError(f"{str(lock)!r} is not a dvc.lock that pyyaml can read.")
    files = set((_git_raw(("ls-files", "-z"), base, check=True) or "").split("\0"))
    tracked = files | {p.rsplit("/", i)[0] for p in files for i in range(1, p.count("/") + 1)}
    declared = _declared_deps(base)
    ignore = _dvc_ignore(base)
    stale: dict[str, tuple[str, ...]] = {}
    for name in [*locked, *(s for s in declared if s not in locked)]:
        entry = locked.get(name) or {}
        recorded = {os.path.normpath(d["path"]): d for d in entry.get("deps") or []}
        changed = [
            d["path"]
            for path, d in recorded.items()
            if d.get("hash") == "md5"  # DVC 2 entries (md5-dos2unix) are not checked
            and path in tracked
            and _dvc_md5(base, path, ignore) != d.get("md5")
        ]
        changed += [p for p in declared.get(name, []) if os.path.normpath(p) not in recorded]
        for file, values in (entry.get("params") or {}).items():
            if file in tracked:
                pfile = base / file
                current = load_yaml(pfile.read_text(encoding="utf-8")) if pfile.is_file() else None
                changed += [f"{file}:{k}" for k, v in values.items() if _dotted(current, k) != v]
        if changed:
            stale[name] = tuple(changed)
    return stale


def _declared_deps(base: Path) -> dict[str, list[str]]:
    """Stage -> dependency paths listed in ``base/dvc.yaml`` (plain stages; paths without
    ``${...}``); {} without a ``dvc.yaml``."""
    path = base / "dvc.yaml"
    doc = load_yaml(path.read_text(encoding="utf-8")) if path.is_file() else None
    stages = doc.get("stages") if isinstance(doc, dict) else None
    return {
        name: [d for d in stage.get("deps") or [] if isinstance(d, str) and "${" not in d]
        for name, stage in (stages or {}).items()
        if isinstance(stage, dict) and "cmd" in stage and not {"foreach", "matrix"} & set(stage)
    }


def pipeline_outputs(base: Path) -> list[str]:
    """Every path a stage of ``base/dvc.yaml`` writes (``outs``, ``metrics``, ``plots``),
    normalized; [] without a readable ``dvc.yaml``.

    Parameters
    ----------
    base : Path
        The repository root.

    Returns
    -------
    list of str
        Files and folders, relative to ``base``.
    """
    path = base / "dvc.yaml"
    import yaml

    try:
        doc = load_yaml(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, yaml.YAMLError):  # a stamp must not fail on a broken dvc.yaml
        return []
    stages = doc.get("stages") if isinstance(doc, dict) else None
    found = []
    for stage in (stages or {}).values():
        for kind in ("outs", "metrics", "plots"):
            for entry in (stage.get(kind) or []) if isinstance(stage, dict) else []:
                name = next(iter(entry)) if isinstance(entry, dict) else entry
                if isinstance(name, str) and "${" not in name:
                    found.append(os.path.normpath(name))
    return found
