"""Specs and study definitions: canonical JSON, hashes, lazy resolution, validation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_study_support import (
    RANDOM,
    SOBOL,
    OffsetNoise,
    Sphere,
    hide_objectives_names,
    small_study,
)

import ardlib.objectives
import ardlib.study
import ardlib.study._study
from ardlib._io import canonical_json
from ardlib._rng import derive_seed
from ardlib.planners import RandomSearch
from ardlib.study import NoiseSpec, PlannerSpec, ProblemSpec, Study


def make_sphere() -> Sphere:
    return Sphere()


def test_a_class_and_its_dotted_path_are_the_same_planner_spec() -> None:
    by_class = PlannerSpec("random", RandomSearch)
    by_path = PlannerSpec("random", "ardlib.planners.RandomSearch")
    assert by_class.to_json() == {
        "name": "random",
        "cls": "ardlib.planners.RandomSearch",
        "params": {},
    }
    assert by_class == by_path and hash(by_class) == hash(by_path)
    assert PlannerSpec("random", RandomSearch, {"x": 1}) != by_class


def test_specs_are_json_round_trips_and_copied() -> None:
    params: dict[str, Any] = {"points": ((0.1, 0.2),), "xi": 0.5}
    spec = PlannerSpec("p", RandomSearch, params)
    params["xi"] = 9.0
    assert spec.params == {"points": [[0.1, 0.2]], "xi": 0.5}
    for s in (
        spec,
        ProblemSpec("sphere", {"d": [1, 2]}, make_sphere),
        NoiseSpec("o", OffsetNoise()),
    ):
        assert json.loads(canonical_json(s.to_json())) == s.to_json()
        assert len({s, s}) == 1


def test_problem_key_lists_kwargs_in_sorted_order() -> None:
    assert ProblemSpec("branin").key == "branin"
    assert ProblemSpec("ackley", {"dim": 5, "a": 0.5}).key == "ackley(a=0.5, dim=5)"


def test_problem_factory_given_by_callable_or_path() -> None:
    by_path = ProblemSpec("s", factory="test_study_specs.make_sphere")
    assert by_path == ProblemSpec("s", factory=make_sphere)
    assert isinstance(by_path.build(), Sphere)


def test_registry_and_noise_spec_dicts_are_resolved_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    def get_problem(name: str, **kw: Any) -> Sphere:
        calls.append((name, kw))
        return Sphere()

    def noise_from_spec(spec: dict[str, Any]) -> OffsetNoise:
        return OffsetNoise(sd=spec["sd"])

    monkeypatch.setattr(ardlib.objectives, "get_problem", get_problem, raising=False)
    monkeypatch.setattr(ardlib.objectives, "noise_from_spec", noise_from_spec, raising=False)
    assert isinstance(ProblemSpec("sphere", {"k": 1}).build(), Sphere)
    assert calls == [("sphere", {"k": 1})]
    model = NoiseSpec("o", {"model": "OffsetNoise", "sd": 0.3}).build()
    assert isinstance(model, OffsetNoise) and model.sd == 0.3
    assert NoiseSpec("o", OffsetNoise(0.3)) == NoiseSpec("o", {"model": "OffsetNoise", "sd": 0.3})


def test_missing_registry_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    hide_objectives_names(monkeypatch, "get_problem", "noise_from_spec")
    with pytest.raises(ImportError, match=r"get_problem.*factory"):
        ProblemSpec("branin").build()
    with pytest.raises(ImportError, match="noise_from_spec"):
        NoiseSpec("g", {"model": "GaussianNoise", "sd": 0.1}).build()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: PlannerSpec("", RandomSearch), "'name' parameter of PlannerSpec"),
        (lambda: PlannerSpec("r", Sphere), "'cls' parameter of PlannerSpec"),
        (lambda: PlannerSpec("r", RandomSearch, {"rng": 1}), "must not set 'rng'"),
        (lambda: PlannerSpec("r", RandomSearch, {"xi": float("nan")}), "JSON-able"),
        (lambda: PlannerSpec("r", RandomSearch, {"obj": object()}), "JSON-able"),
        (lambda: ProblemSpec("s", factory=lambda: Sphere()), "module level"),
        (lambda: ProblemSpec("s", factory=3), "'factory' parameter"),
        (lambda: NoiseSpec("n", 0.1), "'model' parameter of NoiseSpec"),
    ],
)
def test_bad_specs_are_refused(make: Any, match: str) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_study_hash_covers_what_determines_results(monkeypatch: pytest.MonkeyPatch) -> None:
    base = small_study()
    assert base.study_hash == small_study().study_hash
    assert small_study(planners=[SOBOL, RANDOM]).study_hash == base.study_hash  # order-free
    for change in (
        {"master_seed": 1},
        {"budget": 7},
        {"replicates": 3},
        {"batch_size": 2},
        {"planners": [RANDOM, PlannerSpec("sobol", "ardlib.planners.Sobol", {"scramble": False})]},
        {"noises": [None, NoiseSpec("offset", OffsetNoise(0.2))]},
    ):
        assert small_study(**change).study_hash != base.study_hash, change
    monkeypatch.setattr(ardlib.study._study, "__version__", "99.0")
    assert small_study().study_hash != base.study_hash


def test_cell_seed_ignores_the_planner() -> None:
    cells = small_study().cells()
    assert len(cells) == 16
    by_planner: dict[str, list[int]] = {}
    for c in cells:
        by_planner.setdefault(c.planner.name, []).append(c.seed)
        assert c.seed == derive_seed(0, c.problem.key, c.noise.label, c.replicate)
    assert by_planner["random"] == by_planner["sobol"]
    assert len(set(by_planner["random"])) == 8
    assert len({c.hash for c in cells}) == 16


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"budget": 0}, ValueError, "'budget' parameter of Study must be an int >= 1"),
        ({"replicates": 0}, ValueError, "'replicates' parameter of Study"),
        ({"batch_size": 0}, ValueError, "'batch_size' parameter of Study"),
        ({"master_seed": -1}, ValueError, "'master_seed' parameter of Study must be an int >= 0"),
        ({"budget": 2.5}, ValueError, "'budget' parameter"),
        ({"problems": []}, ValueError, "'problems' parameter of Study must be a non-empty"),
        ({"planners": []}, ValueError, "'planners' parameter of Study must be a non-empty"),
        ({"noises": []}, ValueError, "'noises' parameter of Study must be a non-empty"),
        ({"problems": "sphere"}, TypeError, "'problems' parameter of Study must be a list"),
        ({"planners": [RandomSearch]}, TypeError, "'planners' parameter"),
        (
            {"planners": [RANDOM, PlannerSpec("random", "ardlib.planners.Sobol")]},
            ValueError,
            "unique names; 'random'",
        ),
        ({"noises": [None, NoiseSpec("none", OffsetNoise())]}, ValueError, "unique labels"),
        ({"problems": [ProblemSpec("s", factory=Sphere)] * 2}, ValueError, "unique keys"),
    ],
)
def test_bad_study_arguments(change: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        small_study(**change)


def test_study_accepts_names_and_none() -> None:
    study = Study(["branin"], [RANDOM], [None], replicates=1, budget=3, master_seed=0)
    assert study.problems == (ProblemSpec("branin"),)
    assert study.noises == (NoiseSpec("none"),)
    assert study.spec()["noises"] == [{"label": "none", "model": None}]
