"""``smoke`` and ``ardlib smoke`` against a small fake service (an httpx handler).

Each broken variant of the service must fail exactly the check that covers it.  The CLI
tests serve the same fake over a loopback socket; the last tests run every check, the
dashboard in headless Chromium included, against the real reference service
(:class:`ardlib.deploy.ServiceProcess`), freshly deployed and seeded.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from ardlib.client import Client
from ardlib.deploy import ServiceProcess, SmokeCheck, SmokeReport, smoke
from ardlib.deploy._cli import add_smoke_parser, run_smoke_command

ALLOWED = "http://dashboard.test"
DISALLOWED = "https://evil.test"
STAMP = "2024-05-01T10:00:00Z"
EXPERIMENT = {
    "id": 1, "optimization_run_id": 1, "method": "bayesian_optimization",
    "parameters": {"x": 0.5}, "context": None, "noise_estimate": 0.01, "results": {"y": 1.0},
    "status": "completed", "start_time": STAMP, "end_time": STAMP, "error_message": None,
    "created_by": "ana", "created_at": STAMP,
}  # fmt: skip
RUN = {"id": 1, "method": "bayesian_optimization", "status": "completed", "created_at": STAMP}
QUERY = {
    "id": 1, "query": "q", "context": {}, "selected_model": "gp-bo", "latency_ms": 3.0,
    "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "created_by": None,
    "created_at": STAMP,
}  # fmt: skip
SECURITY = {
    "Strict-Transport-Security": "max-age=31536000",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
RESPONSE = {"model": "m", "content": "c", "latency_ms": 1.0, "is_preliminary": True,
            "confidence": 0.5, "usage": {}}  # fmt: skip
CHECKS = [
    "health", "GET /api/experiments", "GET /api/optimization_runs", "GET /api/ai_queries",
    "read protection", "GET /analytics.html", "reasoning stream", "cors allowed origin",
    "cors disallowed origin",
    "latency GET /health", "latency GET /api/experiments", "latency GET /api/optimization_runs",
    "latency GET /api/ai_queries", "dashboard in browser", "security headers", "no 5xx",
]  # fmt: skip


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclasses.dataclass
class FakeService:
    """The API in miniature; each field breaks one thing."""

    clock: FakeClock = dataclasses.field(default_factory=FakeClock)
    missing_header: str | None = None
    status_for: dict[str, int] = dataclasses.field(default_factory=dict)
    seconds_for: dict[str, float] = dataclasses.field(default_factory=dict)
    events: tuple[str, ...] = ("preliminary", "final", "done")
    trace_ids: tuple[str, ...] | None = None
    api_key: str | None = None
    allow_any_origin: bool = False
    experiments: list[dict[str, Any]] = dataclasses.field(default_factory=lambda: [EXPERIMENT])
    count_offset: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.clock.now += self.seconds_for.get(path, 0.002)
        if path in self.status_for:
            response = httpx.Response(self.status_for[path], json={"error": "broken"})
        else:
            response = self.route(request)
        for name, value in SECURITY.items():
            if name != self.missing_header:
                response.headers[name] = value
        response.headers["X-Request-ID"] = "req-1"
        return response

    def route(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if method == "OPTIONS":
            origin = request.headers.get("Origin")
            if self.allow_any_origin or origin == ALLOWED:
                allow = "*" if self.allow_any_origin else str(origin)
                return httpx.Response(200, headers={"Access-Control-Allow-Origin": allow})
            return httpx.Response(400, json={"error": "Disallowed CORS origin"})
        if path == "/health":
            return httpx.Response(200, json={"status": "ok", "version": "9.9"})
        if path == "/api/experiments":
            body = {"experiments": self.experiments,
                    "count": len(self.experiments) + self.count_offset}  # fmt: skip
            return httpx.Response(200, json=body)
        if path == "/api/optimization_runs":
            return httpx.Response(200, json={"optimization_runs": [RUN], "count": 1})
        if path == "/api/ai_queries":
            wanted = request.url.params.get("include_cost_analysis", "true") == "true"
            cost = {"total_cost_usd": 0.0, "average_cost_per_query": 0.0} if wanted else None
            return httpx.Response(200, json={"ai_queries": [QUERY], "count": 1,
                                             "cost_analysis": cost})  # fmt: skip
        if path == "/analytics.html":
            return httpx.Response(200, html="<html><body>dashboard</body></html>")
        if path == "/api/reasoning/query" and method == "POST":
            if self.api_key and request.headers.get("X-API-Key") != self.api_key:
                return httpx.Response(401, json={"error": "Unauthorized", "code": "unauthorized"})
            return httpx.Response(200, headers={"Content-Type": "text/event-stream"},
                                  content=self.stream())  # fmt: skip
        return httpx.Response(404, json={"error": "Not Found", "code": "not_found"})

    def stream(self) -> bytes:
        out = b": ping\n\n"
        traces = self.trace_ids or ("t",) * len(self.events)
        for kind, trace in zip(self.events, traces, strict=True):
            data: dict[str, Any] = {"trace_id": trace}
            if kind in ("preliminary", "final"):
                data.update(response=RESPONSE, message=kind)
            out += f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()
        return out


def passing_browser(url: str, *, screenshot: Any = None, timeout: float = 0) -> Any:
    assert url == "http://svc.test/analytics.html"
    return SimpleNamespace(passed=True, skipped=False, reason="5 charts drawn",
                           console_errors=[], screenshot=screenshot)  # fmt: skip


def run(service: FakeService, api_key: str | None = None, **kwargs: Any) -> SmokeReport:
    client = Client("http://svc.test", api_key, transport=httpx.MockTransport(service))
    kwargs.setdefault("browser", passing_browser)
    kwargs.setdefault("origins", (ALLOWED, DISALLOWED))
    return smoke("http://svc.test", client=client, n_requests=5, clock=service.clock, **kwargs)


def statuses(report: SmokeReport) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def only_failures(report: SmokeReport) -> list[str]:
    return [c.name for c in report.failed]


def test_good_service_passes_every_check(tmp_path: Path) -> None:
    report = run(FakeService(), screenshot=tmp_path / "dash.png")
    assert [c.name for c in report.checks] == CHECKS
    seen = statuses(report)
    assert seen.pop("read protection") == "SKIP"  # no key given: nothing to compare it with
    assert set(seen.values()) == {"PASS"}, report.render()
    assert report.passed and report.service_version == "9.9"
    assert report.screenshot == tmp_path / "dash.png"
    assert set(report.latency) == {f"GET {p}" for p in
                                   ("/health", "/api/experiments", "/api/optimization_runs",
                                    "/api/ai_queries")}  # fmt: skip
    summary = report.latency["GET /api/experiments"]
    assert summary.n == 5 and summary.p50 == pytest.approx(0.002) and summary.statuses == {200: 5}
    # health, 3 listings, page, reasoning, 2 preflights, 4 x 5 timed, the 404 probe
    assert report.requests == 1 + 3 + 1 + 1 + 2 + 4 * 5 + 1
    assert report.status_counts == {200: 27, 400: 1, 404: 1}
    record = json.loads(report.to_json())
    assert record["passed"] is True and len(record["checks"]) == len(CHECKS)
    assert record["latency_ms"]["GET /health"]["p95"] == pytest.approx(2.0)
    text = str(report)
    assert "PASSED" in text and all(name in text for name in CHECKS)


def test_missing_security_header_fails_only_that_check() -> None:
    report = run(FakeService(missing_header="X-Frame-Options"))
    assert only_failures(report) == ["security headers"]
    detail = report.checks[CHECKS.index("security headers")].detail
    assert detail == (
        "X-Frame-Options missing on 29 of 29 responses, e.g. GET /health (200), "
        "GET /api/experiments (200), GET /api/optimization_runs (200)"
    )


def test_5xx_fails_the_endpoint_and_the_5xx_check() -> None:
    report = run(FakeService(status_for={"/api/optimization_runs": 500}))
    assert only_failures(report) == ["GET /api/optimization_runs", "no 5xx"]
    assert report.checks[-1].detail == (
        "6 of 29 responses were 5xx: 6 x 500 on GET /api/optimization_runs"
    )


def test_slow_endpoint_fails_its_latency_bound() -> None:
    report = run(FakeService(seconds_for={"/api/experiments": 2.5}))
    assert only_failures(report) == ["latency GET /api/experiments"]
    assert report.latency["GET /api/experiments"].p99 == pytest.approx(2.5)
    assert (
        "p99 above the bound" in report.checks[CHECKS.index("latency GET /api/experiments")].detail
    )


@pytest.mark.parametrize(
    ("service", "detail"),
    [
        (FakeService(events=("final", "preliminary", "done")),
         "events ['final', 'preliminary', 'done'], expected ['preliminary', 'final', 'done']"),
        (FakeService(events=("preliminary", "final")), "events ['preliminary', 'final']"),
        (FakeService(trace_ids=("t", "u", "t")), "trace ids differ or are missing"),
        (FakeService(events=("preliminary", "error", "done")), "error event"),
    ],
)  # fmt: skip
def test_wrong_event_stream_fails_the_reasoning_check(service: FakeService, detail: str) -> None:
    report = run(service)
    assert only_failures(report) == ["reasoning stream"]
    assert detail in report.checks[CHECKS.index("reasoning stream")].detail


def test_reasoning_behind_auth_needs_the_api_key() -> None:
    report = run(FakeService(api_key="k"))
    assert only_failures(report) == ["reasoning stream"]
    assert report.checks[CHECKS.index("reasoning stream")].detail == (
        "401 Unauthorized: needs --api-key"
    )
    assert run(FakeService(api_key="k"), api_key="k").passed
    wrong = run(FakeService(api_key="k"), api_key="nope")
    assert "the API key was rejected" in wrong.checks[CHECKS.index("reasoning stream")].detail


def test_cors_granting_any_origin_fails_the_disallowed_check() -> None:
    report = run(FakeService(allow_any_origin=True))
    assert only_failures(report) == ["cors disallowed origin"]


def test_without_an_allowed_origin_that_check_is_skipped_not_passed() -> None:
    report = run(FakeService(), origins=(None, DISALLOWED))
    assert statuses(report)["cors allowed origin"] == "SKIP" and report.passed


@pytest.mark.parametrize(
    ("service", "detail"),
    [
        (FakeService(count_offset=1), "count is 2 but 'experiments' holds 1 records"),
        (FakeService(experiments=[{k: v for k, v in EXPERIMENT.items() if k != "method"}]),
         "field 'method' missing in 1 of 1 records"),
        (FakeService(experiments=[{**EXPERIMENT, "created_at": "soon"}]),
         "field 'created_at' of experiment 1 must be an ISO 8601 timestamp"),
        (FakeService(experiments=[{**EXPERIMENT, "status": "lost"}]),
         "unknown experiment status ['lost']"),
        (FakeService(experiments=[EXPERIMENT, EXPERIMENT, 3]),  # type: ignore[list-item]
         "a record is a JSON int, not an object"),
    ],
)  # fmt: skip
def test_listing_shape_errors_fail_the_listing_check(service: FakeService, detail: str) -> None:
    report = run(service)
    assert only_failures(report) == ["GET /api/experiments"]
    assert detail in report.checks[1].detail


def test_dashboard_outcomes_skip_is_never_a_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    def skipped(url: str, **kw: Any) -> Any:
        return SimpleNamespace(passed=False, skipped=True, reason="no chromium",
                               console_errors=[], screenshot=None)  # fmt: skip

    def console_errors(url: str, **kw: Any) -> Any:
        return SimpleNamespace(passed=False, skipped=False, reason="charts missing",
                               console_errors=["CORS blocked"], screenshot=None)  # fmt: skip

    def crashes(url: str, **kw: Any) -> Any:
        raise RuntimeError("browser died")

    cases = [(False, "SKIP", "disabled (--no-browser)"), (skipped, "SKIP", "no chromium"),
             (console_errors, "FAIL", "charts missing; 1 console errors: CORS blocked"),
             (crashes, "FAIL", "check crashed: RuntimeError: browser died")]  # fmt: skip
    for browser, status, detail in cases:
        report = run(FakeService(), browser=browser)
        check = report.checks[CHECKS.index("dashboard in browser")]
        assert (check.status, check.detail) == (status, detail)
        assert not check.passed and report.passed == (status == "SKIP")
    # The real browser check without Playwright: skipped, saying how to install it.
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    check = run(FakeService(), browser=True).checks[CHECKS.index("dashboard in browser")]
    assert check.status == "SKIP" and check.detail.endswith("install ardlib[browser]")


def test_unreachable_service_fails_fast_with_every_check_accounted_for() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    clock = FakeClock()
    client = Client("http://svc.test", transport=httpx.MockTransport(refuse))
    report = smoke("http://svc.test", client=client, clock=clock, browser=False)
    assert [c.name for c in report.checks] == CHECKS and report.requests == 1
    assert report.checks[0].failed and "connection failed" in report.checks[0].detail
    assert statuses(report)["dashboard in browser"] == "SKIP"
    assert all(c.detail.startswith("not run") for c in report.checks[1:12])
    assert not report.passed


def test_a_skipped_check_cannot_pass() -> None:
    with pytest.raises(ValueError, match="a skipped check cannot have passed"):
        SmokeCheck("x", passed=True, skipped=True)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="'n_requests' parameter of smoke must be an int >= 1"):
        smoke("http://svc.test", n_requests=0)
    with pytest.raises(ValueError, match="'origins' parameter of smoke must be a pair"):
        smoke("http://svc.test", origins=("a",))  # type: ignore[arg-type]


# -- the command, over a real loopback socket ----------------------------------------------


@pytest.fixture
def served() -> Iterator[str]:
    """The good fake service on a loopback port."""
    service = FakeService()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_one(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = httpx.Request(
                self.command, f"http://svc.test{self.path}",
                headers=dict(self.headers), content=self.rfile.read(length),
            )  # fmt: skip
            response = service(request)
            body = response.read()
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_OPTIONS = handle_one

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ardlib")
    add_smoke_parser(parser.add_subparsers(dest="cmd", required=True))
    return run_smoke_command(parser.parse_args(["smoke", *argv]))


@pytest.mark.slow  # a whole smoke through the command (~1 s); its checks stay in the fast tier
def test_cli_exit_0_prints_the_table_and_writes_json(
    served: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports" / "smoke.json"
    status = cli(served, "--requests", "3", "--no-browser", "--json", str(out),
                 "--origin-allowed", ALLOWED)  # fmt: skip
    text = capsys.readouterr().out
    assert status == 0, text
    assert "PASSED" in text and "SKIP    dashboard in browser" in text
    assert json.loads(out.read_text())["passed"] is True


def test_cli_exit_1_when_a_check_fails(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert cli(f"http://127.0.0.1:{port}", "--no-browser", "--timeout", "2") == 1
    assert "FAILED" in capsys.readouterr().out


def test_cli_exit_2_on_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("not-a-url") == 2
    assert "URL must be http(s)://host[:port]" in capsys.readouterr().err
    for bad in (["http://x.test", "--requests", "0"], ["http://x.test", "--timeout", "-1"], []):
        with pytest.raises(SystemExit) as info:
            cli(*bad)
        assert info.value.code == 2


# -- the real reference service on loopback -------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
needs_browser = pytest.mark.skipif(
    not CHROMIUM.is_file() or importlib.util.find_spec("playwright") is None,
    reason=f"needs Debian's chromium at {CHROMIUM} and playwright (ardlib[browser])",
)
SERVICE_ORIGIN = "http://allowed.example"  # ServiceProcess's default allowed origin


@needs_browser
@pytest.mark.slow  # starts the service and a browser
def test_cli_passes_on_a_freshly_deployed_empty_service(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with ServiceProcess(demo_data=False, cors_origins=(SERVICE_ORIGIN,)) as svc:
        status = cli(svc.url, "--requests", "3", "--origin-allowed", SERVICE_ORIGIN)
    text = capsys.readouterr().out
    assert status == 0, text
    assert "PASSED, 16 checks, 0 failed, 1 skipped" in text
    # The reasoning check has just logged one AI query; nothing else exists yet.
    dashboard = next(line for line in text.splitlines() if "dashboard in browser" in line)
    assert dashboard.startswith("PASS") and "1 of 5 charts drawn with data, 4 empty" in dashboard


@needs_browser
@pytest.mark.slow  # seeds and starts the service, then a browser
def test_smoke_passes_on_a_seeded_service_with_every_chart_drawn() -> None:
    with ServiceProcess(demo_data=True, cors_origins=(SERVICE_ORIGIN,)) as svc:
        report = smoke(svc.url, n_requests=3, origins=(SERVICE_ORIGIN, "https://evil.test"))
    assert report.passed, report.render()
    check = report.checks[CHECKS.index("dashboard in browser")]
    assert check.status == "PASS"
    assert check.detail.startswith("5 of 5 charts drawn with data;"), check.detail
