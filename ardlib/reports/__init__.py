"""Reports: run parameterized notebooks with papermill, render HTML, style figures, index.

:func:`run_report` executes ``notebooks/<name>.ipynb`` in the repository root and renders
``reports/<name>.html`` with :func:`render_html` (code hidden, figures embedded, no network
resources); a notebook that raises still gets its page and then :class:`ReportFailed`.
:func:`load_params` reads a ``params.yaml`` section with ``-p KEY VALUE`` overrides.
Notebooks draw with :func:`paper_style`, :func:`planner_color` and :func:`save_figure`, and
put :func:`report_record` (built on :func:`report_metadata`) into their metrics JSON, from
which :func:`write_index` builds ``reports/index.html``.

Importing this package is cheap: papermill, nbconvert and matplotlib (the ``reports``
extra) are imported when a function needs them; :class:`Explorer` (ipywidgets) and the
validation report's computations (:mod:`ardlib.reports.validation` functions) load on
first access.
"""

from ._catalog import problem_catalog
from ._html import render_html
from ._index import report_metadata, report_record, write_index
from ._params import load_params
from ._report import Check, Report
from ._run import ReportFailed, ReportResult, run_report
from ._style import paper_style, planner_color, save_figure
from ._validation import (
    ReproducibilityResult,
    SentinelResult,
    StudySummary,
    accuracy_table,
    convergence_bands,
    describe_comparison,
    plot_convergence,
    reproducibility_check,
    sentinel_check,
    summarize_study,
)

__all__ = [
    "Check",
    "Explorer",
    "Report",
    "ReportFailed",
    "ReportResult",
    "ReproducibilityResult",
    "SentinelResult",
    "StudySummary",
    "accuracy_table",
    "convergence_bands",
    "describe_comparison",
    "load_params",
    "paper_style",
    "planner_color",
    "plot_convergence",
    "problem_catalog",
    "render_html",
    "report_metadata",
    "report_record",
    "reproducibility_check",
    "run_report",
    "save_figure",
    "sentinel_check",
    "summarize_study",
    "write_index",
]


def __getattr__(name: str) -> object:
    """Load :class:`Explorer` lazily, so ``ardlib`` commands never import ipywidgets."""
    if name == "Explorer":
        from ._explorer import Explorer

        return Explorer
    raise AttributeError(f"module 'ardlib.reports' has no attribute {name!r}")
