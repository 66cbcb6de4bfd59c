"""The in-toto Statement v1 with a SLSA Provenance v1 predicate, and its materials.

A statement names each artifact file by its path relative to the envelope's folder with
its SHA-256 (``subject``), and says how it was built (``predicate.buildDefinition``:
``buildType``, ``externalParameters`` = the command and its parameters,
``internalParameters``, ``resolvedDependencies`` = the materials) and by whom and when
(``predicate.runDetails``: ``builder.id``, ``metadata`` with ``invocationId``,
``startedOn`` and ``finishedOn``).

The materials are the git commit with the state of the working tree (clean, or the
changed files :func:`ardlib._io.revision_state` names), the SHA-256 of
``requirements/lock.txt``, ``dvc.lock``, ``params.yaml`` and of every file under
``data/raw`` (those present), the Python version and platform, and ardlib's version.
"""

from __future__ import annotations

import json
import os
import platform
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._io import revision_state, sha256_file

__all__ = [
    "BUILD_TYPES",
    "DEFAULT_BUILDER_ID",
    "MATERIAL_FILES",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "build_statement",
    "build_type_uri",
    "collect_materials",
    "file_materials",
    "rfc3339",
    "subject_entries",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
# buildType URIs name ardlib's build recipes; the .invalid host never resolves (RFC 2606)
BUILD_TYPES = ("artifact", "dist", "image", "report")
DEFAULT_BUILDER_ID = "https://ardlib.invalid/builder/local"
MATERIAL_FILES = ("requirements/lock.txt", "dvc.lock", "params.yaml")
DATASET_DIR = "data/raw"


def build_type_uri(kind: str) -> str:
    """``https://ardlib.invalid/build/<kind>/v1`` for a kind in :data:`BUILD_TYPES`."""
    if kind not in BUILD_TYPES:
        raise ValueError(
            f"The 'build_type' parameter must be one of {', '.join(BUILD_TYPES)}. Got {kind!r}."
        )
    return f"https://ardlib.invalid/build/{kind}/v1"


def rfc3339(when: datetime | None = None) -> str:
    """``when`` (default now) in UTC as RFC 3339 to the second: ``2026-11-26T18:41:07Z``."""
    when = datetime.now(UTC) if when is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def file_materials(repo: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Repository-relative path -> SHA-256 of the lock files, ``params.yaml`` and datasets.

    Files of :data:`MATERIAL_FILES` and every regular file under ``data/raw`` (names
    starting with ``.`` skipped), those that exist, in that order.
    """
    root = Path(repo or ".")
    found = {name: sha256_file(root / name) for name in MATERIAL_FILES if (root / name).is_file()}
    data = root / DATASET_DIR
    if data.is_dir():
        for path in sorted(data.rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and not any(part.startswith(".") for part in rel.parts):
                found[rel.as_posix()] = sha256_file(path)
    return found


def collect_materials(repo: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """The ``resolvedDependencies`` of a statement: what the artifacts were built from.

    Parameters
    ----------
    repo : str or path-like, optional
        The repository root (default: the working directory).

    Returns
    -------
    list of dict
        SLSA resource descriptors: ``{"name": "git", "digest": {"gitCommit": sha},
        "annotations": {"tree_state": "clean" | "dirty", "changed_files": [...]}}`` (left
        out outside a git work tree); ``{"name": path, "digest": {"sha256": hex}}`` for each
        of :func:`file_materials` (datasets annotated ``{"kind": "dataset"}``);
        ``{"name": "python", "uri": "pkg:generic/python@3.11.9", "annotations":
        {"implementation": ..., "platform": ...}}``; ``{"name": "ardlib", "uri":
        "pkg:pypi/ardlib@<version>"}``.
    """
    from .. import __version__

    root = Path(repo or ".")
    out: list[dict[str, Any]] = []
    state = revision_state(root, short=False)
    if state.commit != "unknown":
        out.append(
            {
                "name": "git",
                "digest": {"gitCommit": state.commit},
                "annotations": {
                    "tree_state": "clean" if state.clean else "dirty",
                    "changed_files": list(state.dirty_files),
                },
            }
        )
    for name, digest in file_materials(root).items():
        entry: dict[str, Any] = {"name": name, "digest": {"sha256": digest}}
        if name.startswith(DATASET_DIR + "/"):
            entry["annotations"] = {"kind": "dataset"}
        out.append(entry)
    out.append(
        {
            "name": "python",
            "uri": f"pkg:generic/python@{platform.python_version()}",
            "annotations": {
                "implementation": platform.python_implementation(),
                "platform": platform.platform(),
            },
        }
    )
    out.append({"name": "ardlib", "uri": f"pkg:pypi/ardlib@{__version__}"})
    return out


def subject_entries(paths: Iterable[str | os.PathLike[str]], base: Path) -> list[dict[str, Any]]:
    """``[{"name": path relative to base (POSIX), "digest": {"sha256": hex}}]``, one per file.

    Raises FileNotFoundError naming a path that is not a file; a file given twice is
    listed once.
    """
    entries: dict[str, dict[str, Any]] = {}
    for item in paths:
        path = Path(item)
        if not path.is_file():
            what = "is a directory, not a file" if path.is_dir() else "does not exist"
            raise FileNotFoundError(f"The artifact {str(path)!r} {what}.")
        name = Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
        entries.setdefault(name, {"name": name, "digest": {"sha256": sha256_file(path)}})
    if not entries:
        raise ValueError("The 'paths' to sign are empty: name at least one file.")
    return list(entries.values())


def _json_value(value: Any, what: str) -> Any:
    try:
        return json.loads(json.dumps(value, default=str, allow_nan=False))
    except ValueError as exc:
        raise ValueError(
            f"The {what!r} of a statement must be JSON (no NaN or inf): {exc}"
        ) from None


def build_statement(
    subjects: Sequence[Mapping[str, Any]],
    *,
    build_type: str = "artifact",
    command: str | Sequence[str] = "",
    params: Mapping[str, Any] | None = None,
    internal: Mapping[str, Any] | None = None,
    materials: Sequence[Mapping[str, Any]] = (),
    started_on: datetime | None = None,
    builder_id: str = DEFAULT_BUILDER_ID,
) -> dict[str, Any]:
    """An in-toto Statement v1 whose predicate is SLSA Provenance v1.

    Parameters
    ----------
    subjects : sequence of dict
        ``{"name", "digest": {"sha256"}}`` entries (:func:`subject_entries`).
    build_type : {"artifact", "dist", "image", "report"}, default "artifact"
        Names the recipe; the statement holds its URI (:func:`build_type_uri`).
    command : str or sequence of str
        What was run, recorded in ``externalParameters.command``.
    params : mapping, optional
        The command's parameters (``externalParameters.params``), made JSON with
        ``str`` for what JSON cannot hold.
    internal : mapping, optional
        ``internalParameters``.
    materials : sequence of dict
        ``resolvedDependencies`` (:func:`collect_materials`).
    started_on : datetime, optional
        When the build started (default now); ``finishedOn`` is now.
    builder_id : str
        ``runDetails.builder.id``.

    Returns
    -------
    dict
        The statement, ready to serialise as the envelope's payload.
    """
    finished = datetime.now(UTC)
    return {
        "_type": STATEMENT_TYPE,
        "subject": [dict(s) for s in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": build_type_uri(build_type),
                "externalParameters": {
                    "command": command if isinstance(command, str) else list(command),
                    "params": _json_value(dict(params or {}), "params"),
                },
                "internalParameters": _json_value(dict(internal or {}), "internalParameters"),
                "resolvedDependencies": [dict(m) for m in materials],
            },
            "runDetails": {
                "builder": {"id": builder_id},
                "metadata": {
                    "invocationId": f"urn:uuid:{uuid.uuid4()}",
                    "startedOn": rfc3339(started_on or finished),
                    "finishedOn": rfc3339(finished),
                },
            },
        },
    }
