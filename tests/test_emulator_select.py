"""Output-model selection of the emulators and the far-from-data flag of their optimum.

Small synthetic datasets written in the Olympus layout (so they save and load like the
lab data): a positive, strongly skewed surface (the log model must win), a Gaussian one
(identity must stay), one with a hole around its peak (the optimum must be flagged) and
pure noise (the R^2 floor must refuse it).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from ardlib.objectives import (
    Emulator,
    ModelSelection,
    OutputTransform,
    load_dataset,
)
from ardlib.objectives._emulator_fit import CVResult
from ardlib.objectives._emulator_select import (
    FAR_SD_RATIO,
    CandidateScore,
    emulator_selection_rows,
    paired_se,
    select_model,
)


def write_dataset(root: Path, name: str, X: np.ndarray, y: np.ndarray) -> Path:
    """``root/name/{data.csv, config.json}`` on the unit square, maximize."""
    folder = root / name
    folder.mkdir(parents=True)
    rows = np.column_stack([X, y])
    (folder / "data.csv").write_text(
        "\n".join(",".join(repr(float(v)) for v in r) for r in rows) + "\n"
    )
    params = [
        {"name": f"x{j}", "type": "continuous", "low": 0.0, "high": 1.0} for j in range(X.shape[1])
    ]
    config = {
        "parameters": params,
        "measurements": [{"name": "y", "type": "continuous"}],
        "default_goal": "maximize",
    }
    (folder / "config.json").write_text(json.dumps(config))
    return root


def skewed(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    X = rng.random((60, 2))
    f = 6.0 * X[:, 0] + 3.0 * X[:, 1] ** 2 - 4.0  # exponential growth: 0.02 .. 130
    y = np.exp(f + 0.1 * rng.standard_normal(60))  # with multiplicative noise
    return write_dataset(tmp_path, "skewed", X, y)


def gaussian(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    X = rng.random((70, 2))
    y = np.sin(4.0 * X[:, 0]) + np.cos(3.0 * X[:, 1]) + 0.1 * rng.standard_normal(70)
    return write_dataset(tmp_path, "gauss", X, y)


@pytest.fixture(scope="module")
def skewed_emulator(tmp_path_factory: pytest.TempPathFactory) -> Emulator:
    root = skewed(tmp_path_factory.mktemp("skewed"))
    return Emulator.fit("skewed", data_root=root)


# ---------------------------------------------------------------------------- transforms
@pytest.mark.parametrize("lmbda", [-1.3, 0.0, 0.5, 2.0, 2.7])
def test_yeo_johnson_matches_scipy_and_inverts(lmbda: float) -> None:
    y = np.linspace(-3.0, 5.0, 41)
    t = OutputTransform("yeo-johnson", lmbda, -100.0, 100.0)
    np.testing.assert_allclose(t.forward(y), stats.yeojohnson(y, lmbda), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(t.inverse(t.forward(y)), y, rtol=1e-10, atol=1e-10)
    h = 1e-6
    z = t.forward(y)
    fd = (t.inverse(z + h) - t.inverse(z - h)) / (2 * h)
    np.testing.assert_allclose(t.inverse_slope(z), fd, rtol=1e-5)


def test_transform_fit_round_trip_and_errors() -> None:
    y = np.array([0.5, 1.0, 3.0, 20.0])
    t = OutputTransform.fit("yeo-johnson", y)
    assert t.lo == 0.5 - 19.5 and t.hi == 20.0 + 19.5
    assert t.lmbda == pytest.approx(stats.yeojohnson(y)[1], rel=1e-12)
    assert OutputTransform.from_dict(json.loads(json.dumps(t.to_dict()))) == t
    assert OutputTransform.from_dict(None) == OutputTransform("identity")
    np.testing.assert_allclose(OutputTransform.fit("log", y).inverse(np.log(y)), y, rtol=1e-15)
    assert not OutputTransform.applicable("log", np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="strictly positive"):
        OutputTransform.fit("log", np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"'transform' parameter.*'box-cox'"):
        OutputTransform.fit("box-cox", y)
    t = OutputTransform("yeo-johnson", -2.0, -1.0, 3.0)  # g bounded above by 1/2
    assert np.all(np.isfinite(t.inverse(np.array([0.49, 0.5, 10.0]))))
    assert t.inverse(np.array([10.0]))[0] == pytest.approx(3.0)


# ---------------------------------------------------------------------------- the rule
def score(model: str, r2: float, folds: list[float]) -> CandidateScore:
    return CandidateScore(model, CVResult(5, 50, r2, 1.0, 0.5, 0.9), tuple(folds))


def test_rule_needs_margin_and_two_standard_errors() -> None:
    base = score("identity", 0.80, [0.8] * 5)
    steady = score("log", 0.815, [0.815] * 5)  # +0.015, no fold-to-fold scatter
    assert select_model([base, steady]).chosen == "log"
    small = score("log", 0.805, [0.805] * 5)  # below the 0.01 margin
    assert select_model([base, small]).chosen == "identity"
    noisy = score("log", 0.83, [0.9, 0.7, 0.95, 0.75, 0.85])  # +0.03 but se ~0.05
    assert paired_se(noisy, base) > 0.015
    assert select_model([base, noisy]).chosen == "identity"
    best = select_model([base, steady, score("yeo-johnson", 0.82, [0.82] * 5)])
    assert best.chosen == "yeo-johnson" and best.table()[0]["model"] == "identity"
    assert ModelSelection.from_dict(json.loads(json.dumps(best.to_dict()))) == best


# ---------------------------------------------------------------------------- selection
def test_log_chosen_on_a_skewed_positive_surface(skewed_emulator: Emulator) -> None:
    emu = skewed_emulator
    sel = emu.selection_
    assert sel is not None and sel.chosen == "log" == emu.model_
    r2 = {c.model: c.cv.r2 for c in sel.candidates}
    assert r2["log"] >= r2["identity"] + 0.01
    assert emu.cv_.r2 == r2["log"]
    X = np.random.default_rng(2).random((30, 2))
    post = emu.predict(X)
    np.testing.assert_array_equal(post.mean, emu.evaluate_true(X))
    assert np.all(post.mean > 0) and np.all(post.var > 0)
    data_best = emu.evaluate_true(emu.dataset.X).max()
    assert emu.optimal_value >= data_best


@pytest.mark.slow
def test_identity_kept_on_a_gaussian_surface(tmp_path: Path) -> None:
    emu = Emulator.fit("gauss", data_root=gaussian(tmp_path))
    assert emu.selection_ is not None
    assert [c.model for c in emu.selection_.candidates] == ["identity", "yeo-johnson"]  # y < 0
    assert emu.model_ == "identity" and emu.selection_.chosen == "identity"
    only = Emulator.fit("gauss", data_root=tmp_path, candidates=["identity"])
    X = np.random.default_rng(3).random((20, 2))
    np.testing.assert_array_equal(only.evaluate_true(X), emu.evaluate_true(X))
    np.testing.assert_array_equal(only.optimizers, emu.optimizers)


def test_transformed_emulator_round_trip(skewed_emulator: Emulator, tmp_path: Path) -> None:
    emu = skewed_emulator
    path = emu.save(tmp_path / "skewed.json")
    back = Emulator.load(path, data_root=emu.dataset.root)
    assert back.model_ == "log" and back.transform_ == emu.transform_
    assert back.selection_ == emu.selection_ and back.support_ == emu.support_
    X = np.random.default_rng(4).random((50, 2))
    np.testing.assert_array_equal(back.evaluate_true(X), emu.evaluate_true(X))
    np.testing.assert_array_equal(back.predict(X).var, emu.predict(X).var)
    assert back.optimal_value == emu.optimal_value and back.to_dict() == emu.to_dict()
    rows = emulator_selection_rows(
        {"skewed": {"model": "log", "candidates": emu.selection_.table()}}
    )
    assert rows[0]["Chosen model"] == "log" and rows[0]["CV R² (log)"] == emu.cv_.r2


def test_settings_are_checked(tmp_path: Path) -> None:
    root = gaussian(tmp_path)
    with pytest.raises(ValueError, match=r"'candidates' parameter.*'identity' first"):
        Emulator.fit("gauss", data_root=root, candidates=["log", "identity"])
    with pytest.raises(ValueError, match=r"'candidates' parameter"):
        Emulator.fit("gauss", data_root=root, candidates=["identity", "box-cox"])
    with pytest.raises(ValueError, match=r"'margin' parameter"):
        Emulator.fit("gauss", data_root=root, margin=-0.1)


# ---------------------------------------------------------------------------- floor, flag
def test_floor_refuses_a_bad_fit(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    root = write_dataset(tmp_path, "noise", rng.random((40, 2)), rng.standard_normal(40))
    with pytest.raises(
        ValueError, match=r"dataset 'noise'.*R\^2 = .*\(model '.*'\).*min_r2 = 0\.7"
    ):
        Emulator.fit("noise", data_root=root)


@pytest.mark.slow
def test_optimum_in_a_hole_is_flagged(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    X = rng.random((400, 2))
    X = X[np.linalg.norm(X - 0.5, axis=1) > 0.3][:120]  # no row within 0.3 of the peak
    y = 3.0 * np.exp(-6.0 * np.sum((X - 0.5) ** 2, axis=1)) + 0.02 * rng.standard_normal(len(X))
    emu = Emulator.fit("hole", data_root=write_dataset(tmp_path, "hole", X, y))
    assert np.linalg.norm(emu.optimizers[0] - 0.5) < 0.3  # the peak, inside the hole
    s = emu.support_
    assert s.extrapolated and s.sd_ratio > FAR_SD_RATIO
    assert emu.optimal_value > y.max()
    assert emu.to_dict()["optimum"]["support"]["extrapolated"] is True
    assert load_dataset("hole", tmp_path).n == len(X)
