"""The report protocol: one object owns a notebook's checks, metrics, figures and verdict.

A report notebook creates a :class:`Report` in its first code cell, records what it
measures with :meth:`Report.check`, :meth:`Report.metric`, :meth:`Report.figure` and
:meth:`Report.input`, and ends with :meth:`Report.finish`, which writes the metrics JSON
(with the ``"report"`` record :func:`~ardlib.reports.write_index` reads, the checks, the
figure paths and the provenance of every input) and raises :class:`AssertionError` when a
check failed, so papermill, the pipeline and CI fail with it::

    report = Report("validation", "Validation report", metrics_path=metrics_path,
                    figures_dir=figures_dir)
    report.check("accuracy", bool(acc["passed"].all()), f"{n} of {m} problems exact")
    report.metric("accuracy", {...})
    report.figure(fig, "branin_regret_rec")
    report.finish(summary="...")
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._io import provenance, sha256_file, write_json
from ._style import save_figure

__all__ = ["Check", "Report"]


@dataclass(frozen=True)
class Check:
    """One named pass/fail check of a report, with a line of detail.

    Attributes
    ----------
    name : str
        Unique within its report.
    passed : bool
        Whether the check held.
    detail : str
        One line saying what was measured against what bound.
    """

    name: str
    passed: bool
    detail: str = ""


class Report:
    """Checks, metrics, figures, inputs and the verdict of one report notebook.

    Parameters
    ----------
    name : str
        The report's name (the notebook's stem); also names the HTML page.
    title : str
        Human title, shown in the report index.
    metrics_path : str or path-like
        Where :meth:`finish` writes the metrics JSON.
    figures_dir : str or path-like, optional
        Folder for :meth:`figure` (default ``reports/figures/<name>``).

    Attributes
    ----------
    meta : dict
        Provenance at creation (:func:`ardlib._io.provenance`): ``generated_at``,
        ``git_revision`` (the bare commit), ``revision`` (the commit and what in the working
        tree differed from it, e.g. ``"abc1234 (dvc.lock re-run: validation)"``),
        ``revision_state`` (``dirty_files``, ``lock_stages_changed``), ``ardlib_version``,
        ``python``.
    metrics : dict
        What :meth:`metric` recorded, in order.
    checks : list of Check
        What :meth:`check` recorded, in order.
    figures : dict
        Figure stem -> ``[pdf, png]`` paths.
    inputs : dict
        Input path -> sha256, recorded by :meth:`input`.
    """

    def __init__(
        self,
        name: str,
        title: str,
        *,
        metrics_path: str | os.PathLike[str],
        figures_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name or Path(name).name != name:
            raise ValueError(f"The 'name' parameter of Report must be a file stem. Got {name!r}.")
        self.name = name
        self.title = title
        self.metrics_path = Path(metrics_path)
        self.figures_dir = Path(figures_dir) if figures_dir else Path("reports/figures") / name
        self.meta = provenance()
        self.metrics: dict[str, Any] = {}
        self.checks: list[Check] = []
        self.figures: dict[str, list[str]] = {}
        self.inputs: dict[str, str] = {}

    def header(self) -> str:
        """One Markdown line: when, from which revision and ardlib version.

        Returns
        -------
        str
            The revision is :meth:`ardlib._io.RevisionState.describe`: the commit, plus
            the changed files or the re-run ``dvc.lock`` stages when the tree differed.
        """
        m = self.meta
        return (
            f"Generated {m['generated_at']} from ardlib {m['ardlib_version']}, "
            f"revision `{m.get('revision', m['git_revision'])}`."
        )

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        """Record a check.

        Parameters
        ----------
        name : str
            Unique within the report; shown in the check table and the failure message.
        passed : bool
            Whether the check held (anything truthy counts).
        detail : str, optional
            What was measured against what bound; white space is folded.

        Returns
        -------
        bool
            ``passed`` as a bool, so a cell can branch on it.

        Raises
        ------
        ValueError
            If the report already has a check named ``name``.
        """
        if any(c.name == name for c in self.checks):
            raise ValueError(f"Report {self.name!r} already has a check named {name!r}.")
        self.checks.append(Check(str(name), bool(passed), " ".join(str(detail).split())))
        return bool(passed)

    def metric(self, key: str, value: Any) -> Any:
        """Record ``value`` under ``key`` in the metrics JSON.

        Parameters
        ----------
        key : str
            Top-level key; not one of the keys the report writes itself (``report``,
            ``checks``, ``figures``, ``inputs``).
        value : JSON-able
            NumPy scalars and arrays are converted when the file is written.

        Returns
        -------
        object
            ``value``, unchanged.
        """
        if key in {"report", "checks", "figures", "inputs"}:
            raise ValueError(f"The 'key' parameter of Report.metric must not be {key!r}.")
        self.metrics[key] = value
        return value

    def figure(self, fig: Any, stem: str, *, show: bool = True) -> tuple[Path, Path]:
        """Save ``fig`` as ``<figures_dir>/<stem>.pdf`` and ``.png``, show it once, close it.

        Parameters
        ----------
        fig : matplotlib.figure.Figure
        stem : str
            File name without folder or extension.
        show : bool, default True
            Display the figure (IPython) before closing it, its output tagged
            ``{"ardlib_figure": stem}`` so a test can tell it from a figure drawn by the
            inline backend. Closing matters: a figure left open is drawn a second time when
            the notebook cell ends.

        Returns
        -------
        (Path, Path)
            The PDF and PNG paths.
        """
        import matplotlib.pyplot as plt

        pdf, png = save_figure(fig, stem, self.figures_dir)
        self.figures[stem] = [str(pdf), str(png)]
        if show:
            from IPython.display import display

            display(fig, metadata={"ardlib_figure": stem})
        plt.close(fig)
        return pdf, png

    def input(self, path: str | os.PathLike[str]) -> Path:
        """Record a file the report reads (its sha256 goes into the provenance).

        Parameters
        ----------
        path : str or path-like
            The input file.

        Returns
        -------
        Path
            ``path``, so a call can wrap the place the file is read.

        Raises
        ------
        FileNotFoundError
            Naming the path, when it does not exist.
        """
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"Report {self.name!r} needs the input file {str(p)!r}.")
        self.inputs[str(p)] = sha256_file(p)
        return p

    @property
    def failed(self) -> list[Check]:
        """Checks that did not pass."""
        return [c for c in self.checks if not c.passed]

    @property
    def passed(self) -> bool:
        """True when every recorded check passed (and at least one was recorded)."""
        return bool(self.checks) and not self.failed

    def check_table(self) -> Any:
        """The checks as a table.

        Returns
        -------
        pandas.DataFrame
            Columns ``check``, ``passed``, ``detail``, one row per check in order.
        """
        import pandas as pd

        return pd.DataFrame(
            [{"check": c.name, "passed": c.passed, "detail": c.detail} for c in self.checks],
            columns=["check", "passed", "detail"],
        )

    def record(self, summary: str) -> dict[str, Any]:
        """The ``"report"`` object of the metrics JSON (what the index lists).

        Parameters
        ----------
        summary : str
            One line for the index.

        Returns
        -------
        dict
            ``name``, ``title``, ``html``, ``passed``, ``summary`` and the provenance of
            :attr:`meta`.
        """
        return {
            "name": self.name,
            "title": self.title,
            "html": f"{self.name}.html",
            "passed": self.passed,
            "summary": " ".join(summary.split()),
            **self.meta,
        }

    def finish(
        self,
        summary: str | None = None,
        *,
        raise_on_failure: bool = True,
        extra_failures: Iterable[str] = (),
    ) -> Path:
        """Write the metrics JSON and give the verdict.

        Parameters
        ----------
        summary : str, optional
            One line for the index; default ``"<k>/<n> checks passed"`` plus the failed
            checks' names.
        raise_on_failure : bool, default True
            Raise :class:`AssertionError` when a check failed (after writing the file).
        extra_failures : iterable of str
            Further failure messages that make the run raise (e.g. a regression found
            while ``only_report`` is off); they do not change the recorded verdict.

        Returns
        -------
        Path
            The metrics file.
        """
        n_ok = len(self.checks) - len(self.failed)
        if summary is None:
            summary = f"{n_ok}/{len(self.checks)} checks passed"
            if self.failed:
                summary += "; failed: " + ", ".join(c.name for c in self.failed)
        doc = {
            "report": self.record(summary),
            **self.metrics,
            "checks": {c.name: c.passed for c in self.checks},
            "check_details": {c.name: c.detail for c in self.checks},
            "figures": self.figures,
            "inputs": self.inputs,
        }
        path = write_json(self.metrics_path, doc, sort_keys=False, default=_jsonable)
        problems = [f"{c.name}: {c.detail}" if c.detail else c.name for c in self.failed]
        problems += list(extra_failures)
        if not self.checks:
            problems.append("no check was recorded")
        if problems and raise_on_failure:
            raise AssertionError(f"{self.name} report failed: " + "; ".join(problems))
        return path


def _jsonable(value: Any) -> Any:
    """JSON fallback for NumPy scalars and arrays (``tolist``), paths and anything else
    (``str``); ``json`` calls it only for what it cannot encode itself."""
    return value.tolist() if hasattr(value, "tolist") else str(value)
