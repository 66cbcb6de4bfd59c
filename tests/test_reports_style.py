"""Figure style: fixed planner colours, scoped rcParams, reproducible figure files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from ardlib.reports import paper_style, planner_color, save_figure
from ardlib.reports._style import OKABE_ITO


def test_known_planners_have_fixed_distinct_colours() -> None:
    known = {p: planner_color(p) for p in ("random", "sobol", "lhs", "gpbo")}
    assert known == {"random": "#000000", "sobol": "#0072B2", "lhs": "#009E73", "gpbo": "#D55E00"}
    assert planner_color("RandomSearch") == planner_color("random")
    assert planner_color("Latin-Hypercube") == planner_color("lhs")
    assert planner_color("GP_BO") == planner_color("gpbo") == planner_color("BayesianOptimization")


def test_unknown_planners_get_palette_colours_not_the_known_ones() -> None:
    fixed = {planner_color(p) for p in ("random", "sobol", "lhs", "gpbo")}
    for name in ("thompson", "ucb", "my planner", "x"):
        assert planner_color(name) in OKABE_ITO
        assert planner_color(name) not in fixed


def test_unknown_planner_colour_does_not_depend_on_hash_seed() -> None:
    code = "from ardlib.reports import planner_color; print(planner_color('thompson-42'))"
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }
    assert outs == {planner_color("thompson-42")}


@pytest.mark.parametrize("bad", ["", None, 3])
def test_planner_color_rejects_non_names(bad: object) -> None:
    with pytest.raises(ValueError, match="'name' parameter of planner_color"):
        planner_color(bad)  # type: ignore[arg-type]


def test_paper_style_is_scoped() -> None:
    before = dict(matplotlib.rcParams)
    with paper_style():
        assert matplotlib.rcParams["axes.spines.top"] is False
        assert matplotlib.rcParams["axes.spines.right"] is False
        assert matplotlib.rcParams["pdf.fonttype"] == 42
        cycle = [c["color"] for c in matplotlib.rcParams["axes.prop_cycle"]]
        assert [c.upper() for c in cycle] == list(OKABE_ITO)
    assert dict(matplotlib.rcParams) == before


def _figure() -> plt.Figure:
    with paper_style():
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [3, 1, 2], color=planner_color("gpbo"), label="gpbo")
        ax.legend()
    return fig


def test_save_figure_writes_reproducible_pdf_and_png(tmp_path: Path) -> None:
    fig = _figure()
    pdf, png = save_figure(fig, "demo", tmp_path / "figs")
    assert (pdf, png) == (tmp_path / "figs" / "demo.pdf", tmp_path / "figs" / "demo.png")
    first = pdf.read_bytes(), png.read_bytes()
    assert first[0].startswith(b"%PDF") and first[1].startswith(b"\x89PNG")
    assert b"CreationDate" not in first[0]
    assert b"Software" not in first[1]
    plt.close(fig)
    fig = _figure()  # a new figure, drawn again, gives the same bytes
    save_figure(fig, "demo", tmp_path / "figs")
    plt.close(fig)
    assert (pdf.read_bytes(), png.read_bytes()) == first


def test_save_figure_png_is_200_dpi(tmp_path: Path) -> None:
    from PIL import Image

    fig, _ = plt.subplots(figsize=(2, 1))
    _, png = save_figure(fig, "dpi", tmp_path)
    plt.close(fig)
    with Image.open(png) as img:
        dpi = img.info["dpi"]
    assert dpi == pytest.approx((200, 200), abs=0.01)


@pytest.mark.parametrize("stem", ["", "a/b", "fig.pdf", "fig.png"])
def test_save_figure_rejects_paths_and_suffixes(stem: str, tmp_path: Path) -> None:
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="'stem' parameter of save_figure"):
        save_figure(fig, stem, tmp_path)
    plt.close(fig)


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("gpbo", "GP-BO"),
        ("sobol", "Sobol'"),
        ("sd0", "noise-free"),
        ("sd0.0", "noise-free"),
        ("sd0.1", "\N{GREEK SMALL LETTER SIGMA} = 0.1"),
        ("sd1", "\N{GREEK SMALL LETTER SIGMA} = 1"),
        ("lab", "lab noise"),
        ("my_planner", "my_planner"),  # unknown labels stay as the user named them
        ("sdx", "sdx"),
    ],
)
def test_display_labels(name: str, label: str) -> None:
    from ardlib.reports import display_label

    assert display_label(name) == label
