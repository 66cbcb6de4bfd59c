"""The analytics dashboard in a real headless Chromium, against a real HTTP server on loopback.

The server here is deliberately not the FastAPI service: it serves the real page files of
``ardlib/service/static`` and JSON fixtures shaped like the API, and it can break on demand
(500s, empty data, a throwing script, a second origin without CORS), so each failure mode of
``check_dashboard`` is seen in a browser, not mocked.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest

from ardlib._palette import fill_dashboard
from ardlib.deploy._browser import DASHBOARD_CHARTS, BrowserResult, check_dashboard

CHROMIUM = Path("/usr/bin/chromium")
STATIC = Path(__file__).resolve().parents[1] / "ardlib" / "service" / "static"
ACTIVITY_ROWS = 12  # analytics.js MAX_ACTIVITY_ROWS: the table shows the newest 12
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'"

needs_browser = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason=f"Debian's chromium is not installed at {CHROMIUM}"
)
pytest.importorskip("playwright.sync_api", reason="playwright (ardlib[browser]) not installed")


# ---- fixtures shaped like the API ---------------------------------------------------------
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _iso(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def _convergence(rng: np.random.Generator, n: int, failed_first: int = 0) -> list[dict[str, Any]]:
    """A trace shaped like ``ardlib service seed-demo`` writes it (minimisation)."""
    y_true = 1.0 + np.abs(rng.normal(0.0, 2.0, n)) + 5.0 / np.arange(1, n + 1)
    y_obs = np.where(np.arange(n) < failed_first, np.inf, y_true + rng.normal(0.0, 0.05, n))
    best_obs, best_true = np.minimum.accumulate(y_obs), np.minimum.accumulate(y_true)
    return [
        {
            "step": k + 1,
            "best_observed": float(b) if np.isfinite(b) else None,
            "best_true": float(bt),
            "regret": float(bt) - 1.0,
        }
        for k, (b, bt) in enumerate(zip(best_obs, best_true, strict=True))
    ]


def _runs() -> list[dict[str, Any]]:
    rng = np.random.default_rng(4)
    specs = [  # newest first, as the API lists them
        ("bayesian_optimization", "running", "branin", {"convergence": _convergence(rng, 9)}),
        ("adaptive_router", "completed", "hartmann6", {"convergence": _convergence(rng, 24, 2)}),
        ("bayesian_optimization", "completed", "branin", {"convergence": _convergence(rng, 30)}),
        (  # the documented fallback: bare numbers under best_so_far
            "reinforcement_learning",
            "completed",
            "levy",
            {"best_so_far": [e["best_true"] for e in _convergence(rng, 16)]},
        ),
        ("bayesian_optimization", "failed", "ackley", {}),  # no trace: not drawn
    ]
    return [
        {
            "id": 105 - i,
            "name": f"{problem} / {method.split('_')[0]}",
            "method": method,
            "objective": problem,
            "goal": "minimize",
            "parameter_space": {"bounds": [[-5.0, 10.0], [0.0, 15.0]], "names": ["x1", "x2"]},
            "config": {"seed": i},
            "status": status,
            "budget": 30,
            "best_value": None,
            "best_parameters": None,
            "results": results,
            "start_time": _iso(-60 * i),
            "end_time": None if status == "running" else _iso(-60 * i + 45),
            "error_message": "planner crashed" if status == "failed" else None,
            "created_by": "seed-demo",
            "created_at": _iso(-60 * i),
        }
        for i, (method, status, problem, results) in enumerate(specs)
    ]


def _experiments() -> list[dict[str, Any]]:
    statuses = ["running", "pending", "completed", "completed", "failed", "completed"]
    statuses += ["pending", "running", "completed", "failed"]
    return [
        {
            "id": 500 - i,
            "optimization_run_id": 105 - i % 4,
            "method": "bayesian_optimization",
            "parameters": {"temperature": 300.0 + 5 * i, "ratio": round(0.1 * i, 2)},
            "context": {"batch": i // 3},
            "noise_estimate": 0.02,
            "results": {"yield": 0.5 + 0.03 * i} if status == "completed" else None,
            "status": status,
            "start_time": _iso(-17 * i - 5),
            "end_time": _iso(-17 * i) if status in ("completed", "failed") else None,
            "error_message": "furnace timeout" if status == "failed" else None,
            "created_by": "alice" if i % 2 else "bob",
            "created_at": _iso(-17 * i - 6),
        }
        for i, status in enumerate(statuses)
    ]


def _ai_queries() -> list[dict[str, Any]]:
    models = ["gpt-4o-mini", "ardlib-gp-bo", "gpt-4o-mini", "ardlib-gp-bo", "gpt-4o-mini"]
    return [
        {
            "id": 900 - i,
            "query": f"next conditions for batch {i}",
            "context": {"n_observations": 10 + i},
            "selected_model": model,
            "latency_ms": 120.0 + 40 * i,
            "input_tokens": 0 if model == "ardlib-gp-bo" else 800 + 10 * i,
            "output_tokens": 0 if model == "ardlib-gp-bo" else 150,
            "cost_usd": 0.0 if model == "ardlib-gp-bo" else 0.0012 + 0.0001 * i,
            "trace_id": f"trace-{i}",
            "created_by": "alice",
            "created_at": _iso(-9 * i),
        }
        for i, model in enumerate(models)
    ]


def _api(runs: list[Any], experiments: list[Any], queries: list[Any]) -> dict[str, Any]:
    models = sorted({q["selected_model"] for q in queries})
    per_model = [[q for q in queries if q["selected_model"] == m] for m in models]
    total = sum(q["cost_usd"] for q in queries)
    return {
        "/api/experiments": {"experiments": experiments, "count": len(experiments)},
        "/api/optimization_runs": {"optimization_runs": runs, "count": len(runs)},
        "/api/ai_queries": {
            "ai_queries": queries,
            "count": len(queries),
            "cost_analysis": {
                "query_count": len(queries),
                "total_cost_usd": total,
                "average_cost_per_query": total / len(queries) if queries else 0.0,
                "total_input_tokens": sum(q["input_tokens"] for q in queries),
                "total_output_tokens": sum(q["output_tokens"] for q in queries),
                "by_model": [
                    {
                        "selected_model": m,
                        "query_count": len(qs),
                        "total_cost_usd": sum(q["cost_usd"] for q in qs),
                        "average_latency_ms": sum(q["latency_ms"] for q in qs) / len(qs),
                    }
                    for m, qs in zip(models, per_model, strict=True)
                ],
            },
        },
    }


def _points(results: dict[str, Any]) -> int:
    """Drawable points of one run: non-null best_observed entries, or non-null numbers."""
    if "convergence" in results:
        return sum(e["best_observed"] is not None for e in results["convergence"])
    return sum(v is not None for v in results.get("best_so_far", []))


def _expected_counts(api: dict[str, Any]) -> dict[str, int]:
    runs = api["/api/optimization_runs"]["optimization_runs"]
    experiments = api["/api/experiments"]["experiments"]
    return {
        "chart-methods": len({r["method"] for r in runs}),
        "chart-status": len({e["status"] for e in experiments}),
        "chart-ai-cost": len(api["/api/ai_queries"]["cost_analysis"]["by_model"]),
        "chart-activity": min(ACTIVITY_ROWS, len(runs) + len(experiments)),
        "chart-convergence": sum(_points(r["results"]) for r in runs),
    }


# ---- a small real server ------------------------------------------------------------------
@dataclass
class Site:
    """What the loopback server answers; tests edit it before loading the page."""

    api: dict[str, Any] = field(
        default_factory=lambda: _api(_runs(), _experiments(), _ai_queries())
    )
    status: dict[str, int] = field(default_factory=dict)  # path -> forced HTTP status
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path -> override
    csp: str = CSP
    allow_origin: str | None = None  # Access-Control-Allow-Origin on API answers
    requests: list[str] = field(default_factory=list)


_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
_TYPES[".svg"] = "image/svg+xml"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        site = self.server.site
        site.requests.append(self.path)
        path = urlsplit(self.path).path
        if path in site.files:
            ctype, body = site.files[path]
            return self._send(200, ctype, body)
        if path in site.api:
            status = site.status.get(path, 200)
            payload = site.api[path] if status < 400 else {"error": "boom", "code": "internal"}
            return self._send(status, "application/json", json.dumps(payload).encode())
        if path == "/analytics.html":  # as the service serves it: palette filled in
            return self._send(200, *_page_with())
        file = STATIC / path.removeprefix("/static/")
        if path.startswith("/static/") and file.is_file():
            return self._send(
                200, _TYPES.get(file.suffix, "application/octet-stream"), file.read_bytes()
            )
        return self._send(404, "application/json", b'{"error": "Not Found", "code": "not_found"}')

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{ctype}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", self.server.site.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        if self.server.site.allow_origin and ctype == "application/json":
            self.send_header("Access-Control-Allow-Origin", self.server.site.allow_origin)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Site) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site = site


@contextmanager
def serve(site: Site) -> Iterator[str]:
    """Serve ``site`` on a free loopback port; yields the base URL (no trailing slash)."""
    server = _Server(site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _page_with(head_extra: str = "", api_base: str = "") -> tuple[str, bytes]:
    """The real page as the service serves it, or a test-only variant (same JS and CSS)."""
    html = fill_dashboard((STATIC / "analytics.html").read_text())
    html = html.replace(
        '<meta name="ardlib-api-base" content="">',
        f'<meta name="ardlib-api-base" content="{api_base}">',
    )
    html = html.replace("</head>", f"{head_extra}</head>")
    return "text/html", html.encode()


def _visible_texts(url: str, selector: str) -> list[str]:
    """Inner texts of the visible elements matching ``selector`` once the page is ready."""
    from playwright.sync_api import sync_playwright

    from ardlib.deploy._browser import CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector('body[data-ready="true"]', state="attached", timeout=10_000)
            return [e.inner_text() for e in page.query_selector_all(selector) if e.is_visible()]
        finally:
            browser.close()


# ---- the dashboard with good data ---------------------------------------------------------
@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[BrowserResult, Site]:
    if not CHROMIUM.is_file():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM}")
    site = Site()
    shot = tmp_path_factory.mktemp("dashboard") / "analytics.png"
    with serve(site) as base:
        result = check_dashboard(f"{base}/analytics.html", screenshot=shot)
    return result, site


@pytest.mark.slow  # a Chromium launch (~2.5 s): the browser checks are the slow tier's
@needs_browser
def test_renders_every_chart_with_the_fixture_counts(good_run: tuple[BrowserResult, Site]) -> None:
    result, site = good_run
    assert result.passed, result.reason
    assert not result.skipped
    assert result.charts == _expected_counts(site.api)
    assert set(result.charts) == set(DASHBOARD_CHARTS)
    assert result.empty_charts == []
    assert result.reason == "5 of 5 charts drawn with data; no console errors, no failed requests"


@pytest.mark.slow  # shares the Chromium launch above
@needs_browser
def test_no_console_errors_and_only_relative_same_origin_requests(
    good_run: tuple[BrowserResult, Site],
) -> None:
    result, site = good_run
    assert result.console_errors == []  # strict CSP included: no inline script or style
    assert result.failed_requests == []
    assert "/api/experiments?limit=100" in site.requests
    assert "/api/optimization_runs?limit=50" in site.requests
    assert "/api/ai_queries?include_cost_analysis=true&limit=100" in site.requests
    assert result.seconds > 0


@pytest.mark.slow  # shares the Chromium launch above
@needs_browser
def test_saves_a_real_full_page_png(good_run: tuple[BrowserResult, Site]) -> None:
    result, _ = good_run
    assert result.screenshot is not None and result.screenshot.is_file()
    data = result.screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width == 1280 and height >= 900  # full page: at least the viewport
    assert len(data) > 10_000


# ---- a fresh service: empty listings ------------------------------------------------------
@needs_browser  # `ardlib smoke` on a new deployment depends on it
@pytest.mark.slow  # two browser launches
def test_a_fresh_service_passes_with_every_panel_saying_it_has_no_data() -> None:
    site = Site(api=_api([], [], []))
    with serve(site) as base:
        url = f"{base}/analytics.html"
        result = check_dashboard(url)
        messages = _visible_texts(url, ".chart-message.empty")
    assert result.passed and not result.skipped, result.reason
    assert result.charts == dict.fromkeys(DASHBOARD_CHARTS, 0)
    assert result.empty_charts == list(DASHBOARD_CHARTS)
    assert result.reason.startswith("0 of 5 charts drawn with data, 5 empty as the API has no")
    assert result.console_errors == [] and result.failed_requests == []
    assert sorted(messages) == sorted(
        [
            "No optimization runs yet.",
            "No experiments yet.",
            "No AI queries yet.",
            "No experiments or optimization runs yet.",
            "No optimization runs yet.",
        ]
    )


@needs_browser
@pytest.mark.slow  # a browser launch each
def test_only_the_charts_whose_listings_are_empty_may_be_empty() -> None:
    api = _api([], _experiments(), [])  # experiments, but no runs and no AI queries yet
    with serve(Site(api=api)) as base:
        result = check_dashboard(f"{base}/analytics.html")
    assert result.passed, result.reason
    assert result.empty_charts == ["chart-methods", "chart-ai-cost", "chart-convergence"]
    assert result.charts["chart-status"] == len({e["status"] for e in _experiments()})
    assert result.charts["chart-activity"] == len(_experiments())  # the rows, runs none


# ---- failures the check must report -------------------------------------------------------
@needs_browser
@pytest.mark.slow  # a browser launch each
def test_an_endpoint_answering_500_fails_with_the_error_shown(tmp_path: Path) -> None:
    site = Site(status={"/api/experiments": 500})
    with serve(site) as base:
        url = f"{base}/analytics.html"
        result = check_dashboard(url)
        banner = _visible_texts(url, "#error-banner")
    assert not result.passed and not result.skipped
    assert "the page reported: GET api/experiments?limit=100: HTTP 500 (boom)" in result.reason
    assert any(
        r.endswith("/api/experiments?limit=100: HTTP 500") for r in result.failed_requests
    ), result.failed_requests
    assert result.charts["chart-status"] == 0  # drawn from experiments only
    assert result.charts["chart-methods"] > 0  # the other endpoints still drawn
    assert banner and "HTTP 500" in banner[0]


def _broken_script(old: str, new: str) -> tuple[str, bytes]:
    """The real analytics.js with one edit, which must apply exactly once."""
    js = (STATIC / "analytics.js").read_text()
    assert js.count(old) == 1, old
    return "text/javascript", js.replace(old, new).encode()


@needs_browser
@pytest.mark.slow  # a browser launch each
@pytest.mark.parametrize(
    ("old", "new", "chart"),
    [
        pytest.param(  # says "No experiments yet." over ten experiments
            "if (experiments.length === 0) return", "if (true) return", "chart-status", id="lies"
        ),
        pytest.param(  # never draws: the panel keeps "Loading..."
            'render("chart-methods", drawMethods, "runs");', "", "chart-methods", id="skips"
        ),
    ],
)
def test_a_chart_that_draws_nothing_over_data_fails(old: str, new: str, chart: str) -> None:
    site = Site()
    site.files["/static/analytics.js"] = _broken_script(old, new)
    with serve(site) as base:
        result = check_dashboard(f"{base}/analytics.html")
    assert not result.passed and not result.skipped
    assert result.reason == f"charts without data: {chart}"
    assert result.charts[chart] == 0 and result.empty_charts == []
    assert result.console_errors == [] and result.failed_requests == []  # nothing else wrong


@needs_browser
@pytest.mark.slow  # a browser launch each
def test_runs_without_convergence_traces_leave_only_that_chart_empty() -> None:
    runs = _runs()
    for run in runs:
        run["results"] = json.dumps({"final_value": 1.0})  # results as a JSON string
    site = Site(api=_api(runs, _experiments(), _ai_queries()))
    with serve(site) as base:
        result = check_dashboard(f"{base}/analytics.html")
    assert not result.passed
    assert result.reason == "charts without data: chart-convergence"
    assert result.charts["chart-methods"] == 3


@needs_browser
@pytest.mark.slow  # a browser launch each
def test_awkward_but_valid_records_are_drawn_without_errors(tmp_path: Path) -> None:
    traces: list[list[Any]] = [
        [3.0],  # one evaluation
        [2.0, 2.0, 2.0],  # flat
        [None, 5.0, 4.0, "3.5"],  # a leading null and a numeric string: 3 points
        *([float(9 - k) for k in range(n)] for n in (40, 60, 5, 7, 8)),
    ]
    template = _runs()[0]
    runs = [
        {**template, "id": 300 - i, "results": json.dumps({"best_so_far": t})}
        for i, t in enumerate(traces)
    ]
    runs[0]["method"] = None
    runs[1]["created_at"] = "2025-03-01T10:00:00"  # naive: read as UTC
    runs[2]["created_at"] = "not a date"
    experiments = _experiments()
    experiments[0]["status"] = "cancelled"  # a status the page does not know
    api = _api(runs, experiments, _ai_queries())
    api["/api/ai_queries"]["ai_queries"][0]["cost_usd"] = None
    del api["/api/ai_queries"]["cost_analysis"]
    with serve(Site(api=api)) as base:
        result = check_dashboard(f"{base}/analytics.html", screenshot=tmp_path / "awkward.png")
    assert result.passed, result.reason
    shown = traces[:6]  # one objective: analytics.js draws its six newest runs
    assert result.charts["chart-convergence"] == sum(sum(v is not None for v in t) for t in shown)
    assert result.charts["chart-methods"] == 2  # bayesian_optimization and "(unspecified)"
    assert result.charts["chart-status"] == len({e["status"] for e in experiments})
    assert result.charts["chart-ai-cost"] == 2  # summed from the list without cost_analysis


@needs_browser
@pytest.mark.slow  # a browser launch each
def test_a_script_error_is_captured_and_fails() -> None:
    site = Site()
    site.files["/analytics.html"] = _page_with('<script src="static/boom.js"></script>')
    site.files["/static/boom.js"] = ("text/javascript", b'throw new TypeError("boom from test");')
    with serve(site) as base:
        result = check_dashboard(f"{base}/analytics.html")
    assert not result.passed and not result.skipped
    assert "uncaught TypeError: boom from test" in result.console_errors
    assert "1 console/page error(s)" in result.reason


@pytest.mark.slow
@needs_browser
def test_a_cross_origin_api_without_cors_is_reported_as_cors() -> None:
    api_site = Site()
    page_site = Site()
    with serve(api_site) as api_base, serve(page_site) as page_base:
        page_site.files["/analytics.html"] = _page_with(api_base=f"{api_base}/")
        page_site.csp = CSP.replace("connect-src 'self'", f"connect-src 'self' {api_base}")
        blocked = check_dashboard(f"{page_base}/analytics.html")
        api_site.allow_origin = page_base  # control: the same page once the API allows it
        allowed = check_dashboard(f"{page_base}/analytics.html")
    assert not blocked.passed and not blocked.skipped
    assert "CORS blocked 3 request(s)" in blocked.reason
    assert sum("CORS policy" in m for m in blocked.console_errors) == 3
    assert all(r.startswith(f"GET {api_base}/api/") for r in blocked.failed_requests)
    assert len(blocked.failed_requests) == 3
    assert allowed.passed, allowed.reason


@needs_browser
@pytest.mark.slow  # a browser launch each
def test_a_page_served_without_its_palette_fails_saying_so() -> None:
    site = Site()
    site.files["/analytics.html"] = ("text/html", (STATIC / "analytics.html").read_bytes())
    with serve(site) as base:
        result = check_dashboard(f"{base}/analytics.html")
    assert not result.passed and not result.skipped
    assert "the page carries no colour palette" in result.reason


@needs_browser
@pytest.mark.slow  # a browser launch each
def test_a_page_that_never_becomes_ready_fails_at_the_timeout(tmp_path: Path) -> None:
    site = Site()
    _, page = _page_with()
    site.files["/analytics.html"] = (
        "text/html",
        page.replace(b'<script src="static/analytics.js" defer></script>', b""),
    )
    with serve(site) as base:
        result = check_dashboard(
            f"{base}/analytics.html", timeout=3, screenshot=tmp_path / "stuck.png"
        )
    assert not result.passed and not result.skipped
    assert "the page did not set body[data-ready] within the timeout" in result.reason
    assert result.charts == dict.fromkeys(DASHBOARD_CHARTS, 0)
    assert result.screenshot is not None and result.screenshot.is_file()  # taken anyway


@needs_browser
@pytest.mark.slow  # a browser launch each
def test_a_service_that_is_down_fails_and_is_not_skipped() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = check_dashboard(f"http://127.0.0.1:{port}/analytics.html", timeout=10)
    assert not result.passed and not result.skipped
    assert result.reason.startswith("page did not load: ")
    assert "ERR_CONNECTION_REFUSED" in result.reason


@needs_browser
@pytest.mark.slow  # a browser launch each
def test_runs_from_inside_an_event_loop_as_in_jupyter() -> None:
    async def inside_loop() -> BrowserResult:
        with serve(Site()) as base:
            return check_dashboard(f"{base}/analytics.html")

    result = asyncio.run(inside_loop())
    assert result.passed, result.reason


# ---- never pretends -----------------------------------------------------------------------
@pytest.mark.parametrize("chromium", ["/nonexistent/chromium", __file__])
def test_missing_or_non_executable_chromium_is_skipped_not_passed(chromium: str) -> None:
    result = check_dashboard("http://127.0.0.1:9/analytics.html", chromium=chromium)
    assert result.skipped and not result.passed
    assert result.reason == f"no Chromium executable at {chromium}"
    assert result.screenshot is None


@pytest.mark.slow  # a browser launch each
def test_a_browser_that_cannot_start_is_skipped_not_passed() -> None:
    result = check_dashboard("http://127.0.0.1:9/analytics.html", chromium="/bin/false", timeout=10)
    assert result.skipped and not result.passed
    assert result.reason.startswith("Chromium at /bin/false could not start: ")


def test_timeout_must_be_positive() -> None:
    msg = "The 'timeout' parameter of check_dashboard must be a finite float > 0. Got 0."
    with pytest.raises(ValueError, match=msg):
        check_dashboard("http://127.0.0.1:9/", timeout=0)
