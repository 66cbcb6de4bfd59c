"""The individual smoke checks, each looking at raw responses through a recording probe.

A check function returns ``(passed, detail)``, with ``passed=None`` for "skipped"; the
runner in :mod:`._smoke` times it and turns it into a :class:`SmokeCheck`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import httpx

from ..client import (
    AIQuery,
    ARDError,
    Client,
    Event,
    Experiment,
    OptimizationRun,
    Records,
    SSEDecoder,
)

__all__ = [
    "LISTINGS",
    "REASONING_CONTEXT",
    "Outcome",
    "Probe",
    "check_cors",
    "check_health",
    "check_listing",
    "check_no_5xx",
    "check_page",
    "check_read_protection",
    "check_reasoning",
    "check_security_headers",
]

Outcome = tuple[bool | None, str]

#: The context of the smoke reasoning query: a 2-d parameter space and three observations.
REASONING_CONTEXT: dict[str, Any] = {
    "parameter_space": {"bounds": [[0, 1], [0, 1]]},
    "observations": {"X": [[0.1, 0.2], [0.5, 0.5], [0.9, 0.1]], "y": [1.0, 0.2, 0.8]},
    "goal": "minimize",
}
REASONING_QUERY = "Suggest the next experiment to run."

#: Fields every experiment, optimization run and AI query must carry (the API's contract).
EXPERIMENT_FIELDS = (
    "id", "optimization_run_id", "method", "parameters", "context", "noise_estimate",
    "results", "status", "start_time", "end_time", "error_message", "created_by", "created_at",
)  # fmt: skip
OPTIMIZATION_RUN_FIELDS = ("id", "method", "status", "created_at")
AI_QUERY_FIELDS = (
    "id", "query", "context", "selected_model", "latency_ms", "input_tokens",
    "output_tokens", "cost_usd", "created_by", "created_at",
)  # fmt: skip
#: path -> (list key, record class, required fields)
LISTINGS: dict[str, tuple[str, type[Any], tuple[str, ...]]] = {
    "/api/experiments": ("experiments", Experiment, EXPERIMENT_FIELDS),
    "/api/optimization_runs": ("optimization_runs", OptimizationRun, OPTIMIZATION_RUN_FIELDS),
    "/api/ai_queries": ("ai_queries", AIQuery, AI_QUERY_FIELDS),
}
EXPERIMENT_STATUSES = frozenset({"pending", "running", "completed", "failed"})
SECURITY_HEADERS: dict[str, Callable[[str], bool]] = {
    "Strict-Transport-Security": lambda v: "max-age=" in v.lower(),
    "X-Content-Type-Options": lambda v: v.strip().lower() == "nosniff",
    "X-Frame-Options": lambda v: v.strip().upper() == "DENY",
}
NOT_FOUND_PATH = "/__ardlib_smoke_not_found__"
EVENT_RESPONSE_FIELDS = ("model", "content", "latency_ms", "is_preliminary", "confidence", "usage")


@dataclasses.dataclass(frozen=True)
class Observation:
    """One request the probe made: endpoint, status (None: no response), time, headers."""

    endpoint: str
    status: int | None
    seconds: float
    headers: httpx.Headers | None
    error: str | None = None


class Probe:
    """Sends single, unretried requests through a client and records every answer.

    ``api_key`` is added as ``X-API-Key`` to every request except those sent with
    ``keyless=True`` (the client itself should then carry no key).
    """

    def __init__(
        self, client: Client, clock: Callable[[], float], api_key: str | None = None
    ) -> None:
        self.client = client
        self.clock = clock
        self.api_key = api_key
        self.observed: list[Observation] = []

    @property
    def has_key(self) -> bool:
        """Whether requests carry an ``X-API-Key`` (the probe's or the client's own)."""
        return bool(self.api_key) or self.client.has_api_key

    def send(
        self,
        method: str,
        path: str,
        *,
        keyless: bool = False,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[httpx.Response | None, str]:
        """Send once; return the response (any status) or None and the error text."""
        endpoint = f"{method} {path}" + (" without key" if keyless else "")
        headers = dict(headers or {})
        if self.api_key and not keyless:
            headers["X-API-Key"] = self.api_key
        t0 = self.clock()
        try:
            response = self.client.request(
                method, path, retries=False, raise_for_status=False, headers=headers, **kwargs
            )
        except ARDError as exc:
            self.observed.append(Observation(endpoint, None, self.clock() - t0, None, str(exc)))
            return None, str(exc)
        self.observed.append(
            Observation(endpoint, response.status_code, self.clock() - t0, response.headers)
        )
        return response, ""


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _json_object(response: httpx.Response, what: str) -> tuple[dict[str, Any] | None, str]:
    if response.status_code != 200:
        return None, f"status {response.status_code} (expected 200): {response.text[:200]!r}"
    if _content_type(response) != "application/json":
        return None, f"content type {_content_type(response) or 'none'!r}, not application/json"
    try:
        body = response.json()
    except ValueError as exc:
        return None, f"body is not valid JSON: {exc}"
    if not isinstance(body, dict):
        return None, f"{what} is a JSON {type(body).__name__}, not an object"
    return body, ""


def check_health(probe: Probe, info: dict[str, Any]) -> Outcome:
    """``GET /health`` answers 200 JSON with ``status == "ok"``; its version goes to ``info``."""
    response, error = probe.send("GET", "/health")
    if response is None:
        return False, error
    body, problem = _json_object(response, "health answer")
    if body is None:
        return False, problem
    if body.get("status") != "ok":
        return False, f"status is {body.get('status')!r}, not 'ok'"
    version = info["version"] = body.get("version")
    return True, "status ok" + (f", version {version}" if version else "")


def check_listing(probe: Probe, path: str) -> Outcome:
    """A listing endpoint answers 200 JSON of the documented shape, ``count == len(list)``
    (AI queries are asked for their ``cost_analysis`` explicitly)."""
    key, model, required = LISTINGS[path]
    params = {"include_cost_analysis": "true"} if path == "/api/ai_queries" else None
    response, error = probe.send("GET", path, params=params)
    if response is None:
        return False, error
    if response.status_code == 401:
        why = "the API key was rejected" if probe.has_key else "reads need --api-key"
        return False, f"401 Unauthorized: {why} (the service protects its listings)"
    body, problem = _json_object(response, "answer")
    if body is None:
        return False, problem
    rows = body.get(key)
    if not isinstance(rows, list):
        return False, f"no {key!r} list in the answer (keys: {sorted(body)})"
    if body.get("count") != len(rows):
        return False, f"count is {body.get('count')!r} but {key!r} holds {len(rows)} records"
    problems = _field_problems(rows, required)
    if path == "/api/experiments":
        bad = sorted(
            {str(r.get("status")) for r in rows if isinstance(r, dict)} - EXPERIMENT_STATUSES
        )
        if bad:
            problems.append(f"unknown experiment status {bad}")
    if path == "/api/ai_queries":
        problems += _cost_problems(body.get("cost_analysis"))
    if not problems:
        try:
            Records.from_payload(body, key, model)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        return False, "; ".join(problems)
    return True, f"{len(rows)} records" + ("" if rows else " (fields not checked: empty)")


def _field_problems(rows: list[Any], required: tuple[str, ...]) -> list[str]:
    missing: dict[str, int] = {}
    for row in rows:
        if not isinstance(row, dict):
            return [f"a record is a JSON {type(row).__name__}, not an object"]
        for name in required:
            if name not in row:
                missing[name] = missing.get(name, 0) + 1
    return [f"field {name!r} missing in {n} of {len(rows)} records" for name, n in missing.items()]


def _cost_problems(cost: Any) -> list[str]:
    if not isinstance(cost, dict):
        return ["no 'cost_analysis' object although include_cost_analysis=true"]
    return [
        f"cost_analysis.{name} is {cost.get(name)!r}, not a number"
        for name in ("total_cost_usd", "average_cost_per_query")
        if isinstance(cost.get(name), bool) or not isinstance(cost.get(name), int | float)
    ]


def check_read_protection(probe: Probe, path: str = "/api/experiments") -> Outcome:
    """Without ``X-API-Key`` the listing ``path`` answers 401 when the service protects
    reads; skipped when it does not (200) or when no key was given to compare with."""
    if probe.client.has_api_key or not probe.api_key:
        why = (
            "the client sends its own key on every request"
            if probe.client.has_api_key
            else "no --api-key given"
        )
        return None, f"{why}: cannot tell protected reads from open ones"
    response, error = probe.send("GET", path, keyless=True)
    if response is None:
        return False, error
    if response.status_code == 401:
        return True, f"GET {path} without the key: 401 (reads protected)"
    if response.status_code == 200:
        return None, f"GET {path} without the key: 200 (the service does not protect reads)"
    return False, (
        f"GET {path} without the key: status {response.status_code} (expected 401, or 200 "
        f"when reads are open): {response.text[:200]!r}"
    )


def check_page(probe: Probe, path: str) -> Outcome:
    """``path`` answers 200 ``text/html`` (the dashboard page is served)."""
    response, error = probe.send("GET", path, headers={"Accept": "text/html"})
    if response is None:
        return False, error
    if response.status_code != 200:
        return False, f"status {response.status_code} (expected 200)"
    if _content_type(response) != "text/html":
        return False, f"content type {_content_type(response) or 'none'!r}, not text/html"
    return True, f"200 text/html, {len(response.content)} bytes"


def check_reasoning(probe: Probe, *, has_api_key: bool) -> Outcome:
    """The reasoning stream sends preliminary -> final -> done with one trace id."""
    response, error = probe.send(
        "POST", "/api/reasoning/query",
        json={"query": REASONING_QUERY, "context": REASONING_CONTEXT},
        headers={"Accept": "text/event-stream"},
    )  # fmt: skip
    if response is None:
        return False, error
    if response.status_code == 401:
        why = "the API key was rejected" if has_api_key else "needs --api-key"
        return False, f"401 Unauthorized: {why}"
    if response.status_code != 200:
        return False, f"status {response.status_code} (expected 200): {response.text[:200]!r}"
    if _content_type(response) != "text/event-stream":
        return False, f"content type {_content_type(response) or 'none'!r}, not text/event-stream"
    decoder = SSEDecoder()
    try:
        events = [Event.from_sse(sse) for sse in decoder.feed(response.content)]
    except ValueError as exc:
        return False, str(exc)
    kinds = [e.kind for e in events]
    errors = [e.data for e in events if e.is_error]
    if errors:
        return False, f"error event: {json.dumps(errors[0])[:200]} (events {kinds})"
    if kinds != ["preliminary", "final", "done"]:
        return False, f"events {kinds}, expected ['preliminary', 'final', 'done']"
    traces = {e.trace_id for e in events}
    if len(traces) != 1 or None in traces or "" in traces:
        return False, f"trace ids differ or are missing: {[e.trace_id for e in events]}"
    problems = [
        f"{e.kind} response lacks {sorted(set(EVENT_RESPONSE_FIELDS) - set(e.response or {}))}"
        for e in events[:2]
        if not set(EVENT_RESPONSE_FIELDS) <= set(e.response or {})
    ]
    if not response.headers.get("X-Request-ID"):
        problems.append("no X-Request-ID header")
    if problems:
        return False, "; ".join(problems)
    return True, f"preliminary -> final -> done, trace id {traces.pop()}"


def check_cors(probe: Probe, origin: str, *, allowed: bool) -> Outcome:
    """A preflight from ``origin`` is granted (``allowed``) or not (otherwise)."""
    response, error = probe.send(
        "OPTIONS", "/api/experiments",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )  # fmt: skip
    if response is None:
        return False, error
    granted = response.headers.get("Access-Control-Allow-Origin")
    ok_origin = granted in (origin, "*")
    if allowed:
        if response.status_code >= 400 or not ok_origin:
            return False, (
                f"preflight from {origin} got status {response.status_code}, "
                f"Access-Control-Allow-Origin {granted!r}"
            )
        return True, f"{origin} granted ({granted})"
    if ok_origin:
        return (
            False,
            f"preflight from {origin} was granted: Access-Control-Allow-Origin {granted!r}",
        )
    return True, f"{origin} refused (status {response.status_code}, no matching allow-origin)"


def check_security_headers(probe: Probe) -> Outcome:
    """Every response of the run (and a 404 probed here) carries HSTS, ``nosniff`` and
    ``X-Frame-Options: DENY``."""
    probe.send("GET", NOT_FOUND_PATH)
    answered = [o for o in probe.observed if o.headers is not None]
    if not answered:
        return False, "no responses to inspect"
    problems = []
    for name, valid in SECURITY_HEADERS.items():
        values = [(o, o.headers.get(name) if o.headers is not None else None) for o in answered]
        bad = [(o, v) for o, v in values if v is None or not valid(v)]
        if bad:
            seen = list(dict.fromkeys(f"{o.endpoint} ({o.status})" for o, _ in bad))
            what = "missing" if all(v is None for _, v in bad) else f"wrong ({bad[0][1]!r})"
            problems.append(
                f"{name} {what} on {len(bad)} of {len(answered)} responses, e.g. "
                + ", ".join(seen[:3])
            )
    if problems:
        return False, "; ".join(problems)
    return True, f"present on all {len(answered)} responses"


def check_no_5xx(observed: list[Observation]) -> Outcome:
    """No response of the whole run had a 5xx status."""
    answered = [o for o in observed if o.status is not None]
    if not answered:
        return False, "no responses"
    bad: dict[str, int] = {}
    for obs in answered:
        if obs.status is not None and obs.status >= 500:
            key = f"{obs.status} on {obs.endpoint}"
            bad[key] = bad.get(key, 0) + 1
    n_bad = sum(bad.values())
    if n_bad:
        what = ", ".join(f"{n} x {k}" for k, n in sorted(bad.items()))
        return False, f"{n_bad} of {len(answered)} responses were 5xx: {what}"
    return True, f"0 of {len(answered)} responses were 5xx"
