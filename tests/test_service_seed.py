"""``seed_demo``: the demo database holds campaigns really run by ardlib's planners."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest

from ardlib.objectives import get_problem, noise_from_spec
from ardlib.service import create_app, seed_demo
from ardlib.service._seed import DEMO_PROBLEMS, DEMO_USER
from ardlib.study import PlannerSpec, run_campaign

# The shared fixtures (api, api_server, backend, postgres, ...), loaded explicitly.
pytest_plugins = ["conftest_service"]


NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def read_back(serve_app: Any, settings_for: Any) -> Callable[[str], dict[str, Any]]:
    """Read every listing of a database through a live server on it."""
    return lambda url: _listing(url, serve_app, settings_for)


def _listing(url: str, serve_app: Any, settings_for: Any) -> dict[str, Any]:
    with (
        serve_app(create_app(settings_for(url))) as server,
        httpx.Client(base_url=server.url, verify=False) as c,  # plain HTTP: no CA bundle
    ):
        return {
            "runs": c.get("/api/optimization_runs", params={"limit": 1000}).json(),
            "experiments": c.get("/api/experiments", params={"limit": 1000}).json(),
            "queries": c.get("/api/ai_queries", params={"include_cost_analysis": True}).json(),
        }


def _monotone(values: list[float | None], goal: str) -> bool:
    v = np.array([x for x in values if x is not None], dtype=float)
    steps = np.diff(v) if goal == "minimize" else -np.diff(v)
    return bool(np.all(steps <= 1e-12))


@pytest.mark.slow  # every demo campaign at full budget (~2 s a backend); the small one stays fast
def test_seed_demo_stores_real_campaigns(
    new_database_url: str, read_back: Callable[[str], dict[str, Any]]
) -> None:
    report = seed_demo(new_database_url, rng=0, now=NOW)
    n_problems = len(report.problems)
    assert {"branin", "hartmann3"} <= set(report.problems)
    assert report.n_runs == 3 * n_problems
    budgets = {name: budget for name, budget, _ in DEMO_PROBLEMS}
    assert report.n_experiments == 3 * sum(budgets[p] for p in report.problems)
    data = read_back(new_database_url)
    runs = data["runs"]["optimization_runs"]
    experiments = data["experiments"]["experiments"]
    assert len(runs) == report.n_runs and len(experiments) == report.n_experiments
    assert {r["method"] for r in runs} == {"random_search", "sobol", "bayesian_optimization"}

    final_regret: dict[tuple[str, str], float] = {}
    for run in runs:
        assert run["status"] == "completed" and run["created_by"] == DEMO_USER
        problem = get_problem(run["objective"])
        goal, res = run["goal"], run["results"]
        trace = res["convergence"]
        assert [p["step"] for p in trace] == list(range(1, run["budget"] + 1))
        assert _monotone([p["best_observed"] for p in trace], goal)
        assert _monotone([p["regret"] for p in trace], "minimize")
        assert all(p["regret"] is None or p["regret"] >= -1e-9 for p in trace)
        assert run["best_value"] == pytest.approx(trace[-1]["best_observed"])
        final_regret[(run["objective"], run["method"])] = res["final_regret"]

        if run["objective"] == "branin":
            # The trace is the campaign the run's own config describes, re-run here.
            cfg = run["config"]
            again = run_campaign(
                problem,
                PlannerSpec(cfg["planner"], cfg["planner_class"], {}),
                cfg["budget"],
                noise_from_spec(cfg["noise"]),
                rng=cfg["seed"],
            ).results
            np.testing.assert_allclose(
                [p["regret"] for p in trace], again["regret_oracle"], rtol=1e-9, equal_nan=True
            )

        mine = sorted(
            (e for e in experiments if e["optimization_run_id"] == run["id"]),
            key=lambda e: e["context"]["step"],
        )
        assert len(mine) == run["budget"]
        names = run["parameter_space"]["names"]
        X = np.array([[e["parameters"][n] for n in names] for e in mine])
        truth = np.array([e["results"]["true_value"] for e in mine])
        np.testing.assert_allclose(problem.evaluate_true(X), truth, rtol=1e-9)
        for e in mine:
            assert e["method"] == run["method"]
            assert _ts(e["start_time"]) < _ts(e["end_time"]) <= NOW - timedelta(minutes=15)
            if e["status"] == "failed":
                assert e["results"]["observed"] is None and e["error_message"]
            else:
                assert e["status"] == "completed"
                assert abs(e["results"]["observed"] - e["results"]["true_value"]) < (
                    6 * e["noise_estimate"] + 1e-12
                )
        starts = [_ts(e["start_time"]) for e in mine]
        assert starts == sorted(starts)
    assert sum(e["status"] == "failed" for e in experiments) >= 1
    latest = max(_ts(e["end_time"]) for e in experiments)
    assert latest == NOW - timedelta(minutes=15)

    # GP-BO beats random search and Sobol on Branin for this seed (true regret of the
    # recommendation after 40 evaluations).
    gp = final_regret[("branin", "bayesian_optimization")]
    assert gp < final_regret[("branin", "random_search")]
    assert gp < final_regret[("branin", "sobol")]

    queries = data["queries"]
    assert queries["count"] == report.n_ai_queries == 1 + n_problems
    assert {q["selected_model"] for q in queries["ai_queries"]} == {"ardlib-guide", "ardlib-gpbo"}
    assert queries["cost_analysis"]["total_cost_usd"] == 0.0


def test_seed_demo_is_deterministic_and_replaces_its_own_rows(
    tmp_path: Any, read_back: Callable[[str], dict[str, Any]]
) -> None:
    small = (("branin", 8, 0.1),)  # 5 initial Sobol points, then 3 GP-BO steps
    a, b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    seed_demo(a, rng=7, now=NOW, problems=small)
    seed_demo(b, rng=7, now=NOW, problems=small)
    seed_demo(b, rng=7, now=NOW, problems=small)  # replaces, does not append
    first, second = read_back(a), read_back(b)
    for q in (*first["queries"]["ai_queries"], *second["queries"]["ai_queries"]):
        q.pop("latency_ms")
        q.pop("id")
    first["queries"].pop("cost_analysis")
    second["queries"].pop("cost_analysis")

    def strip_ids(listing: dict[str, Any]) -> dict[str, Any]:
        for key in ("optimization_runs", "experiments"):
            for row in listing.get(key, []):
                row.pop("id", None)
                row.pop("optimization_run_id", None)
        return listing

    assert strip_ids(first["runs"]) == strip_ids(second["runs"])
    assert strip_ids(first["experiments"]) == strip_ids(second["experiments"])
    assert first["queries"] == second["queries"]
    other = f"sqlite:///{tmp_path / 'c.db'}"
    seed_demo(other, rng=8, now=NOW, problems=small)
    assert strip_ids(read_back(other)["runs"]) != strip_ids(first["runs"])
    with pytest.raises(ValueError, match="'rng' parameter of seed_demo"):
        seed_demo(a, rng=-1)
