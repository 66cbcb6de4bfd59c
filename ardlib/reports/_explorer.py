"""Explore a stored study in Jupyter: convergence curves and paired comparisons, live.

:class:`Explorer` wraps a tidy results table (one row per problem, noise, planner,
replicate and step, as written by :mod:`ardlib.study`) in ipywidgets controls. Every change
of a control redraws the convergence plot (median and interquartile band over replicates
per planner) and recomputes the paired comparison against a baseline planner at the chosen
step with :func:`ardlib.stats.compare_planners`.

Figures are built as bare :class:`matplotlib.figure.Figure` objects (never through
``pyplot``), rendered to PNG for an :class:`ipywidgets.Image`, so no figure is ever
registered with pyplot and none is left open however often the view is refreshed.

Importing this module is cheap: ipywidgets, matplotlib and :mod:`ardlib.stats` (the
``reports`` extra and SciPy) are imported when an :class:`Explorer` is built.
"""

from __future__ import annotations

import html
import importlib
import io
import os
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._validation import check_real

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..stats import Comparison

__all__ = ["METRICS", "Explorer"]

#: Metrics the explorer offers, with what they mean (lower is better for both).
METRICS: dict[str, str] = {
    "regret_rec": "true regret at the recommended point",
    "regret_oracle": "true regret at the best evaluated point",
}

_OWNER = "Explorer"
_KEYS = ("problem", "noise", "planner", "replicate", "step")
_REFERENCE = "random"
_TABLE_COLUMNS = {
    "planner_a": "planner",
    "planner_b": "baseline",
    "n": "n",
    "median_diff": "median diff",
    "p_holm": "Holm p",
    "a12": "A12",
    "winner": "winner",
}


