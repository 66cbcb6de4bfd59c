"""Provenance of a rendered report: one envelope over its page, metrics and figures.

``reports/validation.html.intoto.jsonl`` covers ``validation.html``,
``metrics/validation.json`` and the figures: those the metrics file lists and every file
under ``figures/validation/``.  :func:`report_status` is the one-phrase verdict the report
index shows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from ._envelope import ENVELOPE_SUFFIX
from ._sign import SignResult, sign_files

__all__ = ["report_files", "report_status", "sign_report"]

PathLike = str | os.PathLike[str]


def _under(path: PathLike, root: Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else root / p


def _listed_figures(metrics: Path, root: Path) -> list[Path]:
    """Figure files named by the metrics JSON's ``figures`` object (stem -> [pdf, png])."""
    try:
        figures = json.loads(metrics.read_text(encoding="utf-8")).get("figures", {})
    except (ValueError, AttributeError):
        return []
    if not isinstance(figures, dict):
        return []
    paths = [v for value in figures.values() if isinstance(value, list) for v in value]
    return [p for p in (_under(v, root) for v in paths if isinstance(v, str)) if p.is_file()]


def report_files(
    name: str,
    reports_dir: PathLike = "reports",
    *,
    root: PathLike | None = None,
    metrics_path: PathLike | None = None,
    figures_dir: PathLike | None = None,
) -> list[Path]:
    """The files of report ``name`` that its envelope covers.

    Parameters
    ----------
    name : str
        The report's name (notebook stem).
    reports_dir : str or path-like, default "reports"
        Holds ``<name>.html``.
    root : str or path-like, optional
        Relative ``metrics_path``, ``figures_dir`` and the figure paths in the metrics
        file are relative to it (the notebook's working directory; default: the working
        directory).
    metrics_path : str or path-like, optional
        The metrics JSON (default ``<reports_dir>/metrics/<name>.json``).
    figures_dir : str or path-like, optional
        The figures folder (default ``<reports_dir>/figures/<name>``).

    Returns
    -------
    list of Path
        The page, then the metrics file and the figures that exist, each once.
    """
    base = Path(root or ".")
    reports = Path(reports_dir)
    files = [reports / f"{name}.html"]
    metrics = _under(metrics_path, base) if metrics_path else reports / "metrics" / f"{name}.json"
    if metrics.is_file():
        files += [metrics, *_listed_figures(metrics, base)]
    folder = _under(figures_dir, base) if figures_dir else reports / "figures" / name
    if folder.is_dir():
        files += sorted(
            p
            for p in folder.rglob("*")
            if p.is_file() and not any(s.startswith(".") for s in p.relative_to(folder).parts)
        )
    unique: dict[Path, Path] = {}
    for f in files:
        unique.setdefault(f.resolve(), f)
    return list(unique.values())


def sign_report(
    name: str,
    reports_dir: PathLike = "reports",
    *,
    root: PathLike | None = None,
    metrics_path: PathLike | None = None,
    figures_dir: PathLike | None = None,
    key: PathLike | None = None,
    params: Mapping[str, Any] | None = None,
    started_on: datetime | None = None,
) -> SignResult:
    """Write ``<reports_dir>/<name>.html.intoto.jsonl`` over the report's files.

    Parameters
    ----------
    name : str
        The report's name.
    reports_dir : str or path-like, default "reports"
        Holds ``<name>.html``; receives the envelope.
    root : str or path-like, optional
        The repository root: base of relative paths (:func:`report_files`), where the
        materials and the default key are found (default: the working directory).
    metrics_path, figures_dir : str or path-like, optional
        As for :func:`report_files`.
    key : str or path-like, optional
        Private key file (default: as :func:`sign_files` finds one, else ephemeral).
    params : mapping, optional
        The notebook's parameters, recorded with the command ``ardlib report <name>``.
    started_on : datetime, optional
        When the report run started (default: now).

    Returns
    -------
    SignResult
        The envelope and the signing key.
    """
    files = report_files(
        name, reports_dir, root=root, metrics_path=metrics_path, figures_dir=figures_dir
    )
    return sign_files(
        files,
        envelope=Path(reports_dir) / f"{name}.html{ENVELOPE_SUFFIX}",
        key=key,
        repo=root,
        build_type="report",
        command=f"ardlib report {name}",
        params=params,
        started_on=started_on,
    )


def report_status(reports_dir: PathLike, page: str, *, root: PathLike | None = None) -> str:
    """The report index's verdict on the envelope of ``<reports_dir>/<page>``.

    Parameters
    ----------
    reports_dir : str or path-like
        The reports folder.
    page : str
        The report's HTML file name, e.g. ``"validation.html"``.
    root : str or path-like, optional
        Where ``.ardlib/keys`` is looked for (default: the working directory).

    Returns
    -------
    str
        ``"verified"``; ``"not signed"`` without an envelope; ``"not checked
        (securesystemslib missing)"``; or ``"FAILED: <first failed check>"`` (with
        ``"(+<n> more)"`` when several failed).
    """
    from ._keys import require_crypto
    from ._verify import verify_envelope

    envelope = Path(reports_dir) / f"{page}{ENVELOPE_SUFFIX}"
    if not envelope.is_file():
        return "not signed"
    try:
        require_crypto()
    except ModuleNotFoundError:
        return "not checked (securesystemslib missing)"
    try:
        result = verify_envelope(envelope, repo=root)
    except (ValueError, OSError) as exc:
        return f"FAILED: {' '.join(str(exc).split())}"
    if result.passed:
        return "verified"
    more = f" (+{len(result.failures) - 1} more)" if len(result.failures) > 1 else ""
    return f"FAILED: {result.failures[0]}{more}"
