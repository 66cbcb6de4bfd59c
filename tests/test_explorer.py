"""Explorer: driven through its widgets like a user, checked against the table itself."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from importlib.util import find_spec

import numpy as np
import pandas as pd
import pytest

from ardlib.reports._explorer import Explorer

# ipywidgets and matplotlib are imported by the tests that use them (the Explorer imports
# them lazily too), not here: every xdist worker imports every test module at collection
pytestmark = pytest.mark.skipif(
    find_spec("ipywidgets") is None or find_spec("matplotlib") is None,
    reason="the reports extra (ipywidgets, matplotlib) is not installed",
)

PLANNERS = ("bo", "random", "sobol")
STEPS = 15
REPLICATES = 8


def synthetic_study(seed: int = 20240611) -> pd.DataFrame:
    """2 problems × 2 noises × 3 planners × 8 replicates × 15 steps, tidy.

    On "easy" the planner "bo" has a tenth of the others' regret at every step; on "flat"
    all planners draw from the same distribution. Each replicate has a shared effect
    (common random numbers) and each run its own multiplicative jitter.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for problem in ("easy", "flat"):
        for noise in ("none", "gauss-0.1"):
            shared = np.exp(rng.normal(size=REPLICATES))
            for planner in PLANNERS:
                factor = 0.1 if (problem == "easy" and planner == "bo") else 1.0
                jitter = np.exp(0.3 * rng.normal(size=(REPLICATES, STEPS)))
                decay = np.exp(-0.15 * np.arange(STEPS))
                regret = factor * shared[:, None] * decay[None, :] * jitter
                rep, step = np.meshgrid(np.arange(REPLICATES), np.arange(STEPS), indexing="ij")
                frames.append(
                    pd.DataFrame(
                        {
                            "problem": problem,
                            "noise": noise,
                            "planner": planner,
                            "replicate": rep.ravel(),
                            "step": step.ravel(),
                            "regret_rec": regret.ravel(),
                            "regret_oracle": 0.8 * regret.ravel(),
                            "y_true_rec": -regret.ravel(),
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    return synthetic_study()


@pytest.fixture
def explorer(study: pd.DataFrame) -> Explorer:
    return Explorer(study)


@pytest.fixture
def no_png(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Skip the PNG encoding of each redraw (most of a redraw's time); the figures drawn.

    For tests that read the figure's artists and the comparison, not the image. The real
    image is checked by test_defaults_final_step_random_baseline_and_all_outputs, and on
    every redraw by test_no_figures_leak and the tests without this fixture.
    """
    drawn: list[object] = []

    def png(fig: object) -> bytes:
        drawn.append(fig)
        return b"\x89PNG (not encoded)"

    monkeypatch.setattr("ardlib.reports._explorer._png", png)
    yield drawn
    assert drawn, "the test never redrew the figure"


def median_lines(ex: Explorer) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The labelled (planner) lines of the explorer's figure: name -> (x, y)."""
    (ax,) = ex.figure.axes
    return {
        line.get_label(): (np.asarray(line.get_xdata()), np.asarray(line.get_ydata()))
        for line in ax.get_lines()
        if not line.get_label().startswith("_")
    }


def test_defaults_final_step_random_baseline_and_all_outputs(explorer: Explorer) -> None:
    assert set(explorer.controls) == {"problem", "noise", "metric", "step", "log_scale", "baseline"}
    assert explorer.state == {
        "problem": "easy",
        "noise": "gauss-0.1",
        "metric": "regret_rec",
        "step": STEPS - 1,
        "log_scale": False,
        "baseline": "random",
    }
    assert explorer.controls["step"].min == 0 and explorer.controls["step"].max == STEPS - 1
    comp = explorer.comparison
    assert comp is not None and explorer.error is None
    assert (comp.metric, comp.step, comp.baseline) == ("regret_rec", STEPS - 1, "random")
    assert set(comp.table["problem"]) == {"easy"} and set(comp.table["noise"]) == {"gauss-0.1"}
    assert explorer._image.value[:4] == b"\x89PNG"
    assert "Holm p" in explorer._table.value and "A12" in explorer._table.value
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert (
        bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == explorer.widget.model_id
    )


def test_comparison_follows_every_control(
    explorer: Explorer, study: pd.DataFrame, no_png: list[object]
) -> None:
    c = explorer.controls
    c["noise"].value = "none"
    c["metric"].value = "regret_oracle"
    c["step"].value = 4
    c["baseline"].value = "sobol"
    comp = explorer.comparison
    assert comp is not None
    assert (comp.metric, comp.step, comp.baseline) == ("regret_oracle", 4, "sobol")
    assert set(comp.table["noise"]) == {"none"} and set(comp.table["problem"]) == {"easy"}
    assert sorted(comp.table["planner_a"]) == ["bo", "random"]
    assert set(comp.table["planner_b"]) == {"sobol"}
    # Holm covers only the displayed cell's comparisons.
    assert comp.n_comparisons == 2
    # The row for bo: median over replicates of (bo - sobol) at step 4, from the table.
    at = study[(study["problem"] == "easy") & (study["noise"] == "none") & (study["step"] == 4)]
    wide = at.pivot(index="replicate", columns="planner", values="regret_oracle")
    row = comp.table.set_index("planner_a").loc["bo"]
    assert row["median_diff"] == pytest.approx(float(np.median(wide["bo"] - wide["sobol"])))
    assert row["n"] == REPLICATES
    assert "step 4 (5 evaluations)" in explorer._table.value


def test_dominant_planner_wins_and_identical_planners_do_not(
    explorer: Explorer, no_png: list[object]
) -> None:
    c = explorer.controls
    for noise in ("none", "gauss-0.1"):
        c["noise"].value = noise
        c["problem"].value = "easy"
        table = explorer.comparison.table.set_index("planner_a")
        assert table.loc["bo", "winner"] == "bo"
        assert table.loc["bo", "p_holm"] < 0.05
        assert table.loc["bo", "a12"] < 0.5
        assert "<td>bo</td>" in explorer._table.value

        c["problem"].value = "flat"
        table = explorer.comparison.table
        assert set(table["problem"]) == {"flat"} and set(table["noise"]) == {noise}
        assert not table["significant"].any()
        assert table["winner"].isna().all()
        assert (table["p_holm"] > 0.05).all()


def test_figure_lines_are_the_planners_and_their_medians(
    explorer: Explorer, study: pd.DataFrame, no_png: list[object]
) -> None:
    c = explorer.controls
    for problem, noise, metric in [
        ("easy", "gauss-0.1", "regret_rec"),
        ("flat", "none", "regret_oracle"),
    ]:
        c["problem"].value, c["noise"].value, c["metric"].value = problem, noise, metric
        lines = median_lines(explorer)
        assert sorted(lines) == list(PLANNERS)
        sel = study[(study["problem"] == problem) & (study["noise"] == noise)]
        expected = sel.groupby(["planner", "step"])[metric].median()
        for planner, (x, y) in lines.items():
            curve = expected.loc[planner]
            np.testing.assert_array_equal(x, curve.index.to_numpy() + 1)
            np.testing.assert_allclose(y, curve.to_numpy(), rtol=1e-12)
    # One interquartile band per planner, and one colour per planner across problems.
    assert len(explorer.figure.axes[0].collections) == len(PLANNERS)
    colors = line_colors(explorer)
    c["problem"].value = "easy"
    assert line_colors(explorer) == colors
    assert len(set(colors.values())) == len(PLANNERS)


def line_colors(ex: Explorer) -> dict[str, tuple[float, ...]]:
    import matplotlib.colors

    (ax,) = ex.figure.axes
    return {
        line.get_label(): matplotlib.colors.to_rgba(line.get_color())
        for line in ax.get_lines()
        if not line.get_label().startswith("_")
    }


def test_step_marker_and_log_scale(explorer: Explorer, no_png: list[object]) -> None:
    c = explorer.controls
    c["step"].value = 6
    (ax,) = explorer.figure.axes
    (marker,) = [ln for ln in ax.get_lines() if ln.get_label() == "_step"]
    assert list(marker.get_xdata()) == [7, 7]
    assert ax.get_yscale() == "linear"
    c["log_scale"].value = True
    assert explorer.figure.axes[0].get_yscale() == "log"
    c["problem"].value = "flat"
    assert explorer.figure.axes[0].get_yscale() == "log"
    c["log_scale"].value = False
    assert explorer.figure.axes[0].get_yscale() == "linear"


@pytest.mark.slow
def test_log_scale_without_positive_values_stays_linear(study: pd.DataFrame) -> None:
    zero = study.assign(regret_rec=0.0)
    ex = Explorer(zero)
    ex.controls["log_scale"].value = True
    (ax,) = ex.figure.axes
    assert ax.get_yscale() == "linear"
    assert "log scale needs positive values" in ax.get_title()


@pytest.mark.slow
def test_cell_change_keeps_step_or_follows_final_step(
    study: pd.DataFrame, no_png: list[object]
) -> None:
    # "flat" runs end 5 steps early: the slider's range follows the selected cell.
    short = study[(study["problem"] == "easy") | (study["step"] < STEPS - 5)]
    ex = Explorer(short)
    c = ex.controls
    c["problem"].value = "flat"
    assert (c["step"].max, ex.state["step"], ex.comparison.step) == (9, 9, 9)
    c["problem"].value = "easy"
    assert (c["step"].max, ex.state["step"]) == (STEPS - 1, STEPS - 1)
    c["step"].value = 3
    c["problem"].value = "flat"
    assert ex.state["step"] == 3 and ex.comparison.step == 3


@pytest.mark.slow
def test_cell_missing_a_planner(study: pd.DataFrame, no_png: list[object]) -> None:
    partial = study[~((study["problem"] == "flat") & (study["planner"] == "sobol"))]
    ex = Explorer(partial)
    ex.controls["problem"].value = "flat"
    assert sorted(median_lines(ex)) == ["bo", "random"]
    assert list(ex.controls["baseline"].options) == ["bo", "random"]
    assert list(ex.comparison.table["planner_a"]) == ["bo"]


def test_comparison_failure_is_shown_not_raised(study: pd.DataFrame) -> None:
    few = study[study["replicate"] < 4]  # below compare_planners' 6 paired replicates
    ex = Explorer(few)
    assert ex.comparison is None
    assert "at least 6" in ex.error
    assert "No comparison at step 14" in ex._table.value
    assert sorted(median_lines(ex)) == list(PLANNERS)


def test_parquet_path_and_str(study: pd.DataFrame, tmp_path, no_png: list[object]) -> None:
    path = tmp_path / "results.parquet"
    study.to_parquet(path)
    for arg in (path, str(path)):
        ex = Explorer(arg)
        assert ex.state["problem"] == "easy"
        assert ex.comparison is not None and len(ex.comparison.table) == 2


def test_baseline_argument(study: pd.DataFrame, no_png: list[object]) -> None:
    assert Explorer(study, baseline="bo").comparison.baseline == "bo"
    no_random = study[study["planner"] != "random"]
    assert Explorer(no_random).state["baseline"] == "bo"


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda df: df.drop(columns=["replicate", "step"]), ValueError, r"\['replicate', 'step'\]"),
        (lambda df: df.drop(columns=["regret_rec", "regret_oracle"]), ValueError, "metric column"),
        (lambda df: df.iloc[:0], ValueError, "must not be empty"),
        (lambda df: df.to_dict("list"), TypeError, "DataFrame or the path"),
        (lambda df: "/nonexistent/results.parquet", FileNotFoundError, "does not exist"),
    ],
)
def test_invalid_input(study: pd.DataFrame, make, error, match) -> None:
    with pytest.raises(error, match=match):
        Explorer(make(study))


def test_invalid_settings(study: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="The 'baseline' parameter of Explorer"):
        Explorer(study, baseline="bogus")
    with pytest.raises(ValueError, match="The 'alpha' parameter of Explorer"):
        Explorer(study, alpha=1.5)


def test_only_one_metric_offered_when_only_one_present(study: pd.DataFrame) -> None:
    ex = Explorer(study.drop(columns=["regret_oracle"]))
    assert [v for _, v in ex.controls["metric"].options] == ["regret_rec"]


@pytest.mark.slow  # 21 redraws to PNG (~2 s); the other tests redraw a few times each
def test_no_figures_leak(explorer: Explorer) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    old = weakref.ref(explorer.figure)
    explorer.controls["step"].value = 3
    for _ in range(20):  # 21 redraws: pyplot would warn (an error here) after 20 open figures
        explorer.refresh(table=False)
    gc.collect()
    assert old() is None
    assert plt.get_fignums() == before
    assert explorer.figure.canvas.manager is None  # never registered with pyplot


@pytest.mark.slow
def test_real_study_parquet(tmp_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from ardlib.planners import RandomSearch, Sobol
    from ardlib.study import PlannerSpec, Study

    study = Study(
        problems=["branin", "forrester"],
        planners=[PlannerSpec("random", RandomSearch), PlannerSpec("sobol", Sobol)],
        noises=[None],
        replicates=6,
        budget=10,
        master_seed=1,
    )
    with ThreadPoolExecutor(2) as pool:
        result = study.run(tmp_path / "store", executor=pool, progress=False)
    ex = Explorer(result.results_path)
    assert ex.state["step"] == 9 and ex.error is None
    ex.controls["problem"].value = "forrester"
    comp = ex.comparison
    assert (comp.step, comp.baseline) == (9, "random")
    assert list(comp.table["planner_a"]) == ["sobol"]
    assert sorted(median_lines(ex)) == ["random", "sobol"]


def test_controls_update_only_what_depends_on_them(
    explorer: Explorer, no_png: list[object]
) -> None:
    figure, comparison = explorer.figure, explorer.comparison
    explorer.controls["baseline"].value = "bo"
    assert explorer.figure is figure and explorer.comparison is not comparison
    comparison = explorer.comparison
    explorer.controls["log_scale"].value = True
    assert explorer.comparison is comparison and explorer.figure is not figure
    explorer.refresh()
    assert explorer.comparison is not comparison
    assert explorer.comparison.baseline == "bo"
    assert explorer.figure.axes[0].get_yscale() == "log"


def test_colours_without_the_style_module(
    study: pd.DataFrame, monkeypatch, no_png: list[object]
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ardlib.reports._style", None)  # import fails
    ex = Explorer(study)
    colors = line_colors(ex)
    assert sorted(colors) == list(PLANNERS) and len(set(colors.values())) == len(PLANNERS)
    ex.controls["problem"].value = "flat"
    assert line_colors(ex) == colors


def test_missing_extra_says_how_to_install(study: pd.DataFrame, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(ImportError, match=r"ardlib\[reports\]"):
        Explorer(study)
