"""Public names of ardlib.reports (read by lazy_loader.attach_stub and type checkers)."""

from ._catalog import plot_catalog_errors, problem_catalog, record_catalog
from ._explorer import Explorer
from ._html import render_html
from ._index import write_index
from ._params import load_params
from ._report import Check, Report
from ._run import ReportFailed, ReportResult, run_report
from ._schema import ParameterError, check_parameters, load_schema
from ._style import display_label, paper_style, planner_color, save_figure, table
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
    summarize_studies,
    summarize_study,
)

__all__ = [
    "Check",
    "Explorer",
    "ParameterError",
    "Report",
    "ReportFailed",
    "ReportResult",
    "ReproducibilityResult",
    "SentinelResult",
    "StudySummary",
    "accuracy_table",
    "check_parameters",
    "convergence_bands",
    "describe_comparison",
    "display_label",
    "load_params",
    "load_schema",
    "paper_style",
    "planner_color",
    "plot_catalog_errors",
    "plot_convergence",
    "problem_catalog",
    "record_catalog",
    "render_html",
    "reproducibility_check",
    "run_report",
    "save_figure",
    "sentinel_check",
    "summarize_studies",
    "summarize_study",
    "table",
    "write_index",
]
