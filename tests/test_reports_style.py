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


@pytest.mark.slow
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


def test_table_hides_the_index_and_shows_human_labels() -> None:
    import pandas as pd

    from ardlib.reports import table

    frame = pd.DataFrame(
        {"noise": ["sd0.5", "sd0"], "planner_a": ["gpbo", "alpha"], "p": [0.000123456, 0.5]},
        index=[7, 9],
    )
    html = table(frame).to_html()
    assert ">GP-BO<" in html and ">alpha<" in html  # unknown labels unchanged
    assert "\N{GREEK SMALL LETTER SIGMA} = 0.5" in html and ">noise-free<" in html
    assert ">0.0001235<" in html
    assert ">7<" not in html and ">9<" not in html  # no index column
    kept = table(frame.set_index("planner_a"), index="planner").to_html()
    assert ">planner<" in kept and ">GP-BO<" in kept  # a named index becomes a column
    assert list(frame["planner_a"]) == ["gpbo", "alpha"]  # the caller's frame is unchanged


@pytest.mark.parametrize(
    ("columns", "width"), [pytest.param(1, 3.5, marks=pytest.mark.slow), (2, 7.16)]
)
def test_paper_style_column_widths_and_embedded_fonts(
    columns: int, width: float, tmp_path: Path
) -> None:
    with paper_style(columns):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0], label="GP-BO")
        ax.set_xlabel("evaluations")
        assert tuple(fig.get_size_inches()) == (width, round(width * 0.75, 2))
        pdf, _ = save_figure(fig, "fig", tmp_path)
    plt.close(fig)
    data = pdf.read_bytes()
    assert b"/FontFile2" in data  # TrueType font embedded, not referenced
    assert b"/Subtype /Image" not in data  # lines and text are vectors, not a raster


def test_paper_style_rejects_other_widths() -> None:
    with (
        pytest.raises(ValueError, match="'columns' parameter of paper_style must be 1 or 2"),
        paper_style(3),
    ):
        pass
