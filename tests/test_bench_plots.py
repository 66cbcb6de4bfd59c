"""The benchmark report's figures and profile table (ardlib.bench plot_ratios, plot_history,
profile_links): what they draw from which rows."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from ardlib.bench import plot_history, plot_ratios, profile_links

matplotlib.use("Agg")


def test_ratio_plot_draws_available_benchmarks_coloured_by_verdict() -> None:
    table = pd.DataFrame(
        {
            "benchmark": ["a", "b", "c", "d"],
            "ratio": [1.5, 0.8, 1.0, float("nan")],
            "ci_low": [1.4, 0.7, 0.9, float("nan")],
            "ci_high": [1.6, 0.9, 1.1, float("nan")],
            "verdict": ["slower", "faster", "same", "unavailable"],
        }
    )
    ax = plot_ratios(table, threshold=0.2, label="HEAD~1").axes[0]
    # first benchmark at the top; the unavailable one is left out
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "b", "a"]
    points = {c.get_label(): c.lines[0] for c in ax.containers}  # errorbar: (data, caps, bars)
    assert list(points["slower"].get_xdata()) == [1.5] and list(points["slower"].get_ydata()) == [2]
    assert to_hex(points["slower"].get_color()) == "#c0392b"
    assert to_hex(points["faster"].get_color()) == "#2471a3"
    assert ax.get_xlabel() == "HEAD / HEAD~1 (median time)"
    with pytest.raises(ValueError, match="'table' parameter of plot_ratios"):
        plot_ratios(table.drop(columns="ci_low"))


def test_history_plot_has_a_panel_per_group_and_marks_change_points() -> None:
    runs = pd.DataFrame(
        {
            "group": ["gp"] * 4 + ["study"] * 2,
            "benchmark": ["fit"] * 4 + ["run"] * 2,
            "median": [2.0, 2.0, 4.0, 4.0, 1.0, 0.5],
        }
    )
    changes = pd.DataFrame({"benchmark": ["fit"], "position": [2], "direction": ["increase"]})
    fig = plot_history(runs, changes)
    gp, study = fig.axes[:2]
    assert (gp.get_ylabel(), study.get_ylabel()) == ("gp", "study")
    fit, marker = gp.get_lines()
    assert list(fit.get_ydata()) == [1.0, 1.0, 2.0, 2.0]  # relative to the first revision
    assert list(marker.get_xdata()) == [1.5, 1.5] and to_hex(marker.get_color()) == "#c0392b"
    assert list(study.get_lines()[0].get_ydata()) == [1.0, 0.5] and len(study.get_lines()) == 1
    empty = runs.iloc[:0]
    assert len(plot_history(empty, pd.DataFrame()).axes) == 1
    with pytest.raises(ValueError, match="'runs' parameter of plot_history"):
        plot_history(runs.drop(columns="group"), changes)


def test_profile_links_are_relative_and_keep_the_top_frames(tmp_path: Path) -> None:
    diff = pd.DataFrame({"function": ["f", "g", "h"], "change": [0.3, -0.2, 0.1]})
    profiles = {
        "gp.fit": {
            side: {"html": str(tmp_path / "profiles" / side / "gp.fit.html")}
            for side in ("base", "head")
        }
        | {"diff": diff}
    }
    links, moved = profile_links(profiles, tmp_path / "reports", top=2)
    assert links == (
        "- `gp.fit`: [BASE](../profiles/base/gp.fit.html) · [HEAD](../profiles/head/gp.fit.html)"
    )
    assert moved["function"].tolist() == ["f", "g"] and set(moved["benchmark"]) == {"gp.fit"}
    links, moved = profile_links({}, tmp_path)
    assert links == "" and moved.empty
