"""The reasoning stream against a live server: event order, trace ids, GP-BO answers,
answers without context, in-band errors, and the ai_queries log."""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np
import pytest
from scipy.stats import qmc

from ardlib.service import create_app
from ardlib.service._reasoning import Answer, SearchProblem

# The shared fixtures (api, api_server, backend, postgres, ...), loaded explicitly.
pytest_plugins = ["conftest_service"]

LO, HI = np.array([-2.0, 0.0]), np.array([2.0, 10.0])
OPTIMUM = np.array([0.5, 7.0])


def quadratic(X: np.ndarray) -> np.ndarray:
    return np.asarray(np.sum(((X - OPTIMUM) / (HI - LO)) ** 2, axis=1))


def _observed_context(n: int = 12, seed: int = 0, goal: str = "minimize") -> dict[str, Any]:
    X = LO + qmc.Sobol(2, rng=seed).random(16)[:n] * (HI - LO)
    y = quadratic(X) * (1.0 if goal == "minimize" else -1.0)
    return {
        "parameter_space": {"bounds": np.c_[LO, HI].tolist(), "names": ["temp", "time"]},
        "observations": {"X": X.tolist(), "y": y.tolist()},
        "goal": goal,
    }


def stream(
    client: httpx.Client, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[httpx.Response, list[tuple[str, dict[str, Any]]]]:
    """POST a query and parse the event stream line by line."""
    events: list[tuple[str, dict[str, Any]]] = []
    with client.stream("POST", "/api/reasoning/query", json=body, headers=headers) as r:
        if r.status_code != 200:
            r.read()
            return r, events
        name, data = "message", []
        for line in r.iter_lines():
            if line == "":
                if data:
                    events.append((name, json.loads("\n".join(data))))
                name, data = "message", []
            elif line.startswith(":"):
                continue
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
    return r, events


def test_stream_is_preliminary_final_done_with_one_trace_id(
    api: httpx.Client, backend: str
) -> None:
    body = {"query": "What next?", "context": _observed_context(), "created_by": "lab-7"}
    r, events = stream(api, body, headers={"X-Request-ID": "trace-abc.1"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["x-request-id"] == "trace-abc.1"
    assert [name for name, _ in events] == ["preliminary", "final", "done"]
    assert {data["trace_id"] for _, data in events} == {"trace-abc.1"}
    (_, pre), (_, fin), (_, done) = events
    assert done == {"trace_id": "trace-abc.1"}
    for data, preliminary in ((pre, True), (fin, False)):
        resp = data["response"]
        assert {"model", "content", "latency_ms", "is_preliminary", "confidence", "usage"} <= set(
            resp
        )
        assert resp["is_preliminary"] is preliminary
        assert isinstance(data["message"], str) and data["message"]
        assert resp["usage"]["input_tokens"] == resp["usage"]["output_tokens"] == 0
        assert 0.0 <= resp["confidence"] <= 1.0
    assert pre["response"]["model"] == "ardlib-sobol"
    assert fin["response"]["model"] == "ardlib-gpbo"
    assert pre["response"]["latency_ms"] <= fin["response"]["latency_ms"]

    logged = api.get("/api/ai_queries", params={"include_cost_analysis": True}).json()
    assert logged["count"] == 1
    q = logged["ai_queries"][0]
    assert q["trace_id"] == "trace-abc.1" and q["query"] == "What next?"
    assert q["selected_model"] == "ardlib-gpbo" and q["created_by"] == "lab-7"
    assert q["context"] == body["context"]
    assert (q["input_tokens"], q["output_tokens"], q["cost_usd"]) == (0, 0, 0.0)
    assert q["latency_ms"] >= fin["response"]["latency_ms"] > 0
    assert logged["cost_analysis"]["total_cost_usd"] == 0.0

    # Without X-Request-ID the service makes one and uses it as the trace id.
    r, events = stream(api, {"query": "again"})
    assert r.headers["x-request-id"] == events[-1][1]["trace_id"] != "trace-abc.1"


@pytest.mark.parametrize("goal", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", [0, 3])
def test_final_suggestion_is_near_the_optimum_the_observations_point_to(
    api: httpx.Client, goal: str, seed: int
) -> None:
    context = _observed_context(seed=seed, goal=goal)
    _, events = stream(api, {"query": "next?", "context": context})
    pre = events[0][1]["response"]["suggestion"]
    fin = events[1][1]["response"]
    s = fin["suggestion"]
    x, x_pre = np.array(s["x"]), np.array(pre["x"])
    assert np.all((x >= LO) & (x <= HI)) and np.all((x_pre >= LO) & (x_pre <= HI))
    assert s["parameters"] == {"temp": s["x"][0], "time": s["x"][1]}
    # 12 quasi-random observations of a bowl: the GP's pick lies near its bottom and is
    # better than every observation, while the space-filling pick knows nothing of it.
    best_seen = float(np.min(quadratic(np.array(context["observations"]["X"]))))
    assert np.max(np.abs(x - OPTIMUM) / (HI - LO)) < 0.05
    assert quadratic(x[None])[0] < best_seen
    sign = 1.0 if goal == "minimize" else -1.0
    assert s["predicted_mean"] == pytest.approx(sign * quadratic(x[None])[0], abs=0.01)
    assert 0.0 < s["predicted_std"] < 0.05
    assert fin["best_observed"]["y"] == pytest.approx(sign * best_seen)
    assert "temp = " in fin["content"] and "±" in fin["content"]
    assert fin["confidence"] > 0.5


def test_without_a_parameter_space_the_answer_says_what_it_needs(api: httpx.Client) -> None:
    _, events = stream(api, {"query": "How is it going?", "context": {"note": "hello"}})
    assert [n for n, _ in events] == ["preliminary", "final", "done"]
    fin = events[1][1]["response"]
    assert fin["model"] == "ardlib-guide" and fin["confidence"] == 0.0
    assert "parameter_space" in fin["content"] and "bounds" in fin["content"]
    assert "context.parameter_space.bounds" in fin["needs"]
    assert fin["context_example"]["parameter_space"]["bounds"]
    assert api.get("/api/ai_queries").json()["ai_queries"][0]["selected_model"] == "ardlib-guide"


def test_with_too_few_successes_the_final_answer_is_space_filling(api: httpx.Client) -> None:
    context = {
        "parameter_space": {"bounds": [[0, 1], [0, 1], [0, 1]]},
        "observations": {"X": [[0.2, 0.2, 0.2], [0.9, 0.1, 0.5]], "y": [1.0, None]},
    }
    _, events = stream(api, {"query": "next", "context": context})
    fin = events[1][1]["response"]
    assert fin["model"] == "ardlib-sobol" and not fin["is_preliminary"]
    assert "at least 2" in fin["content"]
    x = np.array(fin["suggestion"]["x"])
    assert np.all((x >= 0) & (x <= 1))


BAD_CONTEXTS = [
    ({"parameter_space": [[0, 1]]}, "context.parameter_space"),
    ({"parameter_space": {"bounds": [[1, 0]]}}, "context.parameter_space.bounds[0]"),
    ({"parameter_space": {"bounds": [[0, 1], [0, "a"]]}}, "context.parameter_space.bounds[1]"),
    ({"parameter_space": {"bounds": [[0, 1]], "names": ["a", "b"]}}, "parameter_space.names"),
    (
        {
            "parameter_space": {"bounds": [[0, 1]]},
            "observations": {"X": [[0.5], [2.0]], "y": [1, 2]},
        },
        "context.observations.X[1]",
    ),
    (
        {"parameter_space": {"bounds": [[0, 1]]}, "observations": {"X": [[0.5]], "y": [1, 2]}},
        "context.observations.y",
    ),
    (
        {"parameter_space": {"bounds": [[0, 1]]}, "observations": {"X": [[0.5]], "y": ["x"]}},
        "context.observations.y[0]",
    ),
    ({"parameter_space": {"bounds": [[0, 1]]}, "goal": "max"}, "context.goal"),
]


@pytest.mark.parametrize(("context", "named"), BAD_CONTEXTS)
def test_malformed_context_is_an_error_event_then_done(
    api: httpx.Client, context: dict[str, Any], named: str
) -> None:
    r, events = stream(api, {"query": "next?", "context": context}, {"X-Request-ID": "bad-ctx"})
    assert r.status_code == 200
    assert [n for n, _ in events] == ["error", "done"]
    err = events[0][1]
    assert {"error", "type", "retryable", "code"} <= set(err)
    assert err["code"] == "invalid_context" and err["retryable"] is False
    assert named in err["error"]
    assert events[1][1] == {"trace_id": "bad-ctx"}
    assert api.get("/api/ai_queries").json()["ai_queries"][0]["trace_id"] == "bad-ctx"


class _Broken:
    def final(self, problem: SearchProblem | None) -> Answer:
        raise RuntimeError("GP exploded")


def test_planner_failure_after_the_preliminary_answer_still_ends_with_done(
    new_database_url: str, serve_app: Any, settings_for: Any
) -> None:
    app = create_app(settings_for(new_database_url))
    app.state.reasoner = _Broken()
    with serve_app(app) as server, httpx.Client(base_url=server.url) as client:
        _, events = stream(client, {"query": "next?", "context": _observed_context()})
        assert [n for n, _ in events] == ["preliminary", "error", "done"]
        err = events[1][1]
        assert err["code"] == "planner_failed" and "GP exploded" in err["error"]
        assert client.get("/api/ai_queries").json()["count"] == 1


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"context": {}}, "field 'query'"),
        ({"query": ""}, "field 'query'"),
        ({"query": "q", "context": [1]}, "field 'context'"),
        ({"query": 3}, "field 'query'"),
    ],
)
def test_bad_reasoning_body_is_422_before_any_stream(
    api: httpx.Client, body: dict[str, Any], named: str
) -> None:

    r, events = stream(api, body)
    assert r.status_code == 422 and events == []
    assert r.json()["code"] == "validation_error" and named in r.json()["error"]