class Explorer:
    """Interactive view of a study's results: convergence plot and paired comparison.

    Parameters
    ----------
    results : DataFrame, str or path-like
        A tidy results table with columns ``problem``, ``noise``, ``planner``,
        ``replicate`` (int), ``step`` (int, 0-based evaluation index) and at least one of
        the :data:`METRICS` columns; or the path of a parquet file holding one (as written
        by :meth:`ardlib.study.StudyResult.save`).
    baseline : str, optional
        Initial baseline planner. By default ``"random"`` when present, else the first
        planner in sorted order.
    alpha : float
        Family-wise error rate of the comparison (Holm over the comparisons of the
        displayed (problem, noise) cell only).

    Attributes
    ----------
    widget : ipywidgets.VBox
        The root container; display it, or leave a bare ``Explorer(...)`` last in a cell.
    controls : dict of str to ipywidgets.Widget
        ``problem``, ``noise``, ``metric``, ``baseline`` (Dropdowns), ``step`` (IntSlider:
        the compared step, 0-based; default the final one) and ``log_scale`` (Checkbox).
        Set their ``.value`` to drive the explorer from code.
    comparison : Comparison or None
        The comparison last computed (``None`` when it could not be: the reason is shown in
        the table and kept in :attr:`error`).
    error : str or None
        Why the last comparison failed, if it did.
    figure : matplotlib.figure.Figure
        The figure last drawn: one axes, one median line per planner labelled with the
        planner's name (x: evaluations = step + 1), an interquartile band per planner, and
        a dashed marker at the compared step (label ``"_step"``).

    Raises
    ------
    ImportError
        If ipywidgets or matplotlib is missing (install ``ardlib[reports]``).
    TypeError
        If ``results`` is neither a DataFrame nor a path.
    FileNotFoundError
        If the parquet path does not exist.
    ValueError
        If columns are missing (they are named) or the table is empty.

    Notes
    -----
    The comparison is computed with ``ci=False`` (no bootstrap intervals) to keep the view
    responsive; call :func:`ardlib.stats.compare_planners` directly for intervals.
    """

    def __init__(
        self,
        results: pd.DataFrame | str | os.PathLike[str],
        *,
        baseline: str | None = None,
        alpha: float = 0.05,
    ) -> None:
        widgets = _extra("ipywidgets")
        self.results = _load(results)
        self.alpha = check_real(
            alpha,
            "alpha",
            owner=_OWNER,
            low=0.0,
            high=1.0,
            low_inclusive=False,
            high_inclusive=False,
        )
        self.comparison: Comparison | None = None
        self.error: str | None = None
        self.figure: Figure | None = None
        self._colors = _planner_colors(sorted(self.results["planner"].unique()))
        self._syncing = False
        self.controls = _build_controls(widgets, self.results, baseline)
        self._image = widgets.Image(format="png", layout=widgets.Layout(width="640px"))
        self._table = widgets.HTML()
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.controls[k] for k in ("problem", "noise", "metric")]),
                widgets.HBox([self.controls[k] for k in ("step", "log_scale", "baseline")]),
                widgets.HBox([self._image, self._table]),
            ]
        )
        self._sync_cell()
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    # ------------------------------------------------------------------ public surface

    @property
    def state(self) -> dict[str, Any]:
        """The current selection: problem, noise, metric, step, log_scale, baseline."""
        return {name: control.value for name, control in self.controls.items()}

    def refresh(self, *, table: bool = True, plot: bool = True) -> None:
        """Recompute the comparison and redraw the plot for the current state.

        Parameters
        ----------
        table, plot : bool
            Update the comparison table, the convergence plot (both by default). The
            controls update only what depends on them: the baseline leaves the plot as it
            is and the log-scale box the comparison.
        """
        state = self.state
        cell = self._cell(state["problem"], state["noise"])
        if table:
            self.comparison, self.error = self._compare(cell, state)
            self._table.value = _table_html(self.comparison, self.error, state)
        if plot:
            self.figure = _convergence_figure(cell, state, self._colors)
            self._image.value = _png(self.figure)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """Display as the root widget (so a bare ``Explorer(...)`` in a cell shows up)."""
        return self.widget._repr_mimebundle_(**kwargs)

    # ---------------------------------------------------------------- controls & state

    def _cell(self, problem: str, noise: str) -> pd.DataFrame:
        df = self.results
        return df[(df["problem"] == problem) & (df["noise"] == noise)]

    def _on_change(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        owner = change["owner"]
        if owner in (self.controls["problem"], self.controls["noise"]):
            self._sync_cell()
        self.refresh(
            table=owner is not self.controls["log_scale"],
            plot=owner is not self.controls["baseline"],
        )

    def _sync_cell(self) -> None:
        """Fit the noise, step and baseline controls to the selected (problem, noise)."""
        c = self.controls
        self._syncing = True
        try:
            problem = c["problem"].value
            noises = sorted(self.results.loc[self.results["problem"] == problem, "noise"].unique())
            _set_options(c["noise"], noises, c["noise"].value)
            cell = self._cell(problem, c["noise"].value)
            planners = sorted(cell["planner"].unique())
            _set_options(c["baseline"], planners, c["baseline"].value)
            _set_range(c["step"], int(cell["step"].min()), int(cell["step"].max()))
        finally:
            self._syncing = False

    def _compare(
        self, cell: pd.DataFrame, state: dict[str, Any]
    ) -> tuple[Comparison | None, str | None]:
        from ..stats import compare_planners

        try:
            comparison = compare_planners(
                cell,
                metric=state["metric"],
                step=state["step"],
                baseline=state["baseline"],
                alpha=self.alpha,
                ci=False,
            )
        except ValueError as exc:
            return None, str(exc)
        return comparison, None


# ---------------------------------------------------------------------- input checks


def _load(results: Any) -> pd.DataFrame:
    """The results table of ``results`` (a DataFrame or a parquet path), checked."""
    if isinstance(results, str | os.PathLike):
        path = os.fspath(results)
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"The 'results' parameter of {_OWNER} names a parquet file that does not "
                f"exist: {path!r}."
            )
        results = pd.read_parquet(path)
    if not isinstance(results, pd.DataFrame):
        raise TypeError(
            f"The 'results' parameter of {_OWNER} must be a pandas DataFrame or the path of a "
            f"parquet file (a tidy study table). Got {type(results).__name__}."
        )
    missing = [c for c in _KEYS if c not in results.columns]
    if missing:
        raise ValueError(
            f"The 'results' parameter of {_OWNER} must have the columns {list(_KEYS)} and "
            f"one of {list(METRICS)}; {missing} are missing. Got columns "
            f"{list(results.columns)}."
        )
    if not any(m in results.columns for m in METRICS):
        raise ValueError(
            f"The 'results' parameter of {_OWNER} must have at least one metric column of "
            f"{list(METRICS)}; none is present. Got columns {list(results.columns)}."
        )
    if results.empty:
        raise ValueError(f"The 'results' parameter of {_OWNER} must not be empty.")
    return results.reset_index(drop=True)


def _build_controls(widgets: Any, df: pd.DataFrame, baseline: str | None) -> dict[str, Any]:
    """The six controls, their options from the whole table (fitted later per cell)."""
    metrics = [(label, m) for m, label in METRICS.items() if m in df.columns]
    planners = sorted(df["planner"].unique())
    if baseline is not None and baseline not in planners:
        raise ValueError(
            f"The 'baseline' parameter of {_OWNER} must be one of the planners "
            f"{planners}. Got {baseline!r}."
        )
    wide = {"description_width": "initial"}
    return {
        "problem": widgets.Dropdown(
            options=sorted(df["problem"].unique()), description="problem", style=wide
        ),
        "noise": widgets.Dropdown(options=[], description="noise", style=wide),
        "metric": widgets.Dropdown(options=metrics, description="metric", style=wide),
        "step": widgets.IntSlider(
            min=0, max=0, description="step", continuous_update=False, style=wide
        ),
        "log_scale": widgets.Checkbox(value=False, description="log scale"),
        "baseline": widgets.Dropdown(
            options=planners,
            value=baseline or _default_baseline(planners),
            description="baseline",
            style=wide,
        ),
    }


