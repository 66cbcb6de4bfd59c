"""Studies built from params.yaml-style configuration."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ardlib.objectives import Objective, _registry, register_problem
from ardlib.study import PLANNER_PRESETS, studies_from_config, study_from_config
from ardlib.study._cli import run_study_command


class NoisyLab(Objective):
    """A 1-D bowl carrying a replicate noise level, like an emulator."""

    name = "noisy_lab"
    noise_sd = 0.25

    def __init__(self) -> None:
        self._set_box([[0.0, 1.0]])
        self.optimal_value = 0.0
        self.optimizers = np.array([[0.5]])

    def _evaluate(self, X: np.ndarray) -> np.ndarray:
        return (X[:, 0] - 0.5) ** 2


@pytest.fixture
def noisy_lab(monkeypatch: pytest.MonkeyPatch) -> str:
    """NoisyLab registered for one test only (a global registration leaks into the
    accuracy table and every other test that lists problems)."""
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    register_problem("test_noisy_lab", NoisyLab)
    return "test_noisy_lab"


BASE = {
    "problems": ["branin"],
    "planners": ["random", "sobol"],
    "noises": {"sd0": None, "sd1": {"model": "GaussianNoise", "sd": 1.0}},
    "replicates": 2,
    "budget": 4,
    "master_seed": 3,
}


def test_presets_problems_and_noises_become_specs() -> None:
    study = study_from_config("b", BASE)
    assert [p.name for p in study.planners] == ["random", "sobol"]
    assert study.planners[0].to_json()["cls"] == PLANNER_PRESETS["random"][0]
    assert [n.label for n in study.noises] == ["sd0", "sd1"]
    assert study.noises[1].to_json()["model"] == {"model": "GaussianNoise", "sd": 1.0}
    assert len(study.cells()) == 1 * 2 * 2 * 2


def test_relative_noise_is_scaled_by_the_problem_and_hashed_absolute(noisy_lab: str) -> None:
    cfg = dict(BASE, problems=[noisy_lab])
    cfg["noises"] = {
        "lab": {
            "relative_to": "noise_sd",
            "model": "Compose",
            "models": [
                {"model": "HeteroscedasticNoise", "relative_sd": 0.1, "floor_sd": 2.0},
                {"model": "GaussianNoise", "sd": 4.0},
            ],
        }
    }
    spec = study_from_config("lab", cfg).noises[0].to_json()["model"]
    hetero, gauss = spec["models"]
    assert hetero == {"model": "HeteroscedasticNoise", "relative_sd": 0.1, "floor_sd": 0.5}
    assert gauss == {"model": "GaussianNoise", "sd": 1.0}
    absolute = dict(
        cfg, noises={"lab": {k: v for k, v in cfg["noises"]["lab"].items() if k != "relative_to"}}
    )
    assert study_from_config("x", absolute).study_hash != study_from_config("x", cfg).study_hash


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"planners": ["warp_drive"]}, "Unknown planner preset 'warp_drive'"),
        ({"colour": "red"}, r"unknown key\(s\) \['colour'\]"),
        ({"noises": {}}, "'noises' must be a non-empty mapping"),
        ({"budget": 0}, "The 'budget' parameter of study 'b' must be an int >= 1"),
        ({"problems": [42]}, "A 'problems' entry must be a registry name"),
        (
            {"noises": {"x": {"relative_to": "noise_sd", "model": "GaussianNoise", "sd": 1.0}}},
            "has no positive 'noise_sd'",
        ),
    ],
)
def test_malformed_configuration_names_the_problem(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        study_from_config("b", {**BASE, **change})


def test_missing_keys_are_listed() -> None:
    with pytest.raises(ValueError, match=r"missing key\(s\) \['budget'\]"):
        study_from_config("b", {k: v for k, v in BASE.items() if k != "budget"})
    with pytest.raises(ValueError, match="non-empty mapping"):
        studies_from_config({})


@pytest.mark.slow  # a process pool's start (~1 s); the pipeline smoke runs the command too
def test_cli_runs_a_section_and_writes_results_and_manifest(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"studies": {"tiny": BASE}}))
    args = argparse.Namespace(
        params=str(params),
        section="studies",
        out=str(tmp_path / "out"),
        only=None,
        workers=1,
        scheduler=None,
        no_progress=True,
    )
    assert run_study_command(args) == 0
    meta = json.loads((tmp_path / "out" / "tiny.json").read_text())
    df = pd.read_parquet(tmp_path / "out" / "tiny.parquet")
    assert meta["n_cells"] == 8 and len(df) == 8 * 4
    assert meta["study_hash"] == study_from_config("tiny", BASE).study_hash
    args.only = ["nope"]
    assert run_study_command(args) == 2