def _extra(name: str) -> ModuleType:
    """Import a module of the ``reports`` extra, or say how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"{_OWNER} needs {name.split('.')[0]} (the 'reports' extra): "
            "pip install 'ardlib[reports]'."
        ) from exc


def _default_baseline(planners: Sequence[str]) -> str:
    return _REFERENCE if _REFERENCE in planners else planners[0]


def _set_options(dropdown: Any, options: Sequence[str], keep: Any) -> None:
    """Replace the options, keeping the selection when it is still available."""
    dropdown.options = list(options)
    dropdown.value = keep if keep in options else options[0]


def _set_range(slider: Any, low: int, high: int) -> None:
    """Set ``[low, high]`` in an order the slider accepts.

    A slider at its final step moves to the new final step; otherwise it keeps its step,
    clipped into the new range.
    """
    value = high if slider.value == slider.max else min(max(slider.value, low), high)
    if low > slider.max:
        slider.max, slider.min = high, low
    else:
        slider.min, slider.max = low, high
    slider.value = value


# ---------------------------------------------------------------------------- drawing


def _planner_colors(planners: Sequence[str]) -> dict[str, Any]:
    """A fixed colour per planner: ``ardlib.reports._style.planner_color`` when present."""
    color: Callable[[str], Any]
    try:
        color = importlib.import_module("ardlib.reports._style").planner_color
    except (ImportError, AttributeError):
        palette = [f"C{i}" for i in range(10)]
        index = {p: i for i, p in enumerate(planners)}

        def color(name: str) -> Any:
            return palette[index[name] % len(palette)]

    return {p: color(p) for p in planners}


def _convergence_quantiles(cell: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per (planner, step): 25 %, 50 % and 75 % quantiles of ``metric`` over replicates."""
    grouped = cell.groupby(["planner", "step"], sort=True)[metric]
    out = grouped.quantile(np.array([0.25, 0.5, 0.75])).unstack()
    out.columns = ["q25", "median", "q75"]
    return out.reset_index()


def _convergence_figure(
    cell: pd.DataFrame, state: dict[str, Any], colors: dict[str, Any]
) -> Figure:
    """Median and interquartile band per planner against evaluations (step + 1)."""
    metric = state["metric"]
    fig = _extra("matplotlib.figure").Figure(figsize=(6.4, 4.2), dpi=100)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.12, top=0.92)
    ax = fig.add_subplot()
    for planner, q in _convergence_quantiles(cell, metric).groupby("planner", sort=True):
        x = q["step"].to_numpy() + 1
        color = colors[str(planner)]
        ax.fill_between(x, q["q25"], q["q75"], color=color, alpha=0.2, linewidth=0)
        ax.plot(x, q["median"].to_numpy(), color=color, label=_plain(str(planner)))
    ax.axvline(state["step"] + 1, color="0.4", linestyle="--", linewidth=1, label="_step")
    ax.set_xlabel("evaluations")
    ax.set_ylabel(METRICS.get(metric, metric))
    title = _plain(f"{state['problem']} · {state['noise']}")
    if state["log_scale"]:
        if (cell[metric] > 0).any():
            ax.set_yscale("log")
        else:
            title += " (log scale needs positive values)"
    ax.set_title(title)
    ax.legend(title="median, 25-75 %", fontsize="small", loc="upper right")
    return fig


def _plain(text: str) -> str:
    """``text`` shown literally by matplotlib (a ``$`` would start mathtext)."""
    return text.replace("$", r"\$")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _table_html(comparison: Comparison | None, error: str | None, state: dict[str, Any]) -> str:
    """The comparison as an HTML table with a caption, or the reason there is none."""
    where = f"step {state['step']} ({state['step'] + 1} evaluations)"
    if comparison is None:
        return f"<p><b>No comparison at {where}:</b> {html.escape(str(error))}</p>"
    table = comparison.table.loc[:, list(_TABLE_COLUMNS)].rename(columns=_TABLE_COLUMNS)
    table["winner"] = table["winner"].where(table["winner"].notna(), "—")
    body = table.to_html(index=False, float_format=_fmt, border=0, escape=True)
    caption = (
        f"<p>{html.escape(METRICS.get(comparison.metric, comparison.metric))} at {where}; "
        f"paired Wilcoxon vs {html.escape(str(comparison.baseline))}, Holm over "
        f"{comparison.n_comparisons} comparison(s), &alpha; = {comparison.alpha:g}. "
        "A12 &lt; 0.5: planner lower (better).</p>"
    )
    return caption + body


def _fmt(value: float) -> str:
    if not np.isfinite(value):
        return str(value)
    return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
